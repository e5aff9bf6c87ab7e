/**
 * The sandbox's Proxy: one TLS listener that routes by ALPN as Teleport's Proxy does with TLS
 * routing. A ClientHello whose first ALPN is `teleport-auth@<hex(cluster)>.teleport.cluster.local`
 * is forwarded as raw bytes to the Auth server (TLS stays end to end between plugin and Auth);
 * anything else is terminated with the web certificate and served as HTTPS: `/webapi/find`, and
 * `/webapi/connectionupgrade` (WebSocket `alpn`/`alpn-ping`, or the legacy raw upgrade), whose
 * tunnel is routed by ALPN again.
 *
 * `stripAlpn` puts an L7 load balancer in front: TLS always ends there with the web certificate
 * and no ALPN is negotiated, so only the connection upgrade reaches Auth.
 */
import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { connect as netConnect, createServer as createNetServer, type Server, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import { WebSocketServer, createWebSocketStream } from 'ws';
import { type CertificateAuthority, createCa, issueCert } from './pki.js';

export interface ProxyFrontOptions {
  clusterName: string;
  /** Where `teleport-auth@` connections go (the sandbox's Auth address). */
  authAddr: () => string;
  serverVersion: string;
  /** `/webapi/find` `proxy.tls_routing_enabled`; default true. */
  tlsRouting?: boolean;
  /** An ALPN-stripping L7 load balancer in front; default false. */
  stripAlpn?: boolean;
  /** How `/webapi/connectionupgrade` answers: WebSocket (v17+), legacy raw, or 404 (too old). */
  upgrade?: 'websocket' | 'legacy' | 'none';
  /** Extra DNS names on the web certificate (besides localhost and 127.0.0.1). */
  hostnames?: string[];
  /** Interval of the server's pings inside `alpn-ping` tunnels; default 5 s. */
  pingIntervalMs?: number;
  port?: number;
  /** The CA that signs the web certificate; default a new one. */
  webCa?: CertificateAuthority;
}

export interface ProxyFront {
  /** `127.0.0.1:<port>` of the web listener. */
  readonly addr: string;
  /** PEM of the CA that signed the web certificate (trust it with SSL_CERT_FILE). */
  readonly webCaPem: string;
  /** What came through, in order: `auth` (ALPN route), `web <path>`, `upgrade <type>`. */
  readonly log: string[];
  /** ALPN lists offered on connections routed to Auth. */
  readonly authAlpns: string[][];
  close(): Promise<void>;
}

/** Reads a TLS ClientHello's first record and returns its ALPN list (empty when none). */
export function parseClientHelloAlpn(record: Buffer): string[] | undefined {
  if (record.length < 5 || record[0] !== 0x16) return undefined;
  const recLen = record.readUInt16BE(3);
  if (record.length < 5 + recLen) return undefined;
  let p = 5;
  if (record[p] !== 0x01) return [];
  p += 4 + 2 + 32; // handshake header, client_version, random
  p += 1 + record[p]!; // session id
  p += 2 + record.readUInt16BE(p); // cipher suites
  p += 1 + record[p]!; // compression methods
  if (p + 2 > 5 + recLen) return [];
  const extEnd = p + 2 + record.readUInt16BE(p);
  p += 2;
  while (p + 4 <= extEnd) {
    const type = record.readUInt16BE(p);
    const len = record.readUInt16BE(p + 2);
    p += 4;
    if (type === 0x0010) {
      const out: string[] = [];
      let q = p + 2;
      while (q < p + len) {
        const l = record[q]!;
        out.push(record.subarray(q + 1, q + 1 + l).toString('latin1'));
        q += 1 + l;
      }
      return out;
    }
    p += len;
  }
  return [];
}

/** Waits for a complete first TLS record; resolves with the bytes read (to be replayed). */
function peekClientHello(stream: Duplex): Promise<{ head: Buffer; alpn: string[] | undefined }> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const complete = buf.length >= 5 && (buf[0] !== 0x16 || buf.length >= 5 + buf.readUInt16BE(3));
      if (!complete && buf.length < 64 * 1024) return;
      stream.off('data', onData);
      stream.off('error', reject);
      stream.pause();
      resolve({ head: buf, alpn: parseClientHelloAlpn(buf) });
    };
    stream.on('data', onData);
    stream.once('error', reject);
  });
}

