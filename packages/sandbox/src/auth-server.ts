/**
 * The sandbox Auth server: Teleport's gRPC services (the subset in proto/) over mutual TLS.
 * The caller is the CN of its client certificate, which must chain to the user CA; a small
 * RBAC maps users to what the plugins need (see `Permissions`).
 */
import * as grpc from '@grpc/grpc-js';
import { decodePluginDataUpdate, teleportServices } from '@tap/core';
import { userFromCertificate } from './pki.js';
import { BadParameter, type ClusterStore, CompareFailed, NotFound, type RequestRecord, type StoreEvent } from './store.js';
import { requestToWire, ruleToWire } from './wire.js';

/** What a sandbox user may do. `admin` may do everything. */
export interface Permissions {
  readRequests: boolean;
  writePluginData: boolean;
  readRules: boolean;
  readRoles: boolean;
  readUsers: boolean;
  listNodes: boolean;
  admin: boolean;
}

export const PLUGIN_PERMISSIONS: Permissions = { readRequests: true, writePluginData: true, readRules: true, readRoles: true, readUsers: true, listNodes: true, admin: false };
export const ADMIN_PERMISSIONS: Permissions = { readRequests: true, writePluginData: true, readRules: true, readRoles: true, readUsers: true, listNodes: true, admin: true };

export interface AuthServerOptions {
  store: ClusterStore;
  serverVersion: string;
  advancedWorkflows: boolean;
  proxyPublicAddr: string;
  permissionsOf(user: string): Permissions;
}

/** Knobs tests use to make the server misbehave like a real one sometimes does. */
export class Faults {
  delayMs = 0;
  holdInit = false;
  readonly rejections = new Map<string, { code: grpc.status; remaining: number }>();
  /** Fails the next `n` calls of `method` (e.g. 'UpdatePluginData') with `code`. */
  rejectNext(method: string, code: grpc.status, n = 1): void {
    this.rejections.set(method, { code, remaining: n });
  }
}

type Handler = (call: any, callback?: any) => void;
const err = (code: grpc.status, details: string) => Object.assign(new Error(details), { code, details });

/** ListAccessRequests' sort orders and the index key of each (Teleport's `AccessRequestSort`). */
const SORT_KEYS: Record<string, (r: RequestRecord) => string> = {
  DEFAULT: (r) => r.id,
  CREATED: (r) => `${r.created.toISOString()}/${r.id}`,
  STATE: (r) => `${r.state}/${r.id}`,
  USER: (r) => `${r.user}/${r.id}`,
};

export class AuthServer {
  readonly faults = new Faults();
  readonly streams = new Set<grpc.ServerWritableStream<any, any>>();
  /** Certificate CNs that connected, in order (lets tests see which identity was used). */
  readonly callers: string[] = [];

  constructor(private readonly o: AuthServerOptions) {
    o.store.on('event', (e) => {
      if (e.kind === 'access_request') this.#indexes.clear();
    });
  }

