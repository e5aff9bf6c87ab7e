/**
 * An HTTP fake of the Mattermost REST v4 routes the plugin calls, for tests and the demo. It
 * answers as a Mattermost server does: `model.AppError` bodies (`id`, `message`,
 * `detailed_error`, `request_id`, `status_code`), 401 for a missing or wrong token, 404 for
 * unknown users, teams, channels and posts, 403 when the bot is not a member of the channel it
 * posts to, ETags with `304 Not Modified` on lookups, and injectable 429 (with `Retry-After`)
 * and 5xx answers.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeMattermostOptions {
  /** The bot's access token (default a random 26-character token). */
  token?: string;
  botUsername?: string;
  botEmail?: string;
}

export interface FakeMattermostPost {
  id: string;
  channelId: string;
  /** The post id this one replies to (thread), or "". */
  rootId: string;
  /** The current text (after the latest `PUT`). */
  message: string;
  /** The text as first posted. */
  original: string;
  props: unknown;
  /** The message after each `PUT`, oldest first. */
  edits: string[];
}

export interface FakeMattermostUser {
  id: string;
  username: string;
  email: string;
}

interface Channel {
  id: string;
  teamId: string;
  name: string;
  /** `O` open, `P` private, `D` direct. */
  type: 'O' | 'P' | 'D';
  members: Set<string>;
}

interface Injected {
  status: number;
  retryAfterSeconds?: number;
  times: number;
  /** Only calls whose `METHOD path` contains this. */
  match?: string;
}

/** Mattermost-style 26-character ids. */
function newId(): string {
  const alphabet = 'abcdefghijkmnopqrstuwxyz13456789';
  return [...randomBytes(26)].map((b) => alphabet[b % alphabet.length]).join('');
}

export class FakeMattermost {
  readonly token: string;
  readonly bot: FakeMattermostUser;
  readonly posts: FakeMattermostPost[] = [];
  /** Every call received (`GET /api/v4/users/me`, …) with its status; the token is not kept. */
  readonly calls: Array<{ method: string; path: string; status: number; authorization?: string }> = [];
  /** Milliseconds every `POST /api/v4/posts` takes (to catch a plugin mid-post). */
  postDelayMs = 0;
  url = '';
  readonly #server: Server;
  readonly #users = new Map<string, FakeMattermostUser>();
  readonly #teams = new Map<string, { id: string; name: string }>();
  readonly #channels = new Map<string, Channel>();
  readonly #injected: Injected[] = [];

  private constructor(options: FakeMattermostOptions) {
    this.token = options.token ?? newId();
    this.bot = { id: newId(), username: options.botUsername ?? 'teleport', email: options.botEmail ?? 'bot@example.com' };
    this.#users.set(this.bot.id, this.bot);
    this.#server = createServer((req, res) => void this.#handle(req, res));
  }

