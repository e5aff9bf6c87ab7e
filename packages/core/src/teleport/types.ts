/**
 * Channel-neutral shapes of the Teleport resources the plugins read, decoded from the wire
 * messages in `proto/` (see `convert.ts`). Names follow Teleport's vocabulary, camelCased.
 */

/** `types.RequestState`; unknown future values are kept as their number. */
export type RequestState = 'NONE' | 'PENDING' | 'APPROVED' | 'DENIED' | 'PROMOTED' | `UNKNOWN_${number}`;

/** `types.AccessRequestKind` (newer servers); `UNDEFINED` on servers that do not send it. */
export type AccessRequestKind = 'UNDEFINED' | 'SHORT_TERM' | 'LONG_TERM';

export interface ResourceId {
  clusterName: string;
  kind: string;
  name: string;
  subResourceName: string;
}

export interface AccessReview {
  author: string;
  roles: string[];
  proposedState: RequestState;
  reason: string;
  /** Undefined when the server sent Go's zero time. */
  created?: Date;
}

export interface AccessReviewThreshold {
  name: string;
  filter: string;
  approve: number;
  deny: number;
}

export interface AccessRequest {
  /** Metadata.Name, a UUID. */
  id: string;
  user: string;
  roles: string[];
  state: RequestState;
  created?: Date;
  /** Spec.Expires: when the granted access would expire (the request TTL). */
  expires?: Date;
  requestReason: string;
  resolveReason: string;
  systemAnnotations: Record<string, string[]>;
  thresholds: AccessReviewThreshold[];
  reviews: AccessReview[];
  suggestedReviewers: string[];
  requestedResourceIds: ResourceId[];
  loginHint: string;
  /** Absolute time despite its name (Spec.MaxDuration). */
  maxDuration?: Date;
  sessionTtl?: Date;
  assumeStartTime?: Date;
  resourceExpiry?: Date;
  requestKind: AccessRequestKind;
  /** Metadata.Expires: when the request object itself expires. */
  metadataExpires?: Date;
}

export interface PingInfo {
  clusterName: string;
  serverVersion: string;
  proxyPublicAddr: string;
  advancedAccessWorkflows: boolean;
}

export type WatchOperation = 'INIT' | 'PUT' | 'DELETE';

export interface AccessMonitoringRule {
  name: string;
  subjects: string[];
  states: string[];
  condition: string;
  notification?: { name: string; recipients: string[] };
  desiredState: string;
}

/** One event of a WatchEvents stream, narrowed to what the plugins use. */
export type WatchEvent =
  | { type: 'INIT'; confirmedKinds?: string[] }
  /**
   * `replayed`: made up by the plugin (catch-up listing, a re-check), not read from the stream;
   * `stored`: the plugin's entry as listed with it (null: none), when known.
   */
  | { type: 'PUT'; kind: 'access_request'; request: AccessRequest; replayed?: boolean; stored?: Record<string, string> | null }
  | { type: 'PUT'; kind: 'access_monitoring_rule'; rule: AccessMonitoringRule }
  | { type: 'DELETE'; kind: string; name: string }
  | { type: 'PUT'; kind: 'unknown'; name: string };

export interface RoleInfo {
  name: string;
  allowLogins: string[];
}

export interface UserInfo {
  name: string;
  roles: string[];
  traits: Record<string, string[]>;
}

/** A requested resource's friendly name, e.g. a node's hostname. */
export interface ResourceDetails {
  id: ResourceId;
  friendlyName?: string;
}
