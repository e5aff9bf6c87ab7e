/**
 * A `Messenger` that records what the engine asked it to do, for engine tests and the
 * benchmark. It stands in for a channel (not for any of our own modules): resolving a name
 * yields a recipient whose id is the name, each send returns a fresh message id.
 */
import type { HealthInfo, Messenger, Recipient, RequestView, ReviewView, SentMessage, UpdateReason } from '../channel.js';
import { ChannelApiError, RecipientNotFoundError } from '../errors.js';
import { isEmail } from '../routing.js';

export interface RecordedSend {
  to: Recipient;
  view: RequestView;
  message: SentMessage;
  /** `performance.now()` when the send was made. */
  at: number;
}
export interface RecordedUpdate {
  message: SentMessage;
  view: RequestView;
  reason: UpdateReason;
  at: number;
}
export interface RecordedReply {
  message: SentMessage;
  review: ReviewView;
  view: RequestView;
  at: number;
}
export interface RecordedNotification {
  view: RequestView;
  at: number;
}

export interface RecordingMessengerOptions {
  /** Offer `replyWithReview` (default true; false models Discord/Teams). */
  replies?: boolean;
  /** Offer `notifyRequester` (default true). */
  notify?: boolean;
  /** Maps a raw name to the recipient id (default: the name itself). */
  idOf?: (name: string) => string;
  /** How long each send takes, in ms (default 0). */
  sendDelayMs?: number;
}

type Kind = 'sends' | 'updates' | 'replies' | 'notifications';

export class RecordingMessenger implements Messenger {
  readonly sends: RecordedSend[] = [];
  readonly updates: RecordedUpdate[] = [];
  readonly replies: RecordedReply[] = [];
  readonly notifications: RecordedNotification[] = [];
  /** Names `resolveRecipient` rejects with RecipientNotFoundError. */
  readonly unknownRecipients = new Set<string>();
  /** Recipient ids whose sends fail with the given error. */
  readonly failingRecipients = new Map<string, Error>();
  /** When set, `checkHealth` rejects with it. */
  healthError: Error | undefined;
  closed = false;
  /** Sends currently in progress, and the most seen at once. */
  inFlight = 0;
  maxInFlight = 0;
  #hold: Promise<void> | undefined;
  #release: (() => void) | undefined;
  replyWithReview?: Messenger['replyWithReview'];
  notifyRequester?: Messenger['notifyRequester'];
  readonly #options: RecordingMessengerOptions;
  readonly #cursor: Record<Kind, number> = { sends: 0, updates: 0, replies: 0, notifications: 0 };
  readonly #listeners = new Set<() => void>();
  #ids = 0;

  constructor(options: RecordingMessengerOptions = {}) {
    this.#options = options;
    if (options.replies !== false) {
      this.replyWithReview = async (message, review, view, signal) => {
        signal.throwIfAborted();
        this.#record('replies', { message, review, view, at: performance.now() });
      };
    }
    if (options.notify !== false) {
      this.notifyRequester = async (view, signal) => {
        signal.throwIfAborted();
        this.#record('notifications', { view, at: performance.now() });
      };
    }
  }

  /** Makes sends to `recipientId` fail (a non-recoverable API error by default). */
  failSendsTo(recipientId: string, error: Error = new ChannelApiError('channel_not_found', { status: 404, apiError: 'channel_not_found' })): void {
    this.failingRecipients.set(recipientId, error);
  }

  async checkHealth(signal: AbortSignal): Promise<HealthInfo> {
    signal.throwIfAborted();
    if (this.healthError) throw this.healthError;
    return { summary: 'recording messenger' };
  }

  async resolveRecipient(name: string, signal: AbortSignal): Promise<Recipient> {
    signal.throwIfAborted();
    if (this.unknownRecipients.has(name)) throw new RecipientNotFoundError(`recipient ${name} not found`);
    return { name, id: this.#options.idOf?.(name) ?? name, kind: isEmail(name) ? 'user' : 'channel' };
  }

  /** Makes every send wait until `releaseSends()` (to fill queues deterministically). */
  holdSends(): void {
    this.#hold ??= new Promise((resolve) => (this.#release = resolve));
  }

  releaseSends(): void {
    this.#release?.();
    this.#hold = undefined;
  }

  async send(to: Recipient, view: RequestView, signal: AbortSignal): Promise<SentMessage> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    this.#notify();
    try {
      if (this.#hold) await this.#hold;
      if (this.#options.sendDelayMs) await new Promise((r) => setTimeout(r, this.#options.sendDelayMs));
      signal.throwIfAborted();
      const failure = this.failingRecipients.get(to.id);
      if (failure) throw failure;
      const message: SentMessage = { channelId: to.id, messageId: `m${++this.#ids}`, recipient: to.name, sentAt: new Date().toISOString() };
      this.#record('sends', { to, view, message, at: performance.now() });
      return message;
    } finally {
      this.inFlight--;
    }
  }

  async update(message: SentMessage, view: RequestView, reason: UpdateReason, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.#record('updates', { message, view, reason, at: performance.now() });
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** Sends of one request. */
  sendsOf(requestId: string): RecordedSend[] {
    return this.sends.filter((s) => s.view.id === requestId);
  }
  updatesOf(requestId: string): RecordedUpdate[] {
    return this.updates.filter((u) => u.view.id === requestId);
  }
  repliesOf(requestId: string): RecordedReply[] {
    return this.replies.filter((r) => r.view.id === requestId);
  }
  notificationsOf(requestId: string): RecordedNotification[] {
    return this.notifications.filter((n) => n.view.id === requestId);
  }

  /** The next send not yet returned by `nextSend` (in arrival order). */
  nextSend(timeoutMs?: number): Promise<RecordedSend> {
    return this.#next('sends', timeoutMs) as Promise<RecordedSend>;
  }
  nextUpdate(timeoutMs?: number): Promise<RecordedUpdate> {
    return this.#next('updates', timeoutMs) as Promise<RecordedUpdate>;
  }
  nextReply(timeoutMs?: number): Promise<RecordedReply> {
    return this.#next('replies', timeoutMs) as Promise<RecordedReply>;
  }
  nextNotification(timeoutMs?: number): Promise<RecordedNotification> {
    return this.#next('notifications', timeoutMs) as Promise<RecordedNotification>;
  }

  /** Resolves once `condition` holds (checked after every call), or rejects after `timeoutMs`. */
  waitFor(condition: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!condition()) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`RecordingMessenger: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.#listeners.delete(check);
      };
      this.#listeners.add(check);
    });
  }

  async #next(kind: Kind, timeoutMs = 10_000): Promise<unknown> {
    await this.waitFor(() => this[kind].length > this.#cursor[kind], timeoutMs, `the next ${kind.replace(/s$/, '')}`);
    return this[kind][this.#cursor[kind]++];
  }

  #record<K extends Kind>(kind: K, entry: this[K][number]): void {
    (this[kind] as unknown[]).push(entry);
    this.#notify();
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }
}
