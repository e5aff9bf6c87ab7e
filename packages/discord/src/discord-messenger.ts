/**
 * The Discord `Messenger`: REST calls only; routing, plugin data and the state machine live
 * in the core.
 *
 * Recipients are channel IDs (as in Go). Beyond Go, `user:<id>` — or a bare ID that turns out
 * to be a user rather than a channel — gets a direct message from the bot. Lookups are cached
 * for ten minutes. Reviews are shown as embeds on the request message, so there is no reply.
 */
import {
  type ChannelContext,
  ChannelApiError,
  type HealthInfo,
  type Messenger,
  type Recipient,
  RecipientNotFoundError,
  type RequestView,
  type SentMessage,
  isEmail,
} from '@tap/core';
import type { DiscordSection } from './config.js';
import { DiscordApi, type DiscordApiOptions, DiscordApiError } from './discord-api.js';
import { requestMessage, testMessage } from './format.js';

export interface DiscordMessengerOptions extends Pick<DiscordApiOptions, 'maxAttempts' | 'maxRetryAfterMs' | 'backoffBaseMs' | 'requestTimeoutMs' | 'env'> {
  /** How long a recipient lookup is reused, in ms. Default 10 minutes. */
  lookupCacheMs?: number;
}

const UNKNOWN_CHANNEL = 10003;
const MISSING_ACCESS = 50001;

export class DiscordMessenger implements Messenger {
  readonly #api: DiscordApi;
  readonly #pluginName: string;
  readonly #cacheMs: number;
  readonly #lookups = new Map<string, { recipient: Recipient; until: number }>();

  constructor(section: DiscordSection, context: ChannelContext, options: DiscordMessengerOptions = {}) {
    this.#pluginName = context.pluginName;
    this.#cacheMs = options.lookupCacheMs ?? 600_000;
    this.#api = new DiscordApi({ apiUrl: section.apiUrl, token: section.token, log: context.log, metrics: context.apiMetrics, ...options });
  }

  async checkHealth(signal: AbortSignal): Promise<HealthInfo> {
    let me: { id?: string; username?: string };
    try {
      me = await this.#api.call('GET', 'users/@me', undefined, signal);
    } catch (err) {
      if (err instanceof DiscordApiError && err.status === 401) {
        throw new ChannelApiError(`health check failed, probably invalid token: ${err.message}`, { status: 401, apiError: err.apiError });
      }
      throw err;
    }
    return { summary: `bot "${me.username ?? '?'}" (${me.id ?? '?'})` };
  }

  async resolveRecipient(name: string, signal: AbortSignal): Promise<Recipient> {
    const cached = this.#lookups.get(name);
    if (cached && cached.until > Date.now()) return cached.recipient;
    const recipient = await this.#lookup(name, signal);
    if (this.#cacheMs > 0) this.#lookups.set(name, { recipient, until: Date.now() + this.#cacheMs });
    return recipient;
  }

  async #lookup(name: string, signal: AbortSignal): Promise<Recipient> {
    const user = /^user:(\d+)$/.exec(name)?.[1];
    if (user) return { name, id: await this.#openDirect(name, user, signal), kind: 'user' };
    if (isEmail(name)) {
      throw new RecipientNotFoundError(`recipient ${name}: Discord cannot find users by email; use a channel ID or user:<user ID>`);
    }
    if (!/^\d+$/.test(name)) throw new RecipientNotFoundError(`recipient ${name}: not a Discord channel ID (digits) or user:<user ID>`);
    try {
      await this.#api.call('GET', `channels/${name}`, undefined, signal);
      return { name, id: name, kind: 'channel' };
    } catch (err) {
      if (err instanceof DiscordApiError && err.discordCode === UNKNOWN_CHANNEL) {
        // Not a channel the bot can see by that ID: perhaps a user's ID.
        return { name, id: await this.#openDirect(name, name, signal), kind: 'user' };
      }
      if (err instanceof DiscordApiError && (err.discordCode === MISSING_ACCESS || err.status === 403)) {
        throw new ChannelApiError(`channel ${name}: the bot has no access; add it to the server and allow "View Channel" and "Send Messages" there (${err.message})`, { status: err.status, apiError: err.apiError });
      }
      throw err;
    }
  }

  async #openDirect(name: string, userId: string, signal: AbortSignal): Promise<string> {
    try {
      const dm = await this.#api.call<{ id?: string }>('POST', 'users/@me/channels', { recipient_id: userId }, signal);
      if (!dm.id) throw new ChannelApiError(`recipient ${name}: Discord opened no direct-message channel`);
      return dm.id;
    } catch (err) {
      if (err instanceof DiscordApiError && err.status !== undefined && err.status < 500 && err.status !== 429) {
        throw new RecipientNotFoundError(`recipient ${name}: no Discord channel or user with this ID (${err.message})`, { cause: err });
      }
      throw err;
    }
  }

  async send(to: Recipient, request: RequestView, signal: AbortSignal): Promise<SentMessage> {
    const res = await this.#api.call<{ id?: string }>('POST', `channels/${to.id}/messages`, { channel: to.id, ...requestMessage(request) }, signal);
    if (!res.id) throw new ChannelApiError(`Discord returned no message id for channel ${to.id}`);
    return { channelId: to.id, messageId: String(res.id) };
  }

  async update(message: SentMessage, request: RequestView, _reason: unknown, signal: AbortSignal): Promise<void> {
    await this.#api.call('PATCH', `channels/${message.channelId}/messages/${message.messageId}`, { channel: message.channelId, ...requestMessage(request) }, signal);
  }

  async sendTest(to: Recipient, signal: AbortSignal): Promise<string> {
    const res = await this.#api.call<{ id?: string }>('POST', `channels/${to.id}/messages`, testMessage(this.#pluginName), signal);
    return String(res.id);
  }

  async close(): Promise<void> {
    await this.#api.close();
  }
}

