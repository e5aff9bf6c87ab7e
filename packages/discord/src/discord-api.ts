/**
 * A small Discord REST client on undici that respects Discord's rate limits instead of
 * tripping them (the Go daemon had no rate-limit handling at all):
 *
 * - Per-route buckets: after each answer the `X-RateLimit-Remaining` / `X-RateLimit-Reset-After`
 *   headers are remembered per route (method + path with the message id folded, keeping the
 *   channel id, Discord's "major parameter"); a call on an exhausted route waits for its reset.
 * - 429: wait `retry_after` from the JSON body (or `Retry-After`); when `global` is set, every
 *   route waits. Waits longer than `maxRetryAfterMs` fail at once as recoverable.
 * - 5xx and network failures: decorrelated backoff; a POST is not repeated once it may have
 *   arrived. Other 4xx: never retried; the error keeps Discord's `message` and `code`.
 */
import { type ChannelApiMetrics, type ChannelContext, ChannelApiError, DecorrelatedBackoff, sleep } from '@tap/core';
import { Agent, type Dispatcher, EnvHttpProxyAgent, request } from 'undici';

type Logger = ChannelContext['log'];
type Method = 'GET' | 'POST' | 'PATCH';

export interface DiscordApiOptions {
  apiUrl: string;
  token: string;
  log: Logger;
  metrics?: ChannelApiMetrics;
  /** Attempts per call, the first included. Default 4. */
  maxAttempts?: number;
  /** Longest rate-limit wait accepted, in ms. Default 30 000. */
  maxRetryAfterMs?: number;
  /** First 5xx/network backoff, in ms. Default 250. */
  backoffBaseMs?: number;
  /** Per-HTTP-request timeout, in ms (Go: 10 s). */
  requestTimeoutMs?: number;
  /** Proxy variables (HTTPS_PROXY, NO_PROXY…); default `process.env`. */
  env?: Record<string, string | undefined>;
}

/** A refused call; `apiError` is Discord's numeric JSON error code as a string. */
export class DiscordApiError extends ChannelApiError {
  /** Discord's JSON error code (10003 Unknown Channel, 50001 Missing Access, …), 0 if none. */
  readonly discordCode: number;
  constructor(message: string, details: { status?: number; discordCode?: number; recoverable?: boolean }, options?: ErrorOptions) {
    super(message, { status: details.status, apiError: details.discordCode ? String(details.discordCode) : undefined, recoverable: details.recoverable }, options);
    this.discordCode = details.discordCode ?? 0;
  }
}

const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);

export class DiscordApi {
  readonly #base: string;
  readonly #token: string;
  readonly #log: Logger;
  readonly #metrics: ChannelApiMetrics | undefined;
  readonly #maxAttempts: number;
  readonly #maxRetryAfterMs: number;
  readonly #backoffBaseMs: number;
  readonly #timeoutMs: number;
  readonly #dispatcher: Dispatcher;
  /** Route → when its bucket refills, while it is exhausted. */
  readonly #exhausted = new Map<string, number>();
  #globalUntil = 0;

  constructor(options: DiscordApiOptions) {
    this.#base = options.apiUrl.endsWith('/') ? options.apiUrl : `${options.apiUrl}/`;
    this.#token = options.token;
    this.#log = options.log;
    this.#metrics = options.metrics;
    this.#maxAttempts = options.maxAttempts ?? 4;
    this.#maxRetryAfterMs = options.maxRetryAfterMs ?? 30_000;
    this.#backoffBaseMs = options.backoffBaseMs ?? 250;
    this.#timeoutMs = options.requestTimeoutMs ?? 10_000;
    const env = options.env ?? process.env;
    const proxied = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'].some((k) => env[k]);
    this.#dispatcher = proxied ? new EnvHttpProxyAgent({ connections: 100 }) : new Agent({ connections: 100 });
  }

  async close(): Promise<void> {
    await this.#dispatcher.close();
  }

