/**
 * A forward HTTP proxy that only does `CONNECT`, like a corporate egress proxy, for testing
 * HTTPS_PROXY. It resolves names itself (`hosts` maps a name to `host:port`), so a test can
 * prove traffic went through it by dialing a name only the proxy knows. Optional Basic auth.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';

export interface ConnectProxyOptions {
  /** `name:port` → `host:port`; targets not listed are dialed as given. */
  hosts?: Record<string, string>;
  /** Required `user:password` (Basic `Proxy-Authorization`). */
  credentials?: string;
}

export interface ConnectProxy {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** CONNECT targets as requested, in order (denied ones too). */
  readonly connects: string[];
  close(): Promise<void>;
}

export async function startConnectProxy(options: ConnectProxyOptions = {}): Promise<ConnectProxy> {
  const connects: string[] = [];
  const sockets = new Set<Duplex>();
  const server = createServer((_req, res) => {
    res.writeHead(405, { 'Content-Type': 'text/plain' });
    res.end('only CONNECT is supported\n');
  });
  server.on('connect', (req: IncomingMessage, client: Duplex, head: Buffer) => {
    const target = req.url ?? '';
    connects.push(target);
    sockets.add(client);
    client.once('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    if (options.credentials) {
      const expected = `Basic ${Buffer.from(options.credentials).toString('base64')}`;
      if (req.headers['proxy-authorization'] !== expected) {
        client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="proxy"\r\nContent-Length: 0\r\n\r\n');
        return;
      }
    }
    const mapped = options.hosts?.[target] ?? target;
    const i = mapped.lastIndexOf(':');
    const upstream: Socket = connect({ host: mapped.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(mapped.slice(i + 1)) });
    sockets.add(upstream);
    upstream.once('connect', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.once('error', () => {
      if (!client.destroyed) client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n');
    });
    upstream.once('close', () => {
      sockets.delete(upstream);
      client.destroy();
    });
    client.once('close', () => upstream.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    connects,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
