import type { Logger } from 'pino';
import type { ChannelCommand } from './cli-types.js';
import type { AccessRequestKind } from './teleport/types.js';

/**
 * The contract between the core and a channel package. The core owns watching, routing,
 * plugin data, fan-out, retries of state writes and logging; a channel supplies a
 * `Messenger` (a handful of API calls) and the parser of its own TOML section.
 */

/** Where a message goes, as resolved by the channel. */
export interface Recipient {
  /** What the config or a suggested reviewer said, e.g. "alice@example.com" or "#ops". */
  name: string;
  /** The channel's own id for it, e.g. a Slack user or channel id. Recipients are deduplicated on it. */
  id: string;
  kind: 'user' | 'channel' | 'email';
  /** Channel-specific extras (e.g. a Teams conversation reference). */
  data?: unknown;
}

/** Enough to find and edit a message later; persisted in Teleport plugin data. */
export interface SentMessage {
  /** Slack/Discord/Mattermost channel id, an email address, or a Teams conversation id. */
  channelId: string;
  /** Slack `ts`, Discord/Mattermost post id, email Message-ID, Teams activity id. */
  messageId: string;
  /** Raw recipient string (Teams `rid`). */
  recipient?: string;
  /** Send time as stored (Teams `ts`, email thread timestamp). */
  sentAt?: string;
}

/** The status a message shows; `EXPIRED` is the plugins' word for a deleted request. */
export type RequestStatus = 'PENDING' | 'APPROVED' | 'DENIED' | 'PROMOTED' | 'EXPIRED';

export interface ReviewView {
  author: string;
  /** APPROVED or DENIED (PROMOTED reviews do not exist on the wire). */
  proposedState: string;
  reason: string;
  created?: Date;
}

/**
 * Everything a message shows about one access request, channel-neutral. Requester-controlled
 * strings (`user`, `roles`, `requestReason`, review reasons, resource names) are raw here:
 * every channel escapes them for its own format.
 */
export interface RequestView {
  id: string;
  clusterName: string;
  user: string;
  roles: string[];
  /** Requested resources by friendly name (`node/web-1`) or `/cluster/kind/name`. */
  resources: string[];
  requestReason: string;
  /** Role → logins, when the plugin could read the roles. */
  loginsByRole?: Record<string, string[]>;
  /** Role request, resource request, or long-term resource request. */
  kind: 'role' | 'resource' | 'long-term';
  requestKind: AccessRequestKind;
  suggestedReviewers: string[];
  /** Absolute: latest time the access may last until. */
  maxDuration?: Date;
  /** Absolute: when the request (and its grant) expires. */
  requestTtl?: Date;
  created?: Date;
  status: RequestStatus;
  resolveReason: string;
  reviews: ReviewView[];
  /** `https://<proxy>/web/requests/<id>`, only when the proxy address is known. */
  link?: string;
}

/** Why `update` is called: a new review (message still pending) or the final resolution. */
export type UpdateReason = 'review' | 'resolution';

/** What `checkHealth` learned, printed by `validate`. */
export interface HealthInfo {
  /** e.g. `bot "teleport" (U012) in team "Acme" (T034)`. */
  summary: string;
}

/** What a channel must provide. Watching, routing, state and fan-out live in the core. */
export interface Messenger {
  /** Startup probe: rejects when the API is unreachable or the credentials are refused. */
  checkHealth(signal: AbortSignal): Promise<HealthInfo | void>;
  /** Turns a configured name into a destination; rejects with RecipientNotFoundError. */
  resolveRecipient(name: string, signal: AbortSignal): Promise<Recipient>;
  /** Posts the request to one recipient. */
  send(to: Recipient, request: RequestView, signal: AbortSignal): Promise<SentMessage>;
  /** Redraws an earlier message (or, for email, sends the follow-up) with the request's current state. */
  update(message: SentMessage, request: RequestView, reason: UpdateReason, signal: AbortSignal): Promise<void>;
  /** Posts one new review as a threaded reply. Leave out where the channel has no threads. */
  replyWithReview?(message: SentMessage, review: ReviewView, request: RequestView, signal: AbortSignal): Promise<void>;
  /** Tells the requester the outcome; called once per request, on resolution. */
  notifyRequester?(request: RequestView, signal: AbortSignal): Promise<void>;
  /** `validate --send-test`: posts a short test message; returns its id. */
  sendTest?(to: Recipient, signal: AbortSignal): Promise<string>;
  /** Releases sockets and timers. */
  close?(): Promise<void>;
}

