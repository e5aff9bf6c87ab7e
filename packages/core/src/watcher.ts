/**
 * The Teleport event stream (Teleport's `watcherjob`): opens WatchEvents, waits for the INIT
 * event, forwards every event to `onEvent` (awaited, so a full queue pauses reading), and
 * re-opens the stream when it ends.
 *
 * - A connection problem (UNAVAILABLE, or no INIT within 15 s) or a clean end of the stream:
 *   reconnect after a decorrelated backoff (20 ms → 5 s, ×3, never reset), or, with
 *   `TELEPORT_PLUGIN_FAIL_FAST`, stop with an error.
 * - Any other error (e.g. access denied on the watch) is fatal: `done` rejects.
 * - When the client reports rotated credentials, a new stream is opened first and the old one
 *   is cancelled only once the new one has delivered INIT; events seen on both streams are
 *   harmless because request handling is idempotent. The two streams use different connections,
 *   so an event written to the old one just before the new one registered can still be in flight
 *   when the old one is cancelled: `onConnected` (rotated) lets the plugin catch up by listing.
 */
import type { Logger } from 'pino';
import { DecorrelatedBackoff } from './backoff.js';
import { PluginError, TeleportError } from './errors.js';
import type { TeleportClient, WatchStream } from './teleport/client.js';
import type { WatchEvent } from './teleport/types.js';

export const FAIL_FAST_ENV = 'TELEPORT_PLUGIN_FAIL_FAST';
/** How long a new stream may take to deliver INIT, in ms. */
export const WATCH_INIT_TIMEOUT_MS = 15_000;

/** A fatal watcher condition (fail-fast exit, watch rejected, bad environment). */
export class WatcherError extends PluginError {
  readonly code = 'ERR_TELEPORT_UNAVAILABLE';
}

/**
 * Go's `strconv.ParseBool` of `TELEPORT_PLUGIN_FAIL_FAST`; unset or empty is false. A bad value
 * throws `failed to parse content '<v>' of the TELEPORT_PLUGIN_FAIL_FAST environment variable`.
 */
export function parseFailFast(env: Record<string, string | undefined>): boolean {
  const value = env[FAIL_FAST_ENV];
  if (!value) return false;
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  throw new WatcherError(`failed to parse content '${value}' of the ${FAIL_FAST_ENV} environment variable`);
}

/** What the watcher learned when a stream delivered INIT. */
export interface WatchConnected {
  /** Kinds the server accepted (undefined from servers that do not say). */
  confirmedKinds?: string[];
  /** False for the first connection, true for every reconnection. */
  reconnected: boolean;
  /** True when the stream was swapped onto rotated credentials (not a reconnection). */
  rotated?: boolean;
}

export interface WatcherOptions {
  client: TeleportClient;
  kinds: string[];
  log: Logger;
  /** Called for each event in stream order; the next event is read once it resolves. */
  onEvent(event: WatchEvent): Promise<void>;
  /** Called after every successful (re)connection, before events of that stream are read. */
  onConnected?(info: WatchConnected): void;
  failFast?: boolean;
  initTimeoutMs?: number;
  backoff?: DecorrelatedBackoff;
}

interface OpenStream {
  stream: WatchStream;
  iterator: AsyncIterator<WatchEvent>;
}

const connectionProblem = (message: string) => new TeleportError('UNAVAILABLE', message);

export class Watcher {
  readonly #o: WatcherOptions;
  readonly #backoff: DecorrelatedBackoff;
  readonly #stop = new AbortController();
  #active: OpenStream | undefined;
  #connections = 0;
  #reconnects = 0;
  #rotating: Promise<void> | undefined;
  #rotateAgain = false;
  #unsubscribe: (() => void) | undefined;
  #readyResolve!: () => void;
  #readyReject!: (err: unknown) => void;
  /** Resolves at the first INIT; rejects if the watcher fails before. */
  readonly ready: Promise<void>;
  /** Resolves after `stop()`; rejects on a fatal error. */
  readonly done: Promise<void>;

