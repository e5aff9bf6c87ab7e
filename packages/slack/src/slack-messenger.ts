/**
 * The Slack `Messenger`: Web API calls only; routing, plugin data, fan-out and the state
 * machine live in the core.
 *
 * Recipients: an email is looked up (`users.lookupByEmail`) and messaged directly by user id;
 * anything else (`#name`, `name`, a channel or user id) is passed to Slack as the channel, as
 * the Go daemon does. Messages are stored as (channel id from Slack's reply, `ts`).
 */
import {
  type ChannelContext,
  ChannelApiError,
  type HealthInfo,
  type Messenger,
  type Recipient,
  RecipientNotFoundError,
  type RequestView,
  type ReviewView,
  type SentMessage,
  type UpdateReason,
  isEmail,
} from '@tap/core';
import type { SlackSection } from './config.js';
import { requestMessage, requesterNotice, reviewReply, testMessage } from './format.js';
import { SlackApi, type SlackApiOptions } from './slack-api.js';

/** Retry and cache knobs (tests shorten them). */
export interface SlackMessengerOptions extends Pick<SlackApiOptions, 'maxAttempts' | 'maxRetryAfterMs' | 'backoffBaseMs' | 'requestTimeoutMs'> {
  /** How long an email → user id lookup is reused, in ms. Default 10 minutes; 0 disables. */
  emailCacheMs?: number;
}

type Logger = ChannelContext['log'];

const REACTIONS: Partial<Record<RequestView['status'], string>> = { APPROVED: 'white_check_mark', DENIED: 'x' };
const TOKEN_REFUSED = new Set(['invalid_auth', 'not_authed', 'token_revoked', 'token_expired', 'account_inactive']);

export class SlackMessenger implements Messenger {
  readonly #api: SlackApi;
  readonly #log: Logger;
  readonly #pluginName: string;
  readonly #emailCacheMs: number;
  readonly #emails = new Map<string, { id: string; until: number }>();
  /** The bot's Slack name, for `/invite @<name>` hints; learnt from auth.test. */
  #botName = 'teleport';
  #reactions = true;

  constructor(section: SlackSection, context: ChannelContext, options: SlackMessengerOptions = {}) {
    this.#log = context.log;
    this.#pluginName = context.pluginName;
    this.#emailCacheMs = options.emailCacheMs ?? 600_000;
    this.#api = new SlackApi({ token: section.token, apiUrl: section.apiUrl, log: context.log, metrics: context.apiMetrics, ...options });
  }

  async checkHealth(signal: AbortSignal): Promise<HealthInfo> {
    let res;
    try {
      res = await this.#api.call('auth.test', {}, signal);
    } catch (err) {
      if (err instanceof ChannelApiError && err.apiError === 'invalid_auth') {
        throw new ChannelApiError('authentication failed, probably invalid token: invalid_auth', { status: err.status, apiError: err.apiError }, { cause: err });
      }
      throw err;
    }
    const user = String(res.user ?? '');
    if (user) this.#botName = user;
    return { summary: `bot "${user}" (${String(res.user_id ?? '?')}) in team "${String(res.team ?? '')}" (${String(res.team_id ?? '?')})` };
  }

