// `teleport-discord` as an operator runs it: configure, version, bad config, validate.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import TOML from '@iarna/toml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '@tap/sandbox';
import { runCli } from '@tap/core/testing';
import { discord } from '@tap/discord';
import { FakeDiscord } from '../src/testing/fake-discord.js';

let sandbox: Sandbox;
let fake: FakeDiscord;
let dir: string;
let identity: string;
let lead: string;

beforeAll(async () => {
  sandbox = await startSandbox();
  fake = await FakeDiscord.start();
  fake.addChannel('access-requests', { id: '1001' });
  fake.addChannel('hidden', { id: '1002', access: false });
  lead = fake.addUser('lead');
  dir = await mkdtemp(join(tmpdir(), 'discord-cli-'));
  identity = join(dir, 'auth_id');
  await sandbox.writeIdentity(identity, { user: 'discord-plugin', roles: ['access-plugin'] });
});
afterAll(async () => {
  await fake.close();
  await sandbox.close();
  await rm(dir, { recursive: true, force: true });
});

const run = (...argv: string[]) => runCli(discord, ...argv);

async function configFile(name: string, section: string, recipients = `"*" = ["1001"]`): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `[teleport]\naddr = "${sandbox.authAddr}"\nidentity = "${identity}"\n\n[discord]\n${section}\n\n[role_to_recipients]\n${recipients}\n`);
  return path;
}

describe('teleport-discord', () => {
  it('configure prints the official keys as valid TOML; version prints one line', async () => {
    const { code, stdout } = await run('configure');
    expect(code).toBe(0);
    const parsed = TOML.parse(stdout) as Record<string, Record<string, unknown>>;
    expect(Object.keys(parsed).sort()).toStrictEqual(['discord', 'log', 'role_to_recipients', 'teleport']);
    expect(parsed.discord).toStrictEqual({ token: 'secret-token' });
    expect((await run('version')).stdout).toMatch(/^teleport-discord v\d+\.\d+\.\d+ node v\d+/);
  });

  it('start without a token fails with Go\'s text and the file name, exit code 1', async () => {
    const path = await configFile('no-token.toml', `apiurl = "${fake.url}"`);
    const { code, stderr } = await run('start', '-c', path);
    expect(code).toBe(1);
    expect(stderr).toContain(path);
    expect(stderr).toContain('missing required value discord.token');
  });

  it('validate checks the token and every recipient; --send-test posts', async () => {
    const tokenFile = join(dir, 'discord-token');
    await writeFile(tokenFile, `${fake.token}\n`);
    const path = await configFile('good.toml', `token = "${tokenFile}"\napi_url = "${fake.url}"`, `"*" = ["1001", "user:${lead}"]`);
    const { code, stdout } = await run('validate', '-c', path, '--send-test');
    expect(stdout).toContain('OK: bot "teleport"');
    expect(stdout).toContain('Recipient "1001": channel 1001');
    expect(stdout).toMatch(new RegExp(`Recipient "user:${lead}": user \\d+`));
    expect(stdout.match(/Test message sent, ID: \d+/g)).toHaveLength(2);
    expect(stdout).toContain('All checks passed.');
    expect(code).toBe(0);
  });

  it('validate fails on a wrong token and a channel the bot cannot see, exit code 1', async () => {
    const path = await configFile('bad.toml', `token = "wrong"\napiurl = "${fake.url}"`);
    const bad = await run('validate', '-c', path);
    expect(bad.stdout).toContain('Failed: health check failed, probably invalid token: 401: Unauthorized (code: 0, status: 401)');
    expect(bad.code).toBe(1);
    const hidden = await run('validate', '-c', await configFile('hidden.toml', `token = "${fake.token}"\napiurl = "${fake.url}"`, `"*" = ["1002"]`));
    expect(hidden.stdout).toContain('Recipient "1002" failed: channel 1002: the bot has no access');
    expect(hidden.code).toBe(1);
  });
});
