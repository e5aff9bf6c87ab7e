import type {
  AccessMonitoringRule,
  AccessRequest,
  AccessReview,
  PingInfo,
  ResourceDetails,
  ResourceId,
  RoleInfo,
  UserInfo,
  WatchEvent,
} from './types.js';

/** A kind to watch, e.g. `{ kind: 'access_request' }`. */
export interface WatchKindSpec {
  kind: string;
}

/**
 * A live WatchEvents stream. Iterate it for events; the iterator throws a `TeleportError`
 * when the stream fails and ends when it closes cleanly or `cancel()` is called.
 */
export interface WatchStream extends AsyncIterable<WatchEvent> {
  cancel(): void;
}

/** Filter for listing access requests (catch-up after (re)connect). */
export interface AccessRequestListFilter {
  id?: string;
  state?: 'PENDING' | 'APPROVED' | 'DENIED' | 'PROMOTED';
}

/**
 * The narrow Teleport API the plugins use (Teleport's `common/teleport.Client`). The gRPC
 * implementation lives in `grpc-client.ts`; tests and the benchmark use the same one against
 * the sandbox Auth server.
 */
export interface TeleportClient {
  ping(signal?: AbortSignal): Promise<PingInfo>;
  watchEvents(kinds: WatchKindSpec[], options?: { allowPartialSuccess?: boolean }): WatchStream;
  /** The plugin's entry for one access request, or undefined when it has none. */
  getPluginData(requestId: string, plugin: string, signal?: AbortSignal): Promise<Record<string, string> | undefined>;
  /** Every access request's entry of `plugin`, by request id (GetPluginData with no resource). */
  listPluginData(plugin: string, signal?: AbortSignal): Promise<Map<string, Record<string, string>>>;
  /**
   * Compare-and-swap write. Rejects with `TeleportError` code `FAILED_PRECONDITION`
   * (`isCompareFailed`) when `expect` does not match. A `set` value of "" deletes the key.
   */
  updatePluginData(
    requestId: string,
    plugin: string,
    set: Record<string, string>,
    expect: Record<string, string>,
    signal?: AbortSignal,
  ): Promise<void>;
  /** Every access request visible to the identity, paged internally. */
  listAccessRequests(filter?: AccessRequestListFilter, signal?: AbortSignal): Promise<AccessRequest[]>;
  /** The same, a page at a time as the server returns them, oldest first where it can sort. */
  accessRequestPages(filter?: AccessRequestListFilter, signal?: AbortSignal): AsyncIterable<AccessRequest[]>;
  getRole(name: string, signal?: AbortSignal): Promise<RoleInfo>;
  getUser(name: string, signal?: AbortSignal): Promise<UserInfo>;
  /** Friendly names for requested resources (ListResources with preview-as-roles). */
  getResourceDetails(ids: ResourceId[], signal?: AbortSignal): Promise<ResourceDetails[]>;
  listAccessMonitoringRules(pluginName: string, signal?: AbortSignal): Promise<AccessMonitoringRule[]>;
  submitAccessReview(requestId: string, review: Omit<AccessReview, 'created'>, signal?: AbortSignal): Promise<AccessRequest>;
  /**
   * Called after refreshed credentials were loaded and new connections use them; the watcher
   * re-opens its stream on the new connection. Returns an unsubscribe function.
   */
  onCredentialsRotated?(listener: () => void): () => void;
  /** Closes every channel; pending calls fail with CANCELLED. */
  close(): void;
}
