/**
 * Catch-up after every (re)connection — beyond what the Go plugins do. WatchEvents replays
 * nothing, so whatever happened while the plugin was stopped or disconnected is recovered by
 * listing:
 *
 * - every access request is fed through the same per-request queue as a synthetic PUT, so a
 *   request created while away is announced, new reviews are replied to, and a resolution is
 *   shown — all guarded by plugin data, so nothing is posted twice;
 * - requests this process knows to have open messages (learned from events and earlier
 *   listings) that are no longer listed were deleted while away: each gets a synthetic DELETE
 *   and its messages are marked EXPIRED.
 *
 * Limit: the set of open requests lives in memory. After a restart, a request deleted while
 * the plugin was down cannot be found (Teleport offers no listing of plugin data by plugin), so
 * its messages keep their last state.
 */
import type { Logger } from 'pino';
import type { TeleportClient } from './teleport/client.js';
import type { WatchEvent } from './teleport/types.js';

export interface ReconcileOptions {
  client: TeleportClient;
  /** Ids of requests with unresolved messages; read once, before listing. */
  openRequests: ReadonlySet<string>;
  /** Queues a synthetic event (resolves when accepted: backpressure). */
  push(event: WatchEvent): Promise<void>;
  log: Logger;
  signal: AbortSignal;
}

export interface ReconcileResult {
  listed: number;
  deleted: number;
}

export async function reconcile(options: ReconcileOptions): Promise<ReconcileResult> {
  const { client, push, signal } = options;
  const candidates = new Set(options.openRequests);
  const requests = await client.listAccessRequests(undefined, signal);
  // Oldest first, so a backlog is announced in the order it was requested.
  requests.sort((a, b) => (a.created?.getTime() ?? 0) - (b.created?.getTime() ?? 0));
  for (const request of requests) {
    signal.throwIfAborted();
    candidates.delete(request.id);
    await push({ type: 'PUT', kind: 'access_request', request });
  }
  for (const id of candidates) {
    signal.throwIfAborted();
    await push({ type: 'DELETE', kind: 'access_request', name: id });
  }
  options.log.debug({ listed: requests.length, deleted: candidates.size }, 'Caught up on access requests');
  return { listed: requests.length, deleted: candidates.size };
}
