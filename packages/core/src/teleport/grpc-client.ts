/**
 * `TeleportClient` over gRPC (grpc-js): the Auth server's AuthService, AccessMonitoringRules
 * and Users services, with Teleport's error codes mapped to `TeleportError`.
 */
import * as grpc from '@grpc/grpc-js';
import { TeleportError, type GrpcCode } from '../errors.js';
import { AlpnChannelCredentials, authRouteAlpn } from './alpn-credentials.js';
import type { AccessRequestListFilter, TeleportClient, WatchKindSpec, WatchStream } from './client.js';
import { upgradeConnection } from './conn-upgrade.js';
import { toAccessRequest, toPing, toRule, toWatchEvent } from './convert.js';
import type { TlsCredentials } from './credentials.js';
import { splitHostPort } from './dial.js';
import { type PluginDataUpdate, encodePluginDataUpdate } from './plugin-data-wire.js';
import { type UnaryMethod, unaryCall } from './unary-call.js';
import { teleportServices } from './proto.js';
import type { HttpProxy } from './proxy-env.js';
import type { AccessMonitoringRule, AccessRequest, AccessReview, PingInfo, ResourceDetails, ResourceId, RoleInfo, UserInfo, WatchEvent } from './types.js';

/** SNI and verified name of every Teleport Auth server certificate. */
export const API_DOMAIN = 'teleport.cluster.local';

/**
 * Channel options: keepalive no more often than Teleport's 1-minute minimum (more frequent
 * pings earn a GOAWAY), quick reconnects, 4 MiB+ messages.
 */
export function channelOptions(): grpc.ChannelOptions {
  return {
    'grpc.ssl_target_name_override': API_DOMAIN,
    'grpc.default_authority': API_DOMAIN,
    'grpc.keepalive_time_ms': 60_000,
    'grpc.keepalive_timeout_ms': 20_000,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.initial_reconnect_backoff_ms': 1_000,
    'grpc.max_reconnect_backoff_ms': 2_000,
    'grpc.max_receive_message_length': 16 * 1024 * 1024,
  };
}

/**
 * How to reach the Auth server: directly, or through the Proxy's TLS router with the
 * `teleport-auth@` ALPN (inside the connection upgrade when a load balancer strips ALPN);
 * `httpProxy` when HTTPS_PROXY applies (grpc-js then dials it with CONNECT).
 */
export type Route =
  | { kind: 'direct'; addr: string; httpProxy?: HttpProxy }
  | { kind: 'alpn'; addr: string; clusterName: string; httpProxy?: HttpProxy; upgrade?: { webCa?: string } };

/** grpc-js's target and options for a route: the proxy decision is ours (`proxy-env.ts`), not grpc-js's. */
function routeTarget(route: Route): { target: string; options: grpc.ChannelOptions } {
  const options: grpc.ChannelOptions = { ...channelOptions(), 'grpc.enable_http_proxy': 0 };
  const p = route.httpProxy;
  if (!p) return { target: route.addr, options };
  options['grpc.http_connect_target'] = `dns:${route.addr}`;
  if (p.userinfo) options['grpc.http_connect_creds'] = p.userinfo;
  return { target: `${p.host.includes(':') ? `[${p.host}]` : p.host}:${p.port}`, options };
}

function channelCredentials(route: Route, creds: TlsCredentials): grpc.ChannelCredentials {
  if (route.kind === 'direct') return grpc.credentials.createSsl(Buffer.from(creds.caPem), Buffer.from(creds.keyPem), Buffer.from(creds.certPem));
  const upgrade = route.upgrade;
  const [host, port] = splitHostPort(route.addr, 443);
  return new AlpnChannelCredentials(
    {
      ca: creds.caPem,
      key: creds.keyPem,
      cert: creds.certPem,
      servername: API_DOMAIN,
      ALPNProtocols: [authRouteAlpn(route.clusterName), 'h2'],
    },
    undefined,
    upgrade ? (socket) => upgradeConnection(host, port, { socket, ...(upgrade.webCa ? { ca: upgrade.webCa } : {}) }) : undefined,
  );
}

const CODE_NAMES = Object.fromEntries(Object.entries(grpc.status).filter(([, v]) => typeof v === 'number').map(([k, v]) => [v, k])) as Record<number, GrpcCode>;

export function toTeleportError(err: unknown): TeleportError {
  if (err instanceof TeleportError) return err;
  const e = err as grpc.ServiceError;
  const status = CODE_NAMES[e?.code ?? grpc.status.UNKNOWN] ?? 'UNKNOWN';
  return new TeleportError(status, e?.details || e?.message || String(err), { cause: err });
}

type Services = { auth: any; rules: any; users: any };

export class GrpcTeleportClient implements TeleportClient {
  #services: Services;
  #creds: TlsCredentials;
  readonly #listeners = new Set<() => void>();

  constructor(
    readonly route: Route,
    creds: TlsCredentials,
  ) {
    this.#creds = creds;
    this.#services = this.#open(creds);
  }

