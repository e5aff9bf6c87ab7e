/**
 * A small Mattermost REST v4 client on undici, with the retry policy a handler with a deadline
 * (its AbortSignal) needs:
 *
 * - 429: wait the `Retry-After` hint (or `X-Ratelimit-Reset`), at most `maxRetryAfterMs`; a
 *   longer hint fails at once as a recoverable error.
 * - 5xx: decorrelated backoff, then try again.
 * - Network errors: retried when nothing can have been delivered (connection refused, DNS) or
 *   when the call is idempotent (GET, PUT).
 * - Other 4xx: never retried; the error keeps Mattermost's words (`id`, `message`).
 *
 * Lookup GETs are cached by ETag like the Go client: the next call sends `If-None-Match` and
 * reuses the cached body on `304`.
 */
import { type ChannelApiMetrics, type ChannelContext, ChannelApiError, DecorrelatedBackoff, sleep } from '@tap/core';
import { Agent, type Dispatcher, EnvHttpProxyAgent, request } from 'undici';

type Logger = ChannelContext['log'];
type Method = 'GET' | 'POST' | 'PUT';

export interface MattermostApiOptions {
  /** Server base URL without a trailing `/`. */
  url: string;
  token: string;
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
  /** Proxy variables (HTTPS_PROXY, NO_PROXY…); default `process.env`. */
  env?: Record<string, string | undefined>;
}

/** Mattermost's error body (`model.AppError`). */
export interface MattermostErrorBody {
  id?: string;
  message?: string;
  detailed_error?: string;
  request_id?: string;
  status_code?: number;
}

/** A refused call: `apiError` is Mattermost's error id, `serverMessage` its message. */
export class MattermostApiError extends ChannelApiError {
  readonly method: string;
  readonly path: string;
  readonly serverMessage: string;
  constructor(message: string, details: { status?: number; apiError?: string; recoverable?: boolean; method: string; path: string; serverMessage?: string }, options?: ErrorOptions) {
    super(message, details, options);
    this.method = details.method;
    this.path = details.path;
    this.serverMessage = details.serverMessage ?? '';
  }
}

