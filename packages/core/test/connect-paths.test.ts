// Every way the plugins reach Auth, over real sockets: directly; through the sandbox Proxy's
// TLS router with the `teleport-auth@` ALPN; inside the connection upgrade when a load balancer
// strips ALPN (WebSocket and the legacy framing, detected or forced by the environment); and
// through an HTTPS_PROXY that only the proxy can resolve names for.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProxyFront, type Sandbox, startConnectProxy, startSandbox } from '@tap/sandbox';
import { type TeleportClient, type TeleportConfig, type WatchEvent, authRouteAlpn, connectTeleport, connUpgradeFromEnv, proxyFor } from '@tap/core';
import { CapturedLog, eventually, startTestPlugin } from '@tap/core/testing';

const CLUSTER = 'paths.example.com';
let sandbox: Sandbox;
let dir: string;
let identity: string;

beforeAll(async () => {
  sandbox = await startSandbox({ clusterName: CLUSTER, serverVersion: '18.1.0' });
  dir = await mkdtemp(join(tmpdir(), 'paths-'));
  identity = join(dir, 'identity');
  await sandbox.writeIdentity(identity, { user: 'access-plugin', roles: ['access-plugin'] });
});
afterAll(async () => {
  await sandbox.close();
  await rm(dir, { recursive: true, force: true });
});

const config = (addr: string): TeleportConfig => ({ addr, identity, refreshIdentity: false, refreshIdentityIntervalMs: 60_000 });

/** Trusts the front's web CA the way an operator would: SSL_CERT_FILE. */
async function caEnv(front: ProxyFront): Promise<Record<string, string>> {
  const file = join(dir, `web-ca-${front.addr.replace(/\W/g, '_')}.pem`);
  await writeFile(file, front.webCaPem);
  return { SSL_CERT_FILE: file };
}

/** Watches access requests, creates one, and returns the id seen on the stream. */
async function watchOneRequest(client: TeleportClient): Promise<string> {
  const stream = client.watchEvents([{ kind: 'access_request' }]);
  const it = stream[Symbol.asyncIterator]();
  const first = (await it.next()).value as WatchEvent;
  expect(first.type).toBe('INIT');
  const id = await sandbox.createRequest({ user: 'alice', roles: ['editor'] });
  for (;;) {
    const ev = (await it.next()).value as WatchEvent;
    if (ev.type === 'PUT' && ev.kind === 'access_request') {
      stream.cancel();
      expect(ev.request.id).toBe(id);
      return id;
    }
  }
}

async function connectVia(addr: string, env: Record<string, string>) {
  const log = new CapturedLog();
  const conn = await connectTeleport(config(addr), { log: log.logger, env });
  return { ...conn, log };
}

describe('through the Proxy with TLS routing', () => {
  it('finds the Proxy, routes to Auth with the teleport-auth@ ALPN first, and streams events', async () => {
    const front = await sandbox.startProxy();
    const { client, ping, log } = await connectVia(front.addr, await caEnv(front));
    try {
      expect(ping.clusterName).toBe(CLUSTER);
      expect(front.log).toContain('web /webapi/find');
      expect(front.authAlpns[0]).toEqual([authRouteAlpn(CLUSTER), 'h2']);
      expect(authRouteAlpn('example.com')).toBe('teleport-auth@6578616d706c652e636f6d.teleport.cluster.local');
      expect(log.find('Connected to Teleport')[0]?.path).toBe('through the proxy (TLS routing)');
      expect(front.log.some((l) => l.startsWith('upgrade'))).toBe(false);
      await watchOneRequest(client);
    } finally {
      client.close();
      await front.close();
    }
  });

  it('does not trust a Proxy whose web certificate it cannot verify, and says so', async () => {
    const front = await sandbox.startProxy();
    try {
      const err = await connectVia(front.addr, {}).catch((e: Error) => e);
      expect(String(err)).toMatch(/all connection methods failed/);
      expect(String(err)).toMatch(/proxy discovery at https:\/\/127\.0\.0\.1:\d+\/webapi\/find: .*(certificate|verify)/i);
    } finally {
      await front.close();
    }
  });

  it('reports a Proxy without TLS routing among the failed attempts', async () => {
    const front = await sandbox.startProxy({ tlsRouting: false });
    try {
      const err = await connectVia(front.addr, await caEnv(front)).catch((e: Error) => e);
      expect(String(err)).toMatch(/the proxy does not have TLS routing enabled/);
    } finally {
      await front.close();
    }
  });
});