/** A duplex that replays `head` and then relays `inner`, so a TLS server can take over a peeked socket. */
function replay(head: Buffer, inner: Duplex): Duplex {
  const d = new Duplex({
    read() {
      inner.resume();
    },
    write(chunk, _enc, cb) {
      inner.write(chunk, cb);
    },
    final(cb) {
      inner.end();
      cb();
    },
    destroy(err, cb) {
      inner.destroy();
      cb(err);
    },
  });
  d.push(head);
  inner.on('data', (c: Buffer) => {
    if (!d.push(c)) inner.pause();
  });
  inner.once('end', () => d.push(null));
  inner.once('error', (e) => d.destroy(e));
  inner.once('close', () => d.destroy());
  return d;
}

function pipeBoth(a: Duplex, b: Duplex): void {
  a.pipe(b);
  b.pipe(a);
  const kill = () => {
    a.destroy();
    b.destroy();
  };
  a.once('error', kill);
  b.once('error', kill);
  a.once('close', kill);
  b.once('close', kill);
}

/** Teleport's legacy `alpn-ping` framing, server side: 4-byte length prefix, 0 = ping. */
function pingConnServer(socket: Duplex, pingIntervalMs: number): Duplex {
  let buf = Buffer.alloc(0);
  const d = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _enc, cb) {
      const len = Buffer.alloc(4);
      len.writeUInt32BE(chunk.length);
      socket.write(Buffer.concat([len, chunk]), cb);
    },
    final(cb) {
      socket.end();
      cb();
    },
    destroy(err, cb) {
      clearInterval(timer);
      socket.destroy();
      cb(err);
    },
  });
  socket.on('data', (c: Buffer) => {
    buf = Buffer.concat([buf, c]);
    while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
      const len = buf.readUInt32BE(0);
      const payload = buf.subarray(4, 4 + len);
      buf = buf.subarray(4 + len);
      if (len && !d.push(Buffer.from(payload))) socket.pause();
    }
  });
  socket.once('end', () => d.push(null));
  socket.once('close', () => d.destroy());
  const timer = setInterval(() => socket.write(Buffer.alloc(4)), pingIntervalMs);
  timer.unref();
  return d;
}

