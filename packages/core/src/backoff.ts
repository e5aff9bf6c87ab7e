/**
 * Decorrelated-jitter backoff (the AWS "exponential backoff and jitter" variant Teleport's
 * plugins use): each delay is `base + random[0, previous × multiplier − base)`, capped, and
 * starting from `previous = base`. Spreading retries at random keeps replicas that failed
 * together from retrying together.
 */

/** Options of {@link DecorrelatedBackoff}. */
export interface BackoffOptions {
  /** Smallest delay, in ms (watcher: 20; plugin-data CAS: 1). */
  baseMs: number;
  /** Largest delay, in ms (watcher: 5000; plugin-data CAS: 1000). */
  capMs: number;
  /** Growth factor; Teleport uses 3. */
  multiplier?: number;
  /** Source of randomness in [0, 1); injectable for tests. Default `Math.random`. */
  random?: () => number;
}

export class DecorrelatedBackoff {
  readonly #base: number;
  readonly #cap: number;
  readonly #mul: number;
  readonly #random: () => number;
  #sleep: number;

  constructor(options: BackoffOptions) {
    this.#base = options.baseMs;
    this.#cap = options.capMs;
    this.#mul = options.multiplier ?? 3;
    this.#random = options.random ?? Math.random;
    this.#sleep = this.#base;
  }

  /** The next delay in ms; every call advances the sequence. */
  next(): number {
    const span = this.#sleep * this.#mul - this.#base;
    this.#sleep = Math.min(this.#cap, this.#base + Math.floor(this.#random() * Math.max(0, span)));
    return this.#sleep;
  }

  /** Waits for the next delay; rejects with the signal's reason when it aborts first. */
  wait(signal?: AbortSignal): Promise<void> {
    return sleep(this.next(), signal);
  }
}

/** `setTimeout` as a promise that rejects with `signal.reason` when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
