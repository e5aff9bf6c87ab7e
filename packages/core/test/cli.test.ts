// The shared command line, run in-process with injected io against the sandbox: version line,
// exit codes, one clear line for bad input, graceful stop, and a fatal error ending `start`.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '@tap/sandbox';
import { runPluginCli } from '@tap/core';
import { RecordingMessenger, eventually, recordingChannel } from '@tap/core/testing';

let sandbox: Sandbox;
let dir: string;
beforeAll(async () => {
  sandbox = await startSandbox();
  dir = mkdtempSync(join(tmpdir(), 'tap-cli-'));
  await sandbox.writeIdentity(join(dir, 'auth_id'), { user: 'access-plugin', roles: ['access-plugin'] });
});
afterAll(() => sandbox.close());

function run(argv: string[], options: { env?: Record<string, string>; stopSignal?: AbortSignal; messenger?: RecordingMessenger } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io = { stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => err.push(s) }, env: options.env ?? {} };
  const code = runPluginCli(recordingChannel('test', options.messenger ?? new RecordingMessenger()), { argv, io, stopSignal: options.stopSignal, handleSignals: false });
  return { code, stdout: () => out.join(''), stderr: () => err.join('') };
}

let configs = 0;
/** A config for the sandbox that logs (text) to a file, which the test reads. */
function writeConfig(extra = '') {
  const n = ++configs;
  const log = join(dir, `plugin-${n}.log`);
  const path = join(dir, `teleport-test-${n}.toml`);
  writeFileSync(path, `[teleport]\naddr = "${sandbox.authAddr}"\nidentity = "${join(dir, 'auth_id')}"\n[log]\noutput = "${log}"\nseverity = "info"\n[role_to_recipients]\n"*" = ["#all"]\n${extra}`);
  const logLines = () => {
    try {
      return readFileSync(log, 'utf8').split('\n').filter(Boolean);
    } catch {
      return []; // not created yet
    }
  };
  return { path, logLines };
}
const logged = (lines: string[], msg: string) => lines.filter((l) => l.includes(` ${msg}`));

describe('version', () => {
  it('prints the name, version and runtime, with the git ref when built with one', async () => {
    const plain = run(['version']);
    expect(await plain.code).toBe(0);
    expect(plain.stdout()).toBe(`teleport-test v0.0.0 node ${process.version}\n`);
    const tagged = run(['version'], { env: { TAP_GIT_REF: 'v1.2.3-0-gabcdef' } });
    expect(await tagged.code).toBe(0);
    expect(tagged.stdout()).toBe(`teleport-test v0.0.0 git:v1.2.3-0-gabcdef node ${process.version}\n`);
  });
});

describe('bad input', () => {
  it('start with a missing config file: exit 1, one line naming the path', async () => {
    const path = join(dir, 'nope', 'teleport-test.toml');
    const r = run(['start', '-c', path]);
    expect(await r.code).toBe(1);
    expect(r.stderr()).toBe(`teleport-test: ${path}: the config file does not exist\n`);
    expect(r.stdout()).toBe('');
  });

  it('start with an invalid config: exit 1, every problem listed', async () => {
    const path = join(dir, 'bad.toml');
    writeFileSync(path, '[teleport]\nrefresh_identity = true\n[log]\nseverity = "loud"\n');
    const r = run(['start', '--config', path]);
    expect(await r.code).toBe(1);
    expect(r.stderr()).toBe(
      `teleport-test: ${path} has 4 problems:\n` +
        '  - teleport.refresh_identity: `refresh_identity` requires that `identity` be set\n' +
        '  - teleport: no credentials configured (set `identity`, or `client_key`, `client_crt` and `root_cas`)\n' +
        '  - log.severity: unsupported logger severity: "loud"\n' +
        '  - role_to_recipients: missing required value role_to_recipients.\n',
    );
  });

  it('an unknown command or flag exits 1', async () => {
    const cmd = run(['launch']);
    expect(await cmd.code).toBe(1);
    expect(cmd.stderr()).toMatch(/unknown command 'launch'/);
    const flag = run(['start', '--colour']);
    expect(await flag.code).toBe(1);
    expect(flag.stderr()).toMatch(/unknown option '--colour'/);
  });
});

describe('start', () => {
  it('runs until the stop signal, handles requests meanwhile, and stops gracefully with exit 0', async () => {
    const { path, logLines } = writeConfig();
    const messenger = new RecordingMessenger();
    const stop = new AbortController();
    const r = run(['start', '-c', path], { stopSignal: stop.signal, messenger });
    await eventually(() => logged(logLines(), 'Plugin is ready').length === 1, 10_000, 'Plugin is ready');
    const id = await sandbox.createRequest({ user: 'alice@example.com', roles: ['editor'] });
    await messenger.waitFor(() => messenger.sendsOf(id).length === 1, 10_000, 'the announcement');
    stop.abort();
    expect(await r.code).toBe(0);
    // The log file is written asynchronously: wait for the last line.
    const lines = await eventually(() => (logged(logLines(), 'Successfully shut down').length ? logLines() : undefined), 5000, 'the last log line');
    expect(lines[0]).toMatch(/ INFO  Starting Teleport Access Test Plugin 0\.0\.0 /);
    expect(logged(lines, 'Attempting graceful shutdown')).toHaveLength(1);
    expect(logged(lines, 'Successfully shut down')).toHaveLength(1);
    expect(lines.filter((l) => / ERROR /.test(l))).toStrictEqual([]);
    expect(r.stderr()).toBe('');
  });

  it('a fatal error ends start with exit 1 and one clear log line saying why', async () => {
    const { path, logLines } = writeConfig();
    const r = run(['start', '-c', path], { env: { TELEPORT_PLUGIN_FAIL_FAST: 'true' } });
    await eventually(() => logged(logLines(), 'Plugin is ready').length === 1, 10_000, 'Plugin is ready');
    sandbox.faults.dropWatchStreams();
    expect(await r.code).toBe(1);
    await eventually(() => logged(logLines(), 'Terminating with fatal error').length, 5000, 'the fatal error logged');
    const errors = logLines().filter((l) => / (ERROR|FATAL) /.test(l));
    expect(errors).toStrictEqual([expect.stringMatching(/ ERROR Terminating with fatal error error="Connection problem detected\. Exiting as fail fast is on\."$/)]);
  });

  it('a fail-fast value Go cannot parse is fatal at startup, with Go\'s text', async () => {
    const { path, logLines } = writeConfig();
    const r = run(['start', '-c', path], { env: { TELEPORT_PLUGIN_FAIL_FAST: 'yes' } });
    expect(await r.code).toBe(1);
    await eventually(() => logged(logLines(), 'Terminating with fatal error').length, 5000, 'the fatal error logged');
    expect(logged(logLines(), 'Terminating with fatal error')).toStrictEqual([
      expect.stringContaining(`error="failed to parse content 'yes' of the TELEPORT_PLUGIN_FAIL_FAST environment variable"`),
    ]);
  });

  it('an unreachable Teleport is fatal, naming the address', async () => {
    const { path, logLines } = writeConfig();
    writeFileSync(path, readFileSync(path, 'utf8').replace(sandbox.authAddr, '127.0.0.1:1'));
    const r = run(['start', '-c', path]);
    expect(await r.code).toBe(1);
    await eventually(() => logged(logLines(), 'Terminating with fatal error').length, 5000, 'the fatal error logged');
    expect(logged(logLines(), 'Terminating with fatal error')).toStrictEqual([expect.stringContaining('127.0.0.1:1')]);
  }, 30_000);
});
