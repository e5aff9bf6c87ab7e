/**
 * An HTTP fake of the Slack Web API methods the plugin calls, for tests and the demo. It
 * answers as Slack does: HTTP 200 with `{ok:false, error}` for API errors (`invalid_auth`,
 * `channel_not_found`, `not_in_channel`, `users_not_found`, `message_not_found`,
 * `missing_scope`, `already_reacted`), HTTP 429 with `Retry-After` when rate limited, and form
 * or JSON request bodies with the token in `Authorization: Bearer`.
 */
import { once } from 'node:events';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeSlackOptions {
  token?: string;
  /** OAuth scopes the token has; `reactions.add` needs `reactions:write`. */
  scopes?: string[];
  botName?: string;
  teamName?: string;
}

export interface FakeSlackMessage {
  channel: string;
  ts: string;
  /** Set on thread replies: the parent message's ts. */
  threadTs?: string;
  text: string;
  blocks: unknown[];
  /** Every `chat.update` of this message, oldest first. */
  edits: Array<{ text: string; blocks: unknown[] }>;
  reactions: string[];
}

interface Channel {
  id: string;
  name: string;
  member: boolean;
  /** For direct-message channels: the user. */
  user?: string;
}

interface Failure {
  status?: number;
  retryAfterSeconds?: number;
  error?: string;
  times: number;
}

export class FakeSlack {
  readonly token: string;
  readonly scopes: Set<string>;
  readonly messages: FakeSlackMessage[] = [];
  /** Every call received: method and parsed arguments (the token is not kept). */
  readonly calls: Array<{ method: string; args: Record<string, unknown> }> = [];
  readonly #server: Server;
  readonly #botName: string;
  readonly #teamName: string;
  readonly #channels = new Map<string, Channel>();
  readonly #users = new Map<string, { id: string; email: string; name: string }>();
  readonly #failures = new Map<string, Failure[]>();
  /** Milliseconds every `chat.postMessage` takes (to catch a plugin mid-send). */
  postDelayMs = 0;
  #ids = 0;
  #clock = 1_700_000_000;
  url = '';

  private constructor(options: FakeSlackOptions) {
    this.token = options.token ?? 'xoxb-fake-token';
    this.scopes = new Set(options.scopes ?? ['chat:write', 'incoming-webhook', 'users:read', 'users:read.email', 'reactions:write']);
    this.#botName = options.botName ?? 'teleport';
    this.#teamName = options.teamName ?? 'Example Corp';
    this.#server = createServer((req, res) => void this.#handle(req, res));
  }

