// `teleport-slack` as an operator runs it: configure, version, start with bad config, validate.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import TOML from '@iarna/toml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '@tap/sandbox';
import { runCli } from '@tap/core/testing';
import { slack } from '@tap/slack';
import { FakeSlack } from '../src/testing/fake-slack.js';

let sandbox: Sandbox;
let fake: FakeSlack;
let dir: string;
let identity: string;

beforeAll(async () => {
  sandbox = await startSandbox();
  fake = await FakeSlack.start();
  fake.addChannel('access-requests');
  fake.addChannel('uninvited', { member: false });
  fake.addUser('lead@example.com');
  dir = await mkdtemp(join(tmpdir(), 'slack-cli-'));
  identity = join(dir, 'auth_id');
  await sandbox.writeIdentity(identity, { user: 'slack-plugin', roles: ['access-plugin'] });
});
afterAll(async () => {
  await fake.close();
  await sandbox.close();
  await rm(dir, { recursive: true, force: true });
});

const run = (...argv: string[]) => runCli(slack, ...argv);

async function configFile(name: string, body: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, body);
  return path;
}

const config = (slackSection: string, recipients = `"*" = ["#access-requests"]`) => `
[teleport]
addr = "${sandbox.authAddr}"
identity = "${identity}"

[slack]
${slackSection}

[role_to_recipients]
${recipients}
`;

describe('configure and version', () => {
  it('prints an example config with the official keys that parses as TOML', async () => {
    const { code, stdout } = await run('configure');
    expect(code).toBe(0);
    const parsed = TOML.parse(stdout) as Record<string, Record<string, unknown>>;
    expect(Object.keys(parsed).sort()).toStrictEqual(['log', 'role_to_recipients', 'slack', 'teleport']);
    expect(parsed.slack!.token).toBe('xoxb-11xx');
    expect(parsed.log).toStrictEqual({ output: 'stderr', severity: 'INFO' });
    for (const key of ['addr', 'identity', 'refresh_identity', 'client_key', 'client_crt', 'root_cas']) expect(stdout).toContain(`# ${key} = `);
  });

  it('prints the version line', async () => {
    const { code, stdout } = await run('version');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^teleport-slack v\d+\.\d+\.\d+ node v\d+\.\d+\.\d+\n$/);
  });
});

describe('start with a bad config', () => {
  it('names the file and Go\'s missing "*" text, exit code 1', async () => {
    const path = await configFile('no-star.toml', config(`token = "${fake.token}"\napiurl = "${fake.url}"`, `"dev" = "#devs"`));
    const { code, stderr } = await run('start', '-c', path);
    expect(code).toBe(1);
    expect(stderr).toContain(path);
    expect(stderr).toContain('missing required value role_to_recipients[*].');
  });

  it('reads the token from a file given as an absolute path', async () => {
    const tokenPath = join(dir, 'slack-token');
    await writeFile(tokenPath, `${fake.token}\n`);
    const path = await configFile('token-file.toml', config(`token = "${tokenPath}"\napiurl = "${fake.url}"`));
    const { code, stdout } = await run('validate', '-c', path);
    expect(stdout).toContain('OK: bot "teleport"');
    expect(code).toBe(0);
  });

  it('reports a missing token file by its path', async () => {
    const path = await configFile('token-missing.toml', config(`token = "/nonexistent/slack-token"\napiurl = "${fake.url}"`));
    const { code, stderr } = await run('start', '-c', path);
    expect(code).toBe(1);
    expect(stderr).toContain('/nonexistent/slack-token');
  });
});

describe('validate', () => {
  it('checks Teleport, the token and every recipient, and exits 0 when all pass', async () => {
    const path = await configFile('good.toml', config(`token = "${fake.token}"\napi_url = "${fake.url}"`, `"*" = ["#access-requests", "lead@example.com"]`));
    const { code, stdout } = await run('validate', '-c', path);
    expect(stdout).toContain('Connected to cluster "sandbox.test"');
    expect(stdout).toContain('OK: bot "teleport" (U0BOT0001) in team "Example Corp"');
    expect(stdout).toMatch(/Recipient "lead@example.com": email U\d+/);
    expect(stdout).toContain('All checks passed.');
    expect(code).toBe(0);
  });

  it('posts a test message with --send-test and reports a channel the bot is not in', async () => {
    const path = await configFile('send-test.toml', config(`token = "${fake.token}"\napiurl = "${fake.url}"`));
    const before = fake.messagesTo('#access-requests').length;
    const ok = await run('validate', '-c', path, '--send-test');
    expect(ok.stdout).toMatch(/Test message sent, ID: \d+\.\d+/);
    expect(ok.code).toBe(0);
    expect(fake.messagesTo('#access-requests')).toHaveLength(before + 1);

    const failed = await run('validate', '-c', path, '--send-test', '#uninvited');
    expect(failed.stdout).toContain('Recipient "#uninvited" failed: not_in_channel: the Slack app is not a member of "#uninvited"; run /invite @teleport in that channel');
    expect(failed.stdout).toContain('1 check(s) failed.');
    expect(failed.code).toBe(1);
  });

  it('fails on a wrong token and an unknown email, exit code 1', async () => {
    const path = await configFile('bad-token.toml', config(`token = "xoxb-wrong"\napiurl = "${fake.url}"`));
    const { code, stdout } = await run('validate', '-c', path, 'ghost@example.com');
    expect(stdout).toContain('Failed: authentication failed, probably invalid token: invalid_auth');
    expect(stdout).toContain('Recipient "ghost@example.com" failed');
    expect(code).toBe(1);
  });
});
