// `pdpilot trace stats` end to end: the built CLI (dist/, built by pretest) in a child process.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { azureTrace, repoRoot } from './fixtures/trace-test-helpers.js';

function pdpilot(...args: string[]) {
  const run = spawnSync(process.execPath, [join(repoRoot, 'bin', 'pdpilot.js'), ...args], { encoding: 'utf8' });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

t.test('--json on the conv trace prints the stats JSON of DESIGN.md', async (t) => {
  const path = azureTrace('conv');
  const run = pdpilot('trace', 'stats', path, '--json');
  t.equal(run.code, 0, run.stderr);
  const report = JSON.parse(run.stdout);
  t.same(Object.keys(report), ['path', 'format', 'requests', 'span_s', 'mean_rps', 'peak_1min_rps', 'input', 'output']);
  t.same(Object.keys(report.input), ['mean', 'p50', 'p90', 'p99', 'max']);
  t.match(report, { path, format: 'azure', requests: 19366, peak_1min_rps: 8.45, output: { p99: 601 } });
  t.equal(report.input.mean.toFixed(1), '1154.7');
});

t.test('the text table of the code trace', async (t) => {
  const run = pdpilot('trace', 'stats', azureTrace('code'));
  t.equal(run.code, 0, run.stderr);
  t.match(run.stdout, /^requests +8819$/m);
  t.match(run.stdout, /^span +3435\.9 s$/m);
  t.match(run.stdout, /^mean rate +2\.567 req\/s$/m);
  t.match(run.stdout, /^peak rate +10\.53 req\/s/m);
  t.match(run.stdout, /^input +2047\.8 +1469 +5187\.6 +7436 +7437$/m);
  t.match(run.stdout, /^output +27\.9 +13 +55 +251\.5 +1899$/m);
});

const BURST = [
  'Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type',
  '0,ChatGPT,100,10,110,API log',
  '1,ChatGPT,900,0,900,API log',
  '2,ChatGPT,x,30,330,API log',
  '3,ChatGPT,300,30,330,API log',
].join('\n');

t.test('a bad row exits 2 with one stderr line naming file and line', async (t) => {
  const path = join(t.testdir({ 'burst.csv': BURST }), 'burst.csv');
  const run = pdpilot('trace', 'stats', path, '--json');
  t.equal(run.code, 2);
  t.equal(run.stdout, '');
  t.equal(run.stderr, `${path}:4: Request tokens: expected a non-negative integer, got "x"\n`);
});

t.test('--lenient reports skipped_rows; failed rows are reported and excluded unless --include-failed', async (t) => {
  const path = join(t.testdir({ 'burst.csv': BURST }), 'burst.csv');
  const lenient = pdpilot('trace', 'stats', path, '--json', '--lenient');
  t.equal(lenient.code, 0, lenient.stderr);
  t.match(JSON.parse(lenient.stdout), { format: 'burstgpt', requests: 2, skipped_rows: 1, failed_rows: 1, input: { max: 300 } });
  const all = pdpilot('trace', 'stats', path, '--json', '--lenient', '--include-failed');
  t.match(JSON.parse(all.stdout), { requests: 3, failed_rows: 1, input: { max: 900 } });
  const text = pdpilot('trace', 'stats', path, '--lenient');
  t.match(text.stdout, new RegExp(`^skipped rows +1 \\(first: ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4: Request tokens`, 'm'));
  t.match(text.stdout, /^failed rows +1 \(excluded above; --include-failed counts them\)$/m);
});

t.test('--format overrides detection', async (t) => {
  const path = join(t.testdir({ 'trace.csv': 'when,in,out\n2023-11-16 18:00:00.0,5,6\n2023-11-16 18:01:00.0,7,8' }), 'trace.csv');
  const detected = pdpilot('trace', 'stats', path);
  t.equal(detected.code, 2);
  t.match(detected.stderr, new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: unknown trace format`));
  const given = pdpilot('trace', 'stats', path, '--format', 'azure', '--json');
  t.equal(given.code, 0, given.stderr);
  t.match(JSON.parse(given.stdout), { format: 'azure', requests: 2, span_s: 60 });
});

t.test('bad usage and missing files exit 2', async (t) => {
  const badFormat = pdpilot('trace', 'stats', azureTrace('code'), '--format', 'parquet');
  t.equal(badFormat.code, 2);
  t.match(badFormat.stderr, /argument 'parquet' is invalid/);
  const missing = pdpilot('trace', 'stats', 'no/such/trace.csv');
  t.equal(missing.code, 2);
  t.equal(missing.stderr, 'no/such/trace.csv: cannot read trace: no such file\n');
  t.equal(pdpilot('trace', 'stats').code, 2, 'no file given');
});
