/** Wire objects (proto-loader, PascalCase) → the domain types of `types.ts`. */
import type { AccessMonitoringRule, AccessRequest, AccessReview, PingInfo, RequestState, WatchEvent } from './types.js';

type Wire = Record<string, any>;

/** Go's zero time (`0001-01-01T00:00:00Z`) means "unset". */
const GO_ZERO_SECONDS = -62135596800;

export function toDate(ts: Wire | null | undefined): Date | undefined {
  if (!ts) return undefined;
  const seconds = Number(ts.seconds ?? 0);
  if (seconds === GO_ZERO_SECONDS || (seconds === 0 && !ts.nanos)) return undefined;
  return new Date(seconds * 1000 + Math.floor(Number(ts.nanos ?? 0) / 1e6));
}

const state = (v: unknown): RequestState => (typeof v === 'number' ? `UNKNOWN_${v}` : ((v as RequestState) ?? 'NONE'));

export function labelValues(lv: Wire | null | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(lv?.Values ?? {})) out[k] = [...((v as Wire)?.Values ?? [])];
  return out;
}

export function toReview(r: Wire): AccessReview {
  return { author: r.Author ?? '', roles: r.Roles ?? [], proposedState: state(r.ProposedState), reason: r.Reason ?? '', created: toDate(r.Created) };
}

export function toAccessRequest(w: Wire): AccessRequest {
  const s = w.Spec ?? {};
  return {
    id: w.Metadata?.Name ?? '',
    user: s.User ?? '',
    roles: s.Roles ?? [],
    state: state(s.State),
    created: toDate(s.Created),
    expires: toDate(s.Expires),
    requestReason: s.RequestReason ?? '',
    resolveReason: s.ResolveReason ?? '',
    systemAnnotations: labelValues(s.SystemAnnotations),
    thresholds: (s.Thresholds ?? []).map((t: Wire) => ({ name: t.Name ?? '', filter: t.Filter ?? '', approve: Number(t.Approve ?? 0), deny: Number(t.Deny ?? 0) })),
    reviews: (s.Reviews ?? []).map(toReview),
    suggestedReviewers: s.SuggestedReviewers ?? [],
    requestedResourceIds: (s.RequestedResourceIDs ?? []).map((r: Wire) => ({
      clusterName: r.ClusterName ?? '',
      kind: r.Kind ?? '',
      name: r.Name ?? '',
      subResourceName: r.SubResourceName ?? '',
    })),
    loginHint: s.LoginHint ?? '',
    maxDuration: toDate(s.MaxDuration),
    sessionTtl: toDate(s.SessionTTL),
    assumeStartTime: toDate(s.AssumeStartTime),
    resourceExpiry: toDate(s.ResourceExpiry),
    requestKind: typeof s.RequestKind === 'string' ? s.RequestKind : 'UNDEFINED',
    metadataExpires: toDate(w.Metadata?.Expires),
  };
}

export function toRule(w: Wire): AccessMonitoringRule {
  const spec = w.spec ?? {};
  return {
    name: w.metadata?.name ?? '',
    subjects: spec.subjects ?? [],
    states: spec.states ?? [],
    condition: spec.condition ?? '',
    notification: spec.notification ? { name: spec.notification.name ?? '', recipients: spec.notification.recipients ?? [] } : undefined,
    desiredState: spec.desired_state ?? '',
  };
}

export function toWatchEvent(w: Wire): WatchEvent {
  const type = w.Type as string;
  if (type === 'INIT') return { type: 'INIT', confirmedKinds: w.WatchStatus ? (w.WatchStatus.Spec?.Kinds ?? []).map((k: Wire) => k.Kind) : undefined };
  if (type === 'DELETE') {
    const h = w.ResourceHeader ?? {};
    return { type: 'DELETE', kind: h.Kind ?? '', name: h.Metadata?.Name ?? '' };
  }
  if (w.AccessRequest) return { type: 'PUT', kind: 'access_request', request: toAccessRequest(w.AccessRequest) };
  if (w.AccessMonitoringRule) return { type: 'PUT', kind: 'access_monitoring_rule', rule: toRule(w.AccessMonitoringRule) };
  return { type: 'PUT', kind: 'unknown', name: '' };
}

export function toPing(w: Wire): PingInfo {
  return {
    clusterName: w.ClusterName ?? '',
    serverVersion: w.ServerVersion ?? '',
    proxyPublicAddr: w.ProxyPublicAddr ?? '',
    advancedAccessWorkflows: Boolean(w.ServerFeatures?.AdvancedAccessWorkflows),
  };
}
