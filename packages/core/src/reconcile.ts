/**
 * Catch-up after every (re)connection — beyond what the Go plugins do. WatchEvents replays
 * nothing, so whatever happened while the plugin was stopped or disconnected is recovered by
 * listing every access request (a page of 500 at a time, each announced while the next is on
 * its way) and every plugin-data entry of this plugin (GetPluginData without a resource).
 *
 * - every access request is fed through the same per-request queue as a synthetic PUT carrying
 *   its entry as listed, so a request created while away is announced, new reviews are replied
 *   to, and a resolution is shown — all guarded by plugin data (compare-and-swap), so nothing is
 *   posted twice even when the listed entry is already out of date;
 * - an entry with unresolved messages whose request is no longer listed was deleted (expired)
 *   while away, also across a restart: it gets a synthetic DELETE and its messages are marked
 *   EXPIRED. Requests this process knew to be open count too, when listing entries is refused.
 */
import type { Logger } from 'pino';
import { sleep } from './backoff.js';
import { TeleportError } from './errors.js';
import type { RecordEntry, RequestStateStore } from './request-state.js';
import type { TeleportClient } from './teleport/client.js';
import type { WatchEvent } from './teleport/types.js';

export interface ReconcileOptions {
  client: TeleportClient;
  /** Lists this plugin's entries. */
  store: Pick<RequestStateStore, 'readAll'>;
  /** Ids of requests with unresolved messages; read once, before listing. */
  openRequests: Iterable<string>;
  /** Queues a synthetic event (resolves when accepted: backpressure). */
  push(event: WatchEvent): Promise<void>;
  log: Logger;
  signal: AbortSignal;
}

export interface ReconcileResult {
  listed: number;
  deleted: number;
  /** Whether this plugin's entries could be listed (else only `openRequests` told what was open). */
  entriesListed: boolean;
}

/**
 * Ids of requests with unresolved messages, known to this process: the fallback for finding
 * requests deleted while away when the cluster refuses to list plugin data. While listing works
 * they are not kept (100 000 open requests would be ~9 MB for nothing).
 */
export class OpenRequests {
  readonly #ids = new Set<string>();
  #tracking = true;

  get tracking(): boolean {
    return this.#tracking;
  }

  set tracking(on: boolean) {
    this.#tracking = on;
    if (!on) this.#ids.clear();
  }

  add(id: string): void {
    if (this.#tracking) this.#ids.add(id);
  }

  delete(id: string): void {
    this.#ids.delete(id);
  }

  [Symbol.iterator](): IterableIterator<string> {
    return this.#ids.values();
  }
}

/** Listing attempts when the connection fails (a refusal is not retried). */
const LIST_ATTEMPTS = 3;

const isOpen = (entry: RecordEntry) => entry.state.messages.length > 0 && !entry.state.request.resolution;

/**
 * This plugin's entries, or undefined when the cluster refuses to list them (then each request's
 * entry is read on its own). A connection problem is retried: while listing works, open requests
 * are not remembered in memory, so a brief outage must not make a deletion go unnoticed.
 */
async function listEntries({ store, signal, log }: ReconcileOptions): Promise<Map<string, RecordEntry> | undefined> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await store.readAll(signal);
    } catch (err) {
      if (signal.aborted) throw err;
      if (attempt < LIST_ATTEMPTS && err instanceof TeleportError && err.isUnanswered) {
        await sleep(250 * attempt, signal);
        continue;
      }
      log.debug({ err }, 'Could not list plugin data; reading it request by request');
      return undefined;
    }
  }
}

export async function reconcile(options: ReconcileOptions): Promise<ReconcileResult> {
  const { client, push, signal, log } = options;
  // Both read as of now: a request announced while listing is not in them, so it cannot be
  // taken for one deleted meanwhile.
  const candidates = new Set(options.openRequests);
  const listing = listEntries(options);
  listing.catch(() => {});
  let entries: Map<string, RecordEntry> | undefined;
  let entriesRead = false;
  const readEntries = async () => {
    if (entriesRead) return;
    entries = await listing;
    entriesRead = true;
    for (const [id, entry] of entries ?? []) if (isOpen(entry)) candidates.add(id);
  };
  let listed = 0;
  // Each page is announced as it arrives, while the next is on its way.
  for await (const page of client.accessRequestPages(undefined, signal)) {
    await readEntries();
    // Oldest first, so a backlog is announced in the order it was requested (servers that
    // cannot sort return pages in id order).
    page.sort((a, b) => (a.created?.getTime() ?? 0) - (b.created?.getTime() ?? 0));
    for (const request of page) {
      signal.throwIfAborted();
      candidates.delete(request.id);
      const stored = entries ? (entries.get(request.id)?.raw ?? null) : undefined;
      await push({ type: 'PUT', kind: 'access_request', request, replayed: true, ...(stored !== undefined ? { stored } : {}) });
    }
    listed += page.length;
  }
  await readEntries();
  for (const id of candidates) {
    signal.throwIfAborted();
    await push({ type: 'DELETE', kind: 'access_request', name: id });
  }
  log.debug({ listed, deleted: candidates.size }, 'Caught up on access requests');
  return { listed, deleted: candidates.size, entriesListed: entries !== undefined };
}
