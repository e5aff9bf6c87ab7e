/**
 * Microsoft Graph and Bot Framework over HTTPS, as the Go daemon calls them: client-credential
 * tokens from Entra ID (one cache per scope, refreshed a minute early), `Authorization: Bearer`,
 * 429/5xx retried with backoff until the caller's deadline (honouring `Retry-After`, which Go
 * ignored), and errors that keep Microsoft's `code` and `message` plus the HTTP status.
 */
import { type ChannelApiMetrics, type ChannelContext, ChannelApiError, DecorrelatedBackoff, sleep } from '@tap/core';
import type { MsTeamsSection } from './config.js';

type Logger = ChannelContext['log'];
const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';
const BOT_SCOPE = 'https://api.botframework.com/.default';
const REQUEST_TIMEOUT_MS = 30_000;
const MAX_RETRY_AFTER_MS = 30_000;

export class MsApiError extends ChannelApiError {
  /** Microsoft's error code (`Conflict`, `Authorization_RequestDenied`, …). */
  readonly msCode: string;
  constructor(message: string, details: { status?: number; msCode?: string; recoverable?: boolean }, options?: ErrorOptions) {
    super(message, { status: details.status, apiError: details.msCode, recoverable: details.recoverable }, options);
    this.msCode = details.msCode ?? '';
  }
}

export interface TeamsApp {
  id: string;
  externalId?: string;
  displayName?: string;
}
export interface InstalledApp {
  id: string;
}
export interface Chat {
  id: string;
  tenantId?: string;
  webUrl?: string;
}

/** `?k=v&…` with sorted keys, as Go's `url.Values.Encode`. */
export function goQuery(params: Record<string, string>): string {
  const q = new URLSearchParams(Object.entries(params).sort(([a], [b]) => (a < b ? -1 : 1)));
  return `?${q.toString()}`;
}

export class MsApi {
  readonly #s: MsTeamsSection;
  readonly #log: Logger;
  readonly #metrics: ChannelApiMetrics | undefined;
  readonly #tokens = new Map<string, { token: string; until: number }>();

  constructor(section: MsTeamsSection, log: Logger, metrics?: ChannelApiMetrics) {
    this.#s = section;
    this.#log = log;
    this.#metrics = metrics;
  }

  get graphBase(): string {
    return this.#s.graphEndpoint;
  }

