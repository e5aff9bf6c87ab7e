/**
 * The Teams `Messenger`. A recipient is resolved once (Go caches forever; so do we): a user
 * gets the app installed if needed and the bot's 1:1 chat is found; a channel needs the app
 * added to its team. Messages are Adaptive Cards posted through the Bot Framework and edited in
 * place on every review and on resolution. Plugin data keeps the raw recipient (Go's `rid`),
 * resolved again to find the conversation.
 */
import {
  type ChannelContext,
  type HealthInfo,
  type Messenger,
  type Recipient,
  RecipientNotFoundError,
  type RequestView,
  type SentMessage,
  formatRfc822,
  isEmail,
  requesterNoticeText,
} from '@tap/core';
import { type AdaptiveCard, buildCard, helloCard } from './card.js';
import type { MsTeamsSection } from './config.js';
import { type BotActivity, type Chat, MsApi, MsApiError, type TeamsApp } from './msapi.js';
import { classifyRecipient } from './recipient.js';

/** What a resolved recipient carries in `Recipient.data`. */
export interface TeamsTarget {
  conversationId: string;
  installationId: string;
  webUrl?: string;
}

export class MsTeamsMessenger implements Messenger {
  readonly api: MsApi;
  readonly #s: MsTeamsSection;
  readonly #log: ChannelContext['log'];
  readonly #cache = new Map<string, Recipient>();
  #app: TeamsApp | undefined;

  constructor(section: MsTeamsSection & { preloadRecipients?: string[] }, context: ChannelContext) {
    this.#s = section;
    this.#log = context.log;
    this.api = new MsApi(section, context.log, context.apiMetrics);
  }

  async app(signal: AbortSignal): Promise<TeamsApp> {
    if (this.#app) return this.#app;
    try {
      this.#app = await this.api.teamsApp(signal);
    } catch (err) {
      if (err instanceof MsApiError && err.msCode === 'NotFound') {
        throw new MsApiError(`MS Teams app not found in org app store.: ${err.message} (upload app.zip to your org's app catalog)`, { status: 404, msCode: 'NotFound' }, { cause: err });
      }
      throw err;
    }
    return this.#app;
  }

  async checkHealth(signal: AbortSignal): Promise<HealthInfo> {
    const app = await this.app(signal);
    this.#log.info({ name: app.displayName, id: app.id }, 'MS Teams app found in org app store');
    const preload = (this.#s as { preloadRecipients?: string[] }).preloadRecipients ?? [];
    if (this.#s.preload && preload.length) {
      this.#log.info('Preloading recipient data...');
      for (const raw of preload) {
        const r = await this.resolveRecipient(raw, signal);
        this.#log.info({ recipient: raw, chat_id: (r.data as TeamsTarget).conversationId }, 'Recipient and chat found');
      }
      this.#log.info('Recipient data preloaded and cached');
    }
    return { summary: `app "${app.displayName ?? ''}" (${app.id}) found in the org app store` };
  }

  async resolveRecipient(name: string, signal: AbortSignal): Promise<Recipient> {
    const cached = this.#cache.get(name);
    if (cached) return cached;
    const app = await this.app(signal);
    const kind = classifyRecipient(name);
    let recipient: Recipient;
    if (kind.kind === 'channel') {
      const installation = await this.api.teamInstallation(kind.channel.group, app.id, signal).catch((err) => {
        throw notFound(err, `${err.message}: add the app to the team of ${name}`);
      });
      recipient = { name, id: `${kind.channel.tenant}/${kind.channel.group}/${kind.channel.name}`, kind: 'channel', data: { conversationId: kind.channel.chatId, installationId: installation.id, webUrl: name } satisfies TeamsTarget };
    } else {
      const userId = await (kind.kind === 'email' ? this.api.userIdByEmail(kind.email, signal) : this.api.userById(kind.id, signal)).catch((err) => {
        throw notFound(err, kind.kind === 'email' ? `${err.message}, try user id instead` : err.message);
      });
      const { installationId, chat } = await this.userChat(userId, app.id, signal);
      recipient = { name, id: userId, kind: 'user', data: { conversationId: chat.id, installationId, webUrl: chat.webUrl } satisfies TeamsTarget };
    }
    this.#cache.set(name, recipient);
    return recipient;
  }

  /** The app's installation for the user (installed when missing) and the bot's chat with them. */
  async userChat(userId: string, catalogId: string, signal: AbortSignal): Promise<{ installationId: string; chat: Chat }> {
    let installation = await this.api.userInstallation(userId, catalogId, signal);
    if (!installation) {
      await this.api.installForUser(userId, catalogId, signal);
      installation = await this.api.userInstallation(userId, catalogId, signal);
      if (!installation) throw new MsApiError(`Failed to install app ${catalogId} for user ${userId}`, {});
    }
    return { installationId: installation.id, chat: await this.api.chatOf(userId, installation.id, signal) };
  }

  #activity(target: TeamsTarget, card: AdaptiveCard): BotActivity {
    return {
      type: 'message',
      from: { id: `29:${target.installationId}`, name: 'TeleBot' },
      attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: card }],
    };
  }

  async send(to: Recipient, request: RequestView, signal: AbortSignal): Promise<SentMessage> {
    const target = to.data as TeamsTarget;
    const id = await this.api.postActivity(target.conversationId, this.#activity(target, buildCard(request)), signal);
    return { channelId: to.name, messageId: id, recipient: to.name, sentAt: formatRfc822(new Date()) };
  }

  async update(message: SentMessage, request: RequestView, _reason: unknown, signal: AbortSignal): Promise<void> {
    const to = await this.resolveRecipient(message.recipient ?? message.channelId, signal);
    const target = to.data as TeamsTarget;
    await this.api.updateActivity(target.conversationId, message.messageId, this.#activity(target, buildCard(request)), signal);
  }

  async notifyRequester(request: RequestView, signal: AbortSignal): Promise<void> {
    if (!isEmail(request.user)) throw new RecipientNotFoundError(`requester "${request.user}" is not an email address`);
    const to = await this.resolveRecipient(request.user, signal);
    const card = buildCard(request);
    card.body.unshift({ type: 'TextBlock', text: requesterNoticeText(request.id, request.status), weight: 'bolder', wrap: true });
    await this.api.postActivity((to.data as TeamsTarget).conversationId, this.#activity(to.data as TeamsTarget, card), signal);
  }

  async close(): Promise<void> {
    await this.api.close();
  }

  async sendTest(to: Recipient, signal: AbortSignal): Promise<string> {
    return this.api.postActivity((to.data as TeamsTarget).conversationId, this.#activity(to.data as TeamsTarget, helloCard()), signal);
  }
}

function notFound(err: unknown, message: string): Error {
  if (err instanceof MsApiError && err.msCode === 'NotFound') return new RecipientNotFoundError(message, { cause: err });
  return err as Error;
}
