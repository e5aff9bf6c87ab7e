/**
 * The per-request state machine (Teleport's `accessrequest/app.go`, with its gaps closed).
 *
 * Pending request:
 *   1. No plugin data → route, claim (create-if-absent; of racing replicas one wins), send to
 *      every recipient concurrently, and record each sent message right after its send.
 *   2. A claim left unfinished (its owner crashed or timed out, older than the lease, or our
 *      own from an earlier attempt) → take it over and send only to the recipients not yet sent to.
 *   3. A live claim of another replica → nothing to announce; if there are new reviews, wait
 *      (bounded by the handler signal) for its broadcast to finish. A recheck is scheduled for
 *      when the lease would run out.
 *   4. New reviews (more than `reviews_count`) → bump `reviews_count` (CAS), reply to every
 *      message with each new review, then redraw every message.
 * Resolved (APPROVED / DENIED / PROMOTED): post pending review replies, then set `resolution`
 * (only if still empty: a repeated or late resolution changes nothing), redraw every message,
 * then notify the requester once.
 * Deleted: the same with EXPIRED, rendered from plugin data; skipped quietly if already resolved.
 */
import type { Logger } from 'pino';
import type { Messenger, Recipient, RequestStatus, RequestView, SentMessage, UpdateReason } from './channel.js';
import { DecorrelatedBackoff } from './backoff.js';
import { LookupCache } from './lookup-cache.js';
import { TeleportError } from './errors.js';
import type { AccessRequestData, ResolutionTag } from './plugin-data.js';
import { type Claim, type RequestRecord, type RequestStateStore, RetryLater, type RecordEntry } from './request-state.js';
import { type ViewContext, buildRequestView, buildStoredView, resolveLoginsByRole, resolveResourceNames } from './request-view.js';
import type { OpenRequests } from './reconcile.js';
import type { Router } from './routing.js';
import type { PluginStats } from './engine-stats.js';
import type { TeleportClient } from './teleport/client.js';
import type { AccessRequest, WatchEvent } from './teleport/types.js';

export interface RequestHandlerOptions {
  client: TeleportClient;
  messenger: Messenger;
  store: RequestStateStore;
  router: Router;
  view: ViewContext;
  stats: PluginStats;
  /** This plugin instance's id, written as `claimed_by`. */
  instanceId: string;
  /** Age after which another replica's unfinished claim may be taken over, in ms. */
  claimLeaseMs: number;
  /** Ids of requests with messages that are not resolved yet (for catch-up of deletions). */
  openRequests: Pick<OpenRequests, 'add' | 'delete'>;
  /** Asks for the request to be handled again at `atMs` (epoch ms). */
  scheduleRecheck(requestId: string, atMs: number): void;
  /** Aborts when the plugin begins to stop: no new retries after that. */
  stopping: AbortSignal;
  /** Aborts when a graceful stop runs out of time: in-flight calls are cancelled. */
  hardStop: AbortSignal;
  /** Access Monitoring Rule events go here. */
  onRuleEvent?(event: WatchEvent, log: Logger): void;
}

const isNotFound = (err: unknown) => err instanceof TeleportError && err.isNotFound;

/** How long a sent message's record is retried while Teleport is unreachable. */
export const RECORD_RETRY_MS = 120_000;

export class RequestHandler {
  readonly #o: RequestHandlerOptions;

  readonly #lookups: LookupCache;

  constructor(options: RequestHandlerOptions) {
    this.#o = options;
    this.#lookups = new LookupCache(options.client);
  }

