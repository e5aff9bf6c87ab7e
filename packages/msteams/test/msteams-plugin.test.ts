// Teams beyond the shared suite: the card, channel recipients, app installation, requester
// notice, preload, throttling, and `validate` / `uninstall` output.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { type IncomingMessage, createServer } from 'node:http';
import { type AddressInfo, type Socket, connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '@tap/sandbox';
import { runPluginCli } from '@tap/core';
import { eventually, startTestPlugin, type TestPlugin } from '@tap/core/testing';
import { type MsTeamsSection, msteams, parseChannelUrl } from '@tap/msteams';
import { FakeMsTeams, cardStatus, cardText } from '../src/testing/fake-msteams.js';

let sandbox: Sandbox;
let fake: FakeMsTeams;
let channelUrl: string;
let dir: string;
const running: TestPlugin<MsTeamsSection>[] = [];

beforeAll(async () => {
  sandbox = await startSandbox({ advancedWorkflows: true, thresholds: { approve: 2, deny: 2 }, proxyPublicAddr: 'teleport.example.com:443' });
  fake = await FakeMsTeams.start();
  for (const mail of ['alice@example.com', 'lead@example.com', 'reviewer1@example.com']) fake.addUser(mail);
  channelUrl = fake.addChannel('Access Requests');
  dir = await mkdtemp(join(tmpdir(), 'msteams-'));
});
afterAll(async () => {
  await fake.close();
  await sandbox.close();
  await rm(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop()));
});

const section = (over: Partial<MsTeamsSection> = {}): MsTeamsSection => fake.section(over);

async function start(recipients: Record<string, string[]>, over: Partial<MsTeamsSection> = {}) {
  const p = await startTestPlugin<MsTeamsSection>({ sandbox, channel: msteams, section: section(over), recipients, user: 'msteams-plugin' });
  running.push(p);
  return p;
}

describe('channel URLs', () => {
  it('parses the team, channel thread and tenant as Go does', () => {
    const ref = parseChannelUrl('https://teams.microsoft.com/l/channel/19%3ae06a7383ed98468f90217a35fa1980d7%40thread.tacv2/Approval%2520Channel%25202?groupId=f2b3c8ed-5502-4449-b76f-dc3acea81f1c&tenantId=ff882432-09b0-437b-bd22-ca13c0037ded');
    expect(ref).toMatchObject({ chatId: '19:e06a7383ed98468f90217a35fa1980d7@thread.tacv2', name: 'Approval%20Channel%202', group: 'f2b3c8ed-5502-4449-b76f-dc3acea81f1c', tenant: 'ff882432-09b0-437b-bd22-ca13c0037ded' });
    expect(parseChannelUrl('https://teams.microsoft.com/l/channel/19%3ax/N?groupId=g')).toBeUndefined();
    expect(parseChannelUrl('https://teams.microsoft.com/channel/19%3ax/N?groupId=g&tenantId=t')).toBeUndefined();
    expect(parseChannelUrl('foo@example.com')).toBeUndefined();
    expect(parseChannelUrl('This is not an url 🙂')).toBeUndefined();
  });
});