  static async start(options: FakeSlackOptions = {}): Promise<FakeSlack> {
    const fake = new FakeSlack(options);
    fake.#server.listen(0, '127.0.0.1');
    await once(fake.#server, 'listening');
    fake.url = `http://127.0.0.1:${(fake.#server.address() as AddressInfo).port}/api/`;
    return fake;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** A channel the bot can post to (`member: false`: it was not invited). Returns its id. */
  addChannel(name: string, options: { member?: boolean } = {}): string {
    const id = `C${String(++this.#ids).padStart(8, '0')}`;
    this.#channels.set(id, { id, name: name.replace(/^#/, ''), member: options.member ?? true });
    return id;
  }

  /** A workspace member findable by email. Returns the user id. */
  addUser(email: string, name = email.split('@')[0]!): string {
    const id = `U${String(++this.#ids).padStart(8, '0')}`;
    this.#users.set(email.toLowerCase(), { id, email, name });
    return id;
  }

  /** Makes the next `times` calls of `method` fail: an HTTP status (429 with Retry-After) or a Slack error code. */
  failNext(method: string, failure: { status?: number; retryAfterSeconds?: number; error?: string }, times = 1): void {
    const list = this.#failures.get(method) ?? [];
    list.push({ ...failure, times });
    this.#failures.set(method, list);
  }

  /** Root messages posted to a channel (`#name`, name, or id) or to a user's DM (email or id). */
  messagesTo(recipient: string): FakeSlackMessage[] {
    const channel = this.#findChannel(recipient) ?? this.#dmOf(recipient);
    return channel ? this.messages.filter((m) => m.channel === channel.id && !m.threadTs) : [];
  }

  repliesTo(ts: string): FakeSlackMessage[] {
    return this.messages.filter((m) => m.threadTs === ts);
  }

  message(ts: string): FakeSlackMessage | undefined {
    return this.messages.find((m) => m.ts === ts);
  }

  /** What a reader of the workspace would have seen, one line per post, edit, reply and reaction. */
  transcript(): string {
    const lines: string[] = [];
    const first = (text: string) => text.split('\n').find((l) => l.trim()) ?? '';
    // Each root message, then its thread, then its edits and reactions: the order a reader sees them.
    for (const m of this.messages.filter((x) => !x.threadTs)) {
      const where = this.#label(m.channel);
      lines.push(`${where} posted: ${first(flatten(m.text, m.blocks))}`);
      for (const reply of this.repliesTo(m.ts)) lines.push(`${where}   ↳ thread reply: ${flatten(reply.text, reply.blocks).replace(/\n+/g, ' ').trim()}`);
      for (const [i, edit] of m.edits.entries()) {
        const shown = flatten(edit.text, edit.blocks);
        const status = shown.split('\n').find((l) => /Status/.test(l)) ?? first(shown);
        lines.push(`${where}   edited (${i + 1}): ${status.trim()}`);
      }
      for (const r of m.reactions) lines.push(`${where}   reaction :${r}:`);
    }
    return lines.join('\n');
  }

  #label(channelId: string): string {
    const c = this.#channels.get(channelId);
    if (!c) return channelId;
    return c.user ? `@${c.user}` : `#${c.name}`;
  }

  #findChannel(ref: string): Channel | undefined {
    if (this.#channels.has(ref)) return this.#channels.get(ref);
    const name = ref.replace(/^#/, '');
    return [...this.#channels.values()].find((c) => !c.user && c.name === name);
  }

  #dmOf(ref: string): Channel | undefined {
    const user = this.#users.get(ref.toLowerCase()) ?? [...this.#users.values()].find((u) => u.id === ref);
    if (!user) return undefined;
    const id = `D${user.id.slice(1)}`;
    if (!this.#channels.has(id)) this.#channels.set(id, { id, name: user.name, member: true, user: user.email });
    return this.#channels.get(id);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0]!;
    const body = await readBody(req);
    const args = parseArgs(req.headers['content-type'] ?? '', body);
    const reply = (payload: Record<string, unknown>, status = 200, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      res.end(JSON.stringify(payload));
    };
    if (req.method !== 'POST' && req.method !== 'GET') return reply({ ok: false, error: 'method_not_supported_for_channel_type' }, 405);
    const auth = req.headers.authorization ?? (typeof args.token === 'string' ? `Bearer ${args.token}` : '');
    delete args.token;
    this.calls.push({ method, args });

    const failure = this.#failures.get(method)?.[0];
    if (failure) {
      if (--failure.times <= 0) this.#failures.get(method)!.shift();
      if (failure.status === 429) return reply({ ok: false, error: 'ratelimited' }, 429, { 'retry-after': String(failure.retryAfterSeconds ?? 1) });
      if (failure.status) return reply({ ok: false, error: 'fatal_error' }, failure.status);
      return reply({ ok: false, error: failure.error ?? 'fatal_error' });
    }
    if (!auth) return reply({ ok: false, error: 'not_authed' });
    if (auth !== `Bearer ${this.token}`) return reply({ ok: false, error: 'invalid_auth' });

    switch (method) {
      case 'auth.test':
        return reply({ ok: true, url: 'https://example.slack.com/', team: this.#teamName, user: this.#botName, team_id: 'T00000001', user_id: 'U0BOT0001', bot_id: 'B0BOT0001' });
      case 'users.lookupByEmail': {
        const user = this.#users.get(String(args.email ?? '').toLowerCase());
        if (!user) return reply({ ok: false, error: 'users_not_found' });
        return reply({ ok: true, user: { id: user.id, name: user.name, profile: { email: user.email } } });
      }
      case 'chat.postMessage': {
        if (this.postDelayMs) await new Promise((resolve) => setTimeout(resolve, this.postDelayMs));
        const ref = String(args.channel ?? '');
        const channel = this.#findChannel(ref) ?? (ref.startsWith('U') ? this.#dmOf(ref) : undefined);
        if (!channel) return reply({ ok: false, error: 'channel_not_found' });
        if (!channel.member) return reply({ ok: false, error: 'not_in_channel' });
        const threadTs = args.thread_ts ? String(args.thread_ts) : undefined;
        if (threadTs && !this.messages.some((m) => m.ts === threadTs && m.channel === channel.id)) return reply({ ok: false, error: 'thread_not_found' });
        const message: FakeSlackMessage = { channel: channel.id, ts: this.#ts(), threadTs, text: String(args.text ?? ''), blocks: asBlocks(args.blocks), edits: [], reactions: [] };
        if (!message.text && !message.blocks.length) return reply({ ok: false, error: 'no_text' });
        this.messages.push(message);
        return reply({ ok: true, channel: channel.id, ts: message.ts, message: { text: message.text, ts: message.ts } });
      }
      case 'chat.update': {
        const channel = this.#channels.get(String(args.channel ?? ''));
        if (!channel) return reply({ ok: false, error: 'channel_not_found' });
        const message = this.messages.find((m) => m.channel === channel.id && m.ts === String(args.ts ?? ''));
        if (!message) return reply({ ok: false, error: 'message_not_found' });
        message.edits.push({ text: String(args.text ?? ''), blocks: asBlocks(args.blocks) });
        return reply({ ok: true, channel: channel.id, ts: message.ts, text: String(args.text ?? '') });
      }
      case 'reactions.add': {
        if (!this.scopes.has('reactions:write')) return reply({ ok: false, error: 'missing_scope', needed: 'reactions:write', provided: [...this.scopes].join(',') });
        const message = this.messages.find((m) => m.channel === String(args.channel ?? '') && m.ts === String(args.timestamp ?? ''));
        if (!message) return reply({ ok: false, error: 'message_not_found' });
        const name = String(args.name ?? '');
        if (message.reactions.includes(name)) return reply({ ok: false, error: 'already_reacted' });
        message.reactions.push(name);
        return reply({ ok: true });
      }
      default:
        return reply({ ok: false, error: 'unknown_method' }, 404);
    }
  }

  #ts(): string {
    return `${++this.#clock}.${String(this.#ids++).padStart(6, '0')}`;
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Slack accepts form bodies (objects as JSON strings) and JSON bodies. */
function parseArgs(contentType: string, body: string): Record<string, unknown> {
  if (!body) return {};
  if (contentType.includes('application/json')) return JSON.parse(body) as Record<string, unknown>;
  const args: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(body)) args[key] = value;
  return args;
}

function asBlocks(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (typeof value === 'string' && value) return JSON.parse(value) as unknown[];
  return [];
}

/** The text a reader sees: every mrkdwn/plain text in the blocks, else the fallback `text`. */
export function flatten(text: string, blocks: unknown[]): string {
  const parts: string[] = [];
  const visit = (node: unknown) => {
    if (!node || typeof node !== 'object') return;
    const n = node as Record<string, unknown>;
    if ((n.type === 'mrkdwn' || n.type === 'plain_text') && typeof n.text === 'string') parts.push(n.text);
    for (const value of Object.values(n)) if (typeof value === 'object') visit(value);
  };
  blocks.forEach(visit);
  return parts.length ? parts.join('\n') : text;
}
