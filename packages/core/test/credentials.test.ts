// Credentials as operators provide them (identity file with each key format, the --format=tls
// triple, a tbot output directory) and every way they can be wrong, connected over mTLS to the
// sandbox Auth server; plus the version check.
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '@tap/sandbox';
import { type TeleportConfig, connectTeleport, loadCredentials } from '@tap/core';
import { CapturedLog } from '@tap/core/testing';

let sandbox: Sandbox;
let dir: string;

beforeAll(async () => {
  sandbox = await startSandbox({ clusterName: 'creds.test', serverVersion: '18.2.0' });
  dir = await mkdtemp(join(tmpdir(), 'creds-'));
});
afterAll(async () => {
  await sandbox.close();
  await rm(dir, { recursive: true, force: true });
});

const config = (over: Partial<TeleportConfig>): TeleportConfig => ({ addr: sandbox.authAddr, refreshIdentity: false, refreshIdentityIntervalMs: 60_000, ...over });

async function connect(over: Partial<TeleportConfig>, minServerVersion?: string) {
  const log = new CapturedLog();
  const conn = await connectTeleport(config(over), { log: log.logger, minServerVersion });
  conn.client.close();
  return { ...conn, log };
}

describe('identity file', () => {
  for (const keyType of ['rsa', 'ec', 'ec-sec1', 'ed25519'] as const) {
    it(`connects with a ${keyType} key and reads the cluster from Ping`, async () => {
      const path = join(dir, `identity-${keyType}`);
      await sandbox.writeIdentity(path, { user: 'access-plugin', roles: ['access-plugin'], keyType });
      const { ping } = await connect({ identity: path });
      expect(ping.clusterName).toBe('creds.test');
      expect(ping.serverVersion).toBe('18.2.0');
    });
  }

  it('says which file is missing or unreadable', async () => {
    expect(() => loadCredentials(config({ identity: join(dir, 'nope') }))).toThrow(`identity file ${join(dir, 'nope')} does not exist`);
    const path = join(dir, 'unreadable');
    await sandbox.writeIdentity(path, { user: 'access-plugin' });
    await chmod(path, 0o000);
    if (process.getuid?.() !== 0) expect(() => loadCredentials(config({ identity: path }))).toThrow(/is not readable \(permission denied\)/);
  });

  it('rejects a truncated file with a clear message', async () => {
    const path = join(dir, 'truncated');
    await sandbox.writeIdentity(path, { user: 'access-plugin' });
    const text = await readFile(path, 'utf8');
    await writeFile(path, text.slice(0, Math.floor(text.length / 3)));
    expect(() => loadCredentials(config({ identity: path }))).toThrow(/truncated/);
  });

  it('rejects an expired certificate with Go\'s text', async () => {
    const path = join(dir, 'expired');
    await sandbox.writeIdentity(path, { user: 'access-plugin', expired: true });
    expect(() => loadCredentials(config({ identity: path }))).toThrow(/expired credential found: the certificate for 'access-plugin', issued by 'creds.test' is not valid after/);
  });

  it('a certificate from another cluster\'s CA is refused by Auth, and the error says so', async () => {
    const path = join(dir, 'foreign');
    await sandbox.writeIdentity(path, { user: 'access-plugin', foreignCa: true });
    await expect(connect({ identity: path })).rejects.toThrow(/all connection methods failed|refused the plugin's credentials/);
  });

  it('warns when other users can read the identity file', async () => {
    const path = join(dir, 'world-readable');
    await sandbox.writeIdentity(path, { user: 'access-plugin' });
    await chmod(path, 0o644);
    const { log } = await connect({ identity: path });
    expect(log.find(/is readable by other users \(mode 644\); run chmod 600/)).toHaveLength(1);
  });
});

describe('tls triple and tbot directory', () => {
  it('connects with client_key, client_crt and root_cas', async () => {
    const files = await sandbox.writeTlsFiles(join(dir, 'auth'), { user: 'access-plugin' });
    const { ping } = await connect({ clientKey: files.key, clientCrt: files.crt, rootCas: files.cas });
    expect(ping.clusterName).toBe('creds.test');
  });

  it('connects with a tbot output directory given as identity', async () => {
    const tbot = join(dir, 'tbot');
    await mkdir(tbot, { recursive: true });
    await sandbox.writeTbotDir(tbot, { user: 'bot-access-plugin' });
    const { ping } = await connect({ identity: tbot });
    expect(ping.clusterName).toBe('creds.test');
  });
});

describe('version check', () => {
  it('refuses a server older than the channel needs', async () => {
    const path = join(dir, 'version');
    await sandbox.writeIdentity(path, { user: 'access-plugin' });
    await expect(connect({ identity: path }, '99.0.0')).rejects.toThrow('incompatible versions: 18.2.0 < 99.0.0');
  });

  it('lists every attempt when nothing answers', async () => {
    const path = join(dir, 'unreachable');
    await sandbox.writeIdentity(path, { user: 'access-plugin' });
    const log = new CapturedLog();
    await expect(connectTeleport(config({ addr: '127.0.0.1:1', identity: path }), { log: log.logger })).rejects.toThrow(/Unable to get Teleport server version: all connection methods failed:\n {2}- /);
  });
});
