/**
 * One HTTPS server (on 127.0.0.1, with a certificate from its own throwaway CA) faking what the
 * Teams plugin calls, in each service's shapes:
 *
 * - Entra ID v2.0: `POST /<tenant>/oauth2/v2.0/token` (client credentials; checks the tenant,
 *   client id and secret; `{error, error_description, error_codes, …}` on failure), plus the
 *   OpenID metadata and instance discovery that MSAL asks for;
 * - Microsoft Graph under `/v1.0`: `appCatalogs/teamsApps?$filter=externalId eq '…'`, `users`
 *   (by `$filter` on `mail` or `id`, or `users/<id>`), `users/<id>/teamwork/installedApps`
 *   (list with `$expand=teamsApp`, POST install, DELETE, `…/<installation>/chat`),
 *   `teams/<id>/channels` and `teams/<id>/installedApps`; errors as
 *   `{"error":{"code","message","innerError"}}`;
 * - the Bot Framework connector under `/<region>/v3`: POST and PUT
 *   `conversations/<id>/activities[/<activityId>]` (201 then 200), errors as
 *   `{"error":{"code","message"}}`.
 *
 * Graph wants a token issued for `https://graph.microsoft.com/.default`, the connector one for
 * `https://api.botframework.com/.default`. `failNext` injects 429 (with Retry-After) or 5xx.
 * Point `[msapi] login_endpoint` and `bot_endpoint` at `url`, `graph_endpoint` at `graphUrl`,
 * and `ca_file` at `caFile` (or give a child process NODE_EXTRA_CA_CERTS=`caFile`).
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Server, createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MsTeamsSection } from '../config.js';
import { makeTestTls } from './test-pki.js';

export const FAKE_GRAPH_SCOPE = 'https://graph.microsoft.com/.default';
export const FAKE_BOT_SCOPE = 'https://api.botframework.com/.default';

export interface FakeTeamsActivity {
  id: string;
  conversationId: string;
  /** The card as it now stands (after edits). */
  card: { body?: Array<Record<string, unknown>>; actions?: unknown[] } & Record<string, unknown>;
  /** The card as first posted. */
  posted: FakeTeamsActivity['card'];
  from: unknown;
  /** Every PUT, oldest first: the card as it then stood. */
  edits: Array<FakeTeamsActivity['card']>;
}

/** One request as the fake saw it (the Authorization header is reduced to the token's scope). */
export interface FakeTeamsCall {
  method: string;
  /** Decoded path, without the query. */
  path: string;
  query: Record<string, string>;
  /** Scope of the bearer token presented, '' when none or unknown. */
  scope: string;
  status: number;
}

type Service = 'login' | 'graph' | 'bot';

export class FakeMsTeams {
  readonly appId = randomUUID();
  readonly appSecret = `secret-${randomUUID()}`;
  readonly tenantId = randomUUID();
  readonly teamsAppId = randomUUID();
  /** The org catalog's internal id of the app. */
  readonly catalogId = randomUUID();
  readonly activities: FakeTeamsActivity[] = [];
  /** `METHOD /path` of every request, oldest first. */
  readonly calls: string[] = [];
  readonly requests: FakeTeamsCall[] = [];
  /** Whether the app is in the org catalog (uploaded). */
  appUploaded = true;
  /** TCP connections accepted so far. */
  connections = 0;
  /** Lifetime of issued tokens, in seconds. */
  tokenLifetime = 3599;
  readonly #server: Server;
  /** token → scope */
  readonly #tokens = new Map<string, string>();
  readonly #users = new Map<string, { id: string; mail: string; name: string }>();
  readonly #installations = new Map<string, string>();
  readonly #chats = new Map<string, { id: string; user?: string; channel?: string }>();
  readonly #teams = new Map<string, { apps: Set<string>; channels: Array<{ id: string; displayName: string }> }>();
  readonly #failures: Array<{ status: number; retryAfter?: number; match: string }> = [];
  readonly #dir: string;
  #userIds = 0;
  url = '';
  /** The CA that signed the fake's certificate (PEM): what a client must trust. */
  readonly caPem: string;
  /** `caPem` in a file (removed by `close`). */
  readonly caFile: string;

