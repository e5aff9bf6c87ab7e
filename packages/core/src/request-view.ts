/**
 * Builds the channel-neutral `RequestView` a messenger renders, from an access request (or,
 * for a deleted request, from what plugin data kept), plus the lookups a new request needs:
 * friendly resource names and logins by role.
 */
import type { Logger } from 'pino';
import type { RequestStatus, RequestView, ReviewView } from './channel.js';
import { TeleportError } from './errors.js';
import type { AccessRequestData } from './plugin-data.js';
import type { TeleportClient } from './teleport/client.js';
import type { AccessRequest, AccessReview, PingInfo, ResourceId } from './teleport/types.js';

/** `/cluster/kind/name[/sub]`, Teleport's `ResourceIDToString`. */
export function resourceIdToString(id: ResourceId): string {
  const base = `/${id.clusterName}/${id.kind}/${id.name}`;
  return id.subResourceName ? `${base}/${id.subResourceName}` : base;
}

/**
 * Names of the requested resources: `<kind>/<friendly name>` where Teleport knows one (a
 * node's hostname), else `/cluster/kind/name`. Lookup errors propagate (Go aborts the handler).
 */
export async function resolveResourceNames(client: TeleportClient, request: AccessRequest, signal?: AbortSignal): Promise<string[]> {
  const ids = request.requestedResourceIds;
  if (ids.length === 0) return [];
  const details = await client.getResourceDetails(ids, signal);
  const friendly = new Map(details.filter((d) => d.friendlyName).map((d) => [resourceIdToString(d.id), d.friendlyName!]));
  return ids.map((id) => {
    const name = friendly.get(resourceIdToString(id));
    return name ? `${id.kind}/${name}` : resourceIdToString(id);
  });
}

/**
 * Allowed logins of each requested role, with the requester's traits applied to templates
 * (`{{internal.logins}}`, `{{external.unix_login}}`). Without `role.read` the whole map is
 * skipped with a warning (undefined); without `user.read` templates stay unexpanded.
 */
export async function resolveLoginsByRole(
  client: Pick<TeleportClient, 'getRole' | 'getUser'>,
  request: AccessRequest,
  log: Logger,
  signal?: AbortSignal,
): Promise<Record<string, string[]> | undefined> {
  if (request.roles.length === 0) return undefined;
  const user = client.getUser(request.user, signal).then(
    (u) => u.traits,
    (err) => {
      log.warn({ err }, 'Missing permissions to apply user traits to login roles, please add user.read to the associated role');
      return undefined;
    },
  );
  // A role deleted since the request was made is shown without logins.
  const roles = request.roles.map((role) => client.getRole(role, signal).catch((err) => (err instanceof TeleportError && err.isNotFound ? undefined : Promise.reject(err))));
  const out: Record<string, string[]> = {};
  try {
    const [traits, infos] = await Promise.all([user, Promise.all(roles)]);
    request.roles.forEach((role, i) => {
      const info = infos[i];
      if (info) out[role] = traits ? applyTraitsToLogins(info.allowLogins, traits) : info.allowLogins;
    });
  } catch (err) {
    if (err instanceof TeleportError && err.isAccessDenied) {
      log.warn({ err }, 'Missing permissions to get logins by role, please add role.read to the associated role');
      return undefined;
    }
    throw err;
  }
  return out;
}

const TEMPLATE = /^([^{}]*)\{\{\s*(.+?)\s*\}\}([^{}]*)$/;
const VARIABLE = /^(internal|external)(?:\.([A-Za-z0-9_\-:/.]+)|\[\s*"([^"]*)"\s*\])$/;

/**
 * Expands role login templates with user traits, as Teleport's `ApplyTraits` does for the
 * common forms: `prefix{{internal.x}}suffix`, `{{external["x"]}}` and `{{email.local(…)}}`.
 * A template whose trait is missing, or that uses another function, yields no login.
 */