  static async start(options: FakeMattermostOptions = {}): Promise<FakeMattermost> {
    const fake = new FakeMattermost(options);
    fake.#server.listen(0, '127.0.0.1');
    await once(fake.#server, 'listening');
    fake.url = `http://127.0.0.1:${(fake.#server.address() as AddressInfo).port}`;
    return fake;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** A user findable by email. Returns the user id. */
  addUser(email: string, username = email.split('@')[0]!.replace(/[^a-z0-9._-]/gi, '').toLowerCase()): string {
    const user = { id: newId(), username, email };
    this.#users.set(user.id, user);
    return user.id;
  }

  /** A team by its URL name. Returns its id (existing teams are reused). */
  addTeam(name: string): string {
    const found = this.#teams.get(name);
    if (found) return found.id;
    const team = { id: newId(), name };
    this.#teams.set(name, team);
    return team.id;
  }

  /** A channel `team/channel` (URL names); `member: false` when the bot was not invited. Returns its id. */
  addChannel(ref: string, options: { member?: boolean; private?: boolean } = {}): string {
    const [teamName, name] = ref.split('/') as [string, string];
    const teamId = this.addTeam(teamName);
    const channel: Channel = { id: newId(), teamId, name, type: options.private ? 'P' : 'O', members: new Set(options.member === false ? [] : [this.bot.id]) };
    this.#channels.set(channel.id, channel);
    return channel.id;
  }

  /** The next `times` calls (matching `match`, e.g. `POST /api/v4/posts`) answer 429 with `Retry-After`. */
  inject429(options: { times?: number; retryAfterSeconds?: number; match?: string } = {}): void {
    this.#injected.push({ status: 429, retryAfterSeconds: options.retryAfterSeconds ?? 1, times: options.times ?? 1, match: options.match });
  }

  /** The next `times` calls (matching `match`) answer a 5xx (default 503). */
  inject5xx(options: { times?: number; status?: number; match?: string } = {}): void {
    this.#injected.push({ status: options.status ?? 503, times: options.times ?? 1, match: options.match });
  }

  /** Root posts in `team/channel`, or in the bot's direct channel with the user of that email. */
  postsIn(ref: string): FakeMattermostPost[] {
    const channel = this.#find(ref);
    return channel ? this.posts.filter((p) => p.channelId === channel.id && !p.rootId) : [];
  }

  /** Thread replies to a post, oldest first. */
  repliesTo(postId: string): FakeMattermostPost[] {
    return this.posts.filter((p) => p.rootId === postId);
  }

  post(id: string): FakeMattermostPost | undefined {
    return this.posts.find((p) => p.id === id);
  }

  /** What a reader of the server would have seen, one line per post, reply and edit. */
  transcript(): string {
    const lines: string[] = [];
    const oneLine = (text: string) => text.replace(/\n+/g, ' ').replace(/\s+/g, ' ').trim();
    for (const post of this.posts.filter((p) => !p.rootId)) {
      const where = this.#label(post.channelId);
      const user = /\*\*User\*\*: (.*)/.exec(post.original)?.[1];
      const first = post.original.split('\n').find((l) => l.trim()) ?? '';
      lines.push(`${where} posted: ${oneLine(first)}${user ? ` (user ${user})` : ''}`);
      for (const reply of this.repliesTo(post.id)) lines.push(`${where}   ↳ thread reply: ${oneLine(reply.message)}`);
      for (const [i, edit] of post.edits.entries()) {
        const status = edit.split('\n').find((l) => l.startsWith('**Status**')) ?? oneLine(edit);
        lines.push(`${where}   edited (${i + 1}): ${status.trim()}`);
      }
    }
    return lines.join('\n');
  }

  #label(channelId: string): string {
    const c = this.#channels.get(channelId);
    if (!c) return channelId;
    if (c.type === 'D') {
      const other = [...c.members].find((m) => m !== this.bot.id) ?? this.bot.id;
      return `@${this.#users.get(other)?.username ?? other} (DM)`;
    }
    const team = [...this.#teams.values()].find((t) => t.id === c.teamId);
    return `${team?.name ?? c.teamId}/${c.name}`;
  }

  #find(ref: string): Channel | undefined {
    if (this.#channels.has(ref)) return this.#channels.get(ref);
    if (ref.includes('@')) {
      const user = this.#userByEmail(ref);
      return user ? this.#direct(this.bot.id, user.id) : undefined;
    }
    const [teamName, name] = ref.split('/');
    const team = this.#teams.get(teamName ?? '');
    return [...this.#channels.values()].find((c) => c.teamId === team?.id && c.name === name);
  }

  #userByEmail(email: string): FakeMattermostUser | undefined {
    return [...this.#users.values()].find((u) => u.email.toLowerCase() === email.toLowerCase());
  }

  /** The direct channel of two users, created on first use (Mattermost names it `<id>__<id>`). */
  #direct(a: string, b: string): Channel {
    const name = [a, b].sort().join('__');
    const existing = [...this.#channels.values()].find((c) => c.type === 'D' && c.name === name);
    if (existing) return existing;
    const channel: Channel = { id: newId(), teamId: '', name, type: 'D', members: new Set([a, b]) };
    this.#channels.set(channel.id, channel);
    return channel;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0]!;
    const method = req.method ?? 'GET';
    const call: FakeMattermost['calls'][number] = { method, path, status: 0 };
    this.calls.push(call);
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      call.status = status;
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(body === undefined ? undefined : JSON.stringify(body));
    };
    const fail = (status: number, id: string, message: string, detailed = '') =>
      send(status, { id, message, detailed_error: detailed, request_id: newId(), status_code: status });
    const text = await readBody(req);

    const injected = this.#injected.find((f) => !f.match || `${method} ${path}`.includes(f.match));
    if (injected) {
      if (--injected.times <= 0) this.#injected.splice(this.#injected.indexOf(injected), 1);
      if (injected.status === 429) {
        const seconds = String(injected.retryAfterSeconds ?? 1);
        call.status = 429;
        // Mattermost's rate limiter answers in plain text with these headers.
        res.writeHead(429, { 'content-type': 'text/plain; charset=utf-8', 'retry-after': seconds, 'x-ratelimit-reset': seconds, 'x-ratelimit-remaining': '0' });
        res.end('limit exceeded\n');
        return;
      }
      return fail(injected.status, 'api.context.server_error', 'An internal server error occurred.');
    }

    const auth = req.headers.authorization ?? '';
    const [scheme, token] = auth.split(' ');
    call.authorization = scheme;
    if (scheme?.toLowerCase() !== 'bearer' || token !== this.token) {
      return fail(401, 'api.context.session_expired.app_error', 'Invalid or expired session, please login again.', auth ? 'token is invalid' : 'token not provided');
    }
    let body: unknown;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        return fail(400, 'api.context.invalid_body_param.app_error', 'Invalid or missing body in request body.');
      }
    }
    const etagged = (value: unknown) => {
      const etag = `"${Buffer.from(JSON.stringify(value)).toString('base64url').slice(-16)}"`;
      if (req.headers['if-none-match'] === etag) {
        call.status = 304;
        res.writeHead(304, { etag });
        res.end();
        return;
      }
      send(200, value, { etag });
    };
    const route = `${method} ${path}`;
    let m: RegExpExecArray | null;

