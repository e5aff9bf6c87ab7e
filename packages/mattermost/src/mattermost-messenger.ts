/**
 * The Mattermost `Messenger`: REST calls only; routing, plugin data, fan-out and the state
 * machine live in the core.
 *
 * Recipients: an email becomes the direct-message channel between the bot and that user
 * (`users/email/{email}`, then `channels/direct`); `team/channel` becomes that channel's id
 * (team and channel are the names in the channel's URL). Messages are stored as (channel id,
 * post id) from Mattermost's reply. Unlike Go, a failed lookup rejects (the core logs it and
 * skips the recipient) instead of yielding an empty channel id that fails later.
 */
import {
  type ChannelContext,
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
import type { MattermostSection } from './config.js';
import { requestPost, requesterNotice, reviewComment, testPost } from './format.js';
import { MattermostApi, MattermostApiError, type MattermostApiOptions } from './mattermost-api.js';

/** Retry knobs (tests shorten them). */
export type MattermostMessengerOptions = Pick<MattermostApiOptions, 'maxAttempts' | 'maxRetryAfterMs' | 'backoffBaseMs' | 'requestTimeoutMs' | 'env'>;

interface User {
  id: string;
  username?: string;
  email?: string;
}
interface Channel {
  id: string;
  name?: string;
  team_id?: string;
}
interface Post {
  id: string;
  channel_id: string;
}

export class MattermostMessenger implements Messenger {
  readonly #api: MattermostApi;
  readonly #pluginName: string;
  #bot: User | undefined;

  constructor(section: MattermostSection, context: ChannelContext, options: MattermostMessengerOptions = {}) {
    this.#pluginName = context.pluginName;
    this.#api = new MattermostApi({ url: section.url, token: section.token, log: context.log, metrics: context.apiMetrics, ...options });
  }

  async checkHealth(signal: AbortSignal): Promise<HealthInfo> {
    const me = await this.#me(signal, true);
    return { summary: `bot @${me.username ?? me.id} (${me.id}) on ${this.#api.url}` };
  }

  async resolveRecipient(name: string, signal: AbortSignal): Promise<Recipient> {
    if (isEmail(name)) return { name, id: await this.#directChannel(name, signal), kind: 'email' };
    const parts = name.split('/');
    if (parts.length !== 2) {
      throw new RecipientNotFoundError(`Recipient must be either a user email or a channel in the format "team/channel" but got ${JSON.stringify(name)}`);
    }
    const [team, channel] = parts as [string, string];
    let found: Channel;
    try {
      found = await this.#api.get<Channel>(`api/v4/teams/name/${enc(team)}/channels/name/${enc(channel)}`, signal, { cache: true });
    } catch (err) {
      throw lookupFailure('Failed to lookup channel info', name, err, 'team and channel are the names in the channel URL (https://<server>/<team>/channels/<channel>), not display names');
    }
    return { name, id: found.id, kind: 'channel' };
  }

  async send(to: Recipient, request: RequestView, signal: AbortSignal): Promise<SentMessage> {
    const post = await this.#post(to.id, requestPost(request), '', to.name, signal);
    return { channelId: post.channel_id || to.id, messageId: post.id };
  }

  async update(message: SentMessage, request: RequestView, _reason: UpdateReason, signal: AbortSignal): Promise<void> {
    const body = { id: message.messageId, channel_id: message.channelId, message: requestPost(request), root_id: '', props: null };
    try {
      await this.#api.put(`api/v4/posts/${enc(message.messageId)}`, body, signal);
    } catch (err) {
      if (err instanceof MattermostApiError && err.status === 404) {
        throw new MattermostApiError(`cannot find post ${message.messageId} in channel ${message.channelId} (deleted?): ${err.message}`, details(err));
      }
      throw err;
    }
  }

  async replyWithReview(message: SentMessage, review: ReviewView, _request: RequestView, signal: AbortSignal): Promise<void> {
    await this.#post(message.channelId, reviewComment(review), message.messageId, message.channelId, signal);
  }

  async notifyRequester(request: RequestView, signal: AbortSignal): Promise<void> {
    if (!isEmail(request.user)) {
      throw new RecipientNotFoundError(`user was not found, cant directly notify: requester ${JSON.stringify(request.user)} is not an email address Mattermost can look up`);
    }
    const channel = await this.#directChannel(request.user, signal);
    await this.#post(channel, requesterNotice(request), '', request.user, signal);
  }

  async sendTest(to: Recipient, signal: AbortSignal): Promise<string> {
    return (await this.#post(to.id, testPost(this.#pluginName), '', to.name, signal)).id;
  }

  async close(): Promise<void> {
    await this.#api.close();
  }

  /** The bot user; fetched once (ETag-revalidated on a health check). */
  async #me(signal: AbortSignal, refresh = false): Promise<User> {
    if (this.#bot && !refresh) return this.#bot;
    try {
      this.#bot = await this.#api.get<User>('api/v4/users/me', signal, { cache: true });
    } catch (err) {
      if (err instanceof MattermostApiError && err.status === 401) {
        throw new MattermostApiError(`${err.message} (Mattermost refused the token: check [mattermost] token)`, details(err));
      }
      throw err;
    }
    return this.#bot;
  }

  async #directChannel(email: string, signal: AbortSignal): Promise<string> {
    try {
      const user = await this.#api.get<User>(`api/v4/users/email/${enc(email)}`, signal, { cache: true });
      const me = await this.#me(signal);
      const channel = await this.#api.post<Channel>('api/v4/channels/direct', [me.id, user.id], signal);
      return channel.id;
    } catch (err) {
      throw lookupFailure('Failed to lookup direct channel info', email, err, 'no Mattermost account has this email');
    }
  }

  async #post(channelId: string, message: string, rootId: string, where: string, signal: AbortSignal): Promise<Post> {
    try {
      return await this.#api.post<Post>('api/v4/posts', { channel_id: channelId, message, root_id: rootId, props: null }, signal);
    } catch (err) {
      if (err instanceof MattermostApiError && err.status === 403) {
        const bot = this.#bot?.username ?? 'teleport';
        throw new MattermostApiError(`${err.message}: the bot cannot post to "${where}"; run /invite @${bot} in that channel (or give the bot the post:all permission)`, details(err));
      }
      throw err;
    }
  }
}

const enc = encodeURIComponent;

// Wrappers carry the original text and details but no `cause`: the log would print its message twice.
function details(err: MattermostApiError) {
  return { status: err.status, apiError: err.apiError, recoverable: err.recoverable, method: err.method, path: err.path, serverMessage: err.serverMessage };
}

/** Go's lookup log words plus the recipient; a 404 means the recipient does not exist. */
function lookupFailure(what: string, name: string, err: unknown, notFoundHint: string): Error {
  if (err instanceof MattermostApiError && err.status === 404) {
    return new RecipientNotFoundError(`${what} for ${JSON.stringify(name)}: ${err.message} (${notFoundHint})`);
  }
  if (err instanceof MattermostApiError) {
    return new MattermostApiError(`${what} for ${JSON.stringify(name)}: ${err.message}`, details(err));
  }
  return err as Error;
}
