import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const SCRIPT = new URL('../../.ci/vitest-summary.mjs', import.meta.url).pathname;

function summarize(report: unknown): { line: string; status: number | null } {
  const dir = mkdtempSync(join(tmpdir(), 'ci-'));
  const file = join(dir, 'report.json');
  writeFileSync(file, typeof report === 'string' ? report : JSON.stringify(report));
  const r = spawnSync(process.execPath, [SCRIPT, file], { encoding: 'utf8' });
  return { line: r.stdout.trim(), status: r.status };
}

describe('.ci summary line', () => {
  it('prints the plain "N passed, N failed, N skipped" line CI reads', () => {
    const { line } = summarize({ numPassedTests: 7, numFailedTests: 0, numPendingTests: 1, numTodoTests: 0, testResults: [] });
    expect(line).toBe('7 passed, 0 failed, 1 skipped');
  });

  it('counts a test file that failed to load as a failure', () => {
    const { line } = summarize({
      numPassedTests: 5,
      numFailedTests: 1,
      numPendingTests: 0,
      testResults: [{ status: 'failed', assertionResults: [] }, { status: 'failed', assertionResults: [{ status: 'failed' }] }],
    });
    expect(line).toBe('5 passed, 2 failed, 0 skipped');
  });

  it('reports a failure when the report is missing or unreadable', () => {
    const { line, status } = summarize('{not json');
    expect(line).toBe('0 passed, 1 failed, 0 skipped');
    expect(status).toBe(1);
  });
});
