/**
 * An HTTP fake of the Discord REST endpoints the plugin calls, for tests and the demo. It
 * answers as Discord does: `Authorization: Bot <token>` checked (401 `{"message": "401:
 * Unauthorized", "code": 0}`), JSON error codes (10003 Unknown Channel, 10008 Unknown Message,
 * 10013 Unknown User, 50001 Missing Access), per-route `X-RateLimit-*` headers with a bucket
 * size, and 429 with `retry_after` (and `global`) in the JSON body.
 */
import { once } from 'node:events';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeDiscordOptions {
  token?: string;
  /** Calls allowed per route per window before 429 (default: unlimited). */
  bucketSize?: number;
  /** The bucket window, in seconds (default 1). */
  bucketResetAfter?: number;
}

export interface FakeDiscordMessage {
  id: string;
  channelId: string;
  content: string;
  embeds: Array<{ title?: string; description?: string; color?: number; author?: { name?: string } }>;
  allowedMentions: unknown;
  /** Every PATCH, oldest first: the content and embeds as they then stood. */
  edits: Array<{ content: string; embeds: FakeDiscordMessage['embeds'] }>;
}

interface Channel {
  id: string;
  name: string;
  access: boolean;
  /** For a DM channel: the user id. */
  user?: string;
}

export class FakeDiscord {
  readonly token: string;
  readonly messages: FakeDiscordMessage[] = [];
  /** Every call: `METHOD path` and status (the token is not kept). */
  readonly calls: Array<{ call: string; status: number }> = [];
  readonly #server: Server;
  readonly #channels = new Map<string, Channel>();
  readonly #users = new Map<string, string>();
  readonly #buckets = new Map<string, { used: number; resetAt: number }>();
  readonly #bucketSize: number;
  readonly #bucketResetAfter: number;
  readonly #injected: Array<{ retryAfter: number; global: boolean; times: number }> = [];
  #ids = 1_100_000_000_000_000_000n;
  url = '';

  private constructor(options: FakeDiscordOptions) {
    this.token = options.token ?? 'fake-discord-bot-token';
    this.#bucketSize = options.bucketSize ?? Number.POSITIVE_INFINITY;
    this.#bucketResetAfter = options.bucketResetAfter ?? 1;
    this.#server = createServer((req, res) => void this.#handle(req, res));
  }

  static async start(options: FakeDiscordOptions = {}): Promise<FakeDiscord> {
    const fake = new FakeDiscord(options);
    fake.#server.listen(0, '127.0.0.1');
    await once(fake.#server, 'listening');
    fake.url = `http://127.0.0.1:${(fake.#server.address() as AddressInfo).port}/api/`;
    return fake;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #snowflake(): string {
    this.#ids += 1n;
    return String(this.#ids);
  }

  /** A server channel (`access: false`: the bot cannot see it). Returns its id. */
  addChannel(name: string, options: { id?: string; access?: boolean } = {}): string {
    const id = options.id ?? this.#snowflake();
    this.#channels.set(id, { id, name, access: options.access ?? true });
    return id;
  }

  /** A user the bot can DM. Returns the user id. */
  addUser(name: string, id = this.#snowflake()): string {
    this.#users.set(id, name);
    return id;
  }

  /** The next `times` calls answer 429 with `retry_after` seconds (and `global`). */
  inject429(options: { retryAfter?: number; global?: boolean; times?: number } = {}): void {
    this.#injected.push({ retryAfter: options.retryAfter ?? 0.2, global: options.global ?? false, times: options.times ?? 1 });
  }

  /** Messages posted in a channel (by id or name), or in the DM with a user (by id). */
  messagesIn(ref: string): FakeDiscordMessage[] {
    const channel = this.#channels.get(ref) ?? [...this.#channels.values()].find((c) => c.name === ref || c.user === ref);
    return channel ? this.messages.filter((m) => m.channelId === channel.id) : [];
  }

  message(id: string): FakeDiscordMessage | undefined {
    return this.messages.find((m) => m.id === id);
  }

  /** What a reader of the server would have seen: each message, its edits and review embeds. */
  transcript(): string {
    const lines: string[] = [];
    for (const m of this.messages) {
      const c = this.#channels.get(m.channelId);
      const where = c?.user ? `@${this.#users.get(c.user)} (DM)` : `#${c?.name ?? m.channelId}`;
      lines.push(`${where} posted: ${m.content.split('\n')[0]}`);
      for (const [i, edit] of m.edits.entries()) {
        const status = edit.content.split('\n').find((l) => l.startsWith('*Status*')) ?? '';
        const reviews = edit.embeds.map((e) => `[${e.author?.name}: ${e.title}]`).join(' ');
        lines.push(`${where}   edited (${i + 1}): ${status.trim()}${reviews ? ` ${reviews}` : ''}`);
      }
    }
    return lines.join('\n');
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '').replace(/^\/api\/(v\d+\/)?/, '').split('?')[0]!;
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const body = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
    const method = req.method ?? 'GET';
    const route = `${method} ${path.replace(/(messages)\/\d+/, '$1/{id}')}`;
    const reply = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      this.calls.push({ call: `${method} /${path}`, status });
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(payload));
    };
    const error = (status: number, code: number, message: string) => reply(status, { message, code });

