/**
 * A thin layer over @slack/web-api's WebClient that owns retries, because a handler has a
 * deadline (its AbortSignal) and the client's own policy (ten retries over ~30 minutes,
 * unbounded Retry-After waits that pause every call) does not fit one.
 *
 * - 429 / `ratelimited`: wait the Retry-After hint (at most `maxRetryAfterMs`; a longer hint
 *   fails at once, recoverable) and try again.
 * - 5xx: decorrelated backoff and try again.
 * - Network errors: retried when nothing can have been delivered (connection refused, DNS) or
 *   when the method is idempotent.
 * - `ok: false`: never retried; the error keeps Slack's code in `apiError`.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { type ChannelApiMetrics, type ChannelContext, ChannelApiError, DecorrelatedBackoff, sleep } from '@tap/core';
import { ErrorCode, type FetchFunction, type Logger as SlackLogger, LogLevel, WebClient } from '@slack/web-api';

type Logger = ChannelContext['log'];

export interface SlackApiOptions {
  token: string;
  apiUrl: string;
  log: Logger;
  metrics?: ChannelApiMetrics;
  /** Attempts per call, the first included. Default 4. */
  maxAttempts?: number;
  /** Longest Retry-After hint that is waited out, in ms. Default 30 000. */
  maxRetryAfterMs?: number;
  /** First 5xx/network backoff, in ms. Default 250. */
  backoffBaseMs?: number;
  /** Per-HTTP-request timeout, in ms (Go: 10 s). */
  requestTimeoutMs?: number;
}

/** Methods that can be repeated without a visible effect. */
const IDEMPOTENT = new Set(['auth.test', 'users.lookupByEmail', 'chat.update', 'reactions.add', 'conversations.info']);
/** Failures that happen before a request is sent. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);

type Failure =
  | { kind: 'rate-limited'; retryAfterMs: number }
  | { kind: 'server'; status: number }
  | { kind: 'network'; sent: boolean }
  | { kind: 'final' };

/** The call's signal, so the fetch of the WebClient can be aborted with it. */
const callSignal = new AsyncLocalStorage<AbortSignal>();

const fetchWithCallSignal: FetchFunction = (url, init) => {
  const outer = callSignal.getStore();
  const signal = outer && init?.signal ? AbortSignal.any([outer, init.signal]) : (outer ?? init?.signal);
  return fetch(url, { ...init, signal } as RequestInit);
};

export type SlackResult = Record<string, unknown> & { ok: boolean };

export class SlackApi {
  readonly #client: WebClient;
  readonly #log: Logger;
  readonly #metrics: ChannelApiMetrics | undefined;
  readonly #maxAttempts: number;
  readonly #maxRetryAfterMs: number;
  readonly #backoffBaseMs: number;

