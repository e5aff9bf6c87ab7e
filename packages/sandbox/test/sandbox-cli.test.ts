// `tap-sandbox start`: a cluster a plugin can use, driven by commands on stdin; and the
// sandbox semantics the plugins rely on (request lifecycle, plugin data Expect).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { runSandboxCli, startSandbox } from '@tap/sandbox';
import { type TeleportConfig, connectTeleport } from '@tap/core';
import { CapturedLog, eventually } from '@tap/core/testing';

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

describe('tap-sandbox start', () => {
  it('writes working credentials, prints the address, and runs request commands', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tap-sandbox-'));
    dirs.push(dir);
    const input = new PassThrough();
    let output = '';
    const done = runSandboxCli(['start', '--dir', dir, '--cluster', 'cli.test'], { input, output: { write: (s: string) => (output += s) } });
    const addr = await eventually(() => /addr = "([^"]+)"/.exec(output)?.[1], 10_000, 'the address');

    const config: TeleportConfig = { addr, identity: join(dir, 'identity'), refreshIdentity: false, refreshIdentityIntervalMs: 60_000 };
    const { client, ping } = await connectTeleport(config, { log: new CapturedLog().logger });
    expect(ping.clusterName).toBe('cli.test');

    input.write('create alice@example.com editor needs access\n');
    const id = await eventually(() => /\n([0-9a-f-]{36})\n/.exec(output)?.[1], 10_000, 'the request id');
    input.write(`approve ${id} ok\nlist\n`);
    await eventually(() => output.includes(`${id} alice@example.com editor APPROVED`), 10_000, 'the approved listing');
    const [request] = await client.listAccessRequests({ id }, AbortSignal.timeout(5_000));
    expect(request).toMatchObject({ id, user: 'alice@example.com', state: 'APPROVED', requestReason: 'needs access', resolveReason: 'ok' });
    client.close();
    input.write('bogus\nquit\n');
    expect(await done).toBe(0);
    expect(output).toContain('unknown command "bogus"');
    expect(await readFile(join(dir, 'auth.crt'), 'utf8')).toContain('BEGIN CERTIFICATE');
  });

  it('starts a TLS-routing Proxy behind an ALPN-stripping load balancer on request', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tap-sandbox-'));
    dirs.push(dir);
    const input = new PassThrough();
    let output = '';
    const done = runSandboxCli(['start', '--dir', dir, '--cluster', 'lb.test', '--web-proxy', '0', '--web-proxy-mode', 'strip-alpn'], { input, output: { write: (s: string) => (output += s) } });
    const proxyAddr = await eventually(() => /Proxy with TLS routing behind an ALPN-stripping load balancer:\n {2}\[teleport\] addr = "([^"]+)"/.exec(output)?.[1], 10_000, 'the proxy address');
    const config: TeleportConfig = { addr: proxyAddr, identity: join(dir, 'identity'), refreshIdentity: false, refreshIdentityIntervalMs: 60_000 };
    const log = new CapturedLog();
    const { client, ping } = await connectTeleport(config, { log: log.logger, env: { SSL_CERT_FILE: join(dir, 'web-ca.pem') } });
    expect(ping.clusterName).toBe('lb.test');
    expect(log.find('Connected to Teleport')[0]?.path).toBe('through the proxy (TLS routing, connection upgrade)');
    client.close();
    input.write('quit\n');
    expect(await done).toBe(0);
  });

  it('prints usage and exits 1 without a command', async () => {
    let output = '';
    expect(await runSandboxCli([], { input: new PassThrough(), output: { write: (s: string) => (output += s) } })).toBe(1);
    expect(output).toContain('usage: tap-sandbox start');
  });
});

describe('sandbox semantics', () => {
  it('plugin data follows Teleport\'s Expect rules and outlives the request', async () => {
    const sandbox = await startSandbox();
    try {
      const id = await sandbox.createRequest({ user: 'alice@example.com', roles: ['editor'] });
      sandbox.store.updatePluginData('access_request', id, 'p', { a: '1' }, { a: '' });
      expect(() => sandbox.store.updatePluginData('access_request', id, 'p', { a: '2' }, { a: '' })).toThrow(/expectations not met/);
      sandbox.store.updatePluginData('access_request', id, 'p', { a: '2' }, { a: '1' });
      await sandbox.expire(id);
      expect(sandbox.pluginData(id, 'p')).toStrictEqual({ a: '2' });
      sandbox.store.updatePluginData('access_request', id, 'p', { a: '' }, { a: '2' });
      expect(sandbox.pluginData(id, 'p')).toBeUndefined();
      expect(() => sandbox.store.updatePluginData('access_request', 'missing', 'p', { a: '1' }, {})).toThrow(/not found/);
    } finally {
      await sandbox.close();
    }
  });

  it('lists access requests a page at a time, oldest first, as Teleport\'s request cache does', async () => {
    const sandbox = await startSandbox();
    const dir = await mkdtemp(join(tmpdir(), 'tap-sandbox-'));
    dirs.push(dir);
    try {
      for (let i = 0; i < 1203; i++) await sandbox.createRequest({ user: `user${i % 7}@example.com`, roles: ['editor'] });
      await sandbox.writeIdentity(join(dir, 'identity'), { user: 'access-plugin' });
      const { client } = await connectTeleport({ addr: sandbox.authAddr, identity: join(dir, 'identity'), refreshIdentity: false, refreshIdentityIntervalMs: 60_000 }, { log: new CapturedLog().logger });
      const pages: string[][] = [];
      for await (const page of client.accessRequestPages(undefined, AbortSignal.timeout(10_000))) pages.push(page.map((r) => r.id));
      client.close();
      expect(pages.map((p) => p.length)).toStrictEqual([500, 500, 203]);
      const byCreation = [...sandbox.store.requests.values()]
        .sort((a, b) => a.created.getTime() - b.created.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        .map((r) => r.id);
      expect(pages.flat()).toStrictEqual(byCreation);
    } finally {
      await sandbox.close();
    }
  });

  it('resolves a request when the review threshold is reached, and refuses reviews after', async () => {
    const sandbox = await startSandbox({ thresholds: { approve: 2, deny: 2 } });
    try {
      const id = await sandbox.createRequest({ user: 'alice@example.com', roles: ['editor'] });
      expect((await sandbox.review(id, { author: 'r1', state: 'APPROVED' })).state).toBe('PENDING');
      expect((await sandbox.review(id, { author: 'r2', state: 'APPROVED' })).state).toBe('APPROVED');
      await expect(sandbox.review(id, { author: 'r3', state: 'DENIED' })).rejects.toThrow(/already APPROVED/);
    } finally {
      await sandbox.close();
    }
  });
});
