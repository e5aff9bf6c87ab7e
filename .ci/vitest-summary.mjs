// Prints the plain `N passed, N failed, N skipped` line CI reads, from vitest's JSON report.
import fs from 'node:fs';

let report;
try {
  report = JSON.parse(fs.readFileSync(process.argv[2] ?? '.ci/vitest-report.json', 'utf8'));
} catch {
  console.log('0 passed, 1 failed, 0 skipped');
  process.exit(1);
}
// A file that failed to load has no assertions but must count as a failure.
const brokenFiles = (report.testResults ?? []).filter((t) => t.status === 'failed' && !(t.assertionResults ?? []).length).length;
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
console.log(`${report.numPassedTests} passed, ${report.numFailedTests + brokenFiles} failed, ${skipped} skipped`);
