/**
 * Connects to Teleport the way the Go daemons reach Auth: credentials from `[teleport]`, then
 * directly (`host:3025`, mutual TLS) or through a Proxy with TLS routing (`/webapi/find`, then
 * the `teleport-auth@` ALPN route, TLS end to end with Auth), then Ping and the version check.
 */
import { request } from 'node:https';
import type { Logger } from 'pino';
import type { TeleportConfig } from '../config-types.js';
import { TeleportUnavailableError, TeleportVersionError } from '../errors.js';
import type { TeleportClient } from './client.js';
import { loadCredentials, type TlsCredentials } from './credentials.js';
import { GrpcTeleportClient, type Route } from './grpc-client.js';
import { IdentityRefresher } from './identity-refresh.js';
import type { PingInfo } from './types.js';
import { compareVersions } from './version.js';

export interface ConnectOptions {
  log: Logger;
  /** Minimum server version, e.g. `6.1.0-beta.1` (msteams `8.0.0`). */
  minServerVersion?: string;
  env?: Record<string, string | undefined>;
  signal?: AbortSignal;
  /** Extra CA (PEM) trusted for the Proxy's web certificate (`/webapi/find`); tests use it. */
  webCaPem?: string;
}

export const DEFAULT_MIN_VERSION = '6.1.0-beta.1';

/** `GET https://<addr>/webapi/find`: the Proxy's public settings (no authentication). */
export function findProxy(addr: string, webCaPem?: string, timeoutMs = 10_000): Promise<{ tlsRoutingEnabled: boolean; clusterName: string; serverVersion: string }> {
  return new Promise((resolve, reject) => {
    const [host, port] = splitHostPort(addr, 443);
    const req = request({ host, port, path: '/webapi/find', method: 'GET', timeout: timeoutMs, ...(webCaPem ? { ca: webCaPem } : {}) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`/webapi/find answered HTTP ${res.statusCode}`));
        try {
          const j = JSON.parse(body);
          resolve({ tlsRoutingEnabled: Boolean(j?.proxy?.tls_routing_enabled), clusterName: j?.cluster_name ?? '', serverVersion: j?.server_version ?? '' });
        } catch {
          reject(new Error('/webapi/find did not answer JSON (not a Teleport proxy?)'));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

function splitHostPort(addr: string, defaultPort: number): [string, number] {
  const m = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d+))?$/.exec(addr);
  return [m?.[1] ?? m?.[2] ?? addr, m?.[3] ? Number(m[3]) : defaultPort];
}

async function pingWithin(client: GrpcTeleportClient, log: Logger): Promise<PingInfo> {
  try {
    return await client.ping(AbortSignal.timeout(10_000));
  } catch (err) {
    client.close();
    throw err;
  }
}

/** Loads credentials, dials Auth (directly or through a TLS-routing proxy), Pings and checks the version. */
export async function connectTeleport(config: TeleportConfig, options: ConnectOptions): Promise<{ client: TeleportClient; ping: PingInfo; credentials: TlsCredentials }> {
  const { log } = options;
  const creds = loadCredentials(config);
  for (const w of creds.warnings) log.warn(w);
  log.info('At least one non-expired credential has been found, continuing startup');

  const [, port] = splitHostPort(config.addr, 3025);
  const attempts: string[] = [];
  const routes: (() => Promise<Route>)[] = [];
  const direct = async (): Promise<Route> => ({ kind: 'direct', addr: config.addr });
  const viaProxy = async (): Promise<Route> => {
    const found = await findProxy(config.addr, options.webCaPem);
    if (!found.tlsRoutingEnabled) throw new Error('the proxy does not have TLS routing enabled');
    return { kind: 'alpn', addr: config.addr, clusterName: found.clusterName || creds.clusterName };
  };
  // Go's intent: an Auth port is tried directly first; anything else is probably a Proxy.
  if (port === 3025) routes.push(direct, viaProxy);
  else routes.push(viaProxy, direct);

  let client: GrpcTeleportClient | undefined;
  let ping: PingInfo | undefined;
  for (const route of routes) {
    let r: Route | undefined;
    try {
      r = await route();
      client = new GrpcTeleportClient(r, creds);
      ping = await pingWithin(client, log);
      log.info({ addr: config.addr, path: r.kind === 'direct' ? 'direct' : 'proxy (TLS routing)', cluster: ping.clusterName }, 'Connected to Teleport');
      break;
    } catch (err) {
      const what = r ? (r.kind === 'direct' ? `direct to Auth at ${config.addr}` : `through the proxy at ${config.addr} (TLS routing)`) : route === direct ? `direct to Auth at ${config.addr}` : `proxy discovery at https://${config.addr}/webapi/find`;
      const e = err as Error & { status?: string };
      if (e.status === 'UNIMPLEMENTED') throw new TeleportVersionError(`server version must be at least ${options.minServerVersion ?? DEFAULT_MIN_VERSION}`);
      if (e.status === 'PERMISSION_DENIED') throw new TeleportUnavailableError(`Teleport refused the plugin's credentials (${creds.source}): ${e.message}`);
      attempts.push(`${what}: ${e.message}`);
      client = undefined;
    }
  }
  if (!client || !ping) {
    throw new TeleportUnavailableError(`Unable to get Teleport server version: all connection methods failed:\n${attempts.map((a) => `  - ${a}`).join('\n')}`);
  }
  const min = options.minServerVersion ?? DEFAULT_MIN_VERSION;
  if (compareVersions(ping.serverVersion, min) < 0) {
    client.close();
    throw new TeleportVersionError(`incompatible versions: ${ping.serverVersion} < ${min}`);
  }
  if (config.refreshIdentity && config.identity) {
    const c = client;
    const refresher = new IdentityRefresher(config, creds, log, (next) => c.rotate(next));
    refresher.start();
    const close = c.close.bind(c);
    c.close = () => {
      refresher.stop();
      close();
    };
  }
  return { client, ping, credentials: creds };
}
