// `teleport-email` config and CLI: Go's texts, the example config, and `validate`.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import TOML from '@iarna/toml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '@tap/sandbox';
import { ConfigError, parseConfig } from '@tap/core';
import { runCli } from '@tap/core/testing';
import { email, type EmailSection, MAILGUN_EU } from '@tap/email';
import { TestSmtpServer } from '../src/testing/test-smtp-server.js';

let sandbox: Sandbox;
let smtp: TestSmtpServer;
let dir: string;
let identity: string;

beforeAll(async () => {
  sandbox = await startSandbox();
  smtp = await TestSmtpServer.start();
  dir = await mkdtemp(join(tmpdir(), 'email-cli-'));
  identity = join(dir, 'auth_id');
  await sandbox.writeIdentity(identity, { user: 'email-plugin', roles: ['access-plugin'] });
  await writeFile(join(dir, 'ca.pem'), smtp.caPem);
});
afterAll(async () => {
  await smtp.close();
  await sandbox.close();
  await rm(dir, { recursive: true, force: true });
});

const teleport = () => `[teleport]\naddr = "${sandbox.authAddr}"\nidentity = "${identity}"\n`;
const parse = (text: string) => parseConfig(email, '/etc/teleport-email.toml', `${teleport()}${text}`);
const problems = (text: string): string[] => {
  try {
    parse(text);
    return [];
  } catch (err) {
    return (err as ConfigError).message.split('\n');
  }
};

const run = (...argv: string[]) => runCli(email, ...argv);

describe('config', () => {
  it('reads [smtp] with Go defaults (port 587, mandatory) and a password file', async () => {
    await writeFile(join(dir, 'pw'), 'secret\n');
    const c = parse(`[smtp]\nhost = "smtp.example.com"\nusername = "bot"\npassword_file = "${join(dir, 'pw')}"\n[delivery]\nsender = "noreply@example.com"\n[role_to_recipients]\n"*" = "all@example.com"\n`);
    expect(c.section.transport).toStrictEqual({ kind: 'smtp', smtp: { host: 'smtp.example.com', port: 587, username: 'bot', password: 'secret', starttlsPolicy: 'mandatory', implicitTls: false, caPem: undefined } });
    const implicit = parse(`[smtp]\nhost = "h"\nport = 465\nusername = "u"\npassword = "p"\n[delivery]\nsender = "a@example.com"\n[role_to_recipients]\n"*" = "all@example.com"\n`);
    expect((implicit.section as EmailSection).transport).toMatchObject({ smtp: { implicitTls: true } });
  });

  it('reports every problem with Go\'s texts', () => {
    const out = problems(`[smtp]\nport = 25\nstarttls_policy = "insecure"\n[role_to_recipients]\n"dev" = "not-an-email"\n`).join('\n');
    expect(out).toContain('provide smtp.host to use SMTP');
    expect(out).toContain('provide smtp.username to use SMTP');
    expect(out).toContain('specify smtp.password or smtp.password_file');
    expect(out).toContain('invalid smtp.starttls_policy: unsupported starttls_policy "insecure" - provide one of mandatory, opportunistic, disabled or leave empty to default to mandatory');
    expect(out).toContain('missing required value delivery.sender');
    expect(out).toContain('missing required value role_to_recipients[*]');
    expect(out).toContain('invalid email address not-an-email in role_to_recipients.dev');
    expect(problems(`[delivery]\nsender = "a@example.com"\n[role_to_recipients]\n"*" = "all@example.com"\n`).join('\n')).toContain('provide either [mailgun] or [smtp] sections to work with plugin');
  });

  it('delivery.recipients stands for "*", and cannot be combined with role_to_recipients', () => {
    const c = parse(`[mailgun]\ndomain = "mg.example.com"\nprivate_key = "k"\nregion = "eu"\n[delivery]\nsender = "a@example.com"\nrecipients = ["all@example.com"]\n`);
    expect(c.roleToRecipients).toStrictEqual({ '*': ['all@example.com'] });
    expect(c.section.transport).toMatchObject({ kind: 'mailgun', mailgun: { apiBase: MAILGUN_EU } });
    expect(problems(`[mailgun]\ndomain = "d"\nprivate_key = "k"\n[delivery]\nsender = "a@example.com"\nrecipients = ["x@example.com"]\n[role_to_recipients]\n"*" = "all@example.com"\n`).join('\n')).toContain(
      'provide either delivery.recipients or role_to_recipients, not both',
    );
  });

  it('both [smtp] and [mailgun]: SMTP is used, with a warning', () => {
    const c = parse(`[mailgun]\ndomain = "d"\nprivate_key = "k"\n[smtp]\nhost = "h"\nusername = "u"\npassword = "p"\n[delivery]\nsender = "a@example.com"\n[role_to_recipients]\n"*" = "all@example.com"\n`);
    expect(c.section.transport.kind).toBe('smtp');
    expect(c.warnings.join('\n')).toContain('SMTP is used');
  });
});

describe('CLI', () => {
  it('configure prints the official keys as valid TOML', async () => {
    const { code, stdout } = await run('configure');
    expect(code).toBe(0);
    const parsed = TOML.parse(stdout) as Record<string, Record<string, unknown>>;
    expect(Object.keys(parsed).sort()).toStrictEqual(['delivery', 'log', 'mailgun', 'role_to_recipients', 'smtp', 'teleport']);
    expect(parsed.smtp).toMatchObject({ host: 'smtp.gmail.com', port: 587, starttls_policy: 'mandatory' });
    expect(parsed.delivery).toStrictEqual({ sender: 'noreply@example.com' });
  });

  const config = async (name: string, password: string) => {
    const path = join(dir, name);
    await writeFile(
      path,
      `${teleport()}[smtp]\nhost = "${smtp.host}"\nport = ${smtp.port}\nusername = "plugin"\npassword = "${password}"\nca_file = "${join(dir, 'ca.pem')}"\n[delivery]\nsender = "noreply@example.com"\n[role_to_recipients]\n"*" = "all@example.com"\n`,
    );
    return path;
  };

  it('validate prints each SMTP step and sends a test mail', async () => {
    const { code, stdout } = await run('validate', '-c', await config('good.toml', 'secret'), '--send-test', 'ops@example.com');
    expect(stdout).toContain('Connected to cluster "sandbox.test"');
    expect(stdout).toContain(`Checking SMTP 127.0.0.1:${smtp.port} (STARTTLS mandatory)...`);
    expect(stdout).toContain('OK: STARTTLS negotiated, certificate verified');
    expect(stdout).toContain('OK: authenticated as plugin');
    expect(stdout).toMatch(/Test mail sent to ops@example.com, Message-ID <[^<>]+>/);
    expect(stdout).toContain('All checks passed.');
    expect(code).toBe(0);
    expect(smtp.mailsTo('ops@example.com')).toHaveLength(1);
  });

  it('validate fails on a wrong password, exit code 1, and never prints the password', async () => {
    const { code, stdout, stderr } = await run('validate', '-c', await config('bad.toml', 'hunter2'));
    expect(stdout).toMatch(/Failed: authentication failed for plugin \(check \[smtp\] username and password\): 535/);
    expect(stdout + stderr).not.toContain('hunter2');
    expect(code).toBe(1);
  });
});
