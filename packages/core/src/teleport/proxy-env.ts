/**
 * HTTPS_PROXY / HTTP_PROXY / NO_PROXY, read the way Go's `httpproxy.FromEnvironment` and
 * Teleport's `GetProxyURL` read them, so an operator's environment means the same to us as to
 * the Go daemons: upper case wins over lower case, HTTPS_PROXY is tried before HTTP_PROXY,
 * `localhost` and loopback addresses never go through a proxy, and NO_PROXY takes `*`, host
 * names (matching sub-domains too), `.domain`, IP addresses and CIDR ranges, each optionally
 * with a port. This is the only place that decides whether a connection to Teleport is proxied.
 */
import { BlockList, isIP } from 'node:net';

export interface HttpProxy {
  host: string;
  port: number;
  /** `user:password` from the proxy URL, decoded; sent as Basic `Proxy-Authorization`. */
  userinfo?: string;
  /** The proxy URL without credentials, safe for logs. */
  display: string;
}

type Env = Record<string, string | undefined>;

function envValue(env: Env, name: string): string {
  return env[name.toUpperCase()] || env[name.toLowerCase()] || '';
}

/** The proxy to use for a TLS connection to `host:port`, or undefined for a direct connection. */
export function proxyFor(host: string, port: number, env: Env): HttpProxy | undefined {
  if (!useProxy(host, port, envValue(env, 'no_proxy'))) return undefined;
  const raw = envValue(env, 'https_proxy') || envValue(env, 'http_proxy');
  return raw ? parseProxyUrl(raw) : undefined;
}

/** Parses a proxy URL (`http://[user:pass@]host[:port]`; a bare `host:port` means http). */
export function parseProxyUrl(raw: string): HttpProxy {
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`);
  } catch {
    throw new Error(`HTTPS_PROXY: invalid proxy URL ${JSON.stringify(redact(raw))}`);
  }
  if (url.protocol !== 'http:') throw new Error(`HTTPS_PROXY: proxy scheme ${url.protocol} is not supported (use http://)`);
  const userinfo = url.username ? decodeURIComponent(url.username) + (url.password ? `:${decodeURIComponent(url.password)}` : '') : undefined;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = url.port ? Number(url.port) : 80;
  return { host, port, ...(userinfo ? { userinfo } : {}), display: `http://${url.host}` };
}

function redact(raw: string): string {
  return raw.replace(/\/\/[^@/]*@/, '//***@');
}

function useProxy(host: string, port: number, noProxy: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  if (h === 'localhost') return false;
  const ipFamily = isIP(h);
  if (ipFamily && isLoopback(h, ipFamily)) return false;
  for (const entry of noProxy.split(/[\s,]+/).filter(Boolean)) {
    if (entry === '*') return false;
    if (matchesEntry(entry.toLowerCase(), h, ipFamily, port)) return false;
  }
  return true;
}

function isLoopback(ip: string, family: number): boolean {
  return family === 4 ? ip.startsWith('127.') : ip === '::1' || ip === '0:0:0:0:0:0:0:1';
}

function matchesEntry(entry: string, host: string, ipFamily: number, port: number): boolean {
  if (entry.includes('/')) {
    if (!ipFamily) return false;
    const [net, bits] = entry.split('/');
    const family = isIP(net!);
    if (!family || family !== ipFamily) return false;
    const list = new BlockList();
    list.addSubnet(net!, Number(bits), family === 4 ? 'ipv4' : 'ipv6');
    return list.check(host, family === 4 ? 'ipv4' : 'ipv6');
  }
  let name = entry;
  let entryPort: number | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  const hostPort = /^([^:]+):(\d+)$/.exec(entry);
  if (bracketed) [name, entryPort] = [bracketed[1]!, bracketed[2] ? Number(bracketed[2]) : undefined];
  else if (hostPort) [name, entryPort] = [hostPort[1]!, Number(hostPort[2])];
  if (entryPort !== undefined && entryPort !== port) return false;
  if (isIP(name)) return name === host;
  if (name.startsWith('*.')) name = name.slice(1);
  if (name.startsWith('.')) return host.endsWith(name);
  return host === name || host.endsWith(`.${name}`);
}
