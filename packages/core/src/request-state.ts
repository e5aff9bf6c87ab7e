/**
 * Request state in Teleport plugin data, written with compare-and-swap (Teleport's
 * `lib/plugindata/cas.go`), plus a claim lease that closes the Go plugins' crash gap.
 *
 * Stored per request and plugin name:
 * - the Go keys (`plugin-data.ts`) and the channel's sent messages (`plugin-data-codecs.ts`);
 * - while a broadcast is in progress, three keys of ours: `claimed_at` (RFC 3339 with ms),
 *   `claimed_by` (plugin instance id) and `unsent_recipients` (JSON array of the raw recipient
 *   names not yet sent to). They are deleted when the broadcast completes. Go's CAS never
 *   reads or sets them, so a Go plugin sharing the entry is not disturbed.
 *
 * Writes use `Expect` = the raw map last read (or written), with "" for each of our keys it
 * lacks, and `Set` = only the keys that change; the server rejects the write with FAILED_PRECONDITION when someone else wrote in
 * between, and the update is retried from a fresh read after a decorrelated backoff
 * (1 ms → 1 s, ×3) until the handler's signal aborts. The modify function may therefore run
 * several times and must be pure.
 */
import type { SentMessage, SentMessageCodec } from './channel.js';
import { DecorrelatedBackoff } from './backoff.js';
import { TeleportError } from './errors.js';
import { channelMessageCodec } from './plugin-data-codecs.js';
import {
  type AccessRequestData,
  type PluginDataKeys,
  decodeRequestData,
  emptyRequestData,
  encodeRequestData,
} from './plugin-data.js';
import type { TeleportClient } from './teleport/client.js';

/** The keys of ours that mark a broadcast in progress. */
export const CLAIM_KEYS = ['claimed_at', 'claimed_by', 'unsent_recipients'] as const;

/** Default age after which an unfinished claim may be taken over, in ms. */
export const DEFAULT_CLAIM_LEASE_MS = 60_000;

/** Who is broadcasting a request, and since when. */
export interface Claim {
  at: Date;
  by: string;
}

/** Everything the plugin keeps about one request. */
export interface RequestRecord {
  request: AccessRequestData;
  messages: SentMessage[];
  /** Present while a broadcast is in progress (or was interrupted). */
  claim?: Claim;
  /** Raw recipient names still to send to; present with `claim` once routing is done. */
  unsent?: string[];
}

/** A state together with the raw map it was read from (the next write's `Expect`). */
export interface RecordEntry {
  raw: Record<string, string>;
  state: RequestRecord;
}

/** How a channel lays out its plugin data. */
export interface PluginDataLayout {
  keys: PluginDataKeys;
  codec: SentMessageCodec;
}

export const DEFAULT_LAYOUT: PluginDataLayout = { keys: 'full', codec: channelMessageCodec };

export function emptyRecord(): RequestRecord {
  return { request: emptyRequestData(), messages: [] };
}

/** Encodes a state: the Go keys, the codec's keys, and the claim keys when claimed. */
export function encodeRecord(state: RequestRecord, layout: PluginDataLayout = DEFAULT_LAYOUT): Record<string, string> {
  const out = { ...encodeRequestData(state.request, layout.keys), ...layout.codec.encode(state.messages) };
  if (state.claim) {
    out.claimed_at = state.claim.at.toISOString();
    out.claimed_by = state.claim.by;
  }
  if (state.unsent) out.unsent_recipients = JSON.stringify(state.unsent);
  return out;
}

/** Decodes a raw map; throws `PluginDataDecodeError` on unreadable JSON or times. */
export function decodeRecord(raw: Record<string, string>, layout: PluginDataLayout = DEFAULT_LAYOUT): RequestRecord {
  const state: RequestRecord = { request: decodeRequestData(raw), messages: layout.codec.decode(raw) };
  const at = raw.claimed_at ? new Date(raw.claimed_at) : undefined;
  if (at && !Number.isNaN(at.getTime())) state.claim = { at, by: raw.claimed_by ?? '' };
  if (raw.unsent_recipients) {
    try {
      const names: unknown = JSON.parse(raw.unsent_recipients);
      if (Array.isArray(names)) state.unsent = names.filter((n): n is string => typeof n === 'string');
    } catch {
      // An unreadable list is treated as unknown: a take-over routes the request again.
    }
  }
  return state;
}

