/**
 * Mailgun delivery with mailgun.js: `POST /v3/<domain>/messages` with Basic auth `api:<key>`,
 * `o:require-tls` always, and the thread headers on follow-ups. Mailgun's `id` already carries
 * angle brackets; they are stripped before storing so follow-ups get `<id>`, not the Go
 * daemon's `<<id>>`. The health check sends a test-mode message (`o:testmode=yes`) from the
 * sender to itself: Mailgun validates the key and domain but delivers nothing.
 */
import { ChannelApiError, DecorrelatedBackoff, sleep } from '@tap/core';
import Mailgun from 'mailgun.js';
import type { MailgunSection } from './config.js';
import type { MailTransport, OutgoingMail, TransportOptions } from './transport.js';

type Client = ReturnType<InstanceType<typeof Mailgun>['client']>;

export class MailgunTransport implements MailTransport {
  readonly #mailgun: MailgunSection;
  readonly #sender: string;
  readonly #o: TransportOptions;
  readonly #client: Client;

  constructor(mailgun: MailgunSection, sender: string, options: TransportOptions) {
    this.#mailgun = mailgun;
    this.#sender = sender;
    this.#o = options;
    this.#client = new Mailgun(FormData).client({ username: 'api', key: mailgun.privateKey, url: mailgun.apiBase, timeout: 10_000 });
  }

  describe(): string {
    return `Mailgun domain ${this.#mailgun.domain} (${this.#mailgun.apiBase})`;
  }

  async check(signal: AbortSignal): Promise<string[]> {
    const id = await this.#create({ to: this.#sender, subject: 'Health Check', text: 'Testing Mailgun API connection...', 'o:testmode': 'yes' }, signal, 1);
    return [`Mailgun accepted a test-mode message for ${this.#mailgun.domain} (id ${id})`];
  }

  async send(mail: OutgoingMail, signal: AbortSignal): Promise<string> {
    const thread: Record<string, string> = mail.inReplyTo ? { 'h:In-Reply-To': `<${mail.inReplyTo}>`, 'h:References': `<${mail.inReplyTo}>` } : {};
    return this.#create({ to: mail.to, subject: mail.subject, text: mail.text, html: mail.html, ...thread }, signal);
  }

  async #create(fields: Record<string, string>, signal: AbortSignal, maxAttempts = Number.POSITIVE_INFINITY): Promise<string> {
    const backoff = new DecorrelatedBackoff({ baseMs: this.#o.backoffBaseMs ?? 250, capMs: 2_000 });
    for (let attempt = 1; ; attempt++) {
      signal.throwIfAborted();
      try {
        const data = { from: this.#sender, ...fields, to: [fields.to!], 'o:require-tls': 'true' };
        const res = await abortable(this.#client.messages.create(this.#mailgun.domain, data as never), signal);
        return String(res.id ?? '').replace(/^<|>$/g, '');
      } catch (err) {
        const e = err as { status?: number; details?: string; message?: string; type?: string };
        const status = e.status;
        const transient = !status || status === 429 || status >= 500;
        const text = `Mailgun refused the message${status ? ` (HTTP ${status})` : ''}: ${e.details || e.message || String(err)}`;
        if (signal.aborted || !transient || attempt >= maxAttempts) {
          const hint = status === 401 ? '; check [mailgun] private_key and domain' : status === 404 ? `; is ${this.#mailgun.domain} a Mailgun domain in this region (region = "eu" for EU domains)?` : '';
          throw new ChannelApiError(text + hint, { status, recoverable: transient }, { cause: err });
        }
        const delay = status === 429 ? 1_000 : backoff.next();
        this.#o.log.warn({ attempt, delay_ms: delay, err: text }, 'Sending email failed, retrying');
        if (status === 429) this.#o.metrics?.rateLimited(delay);
        else this.#o.metrics?.retried();
        await sleep(delay, signal).catch(() => {
          throw new ChannelApiError(`${text} (gave up: deadline reached)`, { status, recoverable: true }, { cause: err });
        });
      }
    }
  }
}

function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
