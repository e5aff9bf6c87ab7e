/**
 * The sandbox's in-memory cluster state, with Teleport's semantics where the plugins can see
 * them: access-request lifecycle with review thresholds, plugin data with Expect/Set, watch
 * fan-out, Access Monitoring Rules, roles, users and nodes.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';

export type State = 'PENDING' | 'APPROVED' | 'DENIED' | 'PROMOTED';

export interface Review {
  author: string;
  state: 'APPROVED' | 'DENIED';
  reason: string;
  created: Date;
}

export interface RequestRecord {
  id: string;
  user: string;
  roles: string[];
  state: State;
  created: Date;
  expires: Date;
  reason: string;
  resolveReason: string;
  reviews: Review[];
  suggestedReviewers: string[];
  resources: { cluster: string; kind: string; name: string }[];
  maxDuration: Date;
  thresholds: { approve: number; deny: number };
}

export interface RoleRecord {
  name: string;
  logins: string[];
}

export interface UserRecord {
  name: string;
  roles: string[];
  traits: Record<string, string[]>;
}

export interface RuleRecord {
  name: string;
  subjects: string[];
  condition: string;
  notification: { name: string; recipients: string[] };
}

/** Teleport's CompareFailed (gRPC FAILED_PRECONDITION). */
export class CompareFailed extends Error {}
export class NotFound extends Error {}
export class BadParameter extends Error {}

export type StoreEvent =
  | { op: 'PUT'; kind: 'access_request'; request: RequestRecord }
  | { op: 'DELETE'; kind: string; name: string }
  | { op: 'PUT'; kind: 'access_monitoring_rule'; rule: RuleRecord };

export class ClusterStore extends EventEmitter<{ event: [StoreEvent] }> {
  readonly requests = new Map<string, RequestRecord>();
  /** request id → plugin name → data. */
  readonly pluginData = new Map<string, Map<string, Record<string, string>>>();
  readonly roles = new Map<string, RoleRecord>();
  readonly users = new Map<string, UserRecord>();
  readonly rules = new Map<string, RuleRecord>();
  readonly nodes = new Map<string, { name: string; hostname: string }>();

  constructor(readonly clusterName: string, readonly defaultThresholds = { approve: 1, deny: 1 }) {
    super();
    this.setMaxListeners(0);
  }

  createRequest(input: { user: string; roles: string[]; reason?: string; suggestedReviewers?: string[]; resources?: string[]; ttlMs?: number; id?: string }): RequestRecord {
    const now = new Date();
    const ttl = input.ttlMs ?? 3600_000;
    const req: RequestRecord = {
      id: input.id ?? randomUUID(),
      user: input.user,
      roles: [...input.roles],
      state: 'PENDING',
      created: now,
      expires: new Date(now.getTime() + ttl),
      reason: input.reason ?? '',
      resolveReason: '',
      reviews: [],
      suggestedReviewers: [...(input.suggestedReviewers ?? [])],
      resources: (input.resources ?? []).map((r) => {
        const [kind, name] = r.split('/');
        return { cluster: this.clusterName, kind: kind ?? 'node', name: name ?? r };
      }),
      maxDuration: new Date(now.getTime() + ttl),
      thresholds: { ...this.defaultThresholds },
    };
    this.requests.set(req.id, req);
    this.emit('event', { op: 'PUT', kind: 'access_request', request: req });
    return req;
  }

  get(id: string): RequestRecord {
    const req = this.requests.get(id);
    if (!req) throw new NotFound(`access request "${id}" is not found`);
    return req;
  }

  /** Adds a review; the request is resolved once a threshold is reached (the deciding review's reason). */
  review(id: string, review: Omit<Review, 'created'>): RequestRecord {
    const req = this.get(id);
    if (req.state !== 'PENDING') throw new BadParameter(`the access request has been already ${req.state}`);
    if (req.reviews.some((r) => r.author === review.author)) throw new BadParameter(`user "${review.author}" has already reviewed this request`);
    req.reviews.push({ ...review, created: new Date() });
    const count = req.reviews.filter((r) => r.state === review.state).length;
    const needed = review.state === 'APPROVED' ? req.thresholds.approve : req.thresholds.deny;
    if (count >= needed) {
      req.state = review.state;
      req.resolveReason = review.reason;
    }
    this.emit('event', { op: 'PUT', kind: 'access_request', request: req });
    return req;
  }

  setState(id: string, state: State, reason = ''): RequestRecord {
    const req = this.get(id);
    if (req.state !== 'PENDING') throw new BadParameter(`the access request has been already ${req.state}`);
    req.state = state;
    req.resolveReason = reason;
    this.emit('event', { op: 'PUT', kind: 'access_request', request: req });
    return req;
  }

  deleteRequest(id: string): void {
    this.get(id);
    this.requests.delete(id);
    // Teleport keeps plugin data an hour past the request, so plugins can render the expiry.
    this.emit('event', { op: 'DELETE', kind: 'access_request', name: id });
  }

  getPluginData(id: string, plugin: string): Record<string, string> | undefined {
    return this.pluginData.get(id)?.get(plugin);
  }

  /** Teleport's UpdatePluginData: Expect first (missing == ""), then Set ("" deletes). */
  updatePluginData(kind: string, id: string, plugin: string, set: Record<string, string>, expect: Record<string, string>): void {
    if (kind !== 'access_request') throw new BadParameter(`unsupported resource kind "${kind}"`);
    // Creating plugin data needs the request; updating existing data does not (Teleport's rule).
    if (!this.requests.has(id) && !this.pluginData.has(id)) throw new NotFound(`access_request "${id}" is not found`);
    const entries = this.pluginData.get(id) ?? new Map<string, Record<string, string>>();
    const current = entries.get(plugin);
    for (const key in expect) {
      if ((current?.[key] ?? '') !== expect[key]) throw new CompareFailed(`expectations not met for field "${key}"`);
    }
    const next: Record<string, string> = {};
    let size = 0;
    for (const key in current) {
      if (!(key in set)) {
        next[key] = current[key]!;
        size++;
      }
    }
    for (const key in set) {
      if (set[key] !== '') {
        next[key] = set[key]!;
        size++;
      }
    }
    if (size) entries.set(plugin, next);
    else entries.delete(plugin);
    this.pluginData.set(id, entries);
  }

  upsertRule(rule: RuleRecord): void {
    this.rules.set(rule.name, rule);
    this.emit('event', { op: 'PUT', kind: 'access_monitoring_rule', rule });
  }

  deleteRule(name: string): void {
    if (!this.rules.delete(name)) throw new NotFound(`access_monitoring_rule "${name}" is not found`);
    this.emit('event', { op: 'DELETE', kind: 'access_monitoring_rule', name });
  }
}