  /** Handles one event; errors are logged here, never thrown (events are not retried). */
  async handle(event: WatchEvent, log: Logger, signal: AbortSignal): Promise<void> {
    if (event.type === 'INIT') return;
    if (event.kind === 'access_monitoring_rule') {
      this.#o.onRuleEvent?.(event, log);
      return;
    }
    if (event.type === 'DELETE' && event.kind === 'access_request') {
      const reqLog = log.child({ request_id: event.name, request_op: 'delete' });
      try {
        await this.onDeleted(event.name, reqLog, signal);
      } catch (err) {
        reqLog.error({ err }, 'Failed to process deleted request');
      }
      return;
    }
    if (event.type !== 'PUT' || event.kind !== 'access_request') return;
    const req = event.request;
    const reqLog = log.child({ request_id: req.id, request_op: 'put', request_state: req.state });
    try {
      // What is known of the plugin data already: none for a request just created (the claim is
      // a compare-and-swap against empty, so being wrong costs one read), or the catch-up listing's.
      const listed = event.stored !== undefined ? (this.#o.store.fromRaw(event.stored) ?? null) : undefined;
      const fresh = !event.replayed && req.reviews.length === 0;
      if (req.state === 'PENDING') await this.onPending(req, reqLog, signal, listed !== undefined ? listed : fresh ? null : undefined);
      else if (req.state === 'APPROVED' || req.state === 'DENIED' || req.state === 'PROMOTED') await this.onResolved(req, reqLog, signal, listed);
      else reqLog.warn('Unknown request state');
    } catch (err) {
      if (isNotFound(err)) reqLog.debug({ err }, 'Request no longer exists');
      else reqLog.error({ err }, 'Failed to process request');
    }
  }

  /** `known`: the plugin data if already at hand (null: none), else undefined to read it. */
  async onPending(req: AccessRequest, log: Logger, signal: AbortSignal, known?: RecordEntry | null): Promise<void> {
    let entry = await this.#announce(req, known !== undefined ? (known ?? undefined) : await this.#o.store.read(req.id, signal), log, signal);
    if (!entry || entry.state.request.resolution) return;
    if (entry.state.messages.length) this.#o.openRequests.add(req.id);
    if (req.reviews.length > entry.state.request.reviewsCount) {
      const replied = await this.#postReviews(req, entry, log, signal);
      entry = replied.entry;
      if (replied.posted) {
        await this.#updateAll(entry.state.messages, this.#view(req, entry.state.request), 'review', log, signal);
      }
    }
  }

  async onResolved(req: AccessRequest, log: Logger, signal: AbortSignal, known?: RecordEntry | null): Promise<void> {
    let entry = await this.#settled(req.id, log, signal, known);
    if (!entry) return;
    if (req.reviews.length > entry.state.request.reviewsCount) entry = (await this.#postReviews(req, entry, log, signal)).entry;
    const tag = req.state as Exclude<ResolutionTag, '' | 'EXPIRED'>;
    const resolved = await this.#resolve(req.id, tag, req.resolveReason, entry, log, signal);
    if (!resolved) return;
    await this.#finish(req.id, resolved, this.#view(req, resolved.request, tag), tag, log, signal);
  }

  async onDeleted(id: string, log: Logger, signal: AbortSignal): Promise<void> {
    const entry = await this.#settled(id, log, signal);
    if (!entry) {
      this.#o.openRequests.delete(id);
      return;
    }
    const resolved = await this.#resolve(id, 'EXPIRED', '', entry, log, signal);
    if (!resolved) return;
    await this.#finish(id, resolved, buildStoredView(this.#o.view, id, resolved.request, 'EXPIRED'), 'EXPIRED', log, signal);
  }

  #view(req: AccessRequest, stored: AccessRequestData, status?: RequestStatus): RequestView {
    return buildRequestView(this.#o.view, req, stored, status);
  }

  #takeable(claim: Claim): boolean {
    return claim.by === this.#o.instanceId || Date.now() - claim.at.getTime() >= this.#o.claimLeaseMs;
  }

  /**
   * Makes sure the request has been (or is being) announced. Returns the entry to continue
   * with, or undefined when there is nothing more to do now.
   */
  async #announce(req: AccessRequest, entry: RecordEntry | undefined, log: Logger, signal: AbortSignal): Promise<RecordEntry | undefined> {
    for (let round = 0; round < 3; round++) {
      if (!entry) {
        entry = await this.#broadcast(req, undefined, log, signal);
      } else if (entry.state.claim && !entry.state.request.resolution) {
        const claim = entry.state.claim;
        if (this.#takeable(claim)) {
          entry = await this.#broadcast(req, entry, log, signal);
        } else {
          // Another replica is announcing this request right now.
          this.#o.scheduleRecheck(req.id, claim.at.getTime() + this.#o.claimLeaseMs);
          if (req.reviews.length <= entry.state.request.reviewsCount) return undefined;
          entry = await this.#waitForBroadcast(req.id, entry, signal);
          if (!entry) return undefined;
        }
      }
      if (!entry?.state.claim || entry.state.claim.by === this.#o.instanceId || entry.state.request.resolution) return entry;
    }
    return entry;
  }

  /** Waits until no live foreign claim remains; undefined if the entry disappeared. */
  async #waitForBroadcast(id: string, entry: RecordEntry, signal: AbortSignal): Promise<RecordEntry | undefined> {
    return this.#o.store.update(
      id,
      (current) => {
        if (current.claim && !current.request.resolution && !this.#takeable(current.claim)) throw new RetryLater('another replica is posting the messages');
        return undefined;
      },
      signal,
      entry,
    );
  }

