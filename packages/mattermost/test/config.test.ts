// The [mattermost] section through the real loader: every key, Go's texts, the recipients override.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, runPluginCli } from '@tap/core';
import { mattermost } from '@tap/mattermost';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mm-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const teleport = '[teleport]\naddr = "localhost:3025"\nidentity = "/var/lib/teleport/plugins/mattermost/auth_id"\n';
const parse = (text: string) => parseConfig(mattermost, '/etc/teleport-mattermost.toml', teleport + text);
function problems(text: string): string[] {
  try {
    parse(text);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('[mattermost]', () => {
  it('reads url, token and recipients; recipients replace role_to_recipients with "*"', () => {
    const config = parse(`
[mattermost]
url = "https://mattermost.example.com/"
token = "abc123"
recipients = ["myteam/town-square", "first.last@example.com"]
`);
    expect(config.section).toStrictEqual({ url: 'https://mattermost.example.com', token: 'abc123', recipients: ['myteam/town-square', 'first.last@example.com'] });
    expect(config.roleToRecipients).toStrictEqual({ '*': ['myteam/town-square', 'first.last@example.com'] });
    expect(config.warnings).toStrictEqual([]);
  });

  it('keeps a sub-path of the server URL', () => {
    expect(parse('[mattermost]\nurl = "https://example.com/chat"\ntoken = "t"\n').section.url).toBe('https://example.com/chat');
  });

  it('needs no "*" in role_to_recipients and no recipients at all', () => {
    expect(parse('[mattermost]\nurl = "https://m.example.com"\ntoken = "t"\n').roleToRecipients).toStrictEqual({});
    const config = parse('[mattermost]\nurl = "https://m.example.com"\ntoken = "t"\n[role_to_recipients]\neditor = "ops/approvals"\n');
    expect(config.roleToRecipients).toStrictEqual({ editor: ['ops/approvals'] });
  });

  it('warns that role_to_recipients is ignored when recipients is set', () => {
    const config = parse('[mattermost]\nurl = "https://m.example.com"\ntoken = "t"\nrecipients = ["ops/approvals"]\n[role_to_recipients]\n"*" = "a@example.com"\n');
    expect(config.roleToRecipients).toStrictEqual({ '*': ['ops/approvals'] });
    expect(config.warnings).toStrictEqual(['role_to_recipients: ignored: [mattermost] recipients is set and replaces it (as in the Go plugin)']);
  });

  it('an empty recipients list leaves role_to_recipients in force', () => {
    const config = parse('[mattermost]\nurl = "https://m.example.com"\ntoken = "t"\nrecipients = []\n[role_to_recipients]\n"*" = "a@example.com"\n');
    expect(config.roleToRecipients).toStrictEqual({ '*': ['a@example.com'] });
  });

  it('warns (as Go would skip it at run time) about a recipient that is neither email nor team/channel', () => {
    const config = parse('[mattermost]\nurl = "https://m.example.com"\ntoken = "t"\n[role_to_recipients]\n"*" = ["fallback", "a/b/c", "ok@example.com"]\n');
    expect(config.warnings).toHaveLength(2);
    expect(config.warnings[0]).toBe('role_to_recipients."*": "fallback" is neither an email nor "team/channel"; it will be skipped (Recipient must be either a user email or a channel in the format "team/channel")');
    expect(parse('[mattermost]\nurl = "https://m.example.com"\ntoken = "t"\nrecipients = ["town-square"]\n').warnings[0]).toMatch(/^mattermost\.recipients\[0\]: "town-square" is neither/);
  });

  it('reports a missing token and url with Go\'s texts, token first', () => {
    expect(problems('[mattermost]\n')).toStrictEqual(['mattermost.token: missing required value mattermost.token', 'mattermost.url: missing required value mattermost.url']);
    expect(problems('')).toStrictEqual(['mattermost.token: missing required value mattermost.token', 'mattermost.url: missing required value mattermost.url']);
  });

  it('rejects a URL without scheme and host, naming the key and value', () => {
    expect(problems('[mattermost]\nurl = "mattermost.example.com"\ntoken = "t"\n')).toStrictEqual([
      'mattermost.url: "mattermost.example.com" is not a URL: give the scheme and host, e.g. https://mattermost.example.com',
    ]);
    expect(problems('[mattermost]\nurl = "ftp://m.example.com"\ntoken = "t"\n')[0]).toMatch(/^mattermost\.url: "ftp:\/\/m\.example\.com" must be an http\(s\) URL/);
    expect(problems('[mattermost]\nurl = "https://m.example.com"\ntoken = "t"\nrecipients = 3\n')[0]).toMatch(/^mattermost\.recipients: expected a string or an array of strings/);
  });

  it('reads the token from an absolute path, trimmed, and names a missing file', async () => {
    const path = join(dir, 'mattermost_token');
    await writeFile(path, '  s3cr3t-token\n');
    expect(parse(`[mattermost]\nurl = "https://m.example.com"\ntoken = "${path}"\n`).section.token).toBe('s3cr3t-token');
    expect(problems('[mattermost]\nurl = "https://m.example.com"\ntoken = "/nonexistent/mattermost_token"\n')).toStrictEqual([
      'mattermost.token: Error reading password from /nonexistent/mattermost_token',
    ]);
  });
});

describe('start with a bad config', () => {
  it('prints one clear error naming the file and key, and exits 1; the token never shows', async () => {
    const path = join(dir, 'bad.toml');
    await writeFile(path, `${teleport}[mattermost]\ntoken = "very-secret-token"\nurl = "not a url"\n`);
    let stdout = '';
    let stderr = '';
    const code = await runPluginCli(mattermost, {
      argv: ['start', '-c', path],
      io: { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) }, env: {} },
      handleSignals: false,
    });
    expect(code).toBe(1);
    expect(stderr).toContain(path);
    expect(stderr).toContain('mattermost.url: "not a url" is not a URL');
    expect(stdout + stderr).not.toContain('very-secret-token');
  });
});

describe('docs/mattermost.md', () => {
  it('its complete example config loads as written', async () => {
    const doc = await readFile(new URL('../../../docs/mattermost.md', import.meta.url), 'utf8');
    const blocks = [...doc.matchAll(/```toml\n([\s\S]*?)```/g)].map((m) => m[1]!);
    const complete = blocks.find((b) => b.includes('[teleport]'))!;
    const tokenPath = join(dir, 'docs-token');
    await writeFile(tokenPath, 'tok\n');
    const config = parseConfig(mattermost, 'docs.toml', complete.replace('/var/lib/teleport/plugins/mattermost/mattermost_token', tokenPath));
    expect(config.section.token).toBe('tok');
    expect(config.section.url).toBe('https://mattermost.example.com');
    expect(config.roleToRecipients).toStrictEqual({ '*': ['myteam/access-requests', 'first.last@example.com'] });
    const byRole = parse(`[mattermost]\nurl = "https://m.example.com"\ntoken = "t"\n${blocks.find((b) => b.startsWith('[role_to_recipients]'))!}`);
    expect(byRole.warnings).toStrictEqual([]);
  });
});