describe('connection upgrade (a load balancer strips ALPN)', () => {
  it('detects the stripped ALPN and tunnels through a WebSocket, answering the server pings', async () => {
    const front = await sandbox.startProxy({ stripAlpn: true, pingIntervalMs: 20 });
    const { client, log } = await connectVia(front.addr, await caEnv(front));
    try {
      expect(log.find('Connected to Teleport')[0]?.path).toBe('through the proxy (TLS routing, connection upgrade)');
      expect(front.log).toContain('upgrade websocket alpn-ping');
      // Pings arrive every 20 ms while the stream idles; the tunnel must survive them.
      await new Promise((r) => setTimeout(r, 200));
      await watchOneRequest(client);
      expect(front.authAlpns.length).toBeGreaterThan(0);
      expect(front.authAlpns.every((a) => a[0] === authRouteAlpn(CLUSTER))).toBe(true);
    } finally {
      client.close();
      await front.close();
    }
  });

  it('speaks the legacy alpn-ping framing to servers that do not answer with WebSocket', async () => {
    const front = await sandbox.startProxy({ stripAlpn: true, upgrade: 'legacy', pingIntervalMs: 20 });
    const { client } = await connectVia(front.addr, await caEnv(front));
    try {
      expect(front.log).toContain('upgrade legacy alpn-ping');
      await new Promise((r) => setTimeout(r, 100));
      await watchOneRequest(client);
    } finally {
      client.close();
      await front.close();
    }
  });

  it('is forced by TELEPORT_TLS_ROUTING_CONN_UPGRADE even where ALPN works', async () => {
    const front = await sandbox.startProxy();
    const { client } = await connectVia(front.addr, { ...(await caEnv(front)), TELEPORT_TLS_ROUTING_CONN_UPGRADE: 'true' });
    try {
      expect(front.log).toContain('upgrade websocket alpn-ping');
      await client.ping();
    } finally {
      client.close();
      await front.close();
    }
  });

  it('can be switched off for one address, and then the failure says what was tried', async () => {
    const front = await sandbox.startProxy({ stripAlpn: true });
    try {
      const env = { ...(await caEnv(front)), TELEPORT_TLS_ROUTING_CONN_UPGRADE: `true,${front.addr}=no` };
      const err = await connectVia(front.addr, env).catch((e: Error) => e);
      expect(String(err)).toMatch(/through the proxy \(TLS routing\) at 127\.0\.0\.1:\d+: /);
      expect(front.log.some((l) => l.startsWith('upgrade'))).toBe(false);
    } finally {
      await front.close();
    }
  });

  it('names the missing endpoint when the Proxy is too old for the upgrade', async () => {
    const front = await sandbox.startProxy({ stripAlpn: true, upgrade: 'none' });
    try {
      const err = await connectVia(front.addr, await caEnv(front)).catch((e: Error) => e);
      expect(String(err)).toMatch(/connection upgrade\) at .*\/webapi\/connectionupgrade answered HTTP 404/);
    } finally {
      await front.close();
    }
  });

  it('reads the override as the Go client does', () => {
    expect(connUpgradeFromEnv('p.example.com:443', undefined)).toBeUndefined();
    expect(connUpgradeFromEnv('p.example.com:443', 'true')).toBe(true);
    expect(connUpgradeFromEnv('p.example.com:443', 'p.example.com:443=yes,other.com:443=no')).toBe(true);
    expect(connUpgradeFromEnv('other.com:443', 'p.example.com:443=yes;other.com:443=no')).toBe(false);
    expect(connUpgradeFromEnv('third.com:443', '0,p.example.com:443=1')).toBe(false);
    expect(connUpgradeFromEnv('third.com:443', 'p.example.com:443=1,1')).toBe(true);
  });
});