describe('a request in Teams', () => {
  it('installs the app for a user, posts the card to them and to a channel, then edits both', async () => {
    await start({ '*': ['lead@example.com', channelUrl] });
    const id = await sandbox.createRequest({ user: 'alice@example.com', roles: ['editor'], reason: 'see [this](https://evil.example)' });
    const lead = await eventually(() => fake.activitiesTo('lead@example.com').find((a) => cardText(a.card).includes(id)), 10_000, 'the card to lead');
    const channel = await eventually(() => fake.activitiesTo('Access Requests').find((a) => cardText(a.card).includes(id)), 10_000, 'the card in the channel');
    expect(cardText(lead.card)).toContain(`Access Request ${id}`);
    expect(cardStatus(lead.card)).toBe('⏳ PENDING');
    expect(cardText(lead.card)).toContain('User: alice@example.com');
    expect(cardText(lead.card)).not.toContain('[this](https://evil.example)');
    expect(lead.card.actions).toStrictEqual([{ type: 'Action.OpenUrl', url: `https://teleport.example.com/web/requests/${id}`, title: 'Open' }]);
    expect(lead.from).toMatchObject({ name: 'TeleBot' });

    await sandbox.review(id, { author: 'reviewer1@example.com', state: 'APPROVED', reason: 'okay' });
    await sandbox.approve(id, 'fine');
    for (const a of [lead, channel]) {
      await eventually(() => cardStatus(a.card) === '✅ APPROVED', 10_000, 'the approval');
      expect(cardText(a.card)).toContain('Resolution reason: fine');
      expect(cardText(a.card)).toContain('Author: reviewer1@example.com');
    }
    // The requester is told once, in their own chat.
    await eventually(() => fake.activitiesTo('alice@example.com').some((a) => cardText(a.card).includes(`Request with ID "${id}" has been updated: *APPROVED*`)));
  });

  it('preload resolves every recipient at start and stops on one that cannot be reached', async () => {
    // The config loader fills preloadRecipients from [role_to_recipients] (see configure.test.ts).
    const p = await start({ '*': ['reviewer1@example.com'] }, { preload: true, preloadRecipients: ['reviewer1@example.com'] } as Partial<MsTeamsSection>);
    expect(p.log.has('Recipient data preloaded and cached')).toBe(true);
    expect(p.log.find('Recipient and chat found')).toHaveLength(1);
    await expect(start({ '*': ['ghost@example.com'] }, { preload: true, preloadRecipients: ['ghost@example.com'] } as Partial<MsTeamsSection>)).rejects.toThrow(/User by email ghost@example.com not found, try user id instead/);
  });

  it('waits out a Graph 429 with Retry-After', async () => {
    const p = await start({ '*': ['lead@example.com'] });
    fake.failNext('POST /emea/v3/conversations', 429, 1, 1);
    const id = await sandbox.createRequest({ user: 'alice@example.com', roles: ['editor'] });
    await eventually(() => fake.activitiesTo('lead@example.com').some((a) => cardText(a.card).includes(id)), 15_000);
    expect(p.log.has('Microsoft API call failed, retrying')).toBe(true);
  });

  it('refuses to start with a wrong secret, with Entra\'s words', async () => {
    await expect(start({ '*': ['lead@example.com'] }, { appSecret: 'wrong' })).rejects.toThrow(/Failed to get auth token 401 https:\/\/graph.microsoft.com\/.default invalid_client: AADSTS7000215/);
  });
});

/** `teleport-msteams validate -c config lead@example.com` in a child process (the built dist/). */
function spawnValidate(config: string, env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
  const child = spawn(process.execPath, [bin, 'validate', '-c', config, 'lead@example.com'], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out })));
}