  async #token(scope: string, signal: AbortSignal): Promise<string> {
    const cached = this.#tokens.get(scope);
    if (cached && cached.until > Date.now()) return cached.token;
    const body = new URLSearchParams([
      ['client_id', this.#s.appId],
      ['client_secret', this.#s.appSecret],
      ['grant_type', 'client_credentials'],
      ['scope', scope],
    ]);
    const url = `${this.#s.loginEndpoint}/${encodeURIComponent(this.#s.tenantId)}/oauth2/v2.0/token`;
    const res = await this.#fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() }, signal);
    const text = await res.text();
    if (res.status !== 200) {
      let detail = text.slice(0, 300);
      try {
        const e = JSON.parse(text) as { error?: string; error_description?: string };
        detail = `${e.error ?? ''}: ${(e.error_description ?? '').split('\n')[0]}`;
      } catch {
        // keep the raw body
      }
      // Go's words first, then what Entra ID said (wrong secret, tenant or app id).
      throw new MsApiError(`Failed to get auth token ${res.status} ${scope} ${detail}`, { status: res.status, recoverable: res.status >= 500 });
    }
    const t = JSON.parse(text) as { access_token?: string; expires_in?: number };
    if (!t.access_token) throw new MsApiError(`Failed to get auth token ${res.status} ${scope}: no access_token in the answer`, { status: res.status });
    this.#tokens.set(scope, { token: t.access_token, until: Date.now() + ((t.expires_in ?? 3600) - 60) * 1000 });
    return t.access_token;
  }

  async #fetch(url: string, init: RequestInit, signal: AbortSignal): Promise<Response> {
    try {
      return await fetch(url, { ...init, signal: AbortSignal.any([signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new MsApiError(`cannot reach ${new URL(url).origin}: ${cause?.code ?? cause?.message ?? (err as Error).message}`, { recoverable: true }, { cause: err });
    }
  }

  /** One Graph or Bot call with retries; resolves the parsed JSON body (undefined when empty). */
  async #call<T>(kind: 'graph' | 'bot', method: string, path: string, body: unknown, expect: number, signal: AbortSignal): Promise<T> {
    const base = kind === 'graph' ? this.#s.graphEndpoint : `${this.#s.botEndpoint}/${this.#s.region}/v3`;
    const url = `${base}/${path}`;
    const backoff = new DecorrelatedBackoff({ baseMs: 100, capMs: 5_000 });
    for (let attempt = 1; ; attempt++) {
      const token = await this.#token(kind === 'graph' ? GRAPH_SCOPE : BOT_SCOPE, signal);
      const res = await this.#fetch(url, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) }, signal);
      const text = await res.text();
      if (res.status === expect || (expect === 200 && res.status >= 200 && res.status < 300)) return (text ? JSON.parse(text) : undefined) as T;
      let code = '';
      let message = text.slice(0, 300);
      try {
        const e = JSON.parse(text) as { error?: { code?: string; message?: string } };
        code = e.error?.code ?? '';
        message = e.error?.message ?? message;
      } catch {
        // keep the raw body
      }
      const error = new MsApiError(`${code} ${message} (HTTP ${res.status} from ${method} ${kind === 'graph' ? 'Graph' : 'Bot Framework'} ${path.split('?')[0]})`.trim(), {
        status: res.status,
        msCode: code,
        recoverable: res.status === 429 || res.status >= 500,
      });
      if (res.status === 401) this.#tokens.delete(kind === 'graph' ? GRAPH_SCOPE : BOT_SCOPE);
      if (res.status !== 429 && res.status < 500) throw error;
      const hinted = Number(res.headers.get('retry-after'));
      const delay = res.status === 429 && Number.isFinite(hinted) && hinted > 0 ? Math.min(hinted * 1000, MAX_RETRY_AFTER_MS) : backoff.next();
      if (res.status === 429) this.#metrics?.rateLimited(delay);
      else this.#metrics?.retried();
      this.#log.warn({ method, path: path.split('?')[0], status: res.status, attempt, delay_ms: delay }, 'Microsoft API call failed, retrying');
      await sleep(delay, signal).catch(() => {
        throw new MsApiError(`${error.message} (gave up: deadline reached)`, { status: res.status, msCode: code, recoverable: true });
      });
    }
  }

  graph<T>(method: string, path: string, body: unknown, signal: AbortSignal, expect = 200): Promise<T> {
    return this.#call<T>('graph', method, path, body, expect, signal);
  }

  bot<T>(method: string, path: string, body: unknown, signal: AbortSignal, expect = 200): Promise<T> {
    return this.#call<T>('bot', method, path, body, expect, signal);
  }

  // --- Graph ---

  async teamsApp(signal: AbortSignal): Promise<TeamsApp> {
    const id = this.#s.teamsAppId;
    const res = await this.graph<{ value: TeamsApp[] }>('GET', `appCatalogs/teamsApps${goQuery({ $filter: `externalId eq '${id}'` })}`, undefined, signal);
    if (!res.value.length) throw new MsApiError(`App ${id} not found`, { status: 404, msCode: 'NotFound' });
    if (res.value.length > 1) throw new MsApiError(`There is more than one app having externalID eq ${id}`, {});
    return res.value[0]!;
  }

  async userIdByEmail(email: string, signal: AbortSignal): Promise<string> {
    const res = await this.graph<{ value: Array<{ id: string }> }>('GET', `users${goQuery({ $filter: `mail eq '${email}'` })}`, undefined, signal);
    if (!res.value.length) throw new MsApiError(`User by email ${email} not found`, { status: 404, msCode: 'NotFound' });
    if (res.value.length > 1) throw new MsApiError(`There is more than one user with email eq ${email}`, {});
    return res.value[0]!.id;
  }

  async userById(id: string, signal: AbortSignal): Promise<string> {
    const res = await this.graph<{ value: Array<{ id: string }> }>('GET', `users${goQuery({ $filter: `id eq '${id}'` })}`, undefined, signal);
    if (!res.value.length) throw new MsApiError(`User ${id} not found`, { status: 404, msCode: 'NotFound' });
    if (res.value.length > 1) throw new MsApiError(`There is more than one user with id ${id}`, {});
    return res.value[0]!.id;
  }

  async userInstallation(userId: string, catalogId: string, signal: AbortSignal): Promise<InstalledApp | undefined> {
    const q = goQuery({ $expand: 'teamsApp', $filter: `teamsApp/id eq '${catalogId}'` });
    const res = await this.graph<{ value: InstalledApp[] }>('GET', `users/${encodeURIComponent(userId)}/teamWork/installedApps${q}`, undefined, signal);
    return res.value[0];
  }

  async installForUser(userId: string, catalogId: string, signal: AbortSignal): Promise<void> {
    try {
      await this.graph('POST', `users/${encodeURIComponent(userId)}/teamWork/installedApps`, { 'teamsApp@odata.bind': `https://graph.microsoft.com/v1.0/appCatalogs/teamsApps/${catalogId}` }, signal, 201);
    } catch (err) {
      // Another replica (or a person) installed it at the same moment.
      if (!(err instanceof MsApiError && err.msCode === 'Conflict')) throw err;
    }
  }

  async uninstallForUser(userId: string, installationId: string, signal: AbortSignal): Promise<void> {
    await this.graph('DELETE', `users/${encodeURIComponent(userId)}/teamWork/installedApps/${encodeURIComponent(installationId)}`, undefined, signal, 204);
  }

  async chatOf(userId: string, installationId: string, signal: AbortSignal): Promise<Chat> {
    return this.graph<Chat>('GET', `users/${encodeURIComponent(userId)}/teamwork/installedApps/${encodeURIComponent(installationId)}/chat`, undefined, signal);
  }

  async teamInstallation(groupId: string, catalogId: string, signal: AbortSignal): Promise<InstalledApp> {
    const q = goQuery({ $expand: 'teamsApp', $filter: `teamsApp/id eq '${catalogId}'` });
    const res = await this.graph<{ value: InstalledApp[] }>('GET', `teams/${encodeURIComponent(groupId)}/installedApps${q}`, undefined, signal);
    if (!res.value.length) throw new MsApiError(`App ${catalogId} for team ${groupId} not found`, { status: 404, msCode: 'NotFound' });
    if (res.value.length > 1) throw new MsApiError(`There is more than one app having id eq ${catalogId}`, {});
    return res.value[0]!;
  }

  // --- Bot Framework ---

  async postActivity(conversationId: string, activity: unknown, signal: AbortSignal): Promise<string> {
    const res = await this.bot<{ id?: string }>('POST', `conversations/${conversationId}/activities/`, activity, signal, 201);
    if (!res?.id) throw new MsApiError('Bot Framework returned no activity id', {});
    return res.id;
  }

  async updateActivity(conversationId: string, activityId: string, activity: unknown, signal: AbortSignal): Promise<void> {
    await this.bot('PUT', `conversations/${conversationId}/activities/${activityId}`, activity, signal, 200);
  }
}