describe('HTTPS_PROXY', () => {
  it('reaches a TLS-routing Proxy through CONNECT, with Basic credentials, for discovery and gRPC', async () => {
    const front = await sandbox.startProxy({ hostnames: ['proxy.corp.test'] });
    const egress = await startConnectProxy({ hosts: { 'proxy.corp.test:443': front.addr }, credentials: 'svc:p@ss word' });
    const url = new URL(egress.url);
    url.username = 'svc';
    url.password = 'p@ss word';
    const { client, log } = await connectVia('proxy.corp.test:443', { ...(await caEnv(front)), HTTPS_PROXY: url.toString() });
    try {
      expect(log.find('Connected to Teleport')[0]?.path).toBe(`through the proxy (TLS routing) via HTTP proxy ${egress.url}`);
      expect(JSON.stringify(log.lines)).not.toContain('p@ss');
      // /webapi/find, the ALPN probe and the gRPC connection all went through the egress proxy.
      expect(egress.connects.length).toBeGreaterThanOrEqual(3);
      expect(new Set(egress.connects)).toEqual(new Set(['proxy.corp.test:443']));
      await watchOneRequest(client);
    } finally {
      client.close();
      await egress.close();
      await front.close();
    }
  });

  it('combines with the connection upgrade', async () => {
    const front = await sandbox.startProxy({ hostnames: ['lb.corp.test'], stripAlpn: true });
    const egress = await startConnectProxy({ hosts: { 'lb.corp.test:443': front.addr } });
    const { client } = await connectVia('lb.corp.test', { ...(await caEnv(front)), https_proxy: egress.url });
    try {
      expect(front.log).toContain('upgrade websocket alpn-ping');
      await watchOneRequest(client);
    } finally {
      client.close();
      await egress.close();
      await front.close();
    }
  });

  it('also carries the direct Auth connection, and NO_PROXY turns it off', async () => {
    const egress = await startConnectProxy({ hosts: { 'auth.corp.test:3025': sandbox.authAddr } });
    try {
      const { client } = await connectVia('auth.corp.test:3025', { HTTPS_PROXY: egress.url });
      expect(egress.connects).toContain('auth.corp.test:3025');
      await client.ping();
      client.close();
      const before = egress.connects.length;
      const err = await connectVia('auth.corp.test:3025', { HTTPS_PROXY: egress.url, NO_PROXY: '.corp.test' }).catch((e: Error) => e);
      expect(String(err)).toMatch(/all connection methods failed/);
      expect(egress.connects.length).toBe(before);
    } finally {
      await egress.close();
    }
  });

  it('reports a proxy that refuses the credentials', async () => {
    const egress = await startConnectProxy({ credentials: 'svc:secret' });
    try {
      const err = await connectVia('proxy.corp.test:443', { HTTPS_PROXY: egress.url }).catch((e: Error) => e);
      expect(String(err)).toMatch(/refused CONNECT to proxy\.corp\.test:443: HTTP 407/);
    } finally {
      await egress.close();
    }
  });

  it('decides like Go: loopback never, NO_PROXY names, domains, CIDRs and ports', () => {
    const env = { HTTPS_PROXY: 'http://egress:3128', NO_PROXY: 'internal.corp, .svc.local,10.0.0.0/8,teleport.io:3025' };
    expect(proxyFor('127.0.0.1', 3025, env)).toBeUndefined();
    expect(proxyFor('localhost', 443, env)).toBeUndefined();
    expect(proxyFor('::1', 443, env)).toBeUndefined();
    expect(proxyFor('example.com', 443, env)).toMatchObject({ host: 'egress', port: 3128, display: 'http://egress:3128' });
    expect(proxyFor('internal.corp', 443, env)).toBeUndefined();
    expect(proxyFor('auth.internal.corp', 443, env)).toBeUndefined();
    expect(proxyFor('svc.local', 443, env)).toBeDefined();
    expect(proxyFor('a.svc.local', 443, env)).toBeUndefined();
    expect(proxyFor('10.1.2.3', 443, env)).toBeUndefined();
    expect(proxyFor('11.1.2.3', 443, env)).toBeDefined();
    expect(proxyFor('teleport.io', 3025, env)).toBeUndefined();
    expect(proxyFor('teleport.io', 443, env)).toBeDefined();
    expect(proxyFor('example.com', 443, { ...env, NO_PROXY: '*' })).toBeUndefined();
    expect(proxyFor('example.com', 443, { https_proxy: 'egress:8080' })).toMatchObject({ host: 'egress', port: 8080 });
    expect(proxyFor('example.com', 443, { HTTP_PROXY: 'http://fallback:80' })).toMatchObject({ host: 'fallback' });
    expect(proxyFor('example.com', 443, { HTTPS_PROXY: 'http://upper:1', https_proxy: 'http://lower:2' })).toMatchObject({ host: 'upper' });
    expect(() => proxyFor('example.com', 443, { HTTPS_PROXY: 'socks5://s:1080' })).toThrow(/socks5: is not supported/);
  });
});

describe('a plugin behind an egress proxy and an ALPN-stripping load balancer', () => {
  it('announces requests and, when the tunnel drops, dials a new one and catches up', async () => {
    const hostnames = ['teleport.corp.test'];
    const front = await sandbox.startProxy({ hostnames, stripAlpn: true, pingIntervalMs: 50 });
    const port = Number(front.addr.split(':')[1]);
    const egress = await startConnectProxy({ hosts: { 'teleport.corp.test:443': front.addr } });
    const p = await startTestPlugin({ sandbox, addr: 'teleport.corp.test:443', deps: { env: { ...(await caEnv(front)), HTTPS_PROXY: egress.url } } });
    try {
      const first = await sandbox.createRequest({ user: 'alice', roles: ['editor'] });
      await eventually(() => p.recording!.sendsOf(first).length > 0, 10_000, 'the first request announced');
      await front.close(); // the load balancer goes away with every tunnel through it
      const second = await sandbox.createRequest({ user: 'bob', roles: ['editor'] });
      const again = await sandbox.startProxy({ hostnames, stripAlpn: true, port });
      try {
        await eventually(() => p.recording!.sendsOf(second).length > 0, 20_000, 'the request created while the tunnel was down');
        expect(again.log).toContain('upgrade websocket alpn-ping');
        // The first message's record was cut off by the drop; it is retried, not posted again.
        expect(p.recording!.sendsOf(first)).toHaveLength(1);
      } finally {
        await p.stop();
        await again.close();
      }
    } finally {
      await p.stop();
      await egress.close();
    }
  });
});
