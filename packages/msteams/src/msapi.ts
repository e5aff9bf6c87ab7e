/**
 * Microsoft Graph and the Bot Framework connector, through Microsoft's SDKs, with the Go
 * daemon's behaviour around them:
 *
 * - tokens: one @azure/identity `ClientSecretCredential` (tenant, app id, secret; authority
 *   `login_endpoint`), scope `https://graph.microsoft.com/.default` for Graph and
 *   `https://api.botframework.com/.default` for the connector, cached and refreshed by the SDK;
 * - Graph: @microsoft/microsoft-graph-client (`Client.initWithMiddleware`: the SDK's
 *   authentication handler backed by the credential, then an HTTPS fetch that trusts
 *   `ca_file`), at `graph_endpoint`;
 * - bot messages: botframework-connector's `ConnectorClient` at `<bot_endpoint>/<region>/`.
 *
 * The SDKs' own retries are switched off so that every retry is ours, bounded and counted:
 * 429 waits `Retry-After` (at most 30 s; Go ignored it), 5xx backs off (decorrelated jitter up
 * to 5 s), both until the caller's deadline, each one reported to `apiMetrics`. Errors keep
 * Microsoft's `code` and `message` plus the HTTP status. The secret never reaches a log line.
 */
import { getCACertificates, rootCertificates } from 'node:tls';
import { ClientSecretCredential, type TokenCredential } from '@azure/identity';
import { AuthenticationHandler, Client, type Context, GraphError, type Middleware, ResponseType } from '@microsoft/microsoft-graph-client';
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials/index.js';
import connector from 'botframework-connector';
import { EnvHttpProxyAgent, fetch as undiciFetch } from 'undici';
import { type ChannelApiMetrics, type ChannelContext, ChannelApiError, DecorrelatedBackoff, sleep } from '@tap/core';
import type { MsTeamsSection } from './config.js';

type Logger = ChannelContext['log'];
export const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';
export const BOT_SCOPE = 'https://api.botframework.com/.default';
const REQUEST_TIMEOUT_MS = 30_000;
const MAX_RETRY_AFTER_MS = 30_000;
/** The bind URL Graph expects, whatever endpoint the calls go to (as Go). */
const CATALOG_BIND = 'https://graph.microsoft.com/v1.0/appCatalogs/teamsApps/';

