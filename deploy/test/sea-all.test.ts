import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLEAN_ENV, startBinary, until } from './run-binary.js';

// The other four single executables (sea.test.ts runs Slack's): each one bundles its vendor
// SDKs, prints its version and its example config with no Node installed, and runs `start`
// against the sandbox and the local stand-in for its service the demo uses.
const ROOT = new URL('../../', import.meta.url).pathname;
const PLUGINS = ['mattermost', 'discord', 'email', 'msteams'] as const;
const binary = (p: string) => join(ROOT, `dist/bin/teleport-${p}`);

describe('single executables of every plugin', () => {
  beforeAll(() => {
    execFileSync(process.execPath, [join(ROOT, 'scripts/build-sea.mjs'), ...PLUGINS], { cwd: ROOT, stdio: 'pipe' });
  }, 600_000);

  for (const p of PLUGINS) {
    it(`teleport-${p} prints its version`, () => {
      const out = execFileSync(binary(p), ['version'], { cwd: tmpdir(), env: CLEAN_ENV, encoding: 'utf8' });
      expect(out.trim()).toMatch(new RegExp(`^teleport-${p} v\\d+\\.\\d+\\.\\d+( git:\\S+)? node v24\\.\\d+\\.\\d+$`));
    });
  }

  for (const p of ['mattermost', 'discord', 'email'] as const) {
    it(`teleport-${p} prints its example config`, () => {
      const out = execFileSync(binary(p), ['configure'], { cwd: tmpdir(), env: CLEAN_ENV, encoding: 'utf8' });
      expect(out).toContain('[teleport]');
      expect(out).toContain('[role_to_recipients]');
    });
  }

  describe('start', () => {
    let sandbox: any;
    let channels: Record<string, any>;
    beforeAll(async () => {
      const { startSandbox } = await import('@tap/sandbox');
      ({ CHANNELS: channels } = await import('../../scripts/demo-channels.mjs'));
      sandbox = await startSandbox({ clusterName: 'sea-all.test', advancedWorkflows: true, proxyPublicAddr: 'teleport.sea-all.test:443' });
    });
    afterAll(() => sandbox?.stop());

    for (const p of PLUGINS) {
      it(`teleport-${p} start announces a request, then stops cleanly on SIGTERM`, async () => {
        const channel = channels[p];
        const dir = mkdtempSync(join(tmpdir(), `sea-${p}-`));
        const fake = await channel.startFake(dir);
        const identity = join(dir, 'auth_id');
        await sandbox.writeIdentity(identity, { user: `${p}-plugin`, roles: ['access-plugin'] });
        const config = join(dir, `teleport-${p}.toml`);
        writeFileSync(config, `[teleport]\naddr = "${sandbox.authAddr}"\nidentity = "${identity}"\n\n${channel.config(fake)}`);
        const plugin = startBinary(binary(p), ['start', '-c', config], { cwd: dir, env: channel.env?.(fake) });
        let exit: Awaited<ReturnType<typeof plugin.stop>> | undefined;
        try {
          await until(() => plugin.log().includes('Plugin is ready'), plugin.log);
          await sandbox.createRequest({ user: 'alice@example.com', roles: ['editor'], reason: `from teleport-${p}`, suggestedReviewers: ['bob@example.com'] });
          await until(() => channel.posted(fake) >= 1, plugin.log);
        } finally {
          exit = await plugin.stop();
        }
        expect(exit).toBe(0);
        await fake.close?.();
      }, 60_000);
    }
  });

  it('teleport-msteams configure writes the TOML, app.zip and role from the binary', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'sea-msteams-')), 'assets'); // must not exist yet
    execFileSync(binary('msteams'), ['configure', dir, '--appID', '8a6e3c0e-5a44-4b7c-9d8e-2f0c1b7a9e11', '--tenantID', 'ff882432-09b0-437b-bd22-ca13c0037ded', '--appSecret', 'not-a-real-secret'], {
      cwd: tmpdir(),
      env: CLEAN_ENV,
      encoding: 'utf8',
    });
    for (const f of ['teleport-msteams.toml', 'app.zip', 'teleport-msteams-role.yaml']) expect(existsSync(join(dir, f)), f).toBe(true);
  });
});