/** Failures that happen before a request is sent. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);
const CACHE_SIZE = 1024;

export class MattermostApi {
  readonly url: string;
  readonly #token: string;
  readonly #log: Logger;
  readonly #metrics: ChannelApiMetrics | undefined;
  readonly #maxAttempts: number;
  readonly #maxRetryAfterMs: number;
  readonly #backoffBaseMs: number;
  readonly #timeoutMs: number;
  readonly #dispatcher: Dispatcher;
  readonly #etags = new Map<string, { etag: string; body: unknown }>();

  constructor(options: MattermostApiOptions) {
    this.url = options.url;
    this.#token = options.token;
    this.#log = options.log;
    this.#metrics = options.metrics;
    this.#maxAttempts = options.maxAttempts ?? 4;
    this.#maxRetryAfterMs = options.maxRetryAfterMs ?? 30_000;
    this.#backoffBaseMs = options.backoffBaseMs ?? 250;
    this.#timeoutMs = options.requestTimeoutMs ?? 10_000;
    const env = options.env ?? process.env;
    const proxied = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'].some((k) => env[k]);
    // Go honours the proxy variables too; only build the proxy agent when one is set.
    this.#dispatcher = proxied ? new EnvHttpProxyAgent({ connections: 100 }) : new Agent({ connections: 100 });
  }

  get<T>(path: string, signal: AbortSignal, options: { cache?: boolean } = {}): Promise<T> {
    return this.call<T>('GET', path, undefined, signal, options.cache ?? false);
  }

  post<T>(path: string, body: unknown, signal: AbortSignal): Promise<T> {
    return this.call<T>('POST', path, body, signal, false);
  }

  put<T>(path: string, body: unknown, signal: AbortSignal): Promise<T> {
    return this.call<T>('PUT', path, body, signal, false);
  }

  async close(): Promise<void> {
    await this.#dispatcher.close();
  }

  /** One API call (`path` relative to the server, e.g. `api/v4/users/me`) with retries. */
  async call<T>(method: Method, path: string, body: unknown, signal: AbortSignal, cache: boolean): Promise<T> {
    const backoff = new DecorrelatedBackoff({ baseMs: this.#backoffBaseMs, capMs: 5_000 });
    for (let attempt = 1; ; attempt++) {
      signal.throwIfAborted();
      const last = attempt >= this.#maxAttempts;
      let outcome: Outcome;
      try {
        outcome = await this.#once(method, path, body, signal, cache);
      } catch (err) {
        if (signal.aborted) throw gaveUp(method, path, `cannot reach Mattermost: ${describeNetwork(err)}`, signal, err);
        const sent = !NOT_SENT.has(networkCode(err));
        const error = new MattermostApiError(`cannot reach Mattermost at ${this.url}: ${describeNetwork(err)}`, { method, path, recoverable: true }, { cause: err });
        if (last || (sent && method === 'POST')) throw error;
        const delay = backoff.next();
        this.#log.warn({ method, path, attempt, delay_ms: delay, err: error.message }, 'Mattermost API call failed, retrying');
        this.#metrics?.retried();
        await sleep(delay, signal).catch(() => {
          throw gaveUp(method, path, error.message, signal, err);
        });
        continue;
      }
      if (outcome.ok) return outcome.body as T;
      const error = outcome.error;
      if (error.status === 429) {
        const waitMs = outcome.retryAfterMs;
        if (last || waitMs > this.#maxRetryAfterMs) throw error;
        this.#log.warn({ method, path, retry_after_ms: waitMs, attempt }, 'Mattermost rate limit hit, retrying after the hinted delay');
        this.#metrics?.rateLimited(waitMs);
        await sleep(waitMs, signal).catch(() => {
          throw gaveUp(method, path, error.message, signal, error);
        });
        continue;
      }
      if ((error.status ?? 0) >= 500 && !last) {
        const delay = backoff.next();
        this.#log.warn({ method, path, attempt, delay_ms: delay, err: error.message }, 'Mattermost API call failed, retrying');
        this.#metrics?.retried();
        await sleep(delay, signal).catch(() => {
          throw gaveUp(method, path, error.message, signal, error);
        });
        continue;
      }
      throw error;
    }
  }

  async #once(method: Method, path: string, body: unknown, signal: AbortSignal, cache: boolean): Promise<Outcome> {
    const headers: Record<string, string> = {
      accept: 'application/json',
      // Go sends the scheme upper-case; Mattermost matches it case-insensitively.
      authorization: `BEARER ${this.#token}`,
    };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const cached = cache ? this.#etags.get(path) : undefined;
    if (cached) headers['if-none-match'] = cached.etag;
    const res = await request(`${this.url}/${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.any([signal, AbortSignal.timeout(this.#timeoutMs)]),
      dispatcher: this.#dispatcher,
    });
    const text = await res.body.text();
    if (res.statusCode === 304 && cached) return { ok: true, body: cached.body };
    const parsed = parseJson(text);
    if (res.statusCode >= 200 && res.statusCode < 300) {
      const etag = header(res.headers, 'etag');
      if (cache && etag) this.#remember(path, etag, parsed);
      return { ok: true, body: parsed };
    }
    const status = res.statusCode;
    const err = (parsed && typeof parsed === 'object' ? parsed : {}) as MattermostErrorBody;
    const serverMessage = err.message ?? (text.trim().slice(0, 200) || `HTTP ${status}`);
    // Go's text: api error status_code=<n>, message="<message>".
    const message = `api error status_code=${err.status_code ?? status}, message=${JSON.stringify(serverMessage)}`;
    const error = new MattermostApiError(message, { status, apiError: err.id, method, path, serverMessage });
    return { ok: false, error, retryAfterMs: status === 429 ? retryAfterMs(res.headers) : 0 };
  }

  #remember(key: string, etag: string, body: unknown): void {
    this.#etags.delete(key);
    this.#etags.set(key, { etag, body });
    if (this.#etags.size > CACHE_SIZE) this.#etags.delete(this.#etags.keys().next().value!);
  }
}

type Outcome = { ok: true; body: unknown } | { ok: false; error: MattermostApiError; retryAfterMs: number };

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** `Retry-After` (seconds or an HTTP date), else `X-Ratelimit-Reset` (seconds), else 1 s. */
function retryAfterMs(headers: Record<string, string | string[] | undefined>): number {
  const hint = header(headers, 'retry-after');
  if (hint) {
    const seconds = Number(hint);
    if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
    const at = Date.parse(hint);
    if (!Number.isNaN(at)) return Math.max(0, at - Date.now());
  }
  const reset = Number(header(headers, 'x-ratelimit-reset'));
  if (Number.isFinite(reset) && reset > 0) return reset * 1000;
  return 1000;
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function networkCode(err: unknown): string {
  const e = err as { code?: string; cause?: { code?: string } };
  return e?.code ?? e?.cause?.code ?? '';
}

function describeNetwork(err: unknown): string {
  const e = err as { name?: string; code?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.code === 'UND_ERR_HEADERS_TIMEOUT') return 'request timed out';
  return networkCode(err) || e?.cause?.message || e?.message || String(err);
}

function gaveUp(method: string, path: string, text: string, signal: AbortSignal, cause: unknown): MattermostApiError {
  const why = (signal.reason as Error | undefined)?.message ?? 'deadline reached';
  const status = cause instanceof ChannelApiError ? cause.status : undefined;
  // An API error's text is already in `text`; only a network failure is kept as the cause.
  return new MattermostApiError(`${text} (gave up: ${why})`, { method, path, status, recoverable: true }, cause instanceof ChannelApiError ? undefined : { cause });
}