  constructor(options: WatcherOptions) {
    this.#o = options;
    this.#backoff = options.backoff ?? new DecorrelatedBackoff({ baseMs: 20, capMs: 5000 });
    this.ready = new Promise((resolve, reject) => {
      this.#readyResolve = resolve;
      this.#readyReject = reject;
    });
    this.ready.catch(() => {});
    this.#unsubscribe = options.client.onCredentialsRotated?.(() => this.#onRotated());
    this.done = this.#run().finally(() => {
      this.#unsubscribe?.();
      this.#active?.stream.cancel();
    });
    this.done.then(
      () => this.#readyReject(new Error('watcher stopped before it connected')),
      (err) => this.#readyReject(err),
    );
  }

  /** Times the stream was re-opened after it ended. */
  get reconnects(): number {
    return this.#reconnects;
  }

  /** True while a stream is open and past INIT. */
  get connected(): boolean {
    return this.#active !== undefined;
  }

  /** Stops reading and reconnecting; `done` resolves. */
  stop(): void {
    this.#stop.abort(new Error('watcher stopped'));
    this.#active?.stream.cancel();
  }

  async #run(): Promise<void> {
    const { log, failFast } = this.#o;
    for (;;) {
      let err: unknown;
      try {
        const open = await this.#open();
        this.#active = open;
        this.#connected(open);
        err = await this.#pump(open);
      } catch (e) {
        err = e;
      }
      this.#active = undefined;
      if (this.#stop.signal.aborted) {
        log.debug('Watcher context is canceled');
        return;
      }
      if (err instanceof WatcherError) throw err;
      if (err === undefined) {
        if (failFast) throw new WatcherError('Watcher stream closed. Exiting as fail fast is on.');
        log.error('Watcher stream closed attempting to reconnect');
      } else if (err instanceof TeleportError && err.isConnectionProblem) {
        if (failFast) throw new WatcherError('Connection problem detected. Exiting as fail fast is on.', { cause: err });
        log.error({ err }, 'Connection problem detected, attempting to reconnect');
      } else {
        log.error({ err }, 'Watcher event loop failed');
        throw err;
      }
      try {
        await this.#backoff.wait(this.#stop.signal);
      } catch {
        log.debug('Watcher context was canceled while waiting before a reconnection');
        return;
      }
      this.#reconnects++;
    }
  }

  /** Opens a stream and waits for its INIT event. */
  async #open(): Promise<OpenStream & { confirmedKinds?: string[] }> {
    const stream = this.#o.client.watchEvents(
      this.#o.kinds.map((kind) => ({ kind })),
      { allowPartialSuccess: true },
    );
    const iterator = stream[Symbol.asyncIterator]();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(connectionProblem('watcher initialization timed out')), this.#o.initTimeoutMs ?? WATCH_INIT_TIMEOUT_MS);
    });
    try {
      const first = await Promise.race([iterator.next(), timeout]);
      if (first.done) return Promise.reject(undefined);
      if (first.value.type !== 'INIT') throw connectionProblem(`unexpected event type "${first.value.type}"`);
      const confirmedKinds = first.value.confirmedKinds;
      if (confirmedKinds && confirmedKinds.length === 0) {
        throw new WatcherError(`failed to initialize watcher for all the required resources: ${this.#o.kinds.join(', ')}`);
      }
      return { stream, iterator, confirmedKinds };
    } catch (err) {
      stream.cancel();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  #connected(open: { confirmedKinds?: string[] }): void {
    this.#o.log.info('Watcher connected');
    this.#o.onConnected?.({ confirmedKinds: open.confirmedKinds, reconnected: this.#connections++ > 0 });
    this.#readyResolve();
  }

  /**
   * Reads events until the stream ends: undefined for a clean end, else the error. When a
   * credential rotation swapped in a new stream, carries on with that one.
   */
  async #pump(open: OpenStream): Promise<unknown> {
    let current = open;
    for (;;) {
      let result: unknown;
      try {
        for (;;) {
          const next = await current.iterator.next();
          if (next.done) break;
          await this.#o.onEvent(next.value);
        }
      } catch (err) {
        result = err;
      }
      if (this.#stop.signal.aborted) return undefined;
      if (this.#active && this.#active !== current) {
        current = this.#active;
        continue;
      }
      return result;
    }
  }

  #onRotated(): void {
    if (this.#stop.signal.aborted) return;
    if (this.#rotating) {
      this.#rotateAgain = true;
      return;
    }
    this.#rotating = this.#rotate().finally(() => {
      this.#rotating = undefined;
      if (this.#rotateAgain) {
        this.#rotateAgain = false;
        this.#onRotated();
      }
    });
  }

  /** Opens a stream on the refreshed credentials, then retires the old one. */
  async #rotate(): Promise<void> {
    const old = this.#active;
    if (!old) return; // not connected: the next connection uses the new credentials anyway
    try {
      const fresh = await this.#open();
      if (this.#stop.signal.aborted || this.#active !== old) {
        fresh.stream.cancel();
        return;
      }
      this.#active = fresh;
      old.stream.cancel();
      this.#o.log.info('Watcher re-opened with refreshed credentials');
      this.#o.onConnected?.({ confirmedKinds: fresh.confirmedKinds, reconnected: true, rotated: true });
    } catch (err) {
      this.#o.log.warn({ err }, 'Failed to re-open the watcher with refreshed credentials, keeping the current stream');
    }
  }
}
