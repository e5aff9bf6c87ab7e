/** Store records → the wire shapes of proto/ (PascalCase, Timestamps as {seconds, nanos}). */
import type { RequestRecord, RuleRecord } from './store.js';

export const ts = (d: Date) => ({ seconds: String(Math.floor(d.getTime() / 1000)), nanos: (d.getTime() % 1000) * 1e6 });
/** Go's zero time, what Teleport sends for an unset non-nullable timestamp. */
export const ZERO_TIME = { seconds: '-62135596800', nanos: 0 };

export function requestToWire(req: RequestRecord) {
  return {
    Kind: 'access_request',
    SubKind: '',
    Version: 'v3',
    Metadata: { Name: req.id, Namespace: 'default', Expires: ts(req.expires) },
    Spec: {
      User: req.user,
      Roles: req.roles,
      State: req.state,
      Created: ts(req.created),
      Expires: ts(req.expires),
      RequestReason: req.reason,
      ResolveReason: req.resolveReason,
      ResolveAnnotations: { Values: {} },
      SystemAnnotations: { Values: {} },
      Thresholds: [{ Name: 'default', Filter: '', Approve: req.thresholds.approve, Deny: req.thresholds.deny }],
      Reviews: req.reviews.map((r) => ({
        Author: r.author,
        Roles: [],
        ProposedState: r.state,
        Reason: r.reason,
        Created: ts(r.created),
        Annotations: { Values: {} },
        ThresholdIndexes: [0],
      })),
      SuggestedReviewers: req.suggestedReviewers,
      RequestedResourceIDs: req.resources.map((r) => ({ ClusterName: r.cluster, Kind: r.kind, Name: r.name, SubResourceName: '' })),
      MaxDuration: ts(req.maxDuration),
      SessionTTL: ts(req.expires),
      RequestKind: req.resources.length ? 'SHORT_TERM' : 'UNDEFINED',
    },
  };
}

export function ruleToWire(rule: RuleRecord) {
  return {
    metadata: { name: rule.name, namespace: '', description: '', labels: {}, revision: '' },
    kind: 'access_monitoring_rule',
    sub_kind: '',
    version: 'v1',
    spec: { subjects: rule.subjects, states: [], condition: rule.condition, notification: rule.notification, desired_state: '' },
  };
}