export async function startProxyFront(options: ProxyFrontOptions): Promise<ProxyFront> {
  const webCa: CertificateAuthority = options.webCa ?? (await createCa(`web.${options.clusterName}`, 'web'));
  const webCert = await issueCert(webCa, {
    subject: `CN=proxy.${options.clusterName}`,
    dns: ['localhost', ...(options.hostnames ?? [])],
    ips: ['127.0.0.1'],
    ttlMs: 30 * 24 * 3600_000,
    usage: 'server',
  });
  const log: string[] = [];
  const authAlpns: string[][] = [];
  const sockets = new Set<Duplex>();
  const routePrefix = 'teleport-auth@';
  const clusterHex = Buffer.from(options.clusterName, 'utf8').toString('hex');
  const upgradeMode = options.upgrade ?? 'websocket';
  const pingIntervalMs = options.pingIntervalMs ?? 5_000;

  const toAuth = (stream: Duplex, head: Buffer, alpn: string[]) => {
    const route = alpn[0]!.slice(routePrefix.length);
    if (route !== `${clusterHex}.teleport.cluster.local`) {
      stream.destroy(); // unknown cluster: Teleport would look for a leaf cluster
      return;
    }
    log.push('auth');
    authAlpns.push(alpn);
    const [host, port] = options.authAddr().split(':');
    const upstream = netConnect({ host: host!, port: Number(port) });
    sockets.add(upstream);
    upstream.once('close', () => sockets.delete(upstream));
    upstream.write(head);
    stream.resume();
    pipeBoth(stream, upstream);
  };

  /** Routes a stream (a raw socket, or an upgraded tunnel) by its ClientHello. */
  const route = async (stream: Duplex, allowWeb: boolean) => {
    sockets.add(stream);
    stream.once('close', () => sockets.delete(stream));
    stream.on('error', () => stream.destroy());
    let peeked: { head: Buffer; alpn: string[] | undefined };
    try {
      peeked = await peekClientHello(stream);
    } catch {
      return stream.destroy();
    }
    const { head, alpn } = peeked;
    if (!alpn) return stream.destroy(); // not TLS
    if (!options.stripAlpn || !allowWeb) {
      if (alpn[0]?.startsWith(routePrefix)) return toAuth(stream, head, alpn);
      if (!allowWeb) return stream.destroy();
    }
    webTls.emit('connection', replay(head, stream));
  };

  // The web side: our TLS server (ALPN-aware) or the load balancer's (ALPN-blind).
  const webTls = tls.createServer({
    key: webCert.key.pem,
    cert: webCert.certPem,
    ...(options.stripAlpn ? {} : { ALPNProtocols: ['http/1.1', 'teleport-reversetunnel'] }),
  });
  webTls.on('secureConnection', (s) => {
    if (s.alpnProtocol === 'teleport-reversetunnel') s.destroy(); // SSH tunnel: not emulated
    else http.emit('connection', s);
  });
  webTls.on('tlsClientError', () => {});

  const http = createHttpServer((req, res) => {
    log.push(`web ${req.url}`);
    if (req.method === 'GET' && (req.url === '/webapi/find' || req.url === '/webapi/ping')) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(
        JSON.stringify({
          auth: {},
          proxy: {
            kube: { enabled: false },
            ssh: { listen_addr: '0.0.0.0:3023', tunnel_listen_addr: '0.0.0.0:3024', web_listen_addr: '0.0.0.0:3080', public_addr: front.addr },
            db: {},
            tls_routing_enabled: options.tlsRouting ?? true,
          },
          server_version: options.serverVersion,
          min_client_version: '17.0.0',
          cluster_name: options.clusterName,
          edition: 'oss',
          fips: false,
        }),
      );
      return;
    }
    res.writeHead(404, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ error: { message: 'not found' } }));
  });

  const wss = new WebSocketServer({ noServer: true, handleProtocols: (protocols) => ([...protocols].find((p) => p === 'alpn-ping' || p === 'alpn') ?? false) });
  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const offered = [req.headers['x-teleport-upgrade'], req.headers.upgrade]
      .flatMap((v) => (Array.isArray(v) ? v : v ? [v] : []))
      .flatMap((v) => v.split(','))
      .map((v) => v.trim().toLowerCase());
    if (req.url !== '/webapi/connectionupgrade' || upgradeMode === 'none') {
      log.push(`web ${req.url} (upgrade refused)`);
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    if (upgradeMode === 'websocket' && offered.includes('websocket')) {
      req.headers.upgrade = 'websocket'; // Go clients also send a legacy `Upgrade: alpn-ping`
      wss.handleUpgrade(req, socket, head, (ws) => {
        log.push(`upgrade websocket ${ws.protocol}`);
        if (ws.protocol === 'alpn-ping') {
          const t = setInterval(() => ws.ping(), pingIntervalMs);
          t.unref();
          ws.once('close', () => clearInterval(t));
        }
        void route(createWebSocketStream(ws), false);
      });
      return;
    }
    const type = offered.includes('alpn-ping') ? 'alpn-ping' : offered.includes('alpn') ? 'alpn' : undefined;
    if (!type) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    log.push(`upgrade legacy ${type}`);
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: ${type}\r\nConnection: Upgrade\r\n\r\n`);
    if (head.length) socket.unshift(head);
    void route(type === 'alpn-ping' ? pingConnServer(socket, pingIntervalMs) : socket, false);
  });

  const server: Server = createNetServer((socket: Socket) => void route(socket, true));
  server.listen(options.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;

  const front: ProxyFront = {
    addr: `127.0.0.1:${port}`,
    webCaPem: webCa.pem,
    log,
    authAlpns,
    async close() {
      for (const s of sockets) s.destroy();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return front;
}