    if (req.headers.authorization !== `Bot ${this.token}`) return error(401, 0, '401: Unauthorized');
    const injected = this.#injected[0];
    if (injected) {
      if (--injected.times <= 0) this.#injected.shift();
      const headers: Record<string, string> = { 'retry-after': String(Math.ceil(injected.retryAfter)), 'x-ratelimit-scope': injected.global ? 'global' : 'user' };
      if (injected.global) headers['x-ratelimit-global'] = 'true';
      return reply(429, { message: 'You are being rate limited.', retry_after: injected.retryAfter, global: injected.global }, headers);
    }
    const limit = this.#limit(route);
    if (limit.limited) {
      return reply(429, { message: 'You are being rate limited.', retry_after: limit.resetAfter, global: false }, { ...limit.headers, 'retry-after': String(Math.ceil(limit.resetAfter)), 'x-ratelimit-scope': 'user' });
    }
    const ok = (payload: unknown) => reply(200, payload, limit.headers);

    let m: RegExpExecArray | null;
    if (method === 'GET' && path === 'users/@me') return ok({ id: '1000000000000000001', username: 'teleport', bot: true });
    if (method === 'POST' && path === 'users/@me/channels') {
      const user = String(body.recipient_id ?? '');
      if (!this.#users.has(user)) return error(400, 50033, 'Invalid Recipient(s)');
      let dm = [...this.#channels.values()].find((c) => c.user === user);
      if (!dm) {
        dm = { id: this.#snowflake(), name: `dm-${user}`, access: true, user };
        this.#channels.set(dm.id, dm);
      }
      return ok({ id: dm.id, type: 1, recipients: [{ id: user, username: this.#users.get(user) }] });
    }
    if ((m = /^channels\/(\d+)$/.exec(path)) && method === 'GET') {
      const channel = this.#channels.get(m[1]!);
      if (!channel || channel.user) return error(404, 10003, 'Unknown Channel');
      if (!channel.access) return error(403, 50001, 'Missing Access');
      return ok({ id: channel.id, name: channel.name, type: 0 });
    }
    if ((m = /^channels\/([^/]+)\/messages$/.exec(path)) && method === 'POST') {
      const channel = this.#channels.get(m[1]!);
      if (!channel) return error(404, 10003, 'Unknown Channel');
      if (!channel.access) return error(403, 50001, 'Missing Access');
      const content = String(body.content ?? '');
      if (content.length > 2000) return error(400, 50035, 'Invalid Form Body');
      if (!content && !Array.isArray(body.embeds)) return error(400, 50006, 'Cannot send an empty message');
      const message: FakeDiscordMessage = { id: this.#snowflake(), channelId: channel.id, content, embeds: (body.embeds as FakeDiscordMessage['embeds']) ?? [], allowedMentions: body.allowed_mentions, edits: [] };
      this.messages.push(message);
      return ok({ id: message.id, channel_id: channel.id, content });
    }
    if ((m = /^channels\/([^/]+)\/messages\/(\d+)$/.exec(path)) && method === 'PATCH') {
      const message = this.messages.find((x) => x.channelId === m![1] && x.id === m![2]);
      if (!message) return error(404, 10008, 'Unknown Message');
      if (typeof body.content === 'string') {
        if (body.content.length > 2000) return error(400, 50035, 'Invalid Form Body');
        message.content = body.content;
      }
      if (Array.isArray(body.embeds)) {
        if (body.embeds.length > 10) return error(400, 50035, 'Invalid Form Body');
        message.embeds = body.embeds as FakeDiscordMessage['embeds'];
      }
      message.allowedMentions = body.allowed_mentions;
      message.edits.push({ content: message.content, embeds: message.embeds });
      return ok({ id: message.id, channel_id: message.channelId, content: message.content });
    }
    return error(404, 0, '404: Not Found');
  }

  #limit(route: string): { limited: boolean; resetAfter: number; headers: Record<string, string> } {
    if (!Number.isFinite(this.#bucketSize)) return { limited: false, resetAfter: 0, headers: {} };
    const now = Date.now();
    let bucket = this.#buckets.get(route);
    if (!bucket || bucket.resetAt <= now) {
      bucket = { used: 0, resetAt: now + this.#bucketResetAfter * 1000 };
      this.#buckets.set(route, bucket);
    }
    const resetAfter = Math.max(0, (bucket.resetAt - now) / 1000);
    const headers = (remaining: number) => ({
      'x-ratelimit-limit': String(this.#bucketSize),
      'x-ratelimit-remaining': String(remaining),
      'x-ratelimit-reset-after': resetAfter.toFixed(3),
      'x-ratelimit-bucket': Buffer.from(route).toString('hex').slice(0, 16),
    });
    if (bucket.used >= this.#bucketSize) return { limited: true, resetAfter, headers: headers(0) };
    bucket.used++;
    return { limited: false, resetAfter, headers: headers(this.#bucketSize - bucket.used) };
  }
}
