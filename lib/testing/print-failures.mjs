// For .ci/run: the failed tests of vitest's JSON report, one line each (file > test: first line
// of the error), and files that failed outside any test (a hook, an import). Prints nothing when
// every test passed; says so when there is no report at all.
import { readFileSync } from 'node:fs';
import path from 'node:path';

const file = process.argv[2];
let report;
try {
  report = JSON.parse(readFileSync(file, 'utf8'));
} catch (error) {
  console.log(`no test report at ${file} (${error.code ?? error.message}): vitest did not finish - killed, out of memory, or stopped in its global setup (embedded PostgreSQL, the mock cluster); see the end of the output above`);
  process.exit(0);
}
const firstLine = (text) => String(text ?? '').replace(/\u001b\[[0-9;]*m/g, '').split('\n').find((line) => line.trim()) ?? '';
for (const result of report.testResults ?? []) {
  const name = path.relative(process.cwd(), result.name ?? '');
  const failed = (result.assertionResults ?? []).filter((a) => a.status === 'failed');
  for (const test of failed) console.log(`${name} > ${test.title}: ${firstLine(test.failureMessages?.[0]).slice(0, 300)}`);
  if (result.status === 'failed' && failed.length === 0) console.log(`${name}: failed outside its tests: ${firstLine(result.message).slice(0, 300)}`);
}