  constructor(options: SlackApiOptions) {
    this.#log = options.log;
    this.#metrics = options.metrics;
    this.#maxAttempts = options.maxAttempts ?? 4;
    this.#maxRetryAfterMs = options.maxRetryAfterMs ?? 30_000;
    this.#backoffBaseMs = options.backoffBaseMs ?? 250;
    this.#client = new WebClient(options.token, {
      slackApiUrl: options.apiUrl,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      timeout: options.requestTimeoutMs ?? 10_000,
      fetch: fetchWithCallSignal,
      logger: quietLogger(options.log),
    });
  }

  /** Calls a Web API method; rejects with ChannelApiError (Slack's code in `apiError`). */
  async call(method: string, args: Record<string, unknown>, signal: AbortSignal): Promise<SlackResult> {
    const backoff = new DecorrelatedBackoff({ baseMs: this.#backoffBaseMs, capMs: 5_000 });
    for (let attempt = 1; ; attempt++) {
      signal.throwIfAborted();
      try {
        return (await callSignal.run(signal, () => this.#client.apiCall(method, args))) as SlackResult;
      } catch (err) {
        if (signal.aborted) throw toChannelError(method, err, signal);
        const failure = classify(method, err);
        const last = attempt >= this.#maxAttempts;
        if (failure.kind === 'rate-limited') {
          if (last || failure.retryAfterMs > this.#maxRetryAfterMs) throw toChannelError(method, err);
          this.#log.warn({ method, retry_after_ms: failure.retryAfterMs, attempt }, 'Slack rate limit hit, retrying after the hinted delay');
          this.#metrics?.rateLimited(failure.retryAfterMs);
          await sleep(failure.retryAfterMs, signal).catch(() => {
            throw toChannelError(method, err, signal);
          });
          continue;
        }
        if ((failure.kind === 'server' || (failure.kind === 'network' && (!failure.sent || IDEMPOTENT.has(method)))) && !last) {
          const delay = backoff.next();
          this.#log.warn({ method, attempt, delay_ms: delay, err: describe(err) }, 'Slack API call failed, retrying');
          this.#metrics?.retried();
          await sleep(delay, signal).catch(() => {
            throw toChannelError(method, err, signal);
          });
          continue;
        }
        throw toChannelError(method, err);
      }
    }
  }
}

function classify(method: string, err: unknown): Failure {
  const e = err as { code?: string; retryAfter?: number; statusCode?: number; data?: SlackResult & { error?: string }; original?: Error };
  switch (e?.code) {
    case ErrorCode.RateLimitedError:
      return { kind: 'rate-limited', retryAfterMs: Math.max(0, e.retryAfter ?? 1) * 1000 };
    case ErrorCode.PlatformError: {
      if (e.data?.error !== 'ratelimited') return { kind: 'final' };
      const meta = e.data.response_metadata as { retryAfter?: number } | undefined;
      return { kind: 'rate-limited', retryAfterMs: Math.max(0, meta?.retryAfter ?? 1) * 1000 };
    }
    case ErrorCode.HTTPError:
      return (e.statusCode ?? 0) >= 500 ? { kind: 'server', status: e.statusCode! } : { kind: 'final' };
    case ErrorCode.RequestError: {
      const cause = (e.original as { cause?: { code?: string } } | undefined)?.cause;
      return { kind: 'network', sent: !NOT_SENT.has(cause?.code ?? '') };
    }
    default:
      void method;
      return { kind: 'final' };
  }
}

function describe(err: unknown): string {
  const e = err as { code?: string; data?: { error?: string }; statusCode?: number; original?: Error; message?: string };
  if (e?.code === ErrorCode.PlatformError) return e.data?.error ?? 'unknown_error';
  if (e?.code === ErrorCode.HTTPError) return `slack api returned unexpected code ${e.statusCode}`;
  if (e?.code === ErrorCode.RateLimitedError) return 'ratelimited';
  if (e?.code === ErrorCode.RequestError) {
    const cause = (e.original as { cause?: { code?: string; message?: string } } | undefined)?.cause;
    return `cannot reach Slack: ${cause?.code ?? cause?.message ?? e.original?.message ?? 'request failed'}`;
  }
  return e?.message ?? String(err);
}

/** Slack's error as ours: the message is Slack's code (or Go's HTTP text) so logs read like Go's. */
function toChannelError(method: string, err: unknown, signal?: AbortSignal): ChannelApiError {
  const e = err as { code?: string; data?: SlackResult & { error?: string; needed?: string }; statusCode?: number };
  let text = describe(err);
  if (signal?.aborted) text = `${text} (gave up: ${(signal.reason as Error)?.message ?? 'deadline reached'})`;
  const details =
    e?.code === ErrorCode.PlatformError
      ? { status: 200, apiError: e.data?.error, recoverable: e.data?.error === 'ratelimited' }
      : e?.code === ErrorCode.HTTPError
        ? { status: e.statusCode }
        : e?.code === ErrorCode.RateLimitedError
          ? { status: 429, apiError: 'ratelimited' }
          : { recoverable: e?.code === ErrorCode.RequestError };
  const error = new ChannelApiError(text, details, { cause: err });
  Object.defineProperty(error, 'method', { value: method, enumerable: true });
  if (e?.data?.needed) Object.defineProperty(error, 'needed', { value: e.data.needed, enumerable: true });
  return error;
}

/**
 * The WebClient's own lines at debug (our lines already say what failed); its per-request
 * debug chatter (URL, body, headers) is dropped.
 */
function quietLogger(log: Logger): SlackLogger {
  const child = log.child({ component: 'slack-web-api' });
  const write = (...msg: unknown[]) => child.debug(msg.map(String).join(' '));
  return {
    debug: () => {},
    info: write,
    warn: write,
    error: write,
    setLevel: () => {},
    getLevel: () => LogLevel.DEBUG,
    setName: () => {},
  };
}
