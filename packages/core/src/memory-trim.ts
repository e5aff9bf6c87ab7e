/**
 * Gives memory back to the operating system once the plugin goes quiet after a burst.
 *
 * After a burst (a catch-up backlog, a wave of requests) V8 keeps the pages it freed in a pool
 * for reuse, and its own memory reducer rarely runs in an idle Node process: the RSS stays at the
 * burst's peak for good. Once no event has been handled for `quietMs`, one memory-reducing
 * collection (V8's "last resort" flavour, the one that releases pooled pages) brings it back down.
 * It runs at most once per quiet period, only after activity: a pause of 20–60 ms (10–30 MB heap)
 * while nothing else is happening.
 *
 * It needs the `gc` function that `--expose-gc` installs; the shipped binaries have that flag
 * (deploy/node-options.json). Without it the trimmer does nothing.
 */

/** V8's gc extension, with the options Node's `--expose-gc` accepts. */
export type GcFunction = (options?: { type?: 'major' | 'minor'; execution?: 'sync' | 'async'; flavor?: 'regular' | 'last-resort' }) => unknown;

export const DEFAULT_TRIM_QUIET_MS = 5_000;

export interface MemoryTrimOptions {
  /** Quiet time after the last activity before trimming. */
  quietMs?: number;
  /** Default: `globalThis.gc` when Node runs with `--expose-gc`. */
  gc?: GcFunction;
  /** Called after each trim, with its duration. */
  onTrim?(ms: number): void;
}

export class IdleMemoryTrimmer {
  readonly #quietMs: number;
  readonly #gc: GcFunction | undefined;
  readonly #onTrim: ((ms: number) => void) | undefined;
  #lastActivity = 0;
  #pending = false;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: MemoryTrimOptions = {}) {
    this.#quietMs = options.quietMs ?? DEFAULT_TRIM_QUIET_MS;
    const exposed = (globalThis as { gc?: unknown }).gc;
    this.#gc = options.gc ?? (typeof exposed === 'function' ? (exposed as GcFunction) : undefined);
    this.#onTrim = options.onTrim;
  }

  /** Whether trimming can happen at all (a gc function is available). */
  get enabled(): boolean {
    return this.#gc !== undefined;
  }

  /** Notes work done now; a trim follows once `quietMs` pass without more. */
  activity(): void {
    if (!this.#gc || this.#stopped) return;
    this.#lastActivity = performance.now();
    this.#pending = true;
    if (!this.#timer) this.#schedule(this.#quietMs);
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(ms: number): void {
    // Unref'd: a pending trim never keeps the process alive.
    this.#timer = setTimeout(() => this.#check(), ms);
    this.#timer.unref();
  }

  #check(): void {
    this.#timer = undefined;
    if (this.#stopped || !this.#pending || !this.#gc) return;
    const quietFor = performance.now() - this.#lastActivity;
    if (quietFor < this.#quietMs) {
      this.#schedule(this.#quietMs - quietFor);
      return;
    }
    this.#pending = false;
    const started = performance.now();
    this.#gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    this.#onTrim?.(performance.now() - started);
  }
}
