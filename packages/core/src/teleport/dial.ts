/**
 * TCP to a Teleport address, directly or through an HTTP proxy with `CONNECT` (see
 * `proxy-env.ts` for when), and HTTPS requests over such a connection. Used for `/webapi/find`,
 * the connection-upgrade probe; gRPC itself goes through grpc-js's own CONNECT support with
 * the same proxy decision (`grpc-client.ts`).
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import type { HttpProxy } from './proxy-env.js';

export interface DialOptions {
  proxy?: HttpProxy;
  timeoutMs?: number;
}

/** Splits `host[:port]` / `[v6][:port]`. */
export function splitHostPort(addr: string, defaultPort: number): [string, number] {
  const m = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d+))?$/.exec(addr);
  return [m?.[1] ?? m?.[2] ?? addr, m?.[3] ? Number(m[3]) : defaultPort];
}

export function joinHostPort(host: string, port: number): string {
  return `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}

export function connectHeader(proxy: HttpProxy): Record<string, string> {
  return proxy.userinfo ? { 'Proxy-Authorization': `Basic ${Buffer.from(proxy.userinfo).toString('base64')}` } : {};
}

/** A connected TCP socket to `host:port`. */
export function dialTcp(host: string, port: number, options: DialOptions = {}): Promise<Socket> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const proxy = options.proxy;
  if (!proxy) {
    return new Promise((resolve, reject) => {
      const socket = netConnect({ host, port, timeout: timeoutMs }, () => {
        socket.setTimeout(0);
        resolve(socket);
      });
      socket.once('timeout', () => socket.destroy(new Error(`connecting to ${host}:${port} timed out`)));
      socket.once('error', reject);
    });
  }
  const target = joinHostPort(host, port);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: proxy.host, port: proxy.port, method: 'CONNECT', path: target, headers: { Host: target, ...connectHeader(proxy) }, timeout: timeoutMs, agent: false });
    req.once('connect', (res, socket, head) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        reject(new Error(`HTTP proxy ${proxy.display} refused CONNECT to ${target}: HTTP ${res.statusCode}${res.statusMessage ? ` ${res.statusMessage}` : ''}`));
        return;
      }
      if (head.length) socket.unshift(head);
      resolve(socket);
    });
    req.once('timeout', () => req.destroy(new Error(`HTTP proxy ${proxy.display} did not answer CONNECT in time`)));
    req.once('error', (err) => reject(new Error(`HTTP proxy ${proxy.display}: ${err.message}`, { cause: err })));
    req.end();
  });
}

export interface WebTlsOptions extends DialOptions {
  /** Trusted CAs (PEM) for the Proxy's web certificate; default: Node's roots (+ NODE_EXTRA_CA_CERTS). */
  ca?: string;
  alpn?: string[];
  /** An already connected transport to run TLS over (grpc-js hands one to its connector). */
  socket?: Duplex;
}

/** TLS to the Proxy's web listener (the server's public certificate, verified). */
export async function dialWebTls(host: string, port: number, options: WebTlsOptions = {}): Promise<tls.TLSSocket> {
  const tcp = options.socket ?? (await dialTcp(host, port, options));
  return new Promise((resolve, reject) => {
    const secure = tls.connect({
      socket: tcp,
      host,
      ...(isIP(host) ? {} : { servername: host }),
      ...(options.ca ? { ca: options.ca } : {}),
      ...(options.alpn ? { ALPNProtocols: options.alpn } : {}),
    });
    const timer = setTimeout(() => secure.destroy(new Error(`TLS handshake with ${host}:${port} timed out`)), options.timeoutMs ?? 10_000);
    secure.once('secureConnect', () => {
      clearTimeout(timer);
      resolve(secure);
    });
    secure.once('error', (err) => {
      clearTimeout(timer);
      tcp.destroy();
      reject(err);
    });
  });
}

/** `GET https://host:port<path>` over `dialWebTls`; resolves with the status and body. */
export function httpsGet(host: string, port: number, path: string, options: WebTlsOptions = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host,
        port,
        path,
        method: 'GET',
        timeout: options.timeoutMs ?? 10_000,
        headers: { Accept: 'application/json' },
        createConnection: (_o: unknown, cb: (err: Error | null, socket?: Socket) => void) => {
          dialWebTls(host, port, { ...options, alpn: ['http/1.1'] }).then(
            (s) => cb(null, s),
            (e) => cb(e),
          );
          return undefined;
        },
      } as unknown as Parameters<typeof httpsRequest>[0],
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}
