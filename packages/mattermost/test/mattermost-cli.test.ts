// `teleport-mattermost` as an operator runs it, in-process: configure, version, validate.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import TOML from '@iarna/toml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '@tap/sandbox';
import { parseConfig, runPluginCli } from '@tap/core';
import { mattermost } from '@tap/mattermost';
import { FakeMattermost } from '../src/testing/fake-mattermost.js';

let sandbox: Sandbox;
let fake: FakeMattermost;
let dir: string;
let identity: string;

beforeAll(async () => {
  sandbox = await startSandbox();
  fake = await FakeMattermost.start();
  fake.addChannel('myteam/access-requests');
  fake.addChannel('myteam/uninvited', { member: false });
  fake.addUser('lead@example.com');
  dir = await mkdtemp(join(tmpdir(), 'mm-cli-'));
  identity = join(dir, 'auth_id');
  await sandbox.writeIdentity(identity, { user: 'mattermost-plugin', roles: ['access-plugin'] });
});
afterAll(async () => {
  await fake.close();
  await sandbox.close();
  await rm(dir, { recursive: true, force: true });
});

async function run(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runPluginCli(mattermost, {
    argv,
    io: { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) }, env: {} },
    handleSignals: false,
  });
  return { code, stdout, stderr };
}

async function configFile(name: string, section: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `[teleport]\naddr = "${sandbox.authAddr}"\nidentity = "${identity}"\n\n[mattermost]\n${section}\n`);
  return path;
}

describe('configure and version', () => {
  it('prints an example config with the official keys that the loader accepts', async () => {
    const { code, stdout } = await run('configure');
    expect(code).toBe(0);
    const parsed = TOML.parse(stdout) as Record<string, Record<string, unknown>>;
    expect(Object.keys(parsed).sort()).toStrictEqual(['log', 'mattermost', 'teleport']);
    expect(parsed.teleport).toStrictEqual({ addr: 'example.com:3025' });
    expect(parsed.mattermost).toStrictEqual({ url: 'https://mattermost.example.com', token: 'api-token' });
    expect(parsed.log).toStrictEqual({ output: 'stderr', severity: 'INFO' });
    for (const key of ['identity', 'refresh_identity', 'client_key', 'client_crt', 'root_cas']) expect(stdout).toContain(`# ${key} = `);
    expect(stdout).toContain('# recipients = [');
    // With credentials filled in, the example loads as is.
    const config = parseConfig(mattermost, 'example.toml', stdout.replace('# identity = ', 'identity = '));
    expect(config.section.url).toBe('https://mattermost.example.com');
  });

  it('prints the version line', async () => {
    const { code, stdout } = await run('version');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^teleport-mattermost v\d+\.\d+\.\d+ node v\d+\.\d+\.\d+\n$/);
  });
});

describe('validate', () => {
  it('checks Teleport, the bot and every recipient, exit code 0', async () => {
    const path = await configFile('good.toml', `url = "${fake.url}"\ntoken = "${fake.token}"\nrecipients = ["myteam/access-requests", "lead@example.com"]`);
    const { code, stdout } = await run('validate', '-c', path);
    expect(stdout).toContain('Connected to cluster "sandbox.test"');
    expect(stdout).toContain(`OK: bot @teleport (${fake.bot.id}) on ${fake.url}`);
    expect(stdout).toMatch(/Recipient "myteam\/access-requests": channel \w{26}/);
    expect(stdout).toMatch(/Recipient "lead@example.com": email \w{26}/);
    expect(stdout).toContain('All checks passed.');
    expect(code).toBe(0);
  });

  it('--send-test posts to each recipient, and reports a channel the bot is not in (exit 1)', async () => {
    const path = await configFile('send-test.toml', `url = "${fake.url}"\ntoken = "${fake.token}"\nrecipients = ["myteam/access-requests"]`);
    const before = fake.postsIn('myteam/access-requests').length;
    const ok = await run('validate', '-c', path, '--send-test');
    expect(ok.stdout).toMatch(/Test message sent, ID: \w{26}/);
    expect(ok.code).toBe(0);
    expect(fake.postsIn('myteam/access-requests')).toHaveLength(before + 1);
    expect(fake.postsIn('myteam/access-requests').at(-1)!.message).toContain('Test message from teleport-mattermost');

    const failed = await run('validate', '-c', path, '--send-test', 'myteam/uninvited');
    expect(failed.stdout).toContain('Recipient "myteam/uninvited" failed: api error status_code=403, message="You do not have the appropriate permissions.": the bot cannot post to "myteam/uninvited"; run /invite @teleport in that channel');
    expect(failed.stdout).toContain('1 check(s) failed.');
    expect(failed.code).toBe(1);
  });

  it('fails on a wrong token and unknown recipients, exit code 1', async () => {
    const tokenPath = join(dir, 'mattermost_token');
    await writeFile(tokenPath, 'not-the-token\n');
    const path = await configFile('bad-token.toml', `url = "${fake.url}"\ntoken = "${tokenPath}"`);
    const { code, stdout } = await run('validate', '-c', path, 'ghost@example.com', 'town-square');
    expect(stdout).toContain('Failed: api error status_code=401, message="Invalid or expired session, please login again." (Mattermost refused the token: check [mattermost] token)');
    expect(stdout).toContain('Recipient "ghost@example.com" failed: Failed to lookup direct channel info for "ghost@example.com": api error status_code=401');
    expect(stdout).toContain('Recipient "town-square" failed: Recipient must be either a user email or a channel in the format "team/channel" but got "town-square"');
    expect(stdout).not.toContain('not-the-token');
    expect(code).toBe(1);
  });

  it('reports an invalid config as a failed check, exit code 1', async () => {
    const path = await configFile('no-url.toml', `token = "${fake.token}"`);
    const { code, stdout } = await run('validate', '-c', path);
    expect(stdout).toContain('mattermost.url: missing required value mattermost.url');
    expect(code).toBe(1);
  });
});