export class MsApiError extends ChannelApiError {
  /** Microsoft's error code (`Conflict`, `Authorization_RequestDenied`, `invalid_client`, …). */
  readonly msCode: string;
  /** `Retry-After` of a 429, in ms. */
  readonly retryAfterMs: number | undefined;
  constructor(message: string, details: { status?: number; msCode?: string; recoverable?: boolean; retryAfterMs?: number }, options?: ErrorOptions) {
    super(message, { status: details.status, apiError: details.msCode, recoverable: details.recoverable }, options);
    this.msCode = details.msCode ?? '';
    this.retryAfterMs = details.retryAfterMs;
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

/** An OData string literal: `'` doubled. */
export function odataString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** `Retry-After` (seconds or an HTTP date) in ms, if usable. */
function retryAfterMs(value: string | null | undefined): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ALTNAME|ERR_TLS/;

/** `cannot reach <origin>: <code>`, with a hint when the certificate was not trusted. */
function unreachable(url: string, err: unknown): MsApiError {
  let cause = err as { code?: string; message?: string; cause?: unknown } | undefined;
  while (cause && !cause.code && cause.cause) cause = cause.cause as typeof cause;
  const code = cause?.code ?? cause?.message ?? String(err);
  const hint = TLS_CODES.test(code) ? ' (the server certificate is not trusted: add its CA with [msapi] ca_file or NODE_EXTRA_CA_CERTS)' : '';
  let origin = url;
  try {
    origin = new URL(url).origin;
  } catch {
    // keep what we have
  }
  return new MsApiError(`cannot reach ${origin}: ${code}${hint}`, { recoverable: true }, { cause: err });
}

/** What the token endpoint last answered for a scope (the SDK keeps only a summary). */
interface TokenAnswer {
  url: string;
  status?: number;
  body?: string;
  retryAfter?: string | null;
  error?: unknown;
}

/**
 * Client-credential tokens from Entra ID through `ClientSecretCredential`. A token-endpoint 429
 * or 5xx replaces the credential: MSAL would otherwise refuse the same request locally for up
 * to a minute (its throttling cache), and our retry loop already paces the retries.
 */
class EntraTokens {
  readonly #s: MsTeamsSection;
  readonly #tls: { ca: string[] } | undefined;
  readonly #answers = new Map<string, TokenAnswer>();
  #credential: ClientSecretCredential;

  constructor(section: MsTeamsSection, tls: { ca: string[] } | undefined) {
    this.#s = section;
    this.#tls = tls;
    this.#credential = this.#create();
  }

  #create(): ClientSecretCredential {
    const answers = this.#answers;
    return new ClientSecretCredential(this.#s.tenantId, this.#s.appId, this.#s.appSecret, {
      authorityHost: this.#s.loginEndpoint,
      // Instance discovery asks login.microsoftonline.com about the authority; the configured
      // endpoint is used as it is (as Go does).
      disableInstanceDiscovery: true,
      retryOptions: { maxRetries: 0 },
      ...(this.#tls ? { tlsOptions: this.#tls } : {}),
      additionalPolicies: [
        {
          position: 'perRetry',
          policy: {
            name: 'tapTokenAnswers',
            async sendRequest(request, next) {
              const form = typeof request.body === 'string' ? new URLSearchParams(request.body) : undefined;
              const scope = form?.get('scope');
              try {
                const response = await next(request);
                // Token requests by scope; the others (authority metadata) when they fail.
                if (scope || response.status >= 400) answers.set(scope ?? '', { url: request.url, status: response.status, body: response.bodyAsText ?? undefined, retryAfter: response.headers.get('retry-after') });
                return response;
              } catch (error) {
                answers.set(scope ?? '', { url: request.url, error });
                throw error;
              }
            },
          },
        },
      ],
    });
  }

  /** Forget cached tokens (after a 401 from Graph or the connector). */
  reset(): void {
    this.#credential = this.#create();
  }

  async get(scope: string, signal: AbortSignal): Promise<string> {
    this.#answers.delete(scope);
    this.#answers.delete('');
    const credential = this.#credential;
    try {
      const token = await credential.getToken(scope, { abortSignal: signal, requestOptions: { timeout: REQUEST_TIMEOUT_MS } });
      return token.token;
    } catch (err) {
      if (signal.aborted) throw err;
      const answer = this.#answers.get(scope) ?? this.#answers.get('');
      if (answer?.error) throw unreachable(answer.url, answer.error);
      if (answer?.status === undefined) {
        throw new MsApiError(`Failed to get auth token ${scope}: ${(err as Error).message.split(/\r?\n/)[0]}`, { recoverable: false }, { cause: err });
      }
      const status = answer.status;
      let detail = (answer.body ?? '').slice(0, 300);
      let code = '';
      try {
        const e = JSON.parse(answer.body ?? '') as { error?: string; error_description?: string };
        code = e.error ?? '';
        detail = `${code}: ${(e.error_description ?? '').split(/\r?\n/)[0]}`;
      } catch {
        // keep the raw body
      }
      const retryable = status === 429 || status >= 500;
      if (retryable && this.#credential === credential) this.#credential = this.#create();
      // Go's words first, then what Entra ID said (wrong secret, tenant or app id).
      throw new MsApiError(`Failed to get auth token ${status} ${scope} ${detail}`, { status, msCode: code, recoverable: retryable, retryAfterMs: status === 429 ? retryAfterMs(answer.retryAfter) : undefined }, { cause: err });
    }
  }

  /** A `TokenCredential` for the SDKs, answering from the same cache. */
  credential(): TokenCredential {
    return { getToken: (scopes, options) => this.#credential.getToken(scopes, options) };
  }
}

/**
 * The last middleware of the Graph client: fetch over HTTPS, trusting `ca_file` as well, through
 * HTTPS_PROXY / NO_PROXY when set (as the Azure SDK pipelines of the other two services do).
 */
class HttpsFetch implements Middleware {
  readonly #dispatcher: EnvHttpProxyAgent;
  constructor(dispatcher: EnvHttpProxyAgent) {
    this.#dispatcher = dispatcher;
  }
  async execute(context: Context): Promise<void> {
    const url = typeof context.request === 'string' ? context.request : context.request.url;
    try {
      const init = { ...(context.options as Record<string, unknown>), dispatcher: this.#dispatcher };
      context.response = (await undiciFetch(context.request as string, init as Parameters<typeof undiciFetch>[1])) as unknown as Response;
    } catch (err) {
      if ((err as Error).name === 'AbortError' || (err as Error).name === 'TimeoutError') throw err;
      // The SDK keeps only the message of what a middleware throws.
      throw new Error(unreachable(url, err).message, { cause: err });
    }
  }
}

type Connector = InstanceType<typeof connector.ConnectorClient>;

export class MsApi {
  readonly #s: MsTeamsSection;
  readonly #log: Logger;
  readonly #metrics: ChannelApiMetrics | undefined;
  readonly #tokens: EntraTokens;
  readonly #graph: Client;
  readonly #connector: Connector;
  readonly #dispatcher: EnvHttpProxyAgent;

  constructor(section: MsTeamsSection, log: Logger, metrics?: ChannelApiMetrics) {
    this.#s = section;
    this.#log = log;
    this.#metrics = metrics;
    // A private CA is trusted in addition to the system's (and NODE_EXTRA_CA_CERTS).
    const ca = section.caPem ? [...defaultCas(), section.caPem] : undefined;
    const tls = ca ? { ca } : undefined;
    this.#tokens = new EntraTokens(section, tls);
    this.#dispatcher = new EnvHttpProxyAgent(tls ? { connect: tls, requestTls: tls, proxyTls: tls } : {});

    const graph = new URL(section.graphEndpoint);
    const segments = graph.pathname.split('/').filter(Boolean);
    const version = segments.pop() ?? '';
    this.#graph = Client.initWithMiddleware({
      baseUrl: `${graph.origin}/${segments.join('/')}`.replace(/\/+$/, ''),
      defaultVersion: version,
      // The SDK sends tokens to Microsoft's Graph hosts only, unless told about another.
      customHosts: new Set([graph.hostname]),
      middleware: [new AuthenticationHandler(new TokenCredentialAuthenticationProvider(this.#tokens.credential(), { scopes: [GRAPH_SCOPE] })), new HttpsFetch(this.#dispatcher)],
    });

    const tokens = this.#tokens;
    const credentials = {
      async signRequest<T extends { headers: { set(name: string, value: string): void } }>(resource: T): Promise<T> {
        resource.headers.set('authorization', `Bearer ${await tokens.get(BOT_SCOPE, AbortSignal.timeout(REQUEST_TIMEOUT_MS))}`);
        return resource;
      },
    };
    this.#connector = new connector.ConnectorClient(credentials as ConstructorParameters<typeof connector.ConnectorClient>[0], { baseUri: `${section.botEndpoint}/${section.region}/` });
    const pipeline = (this.#connector as unknown as { client: { pipeline: PipelineLike } }).client.pipeline;
    // Our loop retries (and counts); the SDK's retry policy would multiply the attempts.
    pipeline.removePolicy({ phase: 'Retry' });
    if (tls) {
      pipeline.addPolicy({
        name: 'tapTrustCaFile',
        sendRequest: (request, next) => {
          request.tlsSettings = tls;
          return next(request);
        },
      });
    }
  }

  get graphBase(): string {
    return this.#s.graphEndpoint;
  }

  async close(): Promise<void> {
    await this.#dispatcher.close();
  }

  /** One call with our retries: 429 after Retry-After, 5xx after backoff, until `signal` ends. */
  async #retrying<T>(what: { method: string; path: string }, signal: AbortSignal, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const backoff = new DecorrelatedBackoff({ baseMs: 100, capMs: 5_000 });
    for (let attempt = 1; ; attempt++) {
      let error: MsApiError;
      const callSignal = AbortSignal.any([signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]);
      try {
        return await call(callSignal);
      } catch (err) {
        if (err instanceof MsApiError) error = err;
        else if (signal.aborted) throw new MsApiError(`${what.method} ${what.path}: deadline reached`, { recoverable: true }, { cause: err });
        else if (callSignal.aborted) throw new MsApiError(`${what.method} ${what.path}: no answer in ${REQUEST_TIMEOUT_MS / 1000} s`, { recoverable: true }, { cause: err });
        else throw err;
      }
      const status = error.status ?? 0;
      if (status === 401 && !error.message.startsWith('Failed to get auth token')) this.#tokens.reset();
      if (status !== 429 && status < 500) throw error;
      const delay = status === 429 && error.retryAfterMs !== undefined ? Math.min(error.retryAfterMs, MAX_RETRY_AFTER_MS) : backoff.next();
      if (status === 429) this.#metrics?.rateLimited(delay);
      else this.#metrics?.retried();
      this.#log.warn({ method: what.method, path: what.path, status, attempt, delay_ms: delay }, 'Microsoft API call failed, retrying');
      await sleep(delay, signal).catch(() => {
        throw new MsApiError(`${error.message} (gave up: deadline reached)`, { status, msCode: error.msCode, recoverable: true });
      });
    }
  }

  /** A Graph call; `path` is relative to the version (`users`, `teams/<id>/installedApps`). */
  async #graphCall<T>(method: 'GET' | 'POST' | 'DELETE', path: string, query: { filter?: string; expand?: string }, body: unknown, signal: AbortSignal): Promise<T> {
    const what = { method, path: `Graph ${path}` };
    return this.#retrying(what, signal, async (callSignal) => {
      // First the token, so that its errors keep Entra's words (the SDK keeps only a message).
      await this.#tokens.get(GRAPH_SCOPE, callSignal);
      let request = this.#graph.api(path).option('signal', callSignal);
      if (query.filter) request = request.filter(encodeURIComponent(query.filter));
      if (query.expand) request = request.expand(query.expand);
      try {
        if (method === 'GET') return (await request.get()) as T;
        // Install and uninstall answer with no body (201, 204): do not parse one.
        if (method === 'POST') return (await request.responseType(ResponseType.TEXT).post(body)) as T;
        return (await request.responseType(ResponseType.TEXT).delete()) as T;
      } catch (err) {
        throw graphError(err, method, path, callSignal);
      }
    });
  }

  async #bot<T>(method: 'POST' | 'PUT', conversationId: string, call: (client: Connector, options: { abortSignal: AbortSignal }) => Promise<T>, signal: AbortSignal): Promise<T> {
    const what = { method, path: `Bot Framework conversations/${conversationId}/activities` };
    return this.#retrying(what, signal, async (callSignal) => {
      await this.#tokens.get(BOT_SCOPE, callSignal);
      try {
        return await call(this.#connector, { abortSignal: callSignal });
      } catch (err) {
        throw botError(err, method, conversationId, `${this.#s.botEndpoint}/${this.#s.region}/`, callSignal);
      }
    });
  }

