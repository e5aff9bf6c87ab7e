/**
 * The email `Messenger`: one thread per recipient per request. The first mail's Message-ID is
 * stored (plugin data `email_threads`); each review and the resolution follow in the thread
 * with In-Reply-To/References. Mail cannot be edited, so a review "update" sends nothing.
 */
import { type ChannelContext, type HealthInfo, type Messenger, type Recipient, RecipientNotFoundError, type RequestView, type ReviewView, type SentMessage, type UpdateReason, isEmail } from '@tap/core';
import type { EmailSection } from './config.js';
import { newRequestMail, requesterMail, resolutionMail, reviewMail, testMail } from './format.js';
import { MailgunTransport } from './mailgun-transport.js';
import { SmtpTransport } from './smtp-transport.js';
import type { MailTransport } from './transport.js';

export interface EmailMessengerOptions {
  /** First retry backoff in ms (tests shorten it). */
  backoffBaseMs?: number;
}

export function createTransport(section: EmailSection, context: ChannelContext, options: EmailMessengerOptions = {}): MailTransport {
  const o = { log: context.log, metrics: context.apiMetrics, backoffBaseMs: options.backoffBaseMs };
  return section.transport.kind === 'smtp' ? new SmtpTransport(section.transport.smtp, section.sender, o) : new MailgunTransport(section.transport.mailgun, section.sender, o);
}

export class EmailMessenger implements Messenger {
  readonly transport: MailTransport;
  readonly #pluginName: string;

  constructor(section: EmailSection, context: ChannelContext, options: EmailMessengerOptions = {}) {
    this.transport = createTransport(section, context, options);
    this.#pluginName = context.pluginName;
    const t = section.transport;
    if (t.kind === 'smtp') context.log.info({ host: t.smtp.host, port: t.smtp.port, username: t.smtp.username }, 'Using SMTP as email transport');
    else context.log.info({ domain: t.mailgun.domain }, 'Using Mailgun as email transport');
  }

  async checkHealth(signal: AbortSignal): Promise<HealthInfo> {
    const steps = await this.transport.check(signal);
    return { summary: `${this.transport.describe()}: ${steps.join(', ')}` };
  }

  async resolveRecipient(name: string): Promise<Recipient> {
    if (!isEmail(name)) throw new RecipientNotFoundError(`${name} is not an email address`);
    return { name, id: name, kind: 'email' };
  }

  async send(to: Recipient, request: RequestView, signal: AbortSignal): Promise<SentMessage> {
    const messageId = await this.transport.send({ to: to.id, ...newRequestMail(request) }, signal);
    // The timestamp only marks the thread; it must hold neither "/" nor ",".
    return { channelId: to.id, messageId, sentAt: new Date().toISOString() };
  }

  async replyWithReview(message: SentMessage, review: ReviewView, request: RequestView, signal: AbortSignal): Promise<void> {
    await this.transport.send({ to: message.channelId, inReplyTo: message.messageId || undefined, ...reviewMail(request, review) }, signal);
  }

  async update(message: SentMessage, request: RequestView, reason: UpdateReason, signal: AbortSignal): Promise<void> {
    if (reason !== 'resolution') return;
    await this.transport.send({ to: message.channelId, inReplyTo: message.messageId || undefined, ...resolutionMail(request) }, signal);
  }

  async notifyRequester(request: RequestView, signal: AbortSignal): Promise<void> {
    if (!isEmail(request.user)) throw new RecipientNotFoundError(`requester "${request.user}" is not an email address`);
    await this.transport.send({ to: request.user, ...requesterMail(request) }, signal);
  }

  async sendTest(to: Recipient, signal: AbortSignal): Promise<string> {
    return this.transport.send({ to: to.id, ...testMail(this.#pluginName) }, signal);
  }

  async close(): Promise<void> {
    await this.transport.close?.();
  }
}