  /** Waits out a live broadcast of another replica before a resolution. */
  async #settled(id: string, log: Logger, signal: AbortSignal, known?: RecordEntry | null): Promise<RecordEntry | undefined> {
    let entry = known !== undefined ? (known ?? undefined) : await this.#o.store.read(id, signal);
    if (!entry) {
      log.debug('Failed to update messages: plugin data is missing');
      return undefined;
    }
    const claim = entry.state.claim;
    if (claim && !entry.state.request.resolution && !this.#takeable(claim)) {
      this.#o.scheduleRecheck(id, claim.at.getTime() + this.#o.claimLeaseMs);
      entry = await this.#waitForBroadcast(id, entry, signal);
    }
    return entry;
  }

  /**
   * Claims (or takes over) the request and sends it to each recipient not yet sent to,
   * recording every message as soon as it is sent.
   */
  async #broadcast(req: AccessRequest, stale: RecordEntry | undefined, log: Logger, signal: AbortSignal): Promise<RecordEntry | undefined> {
    const { store, router, messenger, stats } = this.#o;
    const data = stale?.state.request.user ? stale.state.request : await this.#requestData(req, log, signal);
    const recipients: Recipient[] = stale?.state.unsent
      ? await router.resolve(stale.state.unsent, log, signal)
      : await router.route(req, log, signal);
    if (recipients.length === 0) log.warn('No channel to post');
    const claim: Claim | undefined = recipients.length ? { at: new Date(), by: this.#o.instanceId } : undefined;
    const next: RequestRecord = {
      request: data,
      messages: stale?.state.messages ?? [],
      claim,
      unsent: claim ? recipients.map((r) => r.name) : undefined,
    };

    let entry: RecordEntry | undefined;
    if (!stale) {
      entry = await store.create(req.id, next, signal);
      if (!entry) return store.read(req.id, signal); // another replica claimed it first
    } else {
      const taken = await store.update(
        req.id,
        (current) => (sameClaim(current.claim, stale.state.claim) && !current.request.resolution ? { ...current, claim, unsent: next.unsent } : undefined),
        signal,
        stale,
      );
      if (!taken?.written) return taken;
      entry = taken;
      log.info({ previous_owner: stale.state.claim?.by }, 'Taking over an unfinished announcement');
    }
    if (!claim) return entry;

    const view = this.#view(req, data);
    let latest: RecordEntry = entry;
    let records: Promise<void> = Promise.resolve();
    // A message is out: losing its record would post it again after the lease, so a write that
    // fails on a connection problem is retried until Teleport is back (or the plugin is stopped).
    // (The longer deadline is made only when needed: a timer per announcement would pile up.)
    const record = (name: string, message?: SentMessage) => {
      const write = async () => {
        let until: AbortSignal | undefined;
        let backoff: DecorrelatedBackoff | undefined;
        for (;;) {
          try {
            const result = await store.update(req.id, (current) => recordSend(current, name, message), until ?? signal, latest);
            if (result) latest = result;
            if (until) log.info({ recipient: name }, 'Recorded the sent message in plugin data');
            return;
          } catch (err) {
            until ??= AbortSignal.any([this.#o.hardStop, AbortSignal.timeout(RECORD_RETRY_MS)]);
            backoff ??= new DecorrelatedBackoff({ baseMs: 100, capMs: 2_000 });
            if (!(err instanceof TeleportError && err.isUnanswered) || until.aborted || this.#o.stopping.aborted) throw err;
            log.warn({ err, recipient: name }, 'Could not record a sent message in plugin data yet, retrying');
            await backoff.wait(AbortSignal.any([until, this.#o.stopping])).catch(() => Promise.reject(err));
          }
        }
      };
      records = records.then(write, write);
      return records;
    };
    await Promise.allSettled(
      recipients.map(async (to) => {
        let message: SentMessage | undefined;
        try {
          message = await messenger.send(to, view, signal);
          stats.succeeded('send');
          log.info({ channel_id: message.channelId, message_id: message.messageId }, 'Successfully posted messages');
        } catch (err) {
          stats.failed('send');
          log.error({ err, recipient: to.name }, 'Failed to post message');
        }
        try {
          await record(to.name, message);
        } catch (err) {
          log.error({ err, recipient: to.name }, 'Failed to record a sent message in plugin data');
        }
      }),
    );
    if (latest.state.messages.length && !latest.state.request.resolution) this.#o.openRequests.add(req.id);
    return latest;
  }

  /** The request facts stored with a new claim (with resource names and logins looked up). */
  async #requestData(req: AccessRequest, log: Logger, signal: AbortSignal): Promise<AccessRequestData> {
    const [resources, loginsByRole] = await Promise.all([
      resolveResourceNames(this.#o.client, req, signal),
      resolveLoginsByRole(this.#lookups, req, log, signal),
    ]);
    return {
      user: req.user,
      roles: req.roles,
      resources,
      requestReason: req.requestReason,
      reviewsCount: 0,
      resolution: '',
      resolveReason: '',
      systemAnnotations: Object.keys(req.systemAnnotations).length ? req.systemAnnotations : undefined,
      suggestedReviewers: req.suggestedReviewers.length ? req.suggestedReviewers : undefined,
      loginsByRole,
      maxDuration: req.maxDuration,
    };
  }

  /** Bumps `reviews_count` and replies with each review it covers. */
  async #postReviews(req: AccessRequest, entry: RecordEntry, log: Logger, signal: AbortSignal): Promise<{ entry: RecordEntry; posted: boolean }> {
    const result = await this.#o.store.update(
      req.id,
      (current) => {
        if (current.messages.length === 0 || current.request.reviewsCount >= req.reviews.length) return undefined;
        current.request.reviewsCount = req.reviews.length;
        return current;
      },
      signal,
      entry,
    );
    if (!result?.written) {
      log.debug('Failed to post reply: replies are already sent');
      return { entry: result ?? entry, posted: false };
    }
    const reply = this.#o.messenger.replyWithReview?.bind(this.#o.messenger);
    if (reply) {
      const view = this.#view(req, result.state.request);
      const fresh = view.reviews.slice(result.previous.request.reviewsCount);
      await Promise.all(
        result.state.messages.map(async (message) => {
          for (const review of fresh) {
            try {
              await reply(message, review, view, signal);
              this.#o.stats.succeeded('reply');
            } catch (err) {
              this.#o.stats.failed('reply');
              log.error({ err, channel_id: message.channelId, message_id: message.messageId }, 'Failed to post reply');
            }
          }
        }),
      );
    }
    return { entry: result, posted: true };
  }

  /** Sets the resolution once; undefined (and a debug line) when there is nothing to resolve. */
  async #resolve(id: string, tag: Exclude<ResolutionTag, ''>, reason: string, entry: RecordEntry, log: Logger, signal: AbortSignal): Promise<RequestRecord | undefined> {
    let why = '';
    const result = await this.#o.store.update(
      id,
      (current) => {
        if (current.messages.length === 0) why = 'Failed to update messages: plugin data is missing';
        else if (current.request.resolution) why = 'Request is already resolved, ignoring event';
        else {
          current.request.resolution = tag;
          current.request.resolveReason = reason;
          delete current.claim;
          delete current.unsent;
          return current;
        }
        return undefined;
      },
      signal,
      entry,
    );
    if (!result?.written) {
      log.debug({ resolution: tag }, why || 'Failed to update messages: plugin data is missing');
      if (result?.state.request.resolution) this.#o.openRequests.delete(id);
      return undefined;
    }
    return result.state;
  }

  async #finish(id: string, state: RequestRecord, view: RequestView, tag: string, log: Logger, signal: AbortSignal): Promise<void> {
    this.#o.openRequests.delete(id);
    await this.#updateAll(state.messages, view, 'resolution', log, signal);
    log.info({ resolution: tag }, `Successfully marked request as ${tag} in all messages`);
    const notify = this.#o.messenger.notifyRequester?.bind(this.#o.messenger);
    if (!notify) return;
    try {
      await notify(view, signal);
      this.#o.stats.succeeded('notify');
      log.info({ user: view.user, resolution: tag }, 'Successfully notified user');
    } catch (err) {
      this.#o.stats.failed('notify');
      log.warn({ err, user: view.user }, 'Failed to notify the requester');
    }
  }

  async #updateAll(messages: SentMessage[], view: RequestView, reason: UpdateReason, log: Logger, signal: AbortSignal): Promise<void> {
    await Promise.all(
      messages.map(async (message) => {
        try {
          await this.#o.messenger.update(message, view, reason, signal);
          this.#o.stats.succeeded('update');
        } catch (err) {
          this.#o.stats.failed('update');
          log.error({ err, channel_id: message.channelId, message_id: message.messageId }, 'Failed to update message');
        }
      }),
    );
  }
}

function sameClaim(a: Claim | undefined, b: Claim | undefined): boolean {
  return !!a && !!b && a.by === b.by && a.at.getTime() === b.at.getTime();
}

/**
 * Appends a sent message and crosses its recipient off; the last one ends the claim. Idempotent,
 * since a write whose answer was lost is retried.
 */
function recordSend(current: RequestRecord, name: string, message: SentMessage | undefined): RequestRecord {
  if (message && !current.messages.some((m) => m.channelId === message.channelId && m.messageId === message.messageId)) current.messages.push(message);
  const unsent = [...(current.unsent ?? [])];
  const at = unsent.indexOf(name);
  if (at >= 0) unsent.splice(at, 1);
  if (unsent.length === 0) {
    delete current.claim;
    delete current.unsent;
  } else {
    current.unsent = unsent;
  }
  return current;
}
