/**
 * Connects to Teleport the way the Go daemons reach Auth: credentials from `[teleport]`, then
 * directly (`host:3025`, mutual TLS) or through a Proxy with TLS routing (`/webapi/find`, then
 * the `teleport-auth@` ALPN route, TLS end to end with Auth, inside the connection upgrade when
 * ALPN does not survive the way there), each through HTTPS_PROXY when it applies; then Ping and
 * the version check.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { TeleportConfig } from '../config-types.js';
import { TeleportUnavailableError, TeleportVersionError } from '../errors.js';
import type { TeleportClient } from './client.js';
import { loadCredentials, type TlsCredentials } from './credentials.js';
import { isConnUpgradeRequired } from './conn-upgrade.js';
import { httpsGet, joinHostPort, splitHostPort, type WebTlsOptions } from './dial.js';
import { GrpcTeleportClient, type Route } from './grpc-client.js';
import { IdentityRefresher } from './identity-refresh.js';
import { proxyFor, type HttpProxy } from './proxy-env.js';
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
export async function findProxy(addr: string, options: WebTlsOptions = {}): Promise<{ tlsRoutingEnabled: boolean; clusterName: string; serverVersion: string }> {
  const [host, port] = splitHostPort(addr, 443);
  const { status, body } = await httpsGet(host, port, '/webapi/find', options);
  if (status !== 200) throw new Error(`/webapi/find answered HTTP ${status}`);
  try {
    const j = JSON.parse(body);
    return { tlsRoutingEnabled: Boolean(j?.proxy?.tls_routing_enabled), clusterName: j?.cluster_name ?? '', serverVersion: j?.server_version ?? '' };
  } catch {
    throw new Error('/webapi/find did not answer JSON (not a Teleport proxy?)');
  }
}

/**
 * CAs trusted for the Proxy's web certificate: the caller's, else `SSL_CERT_FILE` (which Go's
 * daemons honour too), else Node's roots plus `NODE_EXTRA_CA_CERTS`.
 */
function webCa(options: ConnectOptions, env: Record<string, string | undefined>): string | undefined {
  if (options.webCaPem) return options.webCaPem;
  const file = env.SSL_CERT_FILE;
  if (!file) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new TeleportUnavailableError(`SSL_CERT_FILE ${file}: ${(err as Error).message}`);
  }
}

async function pingWithin(client: GrpcTeleportClient, log: Logger): Promise<PingInfo> {
  try {
    return await client.ping(AbortSignal.timeout(10_000));
  } catch (err) {
    client.close();
    throw err;
  }
}

function describeRoute(r: Route): string {
  const via = r.httpProxy ? ` via HTTP proxy ${r.httpProxy.display}` : '';
  if (r.kind === 'direct') return `direct to Auth${via}`;
  return `through the proxy (TLS routing${r.upgrade ? ', connection upgrade' : ''})${via}`;
}

/** Loads credentials, dials Auth (directly or through a TLS-routing proxy), Pings and checks the version. */
export async function connectTeleport(config: TeleportConfig, options: ConnectOptions): Promise<{ client: TeleportClient; ping: PingInfo; credentials: TlsCredentials }> {
  const { log } = options;
  const creds = loadCredentials(config);
  for (const w of creds.warnings) log.warn(w);
  log.info('At least one non-expired credential has been found, continuing startup');

  const env = options.env ?? process.env;
  // An address without a port is an Auth server on 3025 or a Proxy on 443 (Teleport Cloud).
  const [host, explicitPort] = splitHostPort(config.addr, 0);
  const authAddr = joinHostPort(host, explicitPort || 3025);
  const proxyPort = explicitPort || 443;
  const proxyAddr = joinHostPort(host, proxyPort);
  const ca = webCa(options, env);
  let authProxy: HttpProxy | undefined;
  let webProxy: HttpProxy | undefined;
  try {
    authProxy = proxyFor(host, explicitPort || 3025, env);
    webProxy = proxyFor(host, proxyPort, env);
  } catch (err) {
    throw new TeleportUnavailableError((err as Error).message);
  }
  if (authProxy ?? webProxy) log.info({ addr: config.addr, proxy: (authProxy ?? webProxy)!.display }, 'Connecting to Teleport through an HTTP proxy');
  const web: WebTlsOptions = { ...(ca ? { ca } : {}), ...(webProxy ? { proxy: webProxy } : {}) };
  const attempts: string[] = [];
  const routes: (() => Promise<Route>)[] = [];
  const direct = async (): Promise<Route> => ({ kind: 'direct', addr: authAddr, ...(authProxy ? { httpProxy: authProxy } : {}) });
  const viaProxy = async (): Promise<Route> => {
    const found = await findProxy(proxyAddr, web);
    if (!found.tlsRoutingEnabled) throw new Error('the proxy does not have TLS routing enabled');
    const upgrade = await isConnUpgradeRequired(proxyAddr, host, proxyPort, { ...web, env, log });
    return {
      kind: 'alpn',
      addr: proxyAddr,
      clusterName: found.clusterName || creds.clusterName,
      ...(webProxy ? { httpProxy: webProxy } : {}),
      ...(upgrade ? { upgrade: { ...(ca ? { webCa: ca } : {}) } } : {}),
    };
  };
  // Go's intent: an Auth port is tried directly first; anything else is probably a Proxy.
  if (explicitPort === 3025) routes.push(direct, viaProxy);
  else routes.push(viaProxy, direct);

  let client: GrpcTeleportClient | undefined;
  let ping: PingInfo | undefined;
  for (const route of routes) {
    let r: Route | undefined;
    try {
      r = await route();
      client = new GrpcTeleportClient(r, creds);
      ping = await pingWithin(client, log);
      log.info({ addr: config.addr, path: describeRoute(r), cluster: ping.clusterName }, 'Connected to Teleport');
      break;
    } catch (err) {
      const what = r ? `${describeRoute(r)} at ${r.addr}` : route === direct ? `direct to Auth at ${authAddr}` : `proxy discovery at https://${proxyAddr}/webapi/find`;
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
