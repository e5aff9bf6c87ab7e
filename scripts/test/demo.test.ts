// `npm run demo` (after the build): every plugin runs as a process against the sandbox and its
// service's stand-in, and the transcript shows the post, the review and the approval.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHANNELS } from '../demo-channels.mjs';

const ROOT = new URL('../../', import.meta.url).pathname;

describe('the demo', () => {
  it('runs every plugin end to end and exits 0', () => {
    const run = spawnSync(process.execPath, [join(ROOT, 'scripts/demo.mjs')], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    expect(run.stderr).not.toContain('demo failed');
    expect(run.status, run.stdout + run.stderr).toBe(0);
    for (const [name, channel] of Object.entries(CHANNELS) as Array<[string, { service: string }]>) {
      expect(run.stdout).toContain(`==== What ${channel.service} received (teleport-${name})`);
    }
    expect(run.stdout).toContain('Demo finished');
  }, 150_000);
});
