/**
 * The few error types the plugins raise. Match on `code` or `instanceof`, never on text.
 * Only the CLI turns them into exit codes (1 for all of them).
 */
export const ERROR_CODES = {
  ERR_CONFIG: 'The config file is missing, unreadable or invalid',
  ERR_IDENTITY: 'The identity file or TLS credentials are unreadable, invalid or expired',
  ERR_TELEPORT_UNAVAILABLE: 'The Teleport auth or proxy server could not be reached',
  ERR_TELEPORT_VERSION: 'The Teleport server is older than the plugin supports',
  ERR_TELEPORT_API: 'The Teleport server rejected a call',
  ERR_CHANNEL_API: 'The chat or mail service rejected a call',
  ERR_RECIPIENT_NOT_FOUND: 'A configured recipient does not exist on the channel',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export abstract class PluginError extends Error {
  abstract readonly code: ErrorCode;
  /** True when retrying later may succeed (network, 5xx, rate limit). */
  get recoverable(): boolean {
    return false;
  }
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Every problem found in a config file, each as `key.path: what is wrong`. */
export class ConfigError extends PluginError {
  readonly code = 'ERR_CONFIG';
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(
      problems.length === 1
        ? `${file}: ${problems[0]}`
        : `${file} has ${problems.length} problems:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
  }
}

export class IdentityError extends PluginError {
  readonly code = 'ERR_IDENTITY';
}

export class TeleportUnavailableError extends PluginError {
  readonly code = 'ERR_TELEPORT_UNAVAILABLE';
  override get recoverable() {
    return true;
  }
}

export class TeleportVersionError extends PluginError {
  readonly code = 'ERR_TELEPORT_VERSION';
}

/** gRPC status names as Teleport's trace package maps them. */
export type GrpcCode =
  | 'OK' | 'CANCELLED' | 'UNKNOWN' | 'INVALID_ARGUMENT' | 'DEADLINE_EXCEEDED' | 'NOT_FOUND'
  | 'ALREADY_EXISTS' | 'PERMISSION_DENIED' | 'RESOURCE_EXHAUSTED' | 'FAILED_PRECONDITION'
  | 'ABORTED' | 'OUT_OF_RANGE' | 'UNIMPLEMENTED' | 'INTERNAL' | 'UNAVAILABLE' | 'DATA_LOSS'
  | 'UNAUTHENTICATED';

/** A failed Teleport RPC, keeping the gRPC status (trace.NotFound ⇔ NOT_FOUND, …). */
export class TeleportError extends PluginError {
  readonly code = 'ERR_TELEPORT_API';
  constructor(
    readonly status: GrpcCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
  get isNotFound() { return this.status === 'NOT_FOUND'; }
  get isAlreadyExists() { return this.status === 'ALREADY_EXISTS'; }
  get isAccessDenied() { return this.status === 'PERMISSION_DENIED'; }
  /** trace.CompareFailed: plugin data Expect mismatch. */
  get isCompareFailed() { return this.status === 'FAILED_PRECONDITION'; }
  get isNotImplemented() { return this.status === 'UNIMPLEMENTED'; }
  /** trace.ConnectionProblem: the watcher reconnects on these. */
  get isConnectionProblem() { return this.status === 'UNAVAILABLE'; }
  /** The call never got an answer (unreachable, or timed out): worth repeating as is. */
  get isUnanswered() { return this.status === 'UNAVAILABLE' || this.status === 'DEADLINE_EXCEEDED'; }
  override get recoverable() { return this.status === 'UNAVAILABLE' || this.status === 'RESOURCE_EXHAUSTED'; }
}

/** A chat or mail API refused a call; `apiError` keeps the service's own code (`channel_not_found`). */
export class ChannelApiError extends PluginError {
  readonly code = 'ERR_CHANNEL_API';
  readonly status: number | undefined;
  readonly apiError: string | undefined;
  readonly #recoverable: boolean;
  constructor(
    message: string,
    details: { status?: number; apiError?: string; recoverable?: boolean } = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.status = details.status;
    this.apiError = details.apiError;
    this.#recoverable = details.recoverable ?? (details.status === 429 || (details.status ?? 0) >= 500);
  }
  override get recoverable() { return this.#recoverable; }
}

export class RecipientNotFoundError extends PluginError {
  readonly code = 'ERR_RECIPIENT_NOT_FOUND';
}