  async resolveRecipient(name: string, signal: AbortSignal): Promise<Recipient> {
    if (!isEmail(name)) return { name, id: name, kind: 'channel' };
    return { name, id: await this.#lookupEmail(name, signal), kind: 'email' };
  }

  async send(to: Recipient, request: RequestView, signal: AbortSignal): Promise<SentMessage> {
    const res = await this.#deliver('chat.postMessage', { channel: to.id, ...requestMessage(request) }, to.name, signal);
    return { channelId: String(res.channel ?? to.id), messageId: String(res.ts) };
  }

  async update(message: SentMessage, request: RequestView, reason: UpdateReason, signal: AbortSignal): Promise<void> {
    try {
      await this.#deliver('chat.update', { channel: message.channelId, ts: message.messageId, ...requestMessage(request) }, message.channelId, signal);
    } catch (err) {
      if (err instanceof ChannelApiError && err.apiError === 'message_not_found') {
        throw new ChannelApiError(
          `cannot find message with timestamp ${message.messageId} in channel ${message.channelId}: message_not_found`,
          { status: err.status, apiError: err.apiError },
          { cause: err },
        );
      }
      throw err;
    }
    const reaction = REACTIONS[request.status];
    if (reason === 'resolution' && reaction) await this.#react(message, reaction, signal);
  }

  async replyWithReview(message: SentMessage, review: ReviewView, _request: RequestView, signal: AbortSignal): Promise<void> {
    await this.#deliver('chat.postMessage', { channel: message.channelId, thread_ts: message.messageId, ...reviewReply(review) }, message.channelId, signal);
  }

  async notifyRequester(request: RequestView, signal: AbortSignal): Promise<void> {
    if (!isEmail(request.user)) {
      throw new RecipientNotFoundError(`user was not found, cant directly notify: requester "${request.user}" is not an email address Slack can look up`);
    }
    const id = await this.#lookupEmail(request.user, signal);
    await this.#deliver('chat.postMessage', { channel: id, ...requesterNotice(request) }, request.user, signal);
  }

  async sendTest(to: Recipient, signal: AbortSignal): Promise<string> {
    const res = await this.#deliver('chat.postMessage', { channel: to.id, ...testMessage(this.#pluginName) }, to.name, signal);
    return String(res.ts);
  }

  async #lookupEmail(email: string, signal: AbortSignal): Promise<string> {
    const cached = this.#emails.get(email);
    if (cached && cached.until > Date.now()) return cached.id;
    let res;
    try {
      res = await this.#api.call('users.lookupByEmail', { email }, signal);
    } catch (err) {
      if (err instanceof ChannelApiError && err.apiError === 'users_not_found') {
        throw new RecipientNotFoundError(`email recipient '${email}' not found: users_not_found`, { cause: err });
      }
      throw new ChannelApiError(`error resolving email recipient ${email}: ${(err as Error).message}`, detailsOf(err), { cause: err });
    }
    const id = String((res.user as { id?: string } | undefined)?.id ?? '');
    if (!id) throw new ChannelApiError(`error resolving email recipient ${email}: Slack returned no user id`);
    if (this.#emailCacheMs > 0) this.#emails.set(email, { id, until: Date.now() + this.#emailCacheMs });
    return id;
  }

  /** Posts or edits, turning Slack's codes into errors that say what to do. */
  async #deliver(method: string, args: Record<string, unknown>, where: string, signal: AbortSignal) {
    try {
      return await this.#api.call(method, args, signal);
    } catch (err) {
      throw this.#explain(err, where);
    }
  }

  #explain(err: unknown, where: string): unknown {
    if (!(err instanceof ChannelApiError) || !err.apiError) return err;
    const code = err.apiError;
    const invite = `/invite @${this.#botName}`;
    let hint: string | undefined;
    if (code === 'not_in_channel') hint = `the Slack app is not a member of "${where}"; run ${invite} in that channel`;
    else if (code === 'channel_not_found') hint = `Slack has no channel "${where}" the app can see; check the name or ID, and for a private channel run ${invite} in it`;
    else if (code === 'missing_scope') hint = `the token lacks the ${(err as { needed?: string }).needed ?? 'required'} scope; add it under "OAuth & Permissions" and reinstall the app`;
    else if (TOKEN_REFUSED.has(code)) hint = 'Slack refused the token; check [slack] token';
    if (!hint) return err;
    return new ChannelApiError(`${code}: ${hint}`, detailsOf(err), { cause: err });
  }

  async #react(message: SentMessage, name: string, signal: AbortSignal): Promise<void> {
    if (!this.#reactions) return;
    try {
      await this.#api.call('reactions.add', { channel: message.channelId, timestamp: message.messageId, name }, signal);
    } catch (err) {
      const code = err instanceof ChannelApiError ? err.apiError : undefined;
      if (code === 'already_reacted') return;
      if (code === 'missing_scope') {
        this.#reactions = false;
        this.#log.debug('The Slack token has no reactions:write scope; resolved requests get no ✅/❌ reaction');
        return;
      }
      this.#log.warn({ err, channel_id: message.channelId, message_id: message.messageId }, 'Failed to add a reaction to the request message');
    }
  }
}

function detailsOf(err: unknown): { status?: number; apiError?: string; recoverable?: boolean } {
  return err instanceof ChannelApiError ? { status: err.status, apiError: err.apiError, recoverable: err.recoverable } : {};
}