  /** Registers the services on a grpc server. */
  register(server: grpc.Server): void {
    const { AuthService, AccessMonitoringRulesService, UsersService } = teleportServices();
    const wrap = (name: string, fn: (user: string, perms: Permissions, req: any, call: any) => unknown): Handler =>
      (call: any, callback: any) => {
        const run = async () => {
          const user = this.#caller(call);
          const perms = this.o.permissionsOf(user);
          if (this.faults.delayMs) await new Promise((r) => setTimeout(r, this.faults.delayMs));
          const rej = this.faults.rejections.get(name);
          if (rej && rej.remaining > 0) {
            rej.remaining--;
            throw err(rej.code, `injected failure of ${name}`);
          }
          return fn(user, perms, call.request, call);
        };
        run().then(
          (res) => callback?.(null, res),
          (e) => callback?.(this.#toStatus(e)),
        );
      };
    // UpdatePluginData, two per announcement, is read with core's decoder (see plugin-data-wire.ts).
    const authService = (AuthService as any).service;
    const authDefinition = { ...authService, UpdatePluginData: { ...authService.UpdatePluginData, requestDeserialize: decodePluginDataUpdate } };
    server.addService(authDefinition, {
      Ping: wrap('Ping', () => ({
        ClusterName: this.o.store.clusterName,
        ServerVersion: this.o.serverVersion,
        ServerFeatures: { AdvancedAccessWorkflows: this.o.advancedWorkflows },
        ProxyPublicAddr: this.o.proxyPublicAddr,
      })),
      WatchEvents: (call: grpc.ServerWritableStream<any, any>) => this.#watch(call),
      GetPluginData: wrap('GetPluginData', (_u, p, req) => {
        this.#need(p.readRequests, 'read', 'access_plugin_data');
        const item = (name: string, data: Record<string, string>) => ({ Kind: 'plugin_data', SubKind: 'access_request', Version: 'v3', Metadata: { Name: name }, Spec: { Entries: { [req.Plugin]: { Data: data } } } });
        if (!req.Resource) {
          // Teleport ranges over every entry of the kind when no resource is named.
          const all: unknown[] = [];
          for (const id of this.o.store.pluginData.keys()) {
            const data = this.o.store.getPluginData(id, req.Plugin);
            if (data) all.push(item(id, data));
          }
          return { PluginData: all };
        }
        const data = this.o.store.getPluginData(req.Resource, req.Plugin);
        return { PluginData: data ? [item(req.Resource, data)] : [] };
      }),
      UpdatePluginData: wrap('UpdatePluginData', (_u, p, req) => {
        this.#need(p.writePluginData, 'update', 'access_plugin_data');
        this.o.store.updatePluginData(req.Kind, req.Resource, req.Plugin, req.Set ?? {}, req.Expect ?? {});
        return {};
      }),
      ListAccessRequests: wrap('ListAccessRequests', (_u, p, req) => {
        this.#need(p.readRequests, 'list', 'access_request');
        // As Teleport's access request cache: one index per sort order, StartKey is the key of
        // the first request of the page, NextKey that of the first request of the next page.
        const keyOf = SORT_KEYS[req.Sort as string];
        if (!keyOf) throw err(grpc.status.INVALID_ARGUMENT, `unsupported access request sort index '${req.Sort}'`);
        if (req.Limit > 16_000) throw err(grpc.status.INVALID_ARGUMENT, `page size of ${req.Limit} is too large`);
        let all = this.#requestIndex(req.Sort, keyOf);
        if (req.Filter?.ID) all = all.filter(({ r }) => r.id === req.Filter.ID);
        if (req.Descending) all = all.toReversed();
        const from = req.StartKey ? all.findIndex(({ key }) => (req.Descending ? key <= req.StartKey : key >= req.StartKey)) : 0;
        const limit = req.Limit > 0 ? req.Limit : 1000;
        const page = from < 0 ? [] : all.slice(from, from + limit);
        const next = from >= 0 ? (all[from + limit]?.key ?? '') : '';
        return { AccessRequests: page.map(({ r }) => requestToWire(r)), NextKey: next };
      }),
      GetAccessRequestsV2: (call: grpc.ServerWritableStream<any, any>) => {
        try {
          this.#need(this.o.permissionsOf(this.#caller(call)).readRequests, 'list', 'access_request');
          for (const r of this.o.store.requests.values()) if (!call.request.ID || r.id === call.request.ID) call.write(requestToWire(r));
          call.end();
        } catch (e) {
          call.emit('error', this.#toStatus(e));
        }
      },
      CreateAccessRequestV2: wrap('CreateAccessRequestV2', (_u, p, req) => {
        this.#need(p.admin, 'create', 'access_request');
        const s = req.Spec ?? {};
        const created = this.o.store.createRequest({
          id: req.Metadata?.Name || undefined,
          user: s.User,
          roles: s.Roles ?? [],
          reason: s.RequestReason,
          suggestedReviewers: s.SuggestedReviewers,
          resources: (s.RequestedResourceIDs ?? []).map((r: any) => `${r.Kind}/${r.Name}`),
        });
        return requestToWire(created);
      }),
      DeleteAccessRequest: wrap('DeleteAccessRequest', (_u, p, req) => {
        this.#need(p.admin, 'delete', 'access_request');
        this.o.store.deleteRequest(req.ID);
        return {};
      }),
      SetAccessRequestState: wrap('SetAccessRequestState', (_u, p, req) => {
        this.#need(p.admin, 'update', 'access_request');
        this.o.store.setState(req.ID, req.State, req.Reason);
        return {};
      }),
      SubmitAccessReview: wrap('SubmitAccessReview', (user, p, req) => {
        this.#need(p.admin, 'review', 'access_request');
        const review = req.Review ?? {};
        if (review.ProposedState === 'PROMOTED') throw new BadParameter('promotion is not supported by this API');
        return requestToWire(this.o.store.review(req.RequestID, { author: review.Author || user, state: review.ProposedState, reason: review.Reason ?? '' }));
      }),
      GetRole: wrap('GetRole', (_u, p, req) => {
        this.#need(p.readRoles, 'read', 'role');
        const role = this.o.store.roles.get(req.Name);
        if (!role) throw new NotFound(`role ${req.Name} is not found`);
        return { Kind: 'role', Version: 'v7', Metadata: { Name: role.name }, Spec: { Allow: { Logins: role.logins }, Deny: {} } };
      }),
      ListResources: wrap('ListResources', (_u, p, req) => {
        this.#need(p.listNodes, 'list', 'node');
        if (req.ResourceType !== 'node') return { Resources: [], NextKey: '' };
        const names = [...String(req.PredicateExpression ?? '').matchAll(/resource\.metadata\.name == "([^"]*)"/g)].map((m) => m[1]);
        const nodes = [...this.o.store.nodes.values()].filter((n) => !names.length || names.includes(n.name));
        return {
          Resources: nodes.map((n) => ({ Node: { Kind: 'node', Version: 'v2', Metadata: { Name: n.name }, Spec: { Hostname: n.hostname } } })),
          NextKey: '',
        };
      }),
    });
    server.addService((AccessMonitoringRulesService as any).service, {
      UpsertAccessMonitoringRule: wrap('UpsertAccessMonitoringRule', (_u, p, req) => {
        this.#need(p.admin, 'update', 'access_monitoring_rule');
        const r = req.rule;
        this.o.store.upsertRule({ name: r.metadata.name, subjects: r.spec.subjects, condition: r.spec.condition, notification: r.spec.notification ?? { name: '', recipients: [] } });
        return r;
      }),
      DeleteAccessMonitoringRule: wrap('DeleteAccessMonitoringRule', (_u, p, req) => {
        this.#need(p.admin, 'delete', 'access_monitoring_rule');
        this.o.store.deleteRule(req.name);
        return {};
      }),
      ListAccessMonitoringRulesWithFilter: wrap('ListAccessMonitoringRulesWithFilter', (_u, p, req) => {
        this.#need(p.readRules, 'list', 'access_monitoring_rule');
        const rules = [...this.o.store.rules.values()].filter(
          (r) => (!req.notification_name || r.notification.name === req.notification_name) && (req.subjects ?? []).every((s: string) => r.subjects.includes(s)),
        );
        return { rules: rules.map(ruleToWire), next_page_token: '' };
      }),
    });
    server.addService((UsersService as any).service, {
      GetUser: wrap('GetUser', (_u, p, req) => {
        this.#need(p.readUsers, 'read', 'user');
        const user = this.o.store.users.get(req.name);
        if (!user) throw new NotFound(`user ${req.name} is not found`);
        const traits = Object.fromEntries(Object.entries(user.traits).map(([k, v]) => [k, { Values: v }]));
        return { user: { Kind: 'user', Version: 'v2', Metadata: { Name: user.name }, Spec: { Roles: user.roles, Traits: { Values: traits } } } };
      }),
    });
  }

  /** Ends every watch stream with UNAVAILABLE (a dropped connection, for reconnect tests). */
  dropWatchStreams(): void {
    // grpc-js sends a server stream's status from its 'error' event; destroy() would send none.
    for (const s of this.streams) s.emit('error', err(grpc.status.UNAVAILABLE, 'connection dropped by the sandbox'));
    this.streams.clear();
  }

  /** Ends every watch stream cleanly (EOF). */
  endWatchStreams(): void {
    for (const s of this.streams) s.end();
    this.streams.clear();
  }

  #watch(call: grpc.ServerWritableStream<any, any>): void {
    const rej = this.faults.rejections.get('WatchEvents');
    if (rej && rej.remaining > 0) {
      rej.remaining--;
      call.emit('error', err(rej.code, 'injected failure of WatchEvents'));
      return;
    }
    let perms: ReturnType<AuthOptionsPerms>;
    try {
      perms = this.o.permissionsOf(this.#caller(call));
    } catch (e) {
      call.emit('error', this.#toStatus(e));
      return;
    }
    const allowed = (kind: string) => (kind === 'access_request' ? perms.readRequests : kind === 'access_monitoring_rule' ? perms.readRules : perms.admin);
    const kinds: string[] = (call.request.Kinds ?? []).map((k: any) => k.Kind);
    const accepted = kinds.filter(allowed);
    if (accepted.length < kinds.length && !call.request.AllowPartialSuccess) {
      const denied = kinds.find((k) => !allowed(k));
      call.emit('error', err(grpc.status.PERMISSION_DENIED, `access denied to perform action "read" on "${denied}"`));
      return;
    }
    const listener = (e: StoreEvent) => {
      if (!accepted.includes(e.kind)) return;
      if (e.op === 'DELETE') call.write({ Type: 'DELETE', ResourceHeader: { Kind: e.kind, Version: 'v3', Metadata: { Name: e.name } } });
      else if (e.kind === 'access_request') call.write({ Type: 'PUT', AccessRequest: requestToWire(e.request) });
      else call.write({ Type: 'PUT', AccessMonitoringRule: ruleToWire(e.rule) });
    };
    this.streams.add(call);
    this.o.store.on('event', listener);
    const cleanup = () => {
      this.o.store.off('event', listener);
      this.streams.delete(call);
    };
    call.on('cancelled', cleanup);
    call.on('close', cleanup);
    call.on('error', cleanup);
    if (!this.faults.holdInit) {
      call.write({ Type: 'INIT', WatchStatus: { Kind: 'watch_status', Version: 'v1', Metadata: { Name: 'watch_status' }, Spec: { Kinds: accepted.map((Kind) => ({ Kind })) } } });
    }
  }

  /** Certificate fingerprint → user: parsing the DER on every call was half the sandbox's CPU under load. */
  readonly #userByCert = new Map<string, string>();
  readonly #userBySocket = new WeakMap<object, string>();

  /**
   * The TLS socket a call came in on. Reading the peer certificate costs milliseconds per call
   * (grpc-js rebuilds it from the socket each time), so the caller is remembered per connection;
   * a connection's client certificate cannot change. Reaches into grpc-js (pinned exactly).
   */
  #socketOf(call: any): object | undefined {
    let c = call?.call;
    for (let i = 0; c && i < 8; i++) {
      const socket = c.stream?.session?.socket;
      if (socket) return socket;
      c = c.nextCall;
    }
    return undefined;
  }

  #caller(call: any): string {
    const socket = this.#socketOf(call);
    let user = socket ? (this.#userBySocket.get(socket) ?? '') : '';
    if (!user) {
      const cert = call.getAuthContext?.()?.sslPeerCertificate;
      user = cert?.fingerprint256 ? (this.#userByCert.get(cert.fingerprint256) ?? '') : '';
      if (!user) {
        user = cert?.raw ? userFromCertificate(cert.raw) : (cert?.subject?.CN ?? '');
        if (cert?.fingerprint256) this.#userByCert.set(cert.fingerprint256, user);
      }
      if (user && socket) this.#userBySocket.set(socket, user);
    }
    if (!user) throw err(grpc.status.PERMISSION_DENIED, 'access denied: no client certificate');
    this.callers.push(user);
    return user;
  }

  /** Sorted (key, request) pairs per sort order, kept until an access request changes. */
  readonly #indexes = new Map<string, Array<{ key: string; r: RequestRecord }>>();

  #requestIndex(sort: string, keyOf: (r: RequestRecord) => string): Array<{ key: string; r: RequestRecord }> {
    let index = this.#indexes.get(sort);
    if (!index) {
      index = [...this.o.store.requests.values()].map((r) => ({ key: keyOf(r), r })).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      this.#indexes.set(sort, index);
    }
    return index;
  }

  #need(ok: boolean, verb: string, resource: string): void {
    if (!ok) throw err(grpc.status.PERMISSION_DENIED, `access denied to perform action "${verb}" on "${resource}"`);
  }

  #toStatus(e: unknown): grpc.ServiceError | Partial<grpc.StatusObject> {
    if (e instanceof CompareFailed) return err(grpc.status.FAILED_PRECONDITION, e.message);
    if (e instanceof NotFound) return err(grpc.status.NOT_FOUND, e.message);
    if (e instanceof BadParameter) return err(grpc.status.INVALID_ARGUMENT, e.message);
    if (e && typeof e === 'object' && 'code' in e) return e as grpc.ServiceError;
    return err(grpc.status.UNKNOWN, (e as Error)?.message ?? String(e));
  }
}

type AuthOptionsPerms = () => Permissions;