/** Thrown by a modify function to wait and retry from a fresh read (Go: CompareFailed from modify). */
export class RetryLater extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'RetryLater';
  }
}

/** Raised when a CAS update was still being rejected when the handler's signal aborted. */
export class StateConflictError extends Error {
  constructor(
    readonly requestId: string,
    readonly attempts: number,
    options?: ErrorOptions,
  ) {
    super(`plugin data of request ${requestId} kept changing underneath (${attempts} attempts)`, options);
    this.name = 'StateConflictError';
  }
}

export interface RequestStateStoreOptions {
  client: TeleportClient;
  /** Plugin-data entry name (`slack`, …). */
  pluginName: string;
  layout?: PluginDataLayout;
  /** Backoff between CAS attempts; default decorrelated 1 ms → 1 s. */
  createBackoff?: () => DecorrelatedBackoff;
}

/** Result of {@link RequestStateStore.update}. */
export interface UpdateResult extends RecordEntry {
  /** The state the modify function saw last. */
  previous: RequestRecord;
  /** False when modify returned undefined or nothing changed (no write was made). */
  written: boolean;
}

const isCompareFailed = (err: unknown) => err instanceof TeleportError && err.isCompareFailed;

export class RequestStateStore {
  readonly #client: TeleportClient;
  readonly #plugin: string;
  readonly #layout: PluginDataLayout;
  readonly #createBackoff: () => DecorrelatedBackoff;
  /** Every key this store may write; only these are ever deleted. */
  readonly #managedKeys: Set<string>;

  constructor(options: RequestStateStoreOptions) {
    this.#client = options.client;
    this.#plugin = options.pluginName;
    this.#layout = options.layout ?? DEFAULT_LAYOUT;
    this.#createBackoff = options.createBackoff ?? (() => new DecorrelatedBackoff({ baseMs: 1, capMs: 1000 }));
    const full = { ...emptyRequestData(), maxDuration: new Date(0), systemAnnotations: { a: ['a'] }, suggestedReviewers: ['a'], loginsByRole: { a: [] } };
    this.#managedKeys = new Set([...Object.keys(encodeRequestData(full, this.#layout.keys)), ...this.#layout.codec.keys, ...CLAIM_KEYS]);
  }

  get layout(): PluginDataLayout {
    return this.#layout;
  }

