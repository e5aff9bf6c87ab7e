import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const UNIT_DIR = new URL('../systemd/', import.meta.url).pathname;
const PLUGINS = ['slack', 'mattermost', 'discord', 'email', 'msteams'];

describe('systemd units', () => {
  it('ships one unit per plugin', () => {
    expect(readdirSync(UNIT_DIR).filter((f) => f.endsWith('.service')).sort()).toEqual(PLUGINS.map((p) => `teleport-${p}.service`).sort());
  });

  for (const plugin of PLUGINS) {
    describe(`teleport-${plugin}.service`, () => {
      const unit = readFileSync(join(UNIT_DIR, `teleport-${plugin}.service`), 'utf8');

      it('starts the plugin with its default config path, as a dedicated user, restarting on failure', () => {
        expect(unit).toMatch(new RegExp(`^ExecStart=/usr/local/bin/teleport-${plugin} start --config /etc/teleport-${plugin}.toml$`, 'm'));
        expect(unit).toMatch(/^User=teleport-plugin$/m);
        expect(unit).toMatch(/^Restart=on-failure$/m);
      });

      it('is hardened: no new privileges, read-only system, read-only config and identity', () => {
        expect(unit).toMatch(/^NoNewPrivileges=yes$/m);
        expect(unit).toMatch(/^ProtectSystem=strict$/m);
        expect(unit).toMatch(new RegExp(`^ReadOnlyPaths=.*/etc/teleport-${plugin}\\.toml.*/var/lib/teleport/plugins/${plugin}`, 'm'));
      });

      it('passes systemd-analyze verify without warnings', () => {
        // verify insists that ExecStart exists on this machine: point it at a stand-in binary.
        const dir = mkdtempSync(join(tmpdir(), 'unit-'));
        const bin = join(dir, `teleport-${plugin}`);
        writeFileSync(bin, '#!/bin/sh\nexit 0\n');
        chmodSync(bin, 0o755);
        const path = join(dir, `teleport-${plugin}.service`);
        writeFileSync(path, unit.replace(`/usr/local/bin/teleport-${plugin}`, bin));
        const result = spawnSync('systemd-analyze', ['verify', path], { encoding: 'utf8' });
        expect(result.error, 'systemd-analyze must be installed (apt-get install systemd)').toBeUndefined();
        expect(result.stderr).not.toMatch(/Unknown key|Failed to parse|Unknown section|Invalid/);
        expect(result.status, result.stderr).toBe(0);
      });
    });
  }

  it('the verify check catches an unknown key (so a typo cannot slip through)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'unit-'));
    const path = join(dir, 'typo.service');
    writeFileSync(path, '[Service]\nExecStart=/bin/true\nRestartSecc=5\n');
    const result = spawnSync('systemd-analyze', ['verify', path], { encoding: 'utf8' });
    expect(result.stderr).toMatch(/Unknown key/);
  });
});