/** What the core hands a channel when it builds its messenger. */
export interface ChannelContext {
  /** Plugin name (`slack`), used for the plugin-data entry and AMR matching. */
  pluginName: string;
  clusterName: string;
  /** `https://<proxy public addr>` when Ping reported it (AdvancedAccessWorkflows), else undefined. */
  webProxyUrl?: URL;
  log: Logger;
  /** Counts the channel API's retries and rate-limit waits into `/metrics` (absent outside `start`). */
  apiMetrics?: ChannelApiMetrics;
}

/** What a channel's HTTP client reports so operators can see throttling in `/metrics`. */
export interface ChannelApiMetrics {
  /** A call is retried after a 5xx or network failure. */
  retried(): void;
  /** The service asked to slow down (429); the client waits `waitMs`. */
  rateLimited(waitMs: number): void;
}

/**
 * Reads one TOML section with key paths in every message. Problems are collected, not
 * thrown, so a config with several mistakes is reported once with all of them.
 */
export interface ConfigReader {
  /** The file being read, for messages. */
  readonly file: string;
  /** True when the key is present (any type). */
  has(path: string): boolean;
  /**
   * A string value. With `secret: true` a value starting with `/` is a file path whose
   * content (trimmed, max 2000 bytes) is the value; the value never reaches a log line.
   * With `required` an absent or empty value records `missing required value <path>`
   * (or `requiredMessage`).
   */
  string(path: string, options?: { required?: boolean; requiredMessage?: string; secret?: boolean; default?: string }): string | undefined;
  boolean(path: string, options?: { default?: boolean }): boolean | undefined;
  integer(path: string, options?: { default?: number; min?: number; max?: number }): number | undefined;
  /** A string or an array of strings, as a list. */
  stringList(path: string): string[] | undefined;
  /** Accepts a key without reading it (so it is not reported as unknown). */
  accept(path: string): void;
  error(path: string, message: string): void;
  warn(path: string, message: string): void;
}

/** role → raw recipient names, `"*"` for roles not listed. */
export type RecipientsMap = Record<string, string[]>;

/** How a channel stores its sent messages in plugin data (Go-compatible formats). */
export interface SentMessageCodec {
  /** Plugin-data keys this codec writes, e.g. `["messages"]`. */
  readonly keys: readonly string[];
  encode(messages: SentMessage[]): Record<string, string>;
  decode(data: Record<string, string>): SentMessage[];
}

export interface ChannelDefinition<Section = unknown> {
  /** Plugin name: binary `teleport-<name>`, TOML section, plugin-data entry, AMR notification name. */
  name: string;
  /** Human name for help and logs: "Slack", "Microsoft Teams". */
  displayName: string;
  /** Package version printed by `version`. */
  version: string;
  /** The example printed by `configure`. */
  exampleConfig: string;
  /** Top-level TOML sections (and keys) this channel owns, e.g. ["slack"]. Others are reported as unknown. */
  sections: readonly string[];
  /** Parses the channel's own section(s); report problems through the reader. */
  parseConfig(reader: ConfigReader): Section;
  /**
   * Recipients rules after parsing. Default: `"*"` required, with Go's texts
   * `missing required value role_to_recipients.` / `missing required value role_to_recipients[*].`
   */
  recipients?: {
    requireWildcard?: boolean;
    /** Rewrites the map (Mattermost `recipients`, email `delivery.recipients`) and checks values. */
    adjust?(map: RecipientsMap, section: Section, reader: ConfigReader): RecipientsMap;
  };
  /** Plugin-data layout; defaults to the shared access-request keys and `messages` as `channel/message`. */
  pluginData?: {
    codec?: SentMessageCodec;
    /** `full` (shared access-request keys) or `minimal` (email's six keys). */
    keys?: 'full' | 'minimal';
  };
  /** Also post the request to the requester (Slack does). */
  alsoSendToRequester?: boolean;
  /** Handler timeout; Go uses 5 s for chat and 15 s for email and Teams. */
  handlerTimeoutMs?: number;
  /** Minimum Teleport version (`6.1.0-beta.1`; msteams `8.0.0`). */
  minServerVersion?: string;
  createMessenger(section: Section, context: ChannelContext): Messenger;
  /** Extra or replaced CLI commands (msteams `configure DIR`, `uninstall`; email `validate --send-test ADDRESS`). */
  commands?: ChannelCommand<Section>[];
}

/** Identity helper that keeps the section type. */
export function defineChannel<Section>(definition: ChannelDefinition<Section>): ChannelDefinition<Section> {
  return definition;
}
