/**
 * Teleport's ALPN connection upgrade, for Proxies behind an L7 load balancer that terminates TLS
 * and drops ALPN (AWS ALB and the like): the plugin speaks HTTPS to the load balancer, asks
 * `/webapi/connectionupgrade` for a WebSocket tunnel (`alpn-ping`), and runs its own mutual TLS
 * with the `teleport-auth@` ALPN inside it.
 *
 * Whether it is needed is probed as the Go client does (a TLS dial offering only
 * `teleport-reversetunnel`: no protocol negotiated → upgrade) unless
 * `TELEPORT_TLS_ROUTING_CONN_UPGRADE` decides (`true`, or `proxy.example.com:443=yes,0`, …).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { dialWebTls, type WebTlsOptions } from './dial.js';
import { PingConnStream, WebSocketStream } from './websocket-stream.js';

export const CONN_UPGRADE_ENV = 'TELEPORT_TLS_ROUTING_CONN_UPGRADE';
export const CONN_UPGRADE_PATH = '/webapi/connectionupgrade';
const UPGRADE_TYPE = 'alpn-ping';
const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Go's `strconv.ParseBool` plus Teleport's yes/no. */
function parseBool(text: string): boolean | undefined {
  const t = text.trim().toLowerCase();
  if (['1', 't', 'true', 'y', 'yes', 'on'].includes(t)) return true;
  if (['0', 'f', 'false', 'n', 'no', 'off'].includes(t)) return false;
  return undefined;
}

/**
 * `TELEPORT_TLS_ROUTING_CONN_UPGRADE`: conditions separated by `,` or `;`, each `<addr>=<bool>`
 * (for that address) or `<bool>` (for every other address). Undefined when the variable is unset.
 */
export function connUpgradeFromEnv(addr: string, value: string | undefined): boolean | undefined {
  if (!value) return undefined;
  let forAll = false;
  for (const token of value.split(/[;,]/).map((t) => t.trim()).filter(Boolean)) {
    if (token.includes('=')) {
      const at = token.indexOf(`${addr}=`);
      if (at >= 0) return parseBool(token.slice(at + addr.length + 1)) ?? false;
    } else {
      const b = parseBool(token);
      if (b !== undefined) forAll = b;
    }
  }
  return forAll;
}

/** Does the Proxy at `host:port` need the connection upgrade? */
export async function isConnUpgradeRequired(
  addr: string,
  host: string,
  port: number,
  options: WebTlsOptions & { env: Record<string, string | undefined>; log: Logger },
): Promise<boolean> {
  const forced = connUpgradeFromEnv(addr, options.env[CONN_UPGRADE_ENV]);
  if (forced !== undefined) {
    options.log.debug({ [CONN_UPGRADE_ENV]: options.env[CONN_UPGRADE_ENV], addr, upgrade_required: forced }, 'ALPN connection upgrade decided by the environment');
    return forced;
  }
  try {
    const probe = await dialWebTls(host, port, { ...options, timeoutMs: options.timeoutMs ?? 5_000, alpn: ['teleport-reversetunnel'] });
    const negotiated = probe.alpnProtocol;
    probe.destroy();
    const required = !negotiated;
    options.log.debug({ addr, upgrade_required: required }, 'ALPN connection upgrade test complete');
    return required;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL' || /no application protocol/i.test(e.message)) return true;
    options.log.info({ addr, err: e.message }, 'ALPN connection upgrade test failed, trying without it');
    return false;
  }
}

/** Reads an HTTP response head; returns the status, lower-cased headers and any bytes after it. */
function readResponseHead(socket: Duplex, timeoutMs: number): Promise<{ status: number; headers: Map<string, string>; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => done(new Error('the Proxy did not answer the connection upgrade in time')), timeoutMs);
    const done = (err: Error | null, value?: { status: number; headers: Map<string, string>; rest: Buffer }) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('end', onEnd);
      if (err) reject(err);
      else resolve(value!);
    };
    const onError = (err: Error) => done(err);
    const onEnd = () => done(new Error('the Proxy closed the connection during the upgrade'));
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buf.length > 64 * 1024) done(new Error('connection upgrade response head too large'));
        return;
      }
      socket.pause();
      const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0);
      const headers = new Map<string, string>();
      for (const line of lines.slice(1)) {
        const i = line.indexOf(':');
        if (i > 0) {
          const k = line.slice(0, i).trim().toLowerCase();
          const v = line.slice(i + 1).trim();
          headers.set(k, headers.has(k) ? `${headers.get(k)}, ${v}` : v);
        }
      }
      done(null, { status, headers, rest: buf.subarray(end + 4) });
    };
    socket.on('data', onData);
    socket.once('error', onError);
    socket.once('end', onEnd);
  });
}

/**
 * Over `socket` (TCP to the load balancer, possibly through an HTTP proxy): web TLS, the upgrade
 * request, and a byte stream to the Proxy's ALPN router (WebSocket, or the legacy ping framing).
 */
export async function upgradeConnection(host: string, port: number, options: WebTlsOptions): Promise<Duplex> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const outer = await dialWebTls(host, port, { ...options, alpn: ['http/1.1'] });
  try {
    const key = randomBytes(16).toString('base64');
    const hostHeader = port === 443 ? host : `${host.includes(':') ? `[${host}]` : host}:${port}`;
    outer.write(
      [
        `GET ${CONN_UPGRADE_PATH} HTTP/1.1`,
        `Host: ${hostHeader}`,
        'Upgrade: websocket',
        `Upgrade: ${UPGRADE_TYPE}`,
        `X-Teleport-Upgrade: ${UPGRADE_TYPE}`,
        'Connection: Upgrade',
        `Sec-WebSocket-Key: ${key}`,
        `Sec-WebSocket-Protocol: ${UPGRADE_TYPE}`,
        'Sec-WebSocket-Version: 13',
        '',
        '',
      ].join('\r\n'),
    );
    const { status, headers, rest } = await readResponseHead(outer, timeoutMs);
    if (status === 404) throw new Error(`the Proxy does not support the connection upgrade (${CONN_UPGRADE_PATH} answered HTTP 404)`);
    if (status !== 101) throw new Error(`the connection upgrade failed: HTTP ${status || 'response unreadable'}`);
    const upgrade = (headers.get('upgrade') ?? '').toLowerCase();
    if (upgrade === 'websocket') {
      const accept = createHash('sha1').update(key + WS_GUID).digest('base64');
      if (headers.get('sec-websocket-accept') !== accept) throw new Error('the connection upgrade failed: wrong Sec-WebSocket-Accept');
      if (headers.get('sec-websocket-protocol') !== UPGRADE_TYPE) throw new Error(`the connection upgrade failed: the Proxy chose WebSocket protocol ${JSON.stringify(headers.get('sec-websocket-protocol') ?? '')}`);
      const ws = new WebSocketStream(outer, rest);
      outer.resume();
      return ws;
    }
    if (upgrade === UPGRADE_TYPE) {
      const pc = new PingConnStream(outer, rest);
      outer.resume();
      return pc;
    }
    if (upgrade === 'alpn') {
      if (rest.length) outer.unshift(rest);
      outer.resume();
      return outer;
    }
    throw new Error(`the connection upgrade failed: unexpected Upgrade ${JSON.stringify(upgrade)}`);
  } catch (err) {
    outer.destroy();
    throw err;
  }
}