  // --- Graph ---

  async teamsApp(signal: AbortSignal): Promise<TeamsApp> {
    const id = this.#s.teamsAppId;
    const res = await this.#graphCall<{ value: TeamsApp[] }>('GET', 'appCatalogs/teamsApps', { filter: `externalId eq ${odataString(id)}` }, undefined, signal);
    if (!res.value.length) throw new MsApiError(`App ${id} not found`, { status: 404, msCode: 'NotFound' });
    if (res.value.length > 1) throw new MsApiError(`There is more than one app having externalID eq ${id}`, {});
    return res.value[0]!;
  }

  async userIdByEmail(email: string, signal: AbortSignal): Promise<string> {
    const res = await this.#graphCall<{ value: Array<{ id: string }> }>('GET', 'users', { filter: `mail eq ${odataString(email)}` }, undefined, signal);
    if (!res.value.length) throw new MsApiError(`User by email ${email} not found`, { status: 404, msCode: 'NotFound' });
    if (res.value.length > 1) throw new MsApiError(`There is more than one user with email eq ${email}`, {});
    return res.value[0]!.id;
  }

  async userById(id: string, signal: AbortSignal): Promise<string> {
    const res = await this.#graphCall<{ value: Array<{ id: string }> }>('GET', 'users', { filter: `id eq ${odataString(id)}` }, undefined, signal);
    if (!res.value.length) throw new MsApiError(`User ${id} not found`, { status: 404, msCode: 'NotFound' });
    if (res.value.length > 1) throw new MsApiError(`There is more than one user with id ${id}`, {});
    return res.value[0]!.id;
  }

