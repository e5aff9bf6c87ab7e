import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PluginMetrics } from './metrics.js';

/** What `/readyz` reports: ready, or the reason it is not. */
export interface Readiness {
  ready: boolean;
  reason?: string;
}

/** Splits `host:port` (`[::1]:8080`, `:8080` = all interfaces). */
export function parseListenAddr(addr: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(addr.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new Error(`invalid listen address "${addr}": want host:port, e.g. 127.0.0.1:8080`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

/**
 * Serves `/healthz` (process up), `/readyz` (connected, watching, channel healthy) and
 * `/metrics` (Prometheus text) on `[http] listen_addr`. Anything else is 404.
 */
export async function startHealthServer(
  listenAddr: string,
  metrics: PluginMetrics,
  readiness: () => Readiness,
): Promise<{ url: string; close(): Promise<void> }> {
  const { host, port } = parseListenAddr(listenAddr);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      const r = readiness();
      res.writeHead(r.ready ? 200 : 503, { 'content-type': 'text/plain' }).end(r.ready ? 'ready\n' : `not ready: ${r.reason ?? 'starting'}\n`);
    } else if (path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(metrics.render());
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** `healthcheck` command (container HEALTHCHECK): GET /readyz; true when it answers 200. */
export async function probeReadiness(listenAddr: string, timeoutMs = 4000): Promise<{ ok: boolean; detail: string }> {
  const { host, port } = parseListenAddr(listenAddr);
  const target = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
  try {
    const res = await fetch(`http://${target}:${port}/readyz`, { signal: AbortSignal.timeout(timeoutMs) });
    return { ok: res.status === 200, detail: (await res.text()).trim() };
  } catch (err) {
    return { ok: false, detail: `cannot reach http://${target}:${port}/readyz: ${(err as Error).message}` };
  }
}
