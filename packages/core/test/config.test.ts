// The shared config loader: Teleport's [teleport] and [log] keys with Go's defaults and error
// texts, every problem reported at once with its key path, unknown keys as warnings.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from '@tap/core';
import { recordingChannel } from '@tap/core/testing';

const channel = recordingChannel();
const FILE = '/etc/teleport-test.toml';
const RECIPIENTS = '[role_to_recipients]\n"*" = ["#all"]\n';
const parse = (text: string) => parseConfig(channel, FILE, text);
/** The problems of a config that must fail. */
const problems = (text: string): string[] => {
  try {
    parse(text);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('config was accepted');
};

describe('[teleport]', () => {
  it('reads every key, with Go defaults for the ones left out', () => {
    const c = parse(`[teleport]\naddr = "teleport.example.com:443"\nidentity = "/var/lib/teleport/plugin/auth_id"\nrefresh_identity = true\nrefresh_identity_interval = "1m30s"\n${RECIPIENTS}`);
    expect(c.teleport).toMatchObject({
      addr: 'teleport.example.com:443',
      identity: '/var/lib/teleport/plugin/auth_id',
      refreshIdentity: true,
      refreshIdentityIntervalMs: 90_000,
    });
    const d = parse(`[teleport]\nidentity = "auth_id"\n${RECIPIENTS}`);
    expect(d.teleport).toMatchObject({ addr: 'localhost:3025', refreshIdentity: false, refreshIdentityIntervalMs: 60_000 });
    expect(d.warnings).toStrictEqual([]);
  });

  it('takes the three TLS files instead of an identity', () => {
    const c = parse(`[teleport]\naddr = "auth:3025"\nclient_key = "/k.key"\nclient_crt = "/k.crt"\nroot_cas = "/k.cas"\n${RECIPIENTS}`);
    expect(c.teleport).toMatchObject({ clientKey: '/k.key', clientCrt: '/k.crt', rootCas: '/k.cas', identity: undefined });
  });

  it('uses the deprecated auth_server when addr is empty, with Go\'s warning', () => {
    const c = parse(`[teleport]\nauth_server = "old:3025"\nidentity = "auth_id"\n${RECIPIENTS}`);
    expect(c.teleport.addr).toBe('old:3025');
    expect(c.warnings).toStrictEqual(['teleport.auth_server: Configuration setting `auth_server` is deprecated, consider to change it to `addr`']);
    expect(parse(`[teleport]\naddr = "new:3025"\nauth_server = "old:3025"\nidentity = "auth_id"\n${RECIPIENTS}`).teleport.addr).toBe('new:3025');
  });

  it('rejects credential combinations with Go\'s texts', () => {
    expect(problems(`[teleport]\nclient_key = "/k.key"\n${RECIPIENTS}`)).toStrictEqual([
      'teleport: configuration setting(s) `client_key` are provided but setting(s) `client_crt`, `root_cas` are missing',
    ]);
    expect(problems(`[teleport]\nidentity = "auth_id"\nclient_key = "k"\nclient_crt = "c"\nroot_cas = "a"\n${RECIPIENTS}`)).toStrictEqual([
      'teleport: configuration setting `identity` is mutually exclusive with all the `client_crt`, `client_key` and `root_cas` settings',
    ]);
    expect(problems(`[teleport]\nrefresh_identity = true\nclient_key = "k"\nclient_crt = "c"\nroot_cas = "a"\n${RECIPIENTS}`)).toStrictEqual([
      'teleport.refresh_identity: `refresh_identity` requires that `identity` be set',
    ]);
    expect(problems(`[teleport]\naddr = "a:1"\n${RECIPIENTS}`)[0]).toMatch(/^teleport: no credentials configured/);
  });
});

describe('[log]', () => {
  it('defaults to stderr, info, text', () => {
    expect(parse(`[teleport]\nidentity = "i"\n${RECIPIENTS}`).log).toStrictEqual({ output: 'stderr', severity: 'info', format: 'text' });
  });

  it('reads output, format and every severity spelling Go accepts', () => {
    const c = parse(`[teleport]\nidentity = "i"\n[log]\noutput = "/var/lib/teleport/plugin.log"\nseverity = "DEBUG"\nformat = "json"\n${RECIPIENTS}`);
    expect(c.log).toStrictEqual({ output: '/var/lib/teleport/plugin.log', severity: 'debug', format: 'json' });
    const spellings: Record<string, string> = { info: 'info', err: 'error', error: 'error', debug: 'debug', trace: 'debug', warn: 'warn', warning: 'warn', Warning: 'warn' };
    for (const [given, want] of Object.entries(spellings)) {
      expect(parse(`[teleport]\nidentity = "i"\n[log]\nseverity = "${given}"\n${RECIPIENTS}`).log.severity, given).toBe(want);
    }
  });

  it('rejects an unknown severity and format with Go\'s texts', () => {
    expect(problems(`[teleport]\nidentity = "i"\n[log]\nseverity = "loud"\n${RECIPIENTS}`)).toStrictEqual(['log.severity: unsupported logger severity: "loud"']);
    expect(problems(`[teleport]\nidentity = "i"\n[log]\nformat = "xml"\n${RECIPIENTS}`)).toStrictEqual(['log.format: unsupported log output format : "xml"']);
  });
});

describe('reporting', () => {
  it('reports every problem at once, each with its key path, naming the file', () => {
    let error: ConfigError | undefined;
    try {
      parse(
        '[teleport]\nrefresh_identity = "yes"\nrefresh_identity_interval = "soon"\nclient_crt = "/c"\n' +
          '[log]\nseverity = "loud"\nformat = 3\n[role_to_recipients]\neditor = 5\n',
      );
    } catch (err) {
      error = err as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.problems).toStrictEqual([
      'teleport.refresh_identity: expected true or false, got a string ("yes")',
      'teleport.refresh_identity_interval: invalid duration "soon" (e.g. "1m", "30s")',
      'teleport: configuration setting(s) `client_crt` are provided but setting(s) `client_key`, `root_cas` are missing',
      'log.severity: unsupported logger severity: "loud"',
      'log.format: expected a string, got a number (3)',
      'role_to_recipients."editor": unexpected type for recipients value a number (5)',
      'role_to_recipients: missing required value role_to_recipients.',
    ]);
    expect(error!.message.split('\n')[0]).toBe(`${FILE} has 7 problems:`);
    expect(error!.message).toContain('  - log.severity: unsupported logger severity: "loud"');
  });

  it('requires role_to_recipients with a "*" entry, as Go does', () => {
    expect(problems('[teleport]\nidentity = "i"\n')).toStrictEqual(['role_to_recipients: missing required value role_to_recipients.']);
    expect(problems('[teleport]\nidentity = "i"\n[role_to_recipients]\neditor = ["#e"]\n')).toStrictEqual(['role_to_recipients: missing required value role_to_recipients[*].']);
    expect(parse('[teleport]\nidentity = "i"\n[role_to_recipients]\n"*" = "#all"\neditor = ["#e", "a@example.com"]\n').roleToRecipients).toStrictEqual({
      '*': ['#all'],
      editor: ['#e', 'a@example.com'],
    });
  });

  it('warns about unknown keys (a typo is not silently ignored) and still loads', () => {
    const c = parse(`[teleport]\nidentity = "i"\nadress = "x:1"\n[log]\nseverty = "debug"\n[extra]\nkey = 1\n${RECIPIENTS}`);
    expect(c.warnings).toStrictEqual(['teleport.adress: unknown key (ignored)', 'log.severty: unknown key (ignored)', 'extra.key: unknown key (ignored)']);
    expect(c.log.severity).toBe('info');
  });

  it('points at the line of a TOML syntax error', () => {
    expect(problems('[teleport]\nidentity = "i"\naddr = \n')[0]).toMatch(/^TOML syntax error at line 3, column \d+: /);
  });

  it('names the path of a missing file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tap-config-'));
    const path = join(dir, 'missing.toml');
    expect(() => loadConfig(channel, path)).toThrow(`${path}: the config file does not exist`);
    writeFileSync(join(dir, 'ok.toml'), `[teleport]\nidentity = "i"\n${RECIPIENTS}`);
    expect(loadConfig(channel, join(dir, 'ok.toml')).file).toBe(join(dir, 'ok.toml'));
  });
});