  /** The request's entry, or undefined when the plugin has none. */
  async read(requestId: string, signal?: AbortSignal): Promise<RecordEntry | undefined> {
    const raw = await this.#client.getPluginData(requestId, this.#plugin, signal);
    if (!raw || Object.keys(raw).length === 0) return undefined;
    return { raw, state: decodeRecord(raw, this.#layout) };
  }

  /** An entry from raw plugin data already at hand (e.g. listed); undefined when empty. */
  fromRaw(raw: Record<string, string> | null): RecordEntry | undefined {
    if (!raw || Object.keys(raw).length === 0) return undefined;
    return { raw, state: decodeRecord(raw, this.#layout) };
  }

  /** Every entry of this plugin, by request id; entries that cannot be decoded are left out. */
  async readAll(signal?: AbortSignal): Promise<Map<string, RecordEntry>> {
    const out = new Map<string, RecordEntry>();
    for (const [id, raw] of await this.#client.listPluginData(this.#plugin, signal)) {
      try {
        out.set(id, { raw, state: decodeRecord(raw, this.#layout) });
      } catch {
        // Unreadable: the handler reads and reports it itself.
      }
    }
    return out;
  }

  /**
   * Creates the entry only if there is none (the claim): every key this store manages is
   * expected to be empty, so an existing entry (ours, or a Go daemon's) makes the write fail,
   * and of two racing writers exactly one succeeds. Returns the new entry, or undefined when an
   * entry already existed or another writer won.
   */
  async create(requestId: string, state: RequestRecord, signal?: AbortSignal): Promise<RecordEntry | undefined> {
    const set = encodeRecord(state, this.#layout);
    const expect = this.#expect({});
    for (const key in set) expect[key] = '';
    try {
      await this.#client.updatePluginData(requestId, this.#plugin, set, expect, signal);
    } catch (err) {
      if (isCompareFailed(err)) return undefined;
      throw err;
    }
    return { raw: withoutEmpty(set), state };
  }

  /**
   * Read–modify–write until it sticks. `modify` returns the new state, or undefined for "no
   * change"; it may throw {@link RetryLater} to wait and retry. With `known` (an entry this
   * process just read or wrote) the first attempt skips the read. Resolves undefined when the
   * request has no entry.
   */
  async update(
    requestId: string,
    modify: (current: RequestRecord) => RequestRecord | undefined,
    signal?: AbortSignal,
    known?: RecordEntry,
  ): Promise<UpdateResult | undefined> {
    const backoff = this.#createBackoff();
    let attempts = 0;
    let entry = known;
    for (;;) {
      attempts++;
      entry ??= await this.read(requestId, signal);
      if (!entry) return undefined;
      try {
        const next = modify(cloneRecord(entry.state));
        const set = next ? this.#diff(entry.raw, encodeRecord(next, this.#layout)) : {};
        if (!next || Object.keys(set).length === 0) return { ...entry, previous: entry.state, written: false };
        await this.#client.updatePluginData(requestId, this.#plugin, set, this.#expect(entry.raw), signal);
        return { raw: applySet(entry.raw, set), state: next, previous: entry.state, written: true };
      } catch (err) {
        if (!(err instanceof RetryLater) && !isCompareFailed(err)) throw err;
        try {
          await backoff.wait(signal);
        } catch (abortReason) {
          throw new StateConflictError(requestId, attempts, { cause: err instanceof RetryLater ? err : abortReason });
        }
        entry = undefined;
      }
    }
  }

  /**
   * `Expect` for a write based on `raw`: every key it holds, and "" for every managed key it
   * lacks. Expecting only the keys present would miss a key another writer added meanwhile
   * (e.g. a concurrent `reviews_count` bump); Go expects its whole encoding for the same reason.
   */
  #expect(raw: Record<string, string>): Record<string, string> {
    const expect: Record<string, string> = {};
    for (const key of this.#managedKeys) expect[key] = '';
    for (const key in raw) expect[key] = raw[key]!;
    return expect;
  }

  /** The keys whose value changes; managed keys missing from `next` are deleted (""). */
  #diff(raw: Record<string, string>, next: Record<string, string>): Record<string, string> {
    const set: Record<string, string> = {};
    for (const key in next) {
      const value = next[key]!;
      if (value !== (raw[key] ?? '')) set[key] = value;
    }
    for (const key in raw) {
      if (!(key in next) && raw[key] !== '' && this.#managedKeys.has(key)) set[key] = '';
    }
    return set;
  }
}

function withoutEmpty(map: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key in map) if (map[key] !== '') out[key] = map[key]!;
  return out;
}

/** The stored map after a `Set`: "" deletes. */
function applySet(raw: Record<string, string>, set: Record<string, string>): Record<string, string> {
  return withoutEmpty({ ...raw, ...set });
}

/** A deep copy of a state for `modify` to change (structuredClone is several times slower). */
function cloneRecord(state: RequestRecord): RequestRecord {
  return {
    ...state,
    request: {
      ...state.request,
      roles: [...state.request.roles],
      resources: [...state.request.resources],
      ...(state.request.suggestedReviewers ? { suggestedReviewers: [...state.request.suggestedReviewers] } : {}),
    },
    messages: state.messages.map((m) => ({ ...m })),
    ...(state.claim ? { claim: { ...state.claim } } : {}),
    ...(state.unsent ? { unsent: [...state.unsent] } : {}),
  };
}
