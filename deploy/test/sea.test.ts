import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLEAN_ENV, startBinary, until } from './run-binary.js';

// Builds the Slack single executable once (esbuild bundle + Node SEA) and runs it the way an
// operator would: from a directory outside the repo, with no Node on PATH.
const ROOT = new URL('../../', import.meta.url).pathname;
const BINARY = join(ROOT, 'dist/bin/teleport-slack');

describe('single executable (teleport-slack)', () => {
  beforeAll(() => {
    execFileSync(process.execPath, [join(ROOT, 'scripts/build-sea.mjs'), 'slack'], { cwd: ROOT, stdio: 'pipe' });
  }, 180_000);

  it('prints its version without Node installed, and nothing on stderr', () => {
    const run = spawnSync(BINARY, ['version'], { cwd: tmpdir(), env: CLEAN_ENV, encoding: 'utf8' });
    expect(run.stdout.trim()).toMatch(/^teleport-slack v\d+\.\d+\.\d+( git:\S+)? node v24\.\d+\.\d+$/);
    // e.g. "Code cache data rejected" when the code cache was made under other V8 flags.
    expect(run.stderr).toBe('');
  });

  it('prints the example config', () => {
    const out = execFileSync(BINARY, ['configure'], { cwd: tmpdir(), env: CLEAN_ENV, encoding: 'utf8' });
    expect(out).toContain('[teleport]');
    expect(out).toContain('[slack]');
    expect(out).toContain('[role_to_recipients]');
  });

  it('ships a release tarball with the binary, example config, unit and install script', () => {
    const listing = execFileSync('tar', ['-tzf', join(ROOT, 'dist/release/teleport-slack-v0.1.0-linux-amd64-bin.tar.gz')], { encoding: 'utf8' });
    expect(listing.split('\n').filter(Boolean).sort()).toEqual(
      ['teleport-slack/', 'teleport-slack/install', 'teleport-slack/teleport-slack', 'teleport-slack/teleport-slack.service', 'teleport-slack/teleport-slack.toml'].sort(),
    );
    expect(statSync(BINARY).mode & 0o111).not.toBe(0);
  });

  describe('start', () => {
    let sandbox: any;
    let fake: any;
    beforeAll(async () => {
      const { startSandbox } = await import('@tap/sandbox');
      const { FakeSlack } = await import('../../packages/slack/src/testing/fake-slack.js');
      sandbox = await startSandbox({ clusterName: 'sea.test' });
      fake = await FakeSlack.start();
      fake.addChannel('access-requests');
    });
    afterAll(async () => {
      await fake?.close();
      await sandbox?.stop();
    });

    it('reaches "Plugin is ready" against the sandbox, posts a request, gives memory back once quiet, and stops cleanly on SIGTERM', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sea-'));
      await sandbox.writeIdentity(join(dir, 'auth_id'), { user: 'slack-plugin', roles: ['access-plugin'] });
      const config = join(dir, 'teleport-slack.toml');
      writeFileSync(
        config,
        `[teleport]\naddr = "${sandbox.authAddr}"\nidentity = "${join(dir, 'auth_id')}"\n\n[slack]\ntoken = "${fake.token}"\napiurl = "${fake.url}"\n\n[role_to_recipients]\n"*" = ["#access-requests"]\n`,
      );
      const plugin = startBinary(BINARY, ['start', '-d', '-c', config], { cwd: dir });
      const log = plugin.log;
      let code: Awaited<ReturnType<typeof plugin.stop>> | undefined;
      try {
        await until(() => log().includes('Plugin is ready'), log);
        const id = await sandbox.createRequest({ user: 'alice@example.com', roles: ['editor'], reason: 'from the single executable' });
        await until(() => JSON.stringify(fake.messagesTo('#access-requests')).includes(id), () => `${log()}\n${fake.transcript()}`);
        // The binary's Node flags expose gc, so the plugin trims memory 5 s after its last event.
        const trimsBefore = log().split('Returned unused memory after a burst').length;
        await until(() => log().split('Returned unused memory after a burst').length > trimsBefore, log, 15_000);
      } finally {
        // Well before the 15 s graceful-stop deadline: nothing may keep the process alive once stopped.
        code = await plugin.stop();
      }
      expect(code).toBe(0);
    }, 60_000);
  });
});

