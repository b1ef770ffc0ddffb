// Prints the test run's closing line, `N passed, N failed` (and skipped), from vitest's JSON report.
import { readFileSync } from 'node:fs';

const file = process.argv[2];
let report;
try {
  report = JSON.parse(readFileSync(file, 'utf8'));
} catch (error) {
  console.log(`0 passed, 1 failed (no test report at ${file}: ${error.message})`);
  process.exit(0);
}
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
// A file that failed outside its tests (a hook or an import) counts once, unless one of its
// tests already failed: its other tests were skipped, not passed.
const failedFiles = (report.testResults ?? []).filter(
  (r) => r.status === 'failed' && !(r.assertionResults ?? []).some((a) => a.status === 'failed'),
).length;
const failed = (report.numFailedTests ?? 0) + failedFiles;
// Vitest fails a run on an error outside any test (an unhandled rejection) without failing a test:
// count it, so the closing line never reads "0 failed" for a run that failed.
const outside = report.success === false && failed === 0 ? 1 : 0;
console.log(`${report.numPassedTests ?? 0} passed, ${failed + outside} failed${skipped ? `, ${skipped} skipped` : ''}`);