    if (route === 'GET /api/v4/users/me') return etagged(userJson(this.bot, true));
    if ((m = /^GET \/api\/v4\/users\/email\/([^/]+)$/.exec(route))) {
      const user = this.#userByEmail(decodeURIComponent(m[1]!));
      if (!user) return fail(404, 'app.user.missing_account.const', 'Unable to find the user.', 'failed to find User');
      return etagged(userJson(user));
    }
    if ((m = /^GET \/api\/v4\/teams\/name\/([^/]+)\/channels\/name\/([^/]+)$/.exec(route))) {
      const team = this.#teams.get(decodeURIComponent(m[1]!));
      if (!team) return fail(404, 'app.team.get_by_name.missing.app_error', 'Unable to find the existing team.');
      const name = decodeURIComponent(m[2]!);
      const channel = [...this.#channels.values()].find((c) => c.teamId === team.id && c.name === name);
      // A private channel the bot is not in looks the same as a missing one.
      if (!channel || (channel.type === 'P' && !channel.members.has(this.bot.id))) {
        return fail(404, 'app.channel.get_by_name.missing.app_error', 'Unable to find the existing channel.');
      }
      return etagged(channelJson(channel));
    }
    if (route === 'POST /api/v4/channels/direct') {
      const ids = body as unknown;
      if (!Array.isArray(ids) || ids.length !== 2 || !ids.every((x) => typeof x === 'string')) {
        return fail(400, 'api.context.invalid_body_param.app_error', 'Invalid or missing user_ids in request body.');
      }
      if (!ids.includes(this.bot.id)) return fail(403, 'api.context.permissions.app_error', 'You do not have the appropriate permissions.');
      if (!ids.every((id) => this.#users.has(id))) return fail(400, 'api.channel.create_direct_channel.invalid_user.app_error', 'Invalid user ID for direct channel creation.');
      return send(201, channelJson(this.#direct(ids[0] as string, ids[1] as string)));
    }
    if (route === 'POST /api/v4/posts') {
      if (this.postDelayMs) await new Promise((resolve) => setTimeout(resolve, this.postDelayMs));
      const p = (body ?? {}) as { channel_id?: unknown; message?: unknown; root_id?: unknown; props?: unknown };
      if (typeof p.channel_id !== 'string' || !p.channel_id) return fail(400, 'api.context.invalid_body_param.app_error', 'Invalid or missing channel_id in request body.');
      const channel = this.#channels.get(p.channel_id);
      if (!channel || !channel.members.has(this.bot.id)) return fail(403, 'api.context.permissions.app_error', 'You do not have the appropriate permissions.');
      const message = typeof p.message === 'string' ? p.message : '';
      if (!message || message.length > 16383) return fail(400, 'model.post.is_valid.msg.app_error', 'Invalid Message.');
      const rootId = typeof p.root_id === 'string' ? p.root_id : '';
      if (rootId && !this.posts.some((x) => x.id === rootId && x.channelId === channel.id)) {
        return fail(400, 'api.post.create_post.root_id.app_error', 'Invalid RootId parameter.');
      }
      const post: FakeMattermostPost = { id: newId(), channelId: channel.id, rootId, message, original: message, props: p.props ?? null, edits: [] };
      this.posts.push(post);
      return send(201, postJson(post, this.bot.id));
    }
    if ((m = /^PUT \/api\/v4\/posts\/([^/]+)$/.exec(route))) {
      const post = this.posts.find((x) => x.id === m![1]);
      if (!post) return fail(404, 'app.post.get.app_error', 'Unable to get the post.');
      const p = (body ?? {}) as { id?: unknown; message?: unknown; props?: unknown };
      if (p.id !== post.id) return fail(400, 'api.context.invalid_body_param.app_error', 'Invalid or missing id in request body.');
      const message = typeof p.message === 'string' ? p.message : '';
      if (!message || message.length > 16383) return fail(400, 'model.post.is_valid.msg.app_error', 'Invalid Message.');
      post.message = message;
      post.props = p.props ?? null;
      post.edits.push(message);
      return send(200, postJson(post, this.bot.id));
    }
    return fail(404, 'api.context.404.app_error', 'Sorry, we could not find the page.', `There doesn't appear to be an api call for the url='${path}'.`);
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function userJson(user: FakeMattermostUser, isBot = false) {
  return { id: user.id, username: user.username, email: user.email, first_name: '', last_name: '', is_bot: isBot, roles: 'system_user' };
}

function channelJson(c: Channel) {
  return { id: c.id, team_id: c.teamId, type: c.type, name: c.name, display_name: c.type === 'D' ? '' : c.name };
}

function postJson(p: FakeMattermostPost, userId: string) {
  return { id: p.id, channel_id: p.channelId, root_id: p.rootId, message: p.message, props: p.props ?? {}, user_id: userId, create_at: Date.now(), update_at: Date.now() };
}
