/**
 * The part of `@tap/sandbox`'s API the core test helpers use. It is a structural type so that
 * `@tap/core` does not depend on the sandbox package (which depends on the core); tests pass
 * the sandbox they started, and `startSandbox()` here loads the package lazily.
 */
export interface SandboxHandle {
  /** `host:port` of the Auth gRPC server. */
  readonly authAddr: string;
  writeIdentity(path: string, options: { user: string; roles?: string[] }): Promise<unknown>;
  createRequest(options: { user: string; roles: string[]; reason?: string; suggestedReviewers?: string[] }): Promise<string>;
  review(id: string, review: { author: string; state: 'APPROVED' | 'DENIED'; reason?: string }): Promise<unknown>;
  close(): Promise<void>;
}

/** Starts a sandbox through `@tap/sandbox` (resolved at run time: tests only). */
export async function startSandbox<S extends SandboxHandle = SandboxHandle>(options?: Record<string, unknown>): Promise<S> {
  const specifier = ['@tap', 'sandbox'].join('/');
  const mod = (await import(/* @vite-ignore */ specifier)) as { startSandbox(options?: Record<string, unknown>): Promise<S> };
  return mod.startSandbox(options);
}