  async userInstallation(userId: string, catalogId: string, signal: AbortSignal): Promise<InstalledApp | undefined> {
    const res = await this.#graphCall<{ value: InstalledApp[] }>('GET', `users/${encodeURIComponent(userId)}/teamwork/installedApps`, { expand: 'teamsApp', filter: `teamsApp/id eq ${odataString(catalogId)}` }, undefined, signal);
    return res.value[0];
  }

  async installForUser(userId: string, catalogId: string, signal: AbortSignal): Promise<void> {
    try {
      await this.#graphCall('POST', `users/${encodeURIComponent(userId)}/teamwork/installedApps`, {}, { 'teamsApp@odata.bind': `${CATALOG_BIND}${catalogId}` }, signal);
    } catch (err) {
      // Another replica (or a person) installed it at the same moment.
      if (!(err instanceof MsApiError && err.msCode === 'Conflict')) throw err;
    }
  }

  async uninstallForUser(userId: string, installationId: string, signal: AbortSignal): Promise<void> {
    await this.#graphCall('DELETE', `users/${encodeURIComponent(userId)}/teamwork/installedApps/${encodeURIComponent(installationId)}`, {}, undefined, signal);
  }

  async chatOf(userId: string, installationId: string, signal: AbortSignal): Promise<Chat> {
    return this.#graphCall<Chat>('GET', `users/${encodeURIComponent(userId)}/teamwork/installedApps/${encodeURIComponent(installationId)}/chat`, {}, undefined, signal);
  }