describe('validate and uninstall', () => {
  async function configFile(name: string, teamsAppId = fake.teamsAppId, caFile = fake.caFile): Promise<string> {
    const identity = join(dir, `${name}.id`);
    await sandbox.writeIdentity(identity, { user: 'msteams-plugin', roles: ['access-plugin'] });
    const path = join(dir, `${name}.toml`);
    await writeFile(
      path,
      `[teleport]\naddr = "${sandbox.authAddr}"\nidentity = "${identity}"\n[msapi]\napp_id = "${fake.appId}"\napp_secret = "${fake.appSecret}"\ntenant_id = "${fake.tenantId}"\nteams_app_id = "${teamsAppId}"\nlogin_endpoint = "${fake.url}"\ngraph_endpoint = "${fake.graphUrl}"\nbot_endpoint = "${fake.url}"\n${caFile ? `ca_file = "${caFile}"\n` : ''}[role_to_recipients]\n"*" = ["reviewer1@example.com"]\n`,
    );
    return path;
  }
  async function run(...argv: string[]) {
    let stdout = '';
    const code = await runPluginCli(msteams, { argv, io: { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: () => true }, env: {} }, handleSignals: false });
    return { code, stdout };
  }

  it('validate <email> prints each step, posts the greeting and a sample card, exit 0', async () => {
    const before = fake.activitiesTo('lead@example.com').length;
    const { code, stdout } = await run('validate', '-c', await configFile('ok'), 'lead@example.com');
    expect(stdout).toContain(` - Checking application ${fake.teamsAppId} status...`);
    expect(stdout).toContain(` - Application found in the team app store (internal ID: ${fake.catalogId})`);
    expect(stdout).toMatch(/ - User lead@example.com found: U\d+/);
    expect(stdout).toMatch(/ - Application installation ID for recipient: inst-/);
    expect(stdout).toMatch(/ - Chat ID for recipient: 19:/);
    expect(stdout).toMatch(/ - Message sent, ID: \d+/);
    expect(stdout).toContain('Check your MS Teams!');
    expect(code).toBe(0);
    expect(fake.activitiesTo('lead@example.com').length).toBe(before + 2);
  });

  it('validate fails when the app is not in the org catalog', async () => {
    const { code, stdout } = await run('validate', '-c', await configFile('missing', 'not-uploaded'), 'lead@example.com');
    expect(stdout).toContain('Application not-uploaded not found in the org app store. Please, ensure that you have the application uploaded and installed for your team.');
    expect(code).toBe(1);
  });

  it('a child process trusts the service through NODE_EXTRA_CA_CERTS, and only then', async () => {
    const config = await configFile('extra-ca', fake.teamsAppId, '');
    const trusted = await spawnValidate(config, { NODE_EXTRA_CA_CERTS: fake.caFile });
    expect(trusted.out).toContain('Check your MS Teams!');
    expect(trusted.code).toBe(0);
    const untrusted = await spawnValidate(config, {});
    expect(untrusted.out).toContain(`cannot reach ${fake.url}: `);
    expect(untrusted.out).toContain('add its CA with [msapi] ca_file or NODE_EXTRA_CA_CERTS');
    expect(untrusted.code).toBe(1);
  });

  it('every Microsoft call of a child process goes through HTTPS_PROXY', async () => {
    const tunnels: string[] = [];
    const proxy = createServer((_req, res) => res.writeHead(405).end());
    proxy.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
      tunnels.push(req.url ?? '');
      const [host, port] = (req.url ?? '').split(':');
      const upstream = connect(Number(port), host, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(client).pipe(upstream);
      });
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    proxy.listen(0, '127.0.0.1');
    await once(proxy, 'listening');
    try {
      const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      const config = await configFile('proxied', fake.teamsAppId, '');
      const from = fake.calls.length;
      const connections = fake.connections;
      const { code, out } = await spawnValidate(config, { NODE_EXTRA_CA_CERTS: fake.caFile, HTTPS_PROXY: proxyUrl, NO_PROXY: '' });
      expect(out).toContain('Check your MS Teams!');
      expect(code).toBe(0);
      const target = new URL(fake.url).host;
      expect(tunnels.length).toBeGreaterThanOrEqual(3); // Entra ID, Graph, the connector
      expect(new Set(tunnels)).toStrictEqual(new Set([target]));
      // No connection bypassed the proxy.
      expect(fake.connections - connections).toBe(tunnels.length);
      const kinds = new Set(fake.calls.slice(from).map((c) => (c.includes(' /v1.0/') ? 'graph' : c.includes('/v3/') ? 'bot' : 'login')));
      expect(kinds).toStrictEqual(new Set(['login', 'graph', 'bot']));
    } finally {
      proxy.closeAllConnections();
      proxy.close();
    }
  });

  it('uninstall removes the app for every configured user', async () => {
    const { code, stdout } = await run('uninstall', '-c', await configFile('uninstall'));
    expect(stdout).toContain('Successfully uninstalled app for all recipients');
    expect(code).toBe(0);
  });
});