  private constructor(tls: { caPem: string; certPem: string; keyPem: string }) {
    this.caPem = tls.caPem;
    this.#dir = mkdtempSync(join(tmpdir(), 'fake-msteams-'));
    this.caFile = join(this.#dir, 'ca.pem');
    writeFileSync(this.caFile, tls.caPem);
    this.#server = createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => void this.#handle(req, res));
    this.#server.on('connection', () => void this.connections++);
  }

  static async start(): Promise<FakeMsTeams> {
    const fake = new FakeMsTeams(await makeTestTls('fake-msteams'));
    fake.#server.listen(0, '127.0.0.1');
    await once(fake.#server, 'listening');
    fake.url = `https://127.0.0.1:${(fake.#server.address() as AddressInfo).port}`;
    return fake;
  }

  /** A `[msapi]` section pointed at this fake (trusting its CA). */
  section(over: Partial<MsTeamsSection> = {}): MsTeamsSection {
    return {
      preload: false,
      appId: this.appId,
      appSecret: this.appSecret,
      tenantId: this.tenantId,
      teamsAppId: this.teamsAppId,
      region: 'emea',
      loginEndpoint: this.url,
      graphEndpoint: this.graphUrl,
      botEndpoint: this.url,
      caPem: this.caPem,
      ...over,
    };
  }

  get graphUrl(): string {
    return `${this.url}/v1.0`;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    rmSync(this.#dir, { recursive: true, force: true });
  }

  /** An Entra user with this mail. Returns the user id. */
  addUser(mail: string, name = mail.split('@')[0]!): string {
    const id = `U${++this.#userIds}-${randomUUID().slice(0, 8)}`;
    this.#users.set(id, { id, mail, name });
    return id;
  }

  /** A team with a channel; `appAdded`: the app was added to the team. Returns the channel's URL. */
  addChannel(name: string, options: { appAdded?: boolean } = {}): string {
    const group = randomUUID();
    const thread = `19:${randomUUID().replaceAll('-', '')}@thread.tacv2`;
    this.#teams.set(group, { apps: new Set(options.appAdded === false ? [] : [this.catalogId]), channels: [{ id: thread, displayName: name }] });
    this.#chats.set(thread, { id: thread, channel: name });
    return `https://teams.microsoft.com/l/channel/${encodeURIComponent(thread)}/${encodeURIComponent(name)}?groupId=${group}&tenantId=${this.tenantId}`;
  }

  isInstalledFor(userId: string): boolean {
    return this.#installations.has(userId);
  }

  /**
   * The next `times` requests whose `METHOD /path` contains `match` answer `status` (429 with
   * `Retry-After: retryAfter` seconds when given), in the shape of the service they address.
   */
  failNext(match: string, status: number, times = 1, retryAfter?: number): void {
    for (let i = 0; i < times; i++) this.#failures.push({ status, retryAfter, match });
  }

  /** Every access token issued so far (for tests that check none leaks into logs). */
  issuedTokens(): string[] {
    return [...this.#tokens.keys()];
  }

  /** Drops the injected failures not served yet; returns how many there were. */
  clearFailures(): number {
    return this.#failures.splice(0).length;
  }

  /** How many injected failures are still to be served. */
  get pendingFailures(): number {
    return this.#failures.length;
  }

  /** Activities posted to a user's 1:1 chat (by id or mail) or to a channel (by name). */
  activitiesTo(ref: string): FakeTeamsActivity[] {
    const user = this.#users.get(ref) ?? [...this.#users.values()].find((u) => u.mail === ref);
    return this.activities.filter((a) => {
      const chat = this.#chats.get(a.conversationId);
      return (user && chat?.user === user.id) || chat?.channel === ref;
    });
  }

  activity(id: string): FakeTeamsActivity | undefined {
    return this.activities.find((a) => a.id === id);
  }

  transcript(): string {
    const lines: string[] = [];
    for (const a of this.activities) {
      const chat = this.#chats.get(a.conversationId);
      const where = chat?.channel ? `#${chat.channel}` : `@${this.#users.get(chat?.user ?? '')?.mail ?? a.conversationId}`;
      lines.push(`${where} card: ${cardTitle(a.posted)} [${cardStatus(a.posted)}]`);
      for (const [i, edit] of a.edits.entries()) lines.push(`${where}   edited (${i + 1}): [${cardStatus(edit)}]${reviewCount(edit) ? ` with ${reviewCount(edit)} review(s)` : ''}`);
    }
    return lines.join('\n');
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'https://fake');
    const method = req.method ?? 'GET';
    let path: string;
    try {
      path = decodeURIComponent(url.pathname).replace(/\/+$/, '');
    } catch {
      path = url.pathname;
    }
    const service: Service = path.startsWith('/v1.0/') ? 'graph' : /^\/[^/]+\/v3\//.test(path) ? 'bot' : 'login';
    const token = (req.headers.authorization ?? '').replace(/^Bearer /i, '');
    const call: FakeTeamsCall = { method, path, query: Object.fromEntries(url.searchParams), scope: this.#tokens.get(token) ?? '', status: 0 };
    this.calls.push(`${method} ${path}`);
    this.requests.push(call);
    const send = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      call.status = status;
      res.writeHead(status, { ...(body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' }), ...headers });
      res.end(body === undefined ? '' : JSON.stringify(body));
    };
    const error = (status: number, code: string, message: string, headers: Record<string, string> = {}) => {
      if (service === 'login') return send(status, aadError(code, message), headers);
      if (service === 'graph') {
        const date = new Date().toISOString().slice(0, 19);
        return send(status, { error: { code, message, innerError: { date, 'request-id': randomUUID(), 'client-request-id': String(req.headers['client-request-id'] ?? randomUUID()) } } }, headers);
      }
      return send(status, { error: { code, message } }, headers);
    };

    const failure = this.#failures.findIndex((f) => `${method} ${path}`.includes(f.match));
    if (failure >= 0) {
      const f = this.#failures.splice(failure, 1)[0]!;
      const headers: Record<string, string> = f.retryAfter !== undefined ? { 'retry-after': String(f.retryAfter) } : {};
      if (service === 'login') return send(f.status, aadError(f.status === 429 ? 'temporarily_unavailable' : 'server_error', 'AADSTS50196: The server terminated an operation because it encountered a client request loop.'), headers);
      const code = f.status === 429 ? (service === 'graph' ? 'TooManyRequests' : 'Throttled') : 'ServiceUnavailable';
      return error(f.status, code, f.status === 429 ? 'Too many requests. Try again later.' : 'The service is temporarily unavailable.', headers);
    }

    if (service === 'login') return this.#login(method, path, url, raw, send);

    if (!call.scope) {
      if (service === 'graph') return error(401, 'InvalidAuthenticationToken', token ? 'IDX14100: JWT is not well formed.' : 'Access token is empty.');
      return send(401, { message: 'Authorization has been denied for this request.' });
    }
    if (service === 'graph' && call.scope !== FAKE_GRAPH_SCOPE) return error(401, 'InvalidAuthenticationToken', 'Access token validation failure. Invalid audience.');
    if (service === 'bot' && call.scope !== FAKE_BOT_SCOPE) return send(401, { message: 'Authorization has been denied for this request.' });

    let body: Record<string, unknown> = {};
    try {
      body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    } catch {
      return error(400, service === 'graph' ? 'BadRequest' : 'BadSyntax', 'Invalid JSON in the request body.');
    }
    const filter = url.searchParams.get('$filter') ?? '';
    const quoted = /'((?:[^']|'')*)'/.exec(filter)?.[1]?.replaceAll("''", "'") ?? '';
    let m: RegExpExecArray | null;

    if (method === 'GET' && path === '/v1.0/appCatalogs/teamsApps') {
      if (!/^externalId eq '/.test(filter)) return error(400, 'BadRequest', `Invalid filter clause: ${filter}`);
      const match = this.appUploaded && quoted === this.teamsAppId;
      return send(200, { '@odata.context': `${this.graphUrl}/$metadata#appCatalogs/teamsApps`, value: match ? [{ id: this.catalogId, externalId: this.teamsAppId, displayName: 'TeleBot', distributionMethod: 'organization' }] : [] });
    }
    if (method === 'GET' && path === '/v1.0/users') {
      if (!/^(mail|id) eq '/.test(filter)) return error(400, 'Request_UnsupportedQuery', `Unsupported or invalid query filter clause specified for property of resource 'User'.`);
      const users = [...this.#users.values()].filter((u) => (filter.startsWith('mail eq') ? u.mail.toLowerCase() === quoted.toLowerCase() : u.id === quoted));
      return send(200, { '@odata.context': `${this.graphUrl}/$metadata#users`, value: users.map((u) => ({ id: u.id, mail: u.mail, displayName: u.name })) });
    }
    if (method === 'GET' && (m = /^\/v1\.0\/users\/([^/]+)$/.exec(path))) {
      const user = this.#users.get(m[1]!) ?? [...this.#users.values()].find((u) => u.mail.toLowerCase() === m![1]!.toLowerCase());
      if (!user) return error(404, 'Request_ResourceNotFound', `Resource '${m[1]}' does not exist or one of its queried reference-property objects are not present.`);
      return send(200, { id: user.id, mail: user.mail, displayName: user.name });
    }
    if ((m = /^\/v1\.0\/users\/([^/]+)\/teamwork\/installedApps(?:\/([^/]+))?(\/chat)?$/i.exec(path))) {
      const [, userId, installationId, chat] = m;
      if (!this.#users.has(userId!)) return error(404, 'NotFound', `User ${userId} not found`);
      if (method === 'GET' && !installationId) {
        const id = this.#installations.get(userId!);
        const expand = url.searchParams.get('$expand') === 'teamsApp';
        const list = id && (!filter || quoted === this.catalogId) ? [{ id, ...(expand ? { teamsApp: { id: this.catalogId, externalId: this.teamsAppId, displayName: 'TeleBot', distributionMethod: 'organization' } } : {}) }] : [];
        return send(200, { value: list });
      }
      if (method === 'POST' && !installationId) {
        if (this.#installations.has(userId!)) return error(409, 'Conflict', 'App is already installed.');
        const bind = String(body['teamsApp@odata.bind'] ?? '');
        if (!bind.startsWith('https://graph.microsoft.com/v1.0/appCatalogs/teamsApps/')) return error(400, 'BadRequest', 'Invalid teamsApp@odata.bind');
        if (bind.split('/').pop() !== this.catalogId || !this.appUploaded) return error(404, 'NotFound', 'App not found in catalog');
        this.#installations.set(userId!, `inst-${randomUUID()}`);
        return send(201);
      }
      if (method === 'GET' && chat) {
        if (this.#installations.get(userId!) !== installationId) return error(404, 'NotFound', 'Installation not found');
        let found = [...this.#chats.values()].find((c) => c.user === userId);
        if (!found) {
          found = { id: `19:${userId}_${randomUUID().slice(0, 8)}@unq.gbl.spaces`, user: userId };
          this.#chats.set(found.id, found);
        }
        return send(200, { id: found.id, tenantId: this.tenantId, chatType: 'oneOnOne', webUrl: `https://teams.microsoft.com/l/chat/${encodeURIComponent(found.id)}/0?tenantId=${this.tenantId}` });
      }
      if (method === 'DELETE' && installationId && !chat) {
        if (this.#installations.get(userId!) !== installationId) return error(404, 'NotFound', 'Installation not found');
        this.#installations.delete(userId!);
        return send(204);
      }
    }
    if ((m = /^\/v1\.0\/teams\/([^/]+)\/(installedApps|channels)$/.exec(path)) && method === 'GET') {
      const team = this.#teams.get(m[1]!);
      if (!team) return error(404, 'NotFound', `No team found with Group Id ${m[1]}`);
      if (m[2] === 'channels') return send(200, { value: team.channels.map((c) => ({ id: c.id, displayName: c.displayName, membershipType: 'standard' })) });
      const list = [...team.apps].filter((id) => !filter || id === quoted);
      return send(200, { value: list.map((id) => ({ id: `team-inst-${m![1]}`, teamsApp: { id } })) });
    }
    if (service === 'bot' && (m = /^\/[^/]+\/v3\/conversations\/([^/]+)\/activities(?:\/([^/]+))?$/.exec(path))) {
      const [, conversationId, activityId] = m;
      const chat = this.#chats.get(conversationId!);
      if (!chat) return error(404, 'ConversationNotFound', 'Conversation not found.');
      if (body.type !== 'message') return error(400, 'BadArgument', 'Unknown activity type');
      const card = ((body.attachments as Array<{ contentType?: string; content: FakeTeamsActivity['card'] }> | undefined)?.find((a) => a.contentType === 'application/vnd.microsoft.card.adaptive')?.content ?? {}) as FakeTeamsActivity['card'];
      if (method === 'POST' && !activityId) {
        const activity: FakeTeamsActivity = { id: `1${Date.now()}${this.activities.length}`, conversationId: conversationId!, card, posted: card, from: body.from, edits: [] };
        this.activities.push(activity);
        return send(201, { id: activity.id });
      }
      if (method === 'PUT' && activityId) {
        const activity = this.activities.find((a) => a.id === activityId && a.conversationId === conversationId);
        if (!activity) return error(404, 'ActivityNotFound', 'Activity not found.');
        activity.card = card;
        activity.edits.push(card);
        return send(200, { id: activityId });
      }
    }
    return error(404, service === 'graph' ? 'UnknownError' : 'NotFound', `No route ${method} ${path}`);
  }

  #login(method: string, path: string, url: URL, raw: string, send: (status: number, body?: unknown) => void): void {
    // MSAL's instance discovery (skipped when the client disables it).
    if (method === 'GET' && path === '/common/discovery/instance') {
      const host = new URL(this.url).host;
      return send(200, { tenant_discovery_endpoint: `${this.url}/${this.tenantId}/v2.0/.well-known/openid-configuration`, 'api-version': '1.1', metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }] });
    }
    let m = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/.exec(path);
    if (m && method === 'GET') {
      if (m[1] !== this.tenantId) return send(400, aadError('invalid_tenant', `AADSTS90002: Tenant '${m[1]}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`, 90002));
      const base = `${this.url}/${m[1]}`;
      return send(200, {
        token_endpoint: `${base}/oauth2/v2.0/token`,
        token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
        jwks_uri: `${this.url}/${m[1]}/discovery/v2.0/keys`,
        response_modes_supported: ['query', 'fragment', 'form_post'],
        subject_types_supported: ['pairwise'],
        id_token_signing_alg_values_supported: ['RS256'],
        response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
        scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
        issuer: `${this.url}/${m[1]}/v2.0`,
        request_uri_parameter_supported: false,
        userinfo_endpoint: `${this.url}/oidc/userinfo`,
        authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
        device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
        http_logout_supported: true,
        frontchannel_logout_supported: true,
        end_session_endpoint: `${base}/oauth2/v2.0/logout`,
        claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'tid'],
        kerberos_endpoint: `${base}/kerberos`,
        tenant_region_scope: 'EU',
        cloud_instance_name: 'microsoftonline.com',
        cloud_graph_host_name: 'graph.windows.net',
        msgraph_host: 'graph.microsoft.com',
        rbac_url: 'https://pas.windows.net',
      });
    }
    m = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(path);
    if (m && method === 'POST') {
      const form = new URLSearchParams(raw);
      if (m[1] !== this.tenantId) return send(400, aadError('invalid_request', `AADSTS90002: Tenant '${m[1]}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`, 90002));
      if (form.get('grant_type') !== 'client_credentials') return send(400, aadError('unsupported_grant_type', 'AADSTS70003: The app requested an unsupported grant type.', 70003));
      if (form.get('client_id') !== this.appId) return send(400, aadError('unauthorized_client', `AADSTS700016: Application with identifier '${form.get('client_id')}' was not found in the directory.`, 700016));
      if (form.get('client_secret') !== this.appSecret) return send(401, aadError('invalid_client', `AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${this.appId}'.`, 7000215));
      const scope = form.get('scope') ?? '';
      if (scope !== FAKE_GRAPH_SCOPE && scope !== FAKE_BOT_SCOPE) return send(400, aadError('invalid_scope', `AADSTS1002012: The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`, 1002012));
      const t = `eyJ0eXAiOiJKV1QifQ.${Buffer.from(randomUUID()).toString('base64url')}.sig`;
      this.#tokens.set(t, scope);
      return send(200, { token_type: 'Bearer', expires_in: this.tokenLifetime, ext_expires_in: this.tokenLifetime, access_token: t });
    }
    void url;
    return send(404, aadError('invalid_request', `AADSTS900561: The endpoint only accepts POST, OPTIONS requests. Received a ${method} request.`, 900561));
  }
}

function aadError(error: string, description: string, code?: number): Record<string, unknown> {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  return {
    error,
    error_description: `${description}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
    error_codes: code ? [code] : [],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: 'https://login.microsoftonline.com/error?code=' + String(code ?? ''),
  };
}

/** The text of body[0] (`Access Request <id>`). */
export function cardTitle(card: FakeTeamsActivity['card']): string {
  return String(card.body?.[0]?.text ?? '');
}

/** The status text of the card's ColumnSet. */
export function cardStatus(card: FakeTeamsActivity['card']): string {
  const columns = (card.body?.find((e) => e.type === 'ColumnSet')?.columns ?? []) as Array<{ items: Array<{ text: string }> }>;
  return columns.map((c) => c.items[0]?.text).join(' ');
}

function reviewCount(card: FakeTeamsActivity['card']): number {
  const at = card.body?.findIndex((e) => e.text === 'Reviews') ?? -1;
  return at < 0 ? 0 : (card.body?.length ?? 0) - at - 1;
}

/**
 * Every fact of the card as `title: value` lines (a FactSet's facts, or a ColumnSet row of a
 * bold label TextBlock and a value TextBlock), and every other TextBlock, in card order. Values
 * are as sent (escaped); see `unescapeCardText`.
 */
export function cardText(card: FakeTeamsActivity['card']): string {
  const out: string[] = [];
  const visit = (node: unknown) => {
    if (!node || typeof node !== 'object') return;
    const n = node as Record<string, unknown>;
    const row = factRow(n);
    if (row) return void out.push(`${row[0]}: ${row[1]}`);
    if (typeof n.title === 'string' && typeof n.value === 'string') out.push(`${n.title}: ${n.value}`);
    else if (n.type === 'TextBlock') out.push(String(n.text));
    for (const v of Object.values(n)) if (typeof v === 'object') visit(v);
  };
  visit(card);
  return out.join('\n');
}

/** `[label, value]` of a fact row: a ColumnSet of a bold label TextBlock and a value TextBlock. */
function factRow(n: Record<string, unknown>): [string, string] | undefined {
  if (n.type !== 'ColumnSet') return undefined;
  const columns = (n.columns ?? []) as Array<{ items?: Array<Record<string, unknown>> }>;
  const [label, value] = columns.map((c) => c.items?.[0]);
  if (columns.length !== 2 || label?.type !== 'TextBlock' || label.weight !== 'bolder' || value?.type !== 'TextBlock') return undefined;
  return [String(label.text), String(value.text)];
}

/** What a CommonMark renderer shows for escaped card text (backslash escapes and ZWSPs removed). */
export function unescapeCardText(text: string): string {
  return text.replace(/\\([!-/:-@[-`{-~])/g, '$1').replaceAll('\u200b', '');
}
