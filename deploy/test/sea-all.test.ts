import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

// The other four single executables (sea.test.ts runs Slack's against the sandbox): each one
// bundles its vendor SDKs, prints its version and its example config with no Node installed.
const ROOT = new URL('../../', import.meta.url).pathname;
const CLEAN_ENV = { PATH: '/nonexistent', HOME: tmpdir() };
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