  /** One call (`path` relative to the API base, e.g. `channels/123/messages`) with waits and retries. */
  async call<T>(method: Method, path: string, body: unknown, signal: AbortSignal): Promise<T> {
    const route = routeOf(method, path);
    const backoff = new DecorrelatedBackoff({ baseMs: this.#backoffBaseMs, capMs: 5_000 });
    for (let attempt = 1; ; attempt++) {
      signal.throwIfAborted();
      await this.#waitForBucket(route, signal);
      const last = attempt >= this.#maxAttempts;
      let outcome: Outcome;
      try {
        outcome = await this.#once(method, path, body, route, signal);
      } catch (err) {
        if (signal.aborted) throw new DiscordApiError(`cannot reach Discord: ${describeNetwork(err)} (gave up: deadline reached)`, { recoverable: true }, { cause: err });
        const error = new DiscordApiError(`cannot reach Discord at ${this.#base}: ${describeNetwork(err)}`, { recoverable: true }, { cause: err });
        const sent = !NOT_SENT.has(networkCode(err));
        if (last || (sent && method === 'POST')) throw error;
        await this.#pause(backoff.next(), 'Discord API call failed, retrying', { method, route, attempt, err: error.message }, signal, error);
        this.#metrics?.retried();
        continue;
      }
      if (outcome.ok) return outcome.body as T;
      const { error } = outcome;
      if (error.status === 429) {
        if (last || outcome.retryAfterMs > this.#maxRetryAfterMs) throw error;
        if (outcome.global) this.#globalUntil = Date.now() + outcome.retryAfterMs;
        this.#metrics?.rateLimited(outcome.retryAfterMs);
        await this.#pause(outcome.retryAfterMs, 'Discord rate limit hit, retrying after the hinted delay', { method, route, attempt, global: outcome.global }, signal, error);
        continue;
      }
      if ((error.status ?? 0) >= 500 && !last) {
        await this.#pause(backoff.next(), 'Discord API call failed, retrying', { method, route, attempt, err: error.message }, signal, error);
        this.#metrics?.retried();
        continue;
      }
      throw error;
    }
  }

  async #pause(ms: number, msg: string, fields: Record<string, unknown>, signal: AbortSignal, error: Error): Promise<void> {
    this.#log.warn({ ...fields, delay_ms: Math.round(ms) }, msg);
    await sleep(ms, signal).catch(() => {
      throw new DiscordApiError(`${error.message} (gave up: deadline reached)`, { recoverable: true }, { cause: error });
    });
  }

  /** Waits out a global limit or this route's exhausted bucket (bounded by the caller's signal). */
  async #waitForBucket(route: string, signal: AbortSignal): Promise<void> {
    const until = Math.max(this.#globalUntil, this.#exhausted.get(route) ?? 0);
    const wait = until - Date.now();
    if (wait <= 0) return;
    this.#metrics?.rateLimited(wait);
    this.#log.debug({ route, delay_ms: wait }, 'Discord rate limit bucket empty, waiting for its reset');
    await sleep(Math.min(wait, this.#maxRetryAfterMs), signal);
  }

  async #once(method: Method, path: string, body: unknown, route: string, signal: AbortSignal): Promise<Outcome> {
    const res = await request(`${this.#base}${path}`, {
      method,
      headers: {
        accept: 'application/json',
        authorization: `Bot ${this.#token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.any([signal, AbortSignal.timeout(this.#timeoutMs)]),
      dispatcher: this.#dispatcher,
    });
    const text = await res.body.text();
    this.#remember(route, res.headers);
    const parsed = parseJson(text) as { message?: string; code?: number; retry_after?: number; global?: boolean } | undefined;
    if (res.statusCode >= 200 && res.statusCode < 300) return { ok: true, body: parsed };
    const status = res.statusCode;
    // Go's texts: "<message> (code: <code>, status: <status>)", else the raw body.
    const message = parsed?.message
      ? `${parsed.message} (code: ${parsed.code ?? 0}, status: ${status})`
      : `Discord API returned error: ${text.trim().slice(0, 200) || '(empty body)'} (status: ${status})`;
    const error = new DiscordApiError(message, { status, discordCode: parsed?.code, recoverable: status === 429 || status >= 500 });
    if (status !== 429) return { ok: false, error, retryAfterMs: 0, global: false };
    const seconds = parsed?.retry_after ?? Number(header(res.headers, 'retry-after') ?? 1);
    const global = parsed?.global === true || header(res.headers, 'x-ratelimit-global') === 'true';
    return { ok: false, error, retryAfterMs: Math.max(0, seconds * 1000), global };
  }

  #remember(route: string, headers: Record<string, string | string[] | undefined>): void {
    const remaining = header(headers, 'x-ratelimit-remaining');
    const resetAfter = Number(header(headers, 'x-ratelimit-reset-after'));
    if (remaining === '0' && Number.isFinite(resetAfter)) this.#exhausted.set(route, Date.now() + resetAfter * 1000);
    else if (remaining !== undefined) this.#exhausted.delete(route);
  }
}

type Outcome = { ok: true; body: unknown } | { ok: false; error: DiscordApiError; retryAfterMs: number; global: boolean };

/** Discord's route: method and path with message ids folded; channel ids kept (major parameter). */
export function routeOf(method: string, path: string): string {
  return `${method} ${path.replace(/(messages)\/\d+/, '$1/{id}')}`;
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

function networkCode(err: unknown): string {
  const e = err as { code?: string; cause?: { code?: string } };
  return e?.code ?? e?.cause?.code ?? '';
}

function describeNetwork(err: unknown): string {
  const e = err as { message?: string; code?: string; cause?: { code?: string; message?: string } };
  return e?.cause?.code ?? e?.code ?? e?.cause?.message ?? e?.message ?? String(err);
}