  async teamInstallation(groupId: string, catalogId: string, signal: AbortSignal): Promise<InstalledApp> {
    const res = await this.#graphCall<{ value: InstalledApp[] }>('GET', `teams/${encodeURIComponent(groupId)}/installedApps`, { expand: 'teamsApp', filter: `teamsApp/id eq ${odataString(catalogId)}` }, undefined, signal);
    if (!res.value.length) throw new MsApiError(`App ${catalogId} for team ${groupId} not found`, { status: 404, msCode: 'NotFound' });
    if (res.value.length > 1) throw new MsApiError(`There is more than one app having id eq ${catalogId}`, {});
    return res.value[0]!;
  }

  // --- Bot Framework ---

  async postActivity(conversationId: string, activity: BotActivity, signal: AbortSignal): Promise<string> {
    const res = await this.#bot('POST', conversationId, (c, options) => c.conversations.sendToConversation(conversationId, activity as never, options), signal);
    if (!res?.id) throw new MsApiError('Bot Framework returned no activity id', {});
    return res.id;
  }

  async updateActivity(conversationId: string, activityId: string, activity: BotActivity, signal: AbortSignal): Promise<void> {
    await this.#bot('PUT', conversationId, (c, options) => c.conversations.updateActivity(conversationId, activityId, activity as never, options), signal);
  }
}

/** The activity the plugin posts: a message from TeleBot with one Adaptive Card. */
export interface BotActivity {
  type: 'message';
  from: { id: string; name: string };
  attachments: Array<{ contentType: string; content: unknown }>;
}

interface PipelineLike {
  removePolicy(options: { phase: string }): unknown;
  addPolicy(policy: { name: string; sendRequest(request: { tlsSettings?: unknown }, next: (request: unknown) => Promise<unknown>): Promise<unknown> }): void;
}

function defaultCas(): string[] {
  // Node ≥ 22.15: the bundled roots plus NODE_EXTRA_CA_CERTS (and the system store if enabled).
  return typeof getCACertificates === 'function' ? getCACertificates('default') : [...rootCertificates];
}

function graphError(err: unknown, method: string, path: string, signal: AbortSignal): unknown {
  if (signal.aborted) return err;
  if (err instanceof MsApiError) return err;
  if (err instanceof GraphError || (err && typeof err === 'object' && 'statusCode' in err)) {
    const e = err as GraphError;
    if (e.statusCode === -1 || !e.statusCode) {
      // Not an HTTP answer: the fetch failed (message from HttpsFetch), or the token provider did.
      return new MsApiError(e.message, { recoverable: true }, { cause: err });
    }
    const code = e.code ?? '';
    return new MsApiError(`${code} ${e.message ?? ''} (HTTP ${e.statusCode} from ${method} Graph ${path})`.trim(), {
      status: e.statusCode,
      msCode: code,
      recoverable: e.statusCode === 429 || e.statusCode >= 500,
      retryAfterMs: retryAfterMs(e.headers?.get('retry-after')),
    }, { cause: err });
  }
  return err;
}

function botError(err: unknown, method: string, conversationId: string, base: string, signal: AbortSignal): unknown {
  if (signal.aborted) return err;
  if (err instanceof MsApiError) return err;
  const e = err as { statusCode?: number; code?: string; message?: string; response?: { headers?: { get(name: string): string | undefined }; bodyAsText?: string | null }; details?: unknown };
  if (!e || typeof e !== 'object') return err;
  if (!e.statusCode) {
    if (e.code === 'REQUEST_SEND_ERROR' || (e.code && e.code !== 'PARSE_ERROR')) return unreachable(base, err);
    return err;
  }
  let code = '';
  let message = e.message ?? '';
  const text = e.response?.bodyAsText ?? '';
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string }; message?: string };
    code = body.error?.code ?? '';
    message = body.error?.message ?? body.message ?? message;
  } catch {
    if (text) message = text.slice(0, 300);
  }
  return new MsApiError(`${code} ${message} (HTTP ${e.statusCode} from ${method} Bot Framework conversations/${conversationId}/activities)`.trim(), {
    status: e.statusCode,
    msCode: code,
    recoverable: e.statusCode === 429 || e.statusCode >= 500,
    retryAfterMs: retryAfterMs(e.response?.headers?.get('retry-after')),
  }, { cause: err });
}
