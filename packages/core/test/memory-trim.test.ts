// Giving memory back after a burst: one memory-reducing collection once the plugin has been quiet,
// never while it works, never without work since the last one. The collector is V8's own
// (`--expose-gc`); here a counting wrapper stands in when the test runner does not expose it.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '@tap/sandbox';
import { IdleMemoryTrimmer, type GcFunction } from '@tap/core';
import { eventually, startTestPlugin } from '@tap/core/testing';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function countingGc() {
  const calls: unknown[] = [];
  const gc: GcFunction = (options) => {
    calls.push(options);
    (globalThis as { gc?: GcFunction }).gc?.(options);
  };
  return { gc, calls };
}

describe('IdleMemoryTrimmer', () => {
  it('trims once after the quiet period, not while work goes on, and not again without work', async () => {
    const { gc, calls } = countingGc();
    const trimmer = new IdleMemoryTrimmer({ quietMs: 300, gc });
    try {
      for (let i = 0; i < 10; i++) {
        trimmer.activity();
        await sleep(30);
      }
      expect(calls).toHaveLength(0);
      await eventually(() => calls.length === 1, 2000, 'the trim');
      expect(calls[0]).toStrictEqual({ type: 'major', execution: 'sync', flavor: 'last-resort' });
      await sleep(700);
      expect(calls).toHaveLength(1);
      trimmer.activity();
      await eventually(() => calls.length === 2, 2000, 'a second trim after more work');
    } finally {
      trimmer.stop();
    }
  });

  it('does nothing after stop()', async () => {
    const { gc, calls } = countingGc();
    const trimmer = new IdleMemoryTrimmer({ quietMs: 50, gc });
    trimmer.activity();
    trimmer.stop();
    await sleep(200);
    expect(calls).toHaveLength(0);
  });

  it("uses V8's collector when Node runs with --expose-gc, and is off without it", () => {
    const probe = `import('@tap/core').then((m) => console.log(new m.IdleMemoryTrimmer().enabled))`;
    const run = (flags: string[]) => execFileSync(process.execPath, [...flags, '--input-type=module', '-e', probe], { cwd: import.meta.dirname, encoding: 'utf8' }).trim();
    expect(run(['--expose-gc'])).toBe('true');
    expect(run([])).toBe('false');
  });
});

describe('a running plugin', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox();
  });
  afterAll(() => sandbox.close());

  it('trims after start and after each burst of requests, once it is quiet', async () => {
    const { gc, calls } = countingGc();
    const p = await startTestPlugin({ sandbox, deps: { memoryTrim: { quietMs: 1000, gc } } });
    try {
      await eventually(() => p.plugin.stats.memoryTrims === 1, 5000, 'the trim after start');
      const ids = await Promise.all(Array.from({ length: 20 }, () => sandbox.createRequest({ user: 'alice@example.com', roles: ['editor'] })));
      await p.recording!.waitFor(() => ids.every((id) => p.recording!.sendsOf(id).length === 1), 10_000);
      expect(p.plugin.stats.memoryTrims).toBe(1);
      await eventually(() => p.plugin.stats.memoryTrims === 2, 5000, 'the trim after the burst');
      expect(calls).toHaveLength(2);
      expect(p.log.find('Returned unused memory after a burst')).toHaveLength(2);
    } finally {
      await p.stop();
    }
  });
});
