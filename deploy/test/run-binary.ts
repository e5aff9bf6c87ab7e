// Running a single executable as an operator would (no Node on PATH), for the SEA tests.
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';

export const CLEAN_ENV = { PATH: '/nonexistent', HOME: tmpdir() };

export interface RunningBinary {
  /** Everything it wrote to stdout and stderr so far. */
  log(): string;
  /** SIGTERM, then its exit code, or 'still running' after `graceMs`. */
  stop(graceMs?: number): Promise<number | null | 'still running'>;
}

export function startBinary(binary: string, args: string[], options: { cwd: string; env?: Record<string, string> }): RunningBinary {
  const proc = spawn(binary, args, { cwd: options.cwd, env: { ...CLEAN_ENV, ...options.env } });
  let log = '';
  proc.stdout.on('data', (d) => (log += d));
  proc.stderr.on('data', (d) => (log += d));
  const exit = new Promise<number | null>((resolve) => proc.on('exit', resolve));
  return {
    log: () => log,
    stop(graceMs = 10_000) {
      proc.kill('SIGTERM');
      return Promise.race([exit, new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), graceMs))]);
    },
  };
}

/** Polls `check` until it holds; the error shows `describe()` (usually the log). */
export async function until(check: () => boolean, describe: () => string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out:\n${describe()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