  /** The credentials new connections use. */
  get credentials(): TlsCredentials {
    return this.#creds;
  }

  #open(creds: TlsCredentials): Services {
    const { AuthService, AccessMonitoringRulesService, UsersService } = teleportServices();
    const c = channelCredentials(this.route, creds);
    const { target, options } = routeTarget(this.route);
    const auth = new AuthService(target, c, options);
    const channelOverride = auth.getChannel();
    return {
      auth,
      rules: new AccessMonitoringRulesService(target, c, { ...options, channelOverride }),
      users: new UsersService(target, c, { ...options, channelOverride }),
    };
  }

  /** Switches to refreshed credentials: new calls use a new connection; the old one closes once idle. */
  rotate(creds: TlsCredentials): void {
    const old = this.#services;
    this.#creds = creds;
    this.#services = this.#open(creds);
    for (const l of this.#listeners) l();
    setTimeout(() => old.auth.close(), 30_000).unref();
  }

  onCredentialsRotated(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** `encode`: our own serializer for the request, instead of the proto's. */
  #unary<T>(service: keyof Services, method: string, request: unknown, signal?: AbortSignal, timeoutMs = 30_000, encode?: (request: any) => Buffer): Promise<T> {
    const client = this.#services[service];
    const def = client.constructor.service[method] as grpc.MethodDefinition<unknown, T>;
    const call: UnaryMethod<unknown, T> = { path: def.path, serialize: encode ?? def.requestSerialize, deserialize: def.responseDeserialize };
    return unaryCall(client.getChannel(), call, request, new Date(Date.now() + timeoutMs), signal).catch((err: unknown) => Promise.reject(toTeleportError(err)));
  }

  async ping(signal?: AbortSignal): Promise<PingInfo> {
    return toPing(await this.#unary('auth', 'Ping', {}, signal, 10_000));
  }

  watchEvents(kinds: WatchKindSpec[], options: { allowPartialSuccess?: boolean } = {}): WatchStream {
    const call = this.#services.auth.WatchEvents({ Kinds: kinds.map((k) => ({ Kind: k.kind })), AllowPartialSuccess: options.allowPartialSuccess ?? false });
    const queue: WatchEvent[] = [];
    let failure: TeleportError | undefined;
    let ended = false;
    let wake: (() => void) | undefined;
    const notify = () => {
      wake?.();
      wake = undefined;
    };
    let cancelled = false;
    call.on('data', (w: any) => {
      queue.push(toWatchEvent(w));
      notify();
    });
    call.on('error', (err: any) => {
      if (!(cancelled && err?.code === grpc.status.CANCELLED)) failure = toTeleportError(err);
      ended = true;
      notify();
    });
    call.on('end', () => {
      ended = true;
      notify();
    });
    return {
      cancel: () => {
        cancelled = true;
        call.cancel();
        ended = true;
        notify();
      },
      async *[Symbol.asyncIterator]() {
        for (;;) {
          if (queue.length) {
            yield queue.shift()!;
            continue;
          }
          if (failure) throw failure;
          if (ended || cancelled) return;
          await new Promise<void>((r) => (wake = r));
        }
      },
    };
  }

  async getPluginData(requestId: string, plugin: string, signal?: AbortSignal): Promise<Record<string, string> | undefined> {
    const res = await this.#unary<any>('auth', 'GetPluginData', { Kind: 'access_request', Resource: requestId, Plugin: plugin }, signal);
    const item = (res.PluginData ?? [])[0];
    return item?.Spec?.Entries?.[plugin]?.Data ?? undefined;
  }

  async listPluginData(plugin: string, signal?: AbortSignal): Promise<Map<string, Record<string, string>>> {
    // An empty Resource lists every access request's entry (Teleport ranges over the kind).
    const res = await this.#unary<any>('auth', 'GetPluginData', { Kind: 'access_request', Resource: '', Plugin: plugin }, signal, 60_000);
    const out = new Map<string, Record<string, string>>();
    for (const item of res.PluginData ?? []) {
      const data = item?.Spec?.Entries?.[plugin]?.Data;
      const name = item?.Metadata?.Name;
      if (name && data && Object.keys(data).length) out.set(name, data);
    }
    return out;
  }

  async updatePluginData(requestId: string, plugin: string, set: Record<string, string>, expect: Record<string, string>, signal?: AbortSignal): Promise<void> {
    const params: PluginDataUpdate = { Kind: 'access_request', Resource: requestId, Plugin: plugin, Set: set, Expect: expect };
    await this.#unary('auth', 'UpdatePluginData', params, signal, undefined, encodePluginDataUpdate);
  }

  async listAccessRequests(filter: AccessRequestListFilter = {}, signal?: AbortSignal): Promise<AccessRequest[]> {
    const out: AccessRequest[] = [];
    for await (const page of this.accessRequestPages(filter, signal)) out.push(...page);
    return out;
  }

  async *accessRequestPages(filter: AccessRequestListFilter = {}, signal?: AbortSignal): AsyncGenerator<AccessRequest[]> {
    const Filter = { ID: filter.id ?? '', State: filter.state ?? 'NONE' };
    // Oldest first (Teleport's access request cache keeps a creation-time index).
    const page = (startKey: string) => this.#unary<any>('auth', 'ListAccessRequests', { Filter, Sort: 'CREATED', Limit: 500, StartKey: startKey }, signal);
    let res: any;
    try {
      res = await page('');
    } catch (err) {
      if (!(err instanceof TeleportError && err.isNotImplemented)) throw err;
      yield await this.#legacyAccessRequests(Filter, signal);
      return;
    }
    for (;;) {
      // The next page is asked for before this one is handed over, so they overlap.
      const next = res.NextKey ? page(res.NextKey) : undefined;
      next?.catch(() => {});
      yield (res.AccessRequests ?? []).map(toAccessRequest);
      if (!next) return;
      res = await next;
    }
  }

  /** Older servers: the streaming GetAccessRequestsV2, all at once. */
  #legacyAccessRequests(filter: { ID: string; State: string }, signal?: AbortSignal): Promise<AccessRequest[]> {
    return new Promise((resolve, reject) => {
      const call = this.#services.auth.GetAccessRequestsV2(filter);
      const items: AccessRequest[] = [];
      call.on('data', (w: any) => items.push(toAccessRequest(w)));
      call.on('error', (e: unknown) => reject(toTeleportError(e)));
      call.on('end', () => resolve(items));
      signal?.addEventListener('abort', () => call.cancel(), { once: true });
    });
  }

  async getRole(name: string, signal?: AbortSignal): Promise<RoleInfo> {
    const res = await this.#unary<any>('auth', 'GetRole', { Name: name }, signal);
    return { name: res.Metadata?.Name ?? name, allowLogins: res.Spec?.Allow?.Logins ?? [] };
  }

  async getUser(name: string, signal?: AbortSignal): Promise<UserInfo> {
    const res = await this.#unary<any>('users', 'GetUser', { name }, signal);
    const u = res.user ?? {};
    const traits: Record<string, string[]> = {};
    for (const [k, v] of Object.entries(u.Spec?.Traits?.Values ?? {})) traits[k] = [...((v as any)?.Values ?? [])];
    return { name: u.Metadata?.Name ?? name, roles: u.Spec?.Roles ?? [], traits };
  }

  async getResourceDetails(ids: ResourceId[], signal?: AbortSignal): Promise<ResourceDetails[]> {
    const out: ResourceDetails[] = ids.map((id) => ({ id }));
    const byKind = new Map<string, ResourceId[]>();
    for (const id of ids) if (id.kind === 'node' || id.kind === 'app') byKind.set(id.kind, [...(byKind.get(id.kind) ?? []), id]);
    for (const [kind, group] of byKind) {
      const predicate = group.map((id) => `resource.metadata.name == ${JSON.stringify(id.name)}`).join(' || ');
      let startKey = '';
      do {
        const res = await this.#unary<any>(
          'auth',
          'ListResources',
          { ResourceType: kind === 'app' ? 'app_server' : 'node', Limit: group.length, StartKey: startKey, PredicateExpression: predicate, UseSearchAsRoles: true, UsePreviewAsRoles: true },
          signal,
        );
        for (const r of res.Resources ?? []) {
          const name = r.Node?.Metadata?.Name ?? r.AppServer?.Spec?.App?.Metadata?.Name;
          const friendly = r.Node?.Spec?.Hostname ?? r.AppServer?.Spec?.App?.Metadata?.Name;
          const hit = out.find((d) => d.id.kind === kind && d.id.name === name);
          if (hit && friendly) hit.friendlyName = friendly;
        }
        startKey = res.NextKey ?? '';
      } while (startKey);
    }
    return out;
  }

  async listAccessMonitoringRules(pluginName: string, signal?: AbortSignal): Promise<AccessMonitoringRule[]> {
    const out: AccessMonitoringRule[] = [];
    let token = '';
    do {
      const res = await this.#unary<any>(
        'rules',
        'ListAccessMonitoringRulesWithFilter',
        { page_size: 1000, page_token: token, subjects: ['access_request'], notification_name: pluginName },
        signal,
      );
      out.push(...(res.rules ?? []).map(toRule));
      token = res.next_page_token ?? '';
    } while (token);
    return out;
  }

  async submitAccessReview(requestId: string, review: Omit<AccessReview, 'created'>, signal?: AbortSignal): Promise<AccessRequest> {
    const now = Date.now();
    const res = await this.#unary<any>(
      'auth',
      'SubmitAccessReview',
      {
        RequestID: requestId,
        Review: {
          Author: review.author,
          Roles: review.roles,
          ProposedState: review.proposedState,
          Reason: review.reason,
          Created: { seconds: String(Math.floor(now / 1000)), nanos: (now % 1000) * 1e6 },
        },
      },
      signal,
    );
    return toAccessRequest(res);
  }

  close(): void {
    this.#services.auth.close();
  }
}