export function applyTraitsToLogins(logins: readonly string[], traits: Record<string, string[]>): string[] {
  const out: string[] = [];
  for (const login of logins) {
    if (!login.includes('{{')) {
      out.push(login);
      continue;
    }
    const m = TEMPLATE.exec(login);
    if (!m) continue;
    let expr = m[2]!;
    let emailLocal = false;
    const fn = /^email\.local\(\s*(.+?)\s*\)$/.exec(expr);
    if (fn) {
      emailLocal = true;
      expr = fn[1]!;
    }
    const v = VARIABLE.exec(expr);
    if (!v) continue;
    for (let value of traits[v[2] ?? v[3]!] ?? []) {
      if (emailLocal) value = value.includes('@') ? value.slice(0, value.lastIndexOf('@')) : '';
      if (value) out.push(`${m[1]}${value}${m[3]}`);
    }
  }
  return [...new Set(out)];
}

/**
 * `https://<proxy>/web/requests/<id>` (Teleport's `AddrToURL`): `https://` is added when the
 * address has no scheme, `:443` is dropped. Undefined without a proxy address.
 */
export function webRequestLink(proxyPublicAddr: string, requestId: string): string | undefined {
  const addr = proxyPublicAddr.trim();
  if (!addr) return undefined;
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(addr) ? addr : `https://${addr}`);
  } catch {
    return undefined;
  }
  url.pathname = `/web/requests/${encodeURIComponent(requestId)}`;
  url.search = '';
  url.hash = '';
  return url.toString();
}

/** The request's status word from its state. */
export function statusOf(request: AccessRequest): RequestStatus {
  switch (request.state) {
    case 'APPROVED':
    case 'DENIED':
    case 'PROMOTED':
      return request.state;
    default:
      return 'PENDING';
  }
}

export function toReviewView(review: AccessReview): ReviewView {
  return { author: review.author, proposedState: review.proposedState, reason: review.reason, created: review.created };
}

/** Cluster facts every view carries. */
export interface ViewContext {
  ping: PingInfo;
}

function linkFor(ctx: ViewContext, id: string): string | undefined {
  return ctx.ping.advancedAccessWorkflows ? webRequestLink(ctx.ping.proxyPublicAddr, id) : undefined;
}

/**
 * The view of a live request. `stored` (plugin data) supplies the resource names and logins
 * looked up when the request was first announced, so updates need no lookups.
 */
export function buildRequestView(
  ctx: ViewContext,
  request: AccessRequest,
  stored: Pick<AccessRequestData, 'resources' | 'loginsByRole'>,
  status: RequestStatus = statusOf(request),
): RequestView {
  const resources = stored.resources.length ? stored.resources : request.requestedResourceIds.map(resourceIdToString);
  return {
    id: request.id,
    clusterName: ctx.ping.clusterName,
    user: request.user,
    roles: request.roles,
    resources,
    requestReason: request.requestReason,
    loginsByRole: stored.loginsByRole,
    kind: request.requestKind === 'LONG_TERM' ? 'long-term' : request.requestedResourceIds.length ? 'resource' : 'role',
    requestKind: request.requestKind,
    suggestedReviewers: request.suggestedReviewers,
    maxDuration: request.maxDuration,
    requestTtl: request.expires,
    created: request.created,
    status,
    resolveReason: status === 'PENDING' ? '' : request.resolveReason,
    reviews: request.reviews.map(toReviewView),
    link: linkFor(ctx, request.id),
  };
}

/** The view of a request that no longer exists (deleted or expired), from plugin data alone. */
export function buildStoredView(ctx: ViewContext, id: string, data: AccessRequestData, status: RequestStatus): RequestView {
  return {
    id,
    clusterName: ctx.ping.clusterName,
    user: data.user,
    roles: data.roles,
    resources: data.resources,
    requestReason: data.requestReason,
    loginsByRole: data.loginsByRole,
    kind: data.resources.length ? 'resource' : 'role',
    requestKind: 'UNDEFINED',
    suggestedReviewers: data.suggestedReviewers ?? [],
    maxDuration: data.maxDuration,
    status,
    resolveReason: data.resolveReason,
    reviews: [],
    link: linkFor(ctx, id),
  };
}
