/**
 * An HTTP fake of Mailgun's send endpoint (`POST /v3/<domain>/messages`), for tests: Basic
 * auth `api:<key>` (401 `Forbidden` otherwise), 404 for an unknown domain, the multipart form
 * parsed back, `{id: "<…@domain>", message: "Queued. Thank you."}` answers, test-mode
 * messages kept apart, and injectable 5xx/429 answers.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeMailgunMessage {
  id: string;
  domain: string;
  fields: Record<string, string[]>;
  testMode: boolean;
}

export class FakeMailgun {
  readonly key: string;
  readonly domains: Set<string>;
  readonly messages: FakeMailgunMessage[] = [];
  readonly #server: Server;
  readonly #failures: number[] = [];
  url = '';

  private constructor(key: string, domains: string[]) {
    this.key = key;
    this.domains = new Set(domains);
    this.#server = createServer((req, res) => void this.#handle(req, res));
  }

  static async start(options: { key?: string; domains?: string[] } = {}): Promise<FakeMailgun> {
    const fake = new FakeMailgun(options.key ?? 'key-0123456789abcdef', options.domains ?? ['mg.example.com']);
    fake.#server.listen(0, '127.0.0.1');
    await once(fake.#server, 'listening');
    fake.url = `http://127.0.0.1:${(fake.#server.address() as AddressInfo).port}`;
    return fake;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** The next calls answer these HTTP statuses, one each (e.g. 503, 429). */
  failNext(...statuses: number[]): void {
    this.#failures.push(...statuses);
  }

  /** Delivered (not test-mode) messages to an address. */
  messagesTo(address: string): FakeMailgunMessage[] {
    return this.messages.filter((m) => !m.testMode && m.fields.to?.includes(address));
  }

  transcript(): string {
    return this.messages
      .filter((m) => !m.testMode)
      .map((m) => `to ${m.fields.to?.join(', ')}: "${m.fields.subject?.[0]}"${m.fields['h:In-Reply-To'] ? ' (in thread)' : ''}`)
      .join('\n');
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json' });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    const failure = this.#failures.shift();
    if (failure === 429) return reply(429, { message: 'Too many requests' });
    if (failure) return reply(failure, { message: 'Internal error' });
    const expected = `Basic ${Buffer.from(`api:${this.key}`).toString('base64')}`;
    if (req.headers.authorization !== expected) return reply(401, 'Forbidden');
    const match = /^\/v3\/([^/]+)\/messages$/.exec(req.url ?? '');
    if (!match || req.method !== 'POST') return reply(404, { message: 'Not Found' });
    const domain = decodeURIComponent(match[1]!);
    if (!this.domains.has(domain)) return reply(404, { message: `Domain not found: ${domain}` });
    const form = await new Request('http://fake/', { method: 'POST', headers: { 'content-type': req.headers['content-type'] ?? '' }, body: Buffer.concat(chunks) }).formData();
    const fields: Record<string, string[]> = {};
    for (const [k, v] of form) (fields[k] ??= []).push(String(v));
    if (!fields.from?.[0] || !fields.to?.length) return reply(400, { message: "'from' parameter is missing" });
    const id = `<${randomUUID().replaceAll('-', '')}@${domain}>`;
    this.messages.push({ id, domain, fields, testMode: fields['o:testmode']?.[0] === 'yes' });
    return reply(200, { id, message: 'Queued. Thank you.' });
  }
}
