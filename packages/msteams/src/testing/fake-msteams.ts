/**
 * One HTTP server faking what the Teams plugin calls: the Entra ID token endpoint, Microsoft
 * Graph (app catalog, users, app installations, chats, team installations) and the Bot
 * Framework connector (post and edit activities). It answers as they do: 401 with
 * `invalid_client` for a wrong secret, `{"error":{"code","message"}}` bodies, 201 on creation,
 * and injectable 429 (with Retry-After) or 5xx answers. Point `[msapi] login_endpoint` at
 * `url`, `graph_endpoint` at `graphUrl` and `bot_endpoint` at `url`.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

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

export class FakeMsTeams {
  readonly appId = randomUUID();
  readonly appSecret = `secret-${randomUUID()}`;
  readonly tenantId = randomUUID();
  readonly teamsAppId = randomUUID();
  /** The org catalog's internal id of the app. */
  readonly catalogId = randomUUID();
  readonly activities: FakeTeamsActivity[] = [];
  readonly calls: string[] = [];
  /** Whether the app is in the org catalog (uploaded). */
  appUploaded = true;
  readonly #server: Server;
  readonly #tokens = new Set<string>();
  readonly #users = new Map<string, { id: string; mail: string; name: string }>();
  readonly #installations = new Map<string, string>();
  readonly #chats = new Map<string, { id: string; user?: string; channel?: string }>();
  readonly #teams = new Map<string, Set<string>>();
  readonly #failures: Array<{ status: number; retryAfter?: number; match: string }> = [];
  #userIds = 0;
  url = '';

  private constructor() {
    this.#server = createServer((req, res) => void this.#handle(req, res));
  }

  static async start(): Promise<FakeMsTeams> {
    const fake = new FakeMsTeams();
    fake.#server.listen(0, '127.0.0.1');
    await once(fake.#server, 'listening');
    fake.url = `http://127.0.0.1:${(fake.#server.address() as AddressInfo).port}`;
    return fake;
  }

  get graphUrl(): string {
    return `${this.url}/v1.0`;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
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
    this.#teams.set(group, new Set(options.appAdded === false ? [] : [this.catalogId]));
    this.#chats.set(thread, { id: thread, channel: name });
    return `https://teams.microsoft.com/l/channel/${encodeURIComponent(thread)}/${encodeURIComponent(name)}?groupId=${group}&tenantId=${this.tenantId}`;
  }

  isInstalledFor(userId: string): boolean {
    return this.#installations.has(userId);
  }

  /** The next calls whose `METHOD path` contains `match` answer `status` (429 with Retry-After seconds). */
  failNext(match: string, status: number, times = 1, retryAfter?: number): void {
    for (let i = 0; i < times; i++) this.#failures.push({ status, retryAfter, match });
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
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    const path = decodeURIComponent(url.pathname).replace(/\/+$/, '');
    this.calls.push(`${method} ${path}`);
    const send = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(body === undefined ? '' : JSON.stringify(body));
    };
    const error = (status: number, code: string, message: string) => send(status, { error: { code, message } });

    // Token endpoint.
    const token = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(path);
    if (token && method === 'POST') {
      const form = new URLSearchParams(raw);
      if (token[1] !== this.tenantId) return send(400, { error: 'invalid_request', error_description: `AADSTS90002: Tenant '${token[1]}' not found.` });
      if (form.get('client_id') !== this.appId || form.get('client_secret') !== this.appSecret) {
        return send(401, { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.' });
      }
      const t = randomUUID();
      this.#tokens.add(t);
      return send(200, { token_type: 'Bearer', expires_in: 3599, access_token: t });
    }
    if (!this.#tokens.has((req.headers.authorization ?? '').replace(/^Bearer /, ''))) return error(401, 'InvalidAuthenticationToken', 'Access token is empty.');
    const failure = this.#failures.findIndex((f) => `${method} ${path}`.includes(f.match));
    if (failure >= 0) {
      const f = this.#failures.splice(failure, 1)[0]!;
      return send(f.status, { error: { code: f.status === 429 ? 'TooManyRequests' : 'ServiceUnavailable', message: 'Try again later.' } }, f.retryAfter ? { 'retry-after': String(f.retryAfter) } : {});
    }
    const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    const filter = url.searchParams.get('$filter') ?? '';
    const quoted = /'([^']*)'/.exec(filter)?.[1] ?? '';
    let m: RegExpExecArray | null;

    if (method === 'GET' && path === '/v1.0/appCatalogs/teamsApps') {
      const match = this.appUploaded && quoted === this.teamsAppId;
      return send(200, { value: match ? [{ id: this.catalogId, externalId: this.teamsAppId, displayName: 'TeleBot', distributionMethod: 'organization' }] : [] });
    }
    if (method === 'GET' && path === '/v1.0/users') {
      const users = [...this.#users.values()].filter((u) => (filter.startsWith('mail eq') ? u.mail === quoted : u.id === quoted));
      return send(200, { value: users.map((u) => ({ id: u.id, mail: u.mail, displayName: u.name })) });
    }
    if ((m = /^\/v1\.0\/users\/([^/]+)\/teamwork\/installedApps(?:\/([^/]+))?(\/chat)?$/i.exec(path))) {
      const [, userId, installationId, chat] = m;
      if (!this.#users.has(userId!)) return error(404, 'NotFound', `User ${userId} not found`);
      if (method === 'GET' && !installationId) {
        const id = this.#installations.get(userId!);
        return send(200, { value: id && quoted === this.catalogId ? [{ id, teamsApp: { id: this.catalogId } }] : [] });
      }
      if (method === 'POST' && !installationId) {
        if (this.#installations.has(userId!)) return error(409, 'Conflict', 'App is already installed.');
        const bind = String(body['teamsApp@odata.bind'] ?? '');
        if (bind.split('/').pop() !== this.catalogId) return error(404, 'NotFound', 'App not found in catalog');
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
        return send(200, { id: found.id, tenantId: this.tenantId, webUrl: `https://teams.microsoft.com/l/chat/${encodeURIComponent(found.id)}/0?tenantId=${this.tenantId}` });
      }
      if (method === 'DELETE' && installationId) {
        if (this.#installations.get(userId!) !== installationId) return error(404, 'NotFound', 'Installation not found');
        this.#installations.delete(userId!);
        return send(204);
      }
    }
    if ((m = /^\/v1\.0\/teams\/([^/]+)\/installedApps$/.exec(path)) && method === 'GET') {
      const team = this.#teams.get(m[1]!);
      if (!team) return error(404, 'NotFound', `Team ${m[1]} not found`);
      return send(200, { value: team.has(quoted) ? [{ id: `team-inst-${m[1]}` }] : [] });
    }
    if ((m = /^\/[^/]+\/v3\/conversations\/([^/]+)\/activities(?:\/([^/]+))?$/.exec(path))) {
      const [, conversationId, activityId] = m;
      const chat = this.#chats.get(conversationId!);
      if (!chat) return error(404, 'ConversationNotFound', 'Conversation not found.');
      const card = ((body.attachments as Array<{ content: FakeTeamsActivity['card'] }> | undefined)?.[0]?.content ?? {}) as FakeTeamsActivity['card'];
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
    return error(404, 'NotFound', `No route ${method} ${path}`);
  }
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

/** Every fact of the card as `title: value` lines, and every text block (for assertions). */
export function cardText(card: FakeTeamsActivity['card']): string {
  const out: string[] = [];
  const visit = (node: unknown) => {
    if (!node || typeof node !== 'object') return;
    const n = node as Record<string, unknown>;
    if (typeof n.title === 'string' && typeof n.value === 'string') out.push(`${n.title}: ${n.value}`);
    else if (n.type === 'TextBlock') out.push(String(n.text));
    for (const v of Object.values(n)) if (typeof v === 'object') visit(v);
  };
  visit(card);
  return out.join('\n');
}
