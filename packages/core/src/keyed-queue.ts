/**
 * Per-key ordering with a global limit (Teleport's `watcherjob.eventLoop`).
 *
 * Tasks with the same key run one after another, in the order they were pushed, each starting
 * only when the previous one has settled; tasks with different keys run concurrently. The limit
 * counts every accepted task, including tasks waiting behind a busy key, so a burst of events
 * for one request cannot grow memory without bound. `push` resolves when the task is accepted:
 * at the limit it waits, and a reader that awaits `push` before reading the next event pauses
 * there — backpressure reaches the gRPC stream instead of an unbounded buffer.
 */

/** Default number of accepted (running + queued) tasks, as Teleport's `MaxConcurrency`. */
export const DEFAULT_MAX_CONCURRENCY = 128;

export type QueueTask = () => Promise<void>;

export interface KeyedQueueOptions {
  /** Most tasks accepted at once (running or queued). Default 128. */
  limit?: number;
  /** Called when a task rejects; tasks should handle their own errors, this is a last resort. */
  onError?: (err: unknown, key: string) => void;
}

export class KeyedQueue {
  readonly #limit: number;
  readonly #onError: (err: unknown, key: string) => void;
  /** Key → tasks waiting behind the running one (present while the key is busy). */
  readonly #waiting = new Map<string, QueueTask[]>();
  #accepted = 0;
  #roomWaiters: Array<() => void> = [];
  #idleWaiters: Array<() => void> = [];

  constructor(options: KeyedQueueOptions = {}) {
    this.#limit = Math.max(1, options.limit ?? DEFAULT_MAX_CONCURRENCY);
    this.#onError = options.onError ?? (() => {});
  }

  /** Accepted tasks not yet settled (running or queued). */
  get size(): number {
    return this.#accepted;
  }

  /** Keys with a running task. */
  get busyKeys(): number {
    return this.#waiting.size;
  }

  /**
   * Accepts `task` for `key`, waiting for room when the limit is reached. Resolves on
   * acceptance, not completion; rejects with `signal.reason` if the signal aborts first.
   */
  async push(key: string, task: QueueTask, signal?: AbortSignal): Promise<void> {
    while (this.#accepted >= this.#limit) {
      signal?.throwIfAborted();
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          this.#roomWaiters = this.#roomWaiters.filter((w) => w !== wake);
          reject(signal?.reason);
        };
        const wake = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        this.#roomWaiters.push(wake);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
    signal?.throwIfAborted();
    this.#accepted++;
    const queue = this.#waiting.get(key);
    if (queue) {
      queue.push(task);
    } else {
      this.#waiting.set(key, []);
      this.#run(key, task);
    }
  }

  /** Resolves once no task is running or queued. */
  idle(): Promise<void> {
    if (this.#accepted === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #run(key: string, task: QueueTask): void {
    void (async () => {
      try {
        await task();
      } catch (err) {
        this.#onError(err, key);
      }
      this.#settled(key);
    })();
  }

  #settled(key: string): void {
    this.#accepted--;
    const next = this.#waiting.get(key)?.shift();
    if (next) {
      this.#run(key, next);
    } else {
      this.#waiting.delete(key);
    }
    this.#roomWaiters.shift()?.();
    if (this.#accepted === 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const w of waiters) w();
    }
  }
}
