// `pdpilot replay` end to end: the built CLI (dist/) in a child process
// replays a slice of the real code trace against a real router over real sim
// worker processes; then bad input and a request the router rejects.
import t from 'tap';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openTrace } from '../../src/trace/index.js';
import { MODEL, startTestFleet, type TestFleet } from '../router/fixtures/fleet.js';
import { azureTrace, repoRoot } from '../trace/fixtures/trace-test-helpers.js';

const SLICE = 40;
const SPEEDUP = 20;

/** Runs the CLI without blocking this process's event loop (the router under test lives here). */
function pdpilot(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'pdpilot.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let f: TestFleet;
t.before(async () => {
  // The fixture's router: maxTokens 1024, context 8192; steps of about 1 ms.
  f = await startTestFleet({ roles: ['prefill', 'decode'] });
});
t.teardown(async () => {
  await f.close();
});

t.test(`the first ${SLICE} requests of the code trace at speedup ${SPEEDUP}: all complete with the trace's output lengths`, async (t) => {
  const expected: { input: number; output: number }[] = [];
  for await (const r of await openTrace(azureTrace('code'))) {
    if (expected.length === SLICE) break;
    expected.push({ input: r.inputTokens, output: r.outputTokens });
  }
  const dir = t.testdir();
  const out = join(dir, 'replay.json');
  const run = await pdpilot('replay', '--trace', azureTrace('code'), '--url', f.url, '--limit', String(SLICE), '--speedup', String(SPEEDUP), '--json', out);
  t.equal(run.code, 0, run.stderr);
  const report = JSON.parse(readFileSync(out, 'utf8'));
  for (const key of [
    'url', 'trace', 'model', 'speedup', 'requests', 'completed', 'failed', 'attainment',
    'ttft_p50_s', 'ttft_p90_s', 'ttft_p99_s', 'tpot_p50_s', 'tpot_p90_s', 'tpot_p99_s', 'ttft_mean_s', 'tpot_mean_s',
    'span_s', 'achieved_rps', 'send_lateness_p99_s',
  ]) {
    t.ok(key in report, `JSON has ${key}`);
  }
  t.match(report, { url: f.url, model: MODEL, speedup: SPEEDUP, requests: SLICE, completed: SLICE, failed: {}, token_mismatches: 0 });
  t.equal(report.output_tokens, expected.reduce((sum, r) => sum + r.output, 0), "tokens received = the trace's output lengths");
  t.ok(report.ttft_p50_s > 0 && report.ttft_mean_s > 0, 'TTFTs are positive');
  t.ok(report.ttft_p99_s >= report.ttft_p50_s && report.tpot_p99_s >= report.tpot_p50_s, 'percentiles ordered');
  t.ok(report.attainment >= 0 && report.attainment <= 1);
  // The slice spans about 15 s of trace time: about 0.75 s at speedup 20, sent close to the schedule.
  t.ok(report.span_s > 0.3 && report.span_s < 3, `span ${report.span_s} s`);
  t.ok(report.send_lateness_p99_s < 0.5, `send lateness p99 ${report.send_lateness_p99_s} s`);
  t.match(run.stdout, /^requests +40: 40 completed, 0 failed$/m);
  t.match(run.stdout, /^TTFT +mean [\d.]+ ms/m);
});

t.test('a request the router rejects (prompt over the context) is counted in failed, not fatal', async (t) => {
  const dir = t.testdir({
    'trace.jsonl': ['{"t": 0, "input": 20, "output": 5}', '{"t": 0.01, "input": 9000, "output": 5}', '{"t": 0.02, "input": 0, "output": 0}'].join('\n'),
  });
  const run = await pdpilot('replay', '--trace', join(dir, 'trace.jsonl'), '--url', `${f.url}/v1`, '--json', '-');
  t.equal(run.code, 0, run.stderr);
  const report = JSON.parse(run.stdout);
  t.match(report, { requests: 3, completed: 2, failed: { context_length_exceeded: 1 } });
  // The zero-length row is sent with the router's minimums, 1 prompt token and 1 output token.
  t.equal(report.output_tokens, 6);
  t.equal(report.attainment <= 2 / 3, true, 'the rejected request is a miss');
});

t.test('bad input exits 2 naming the fault; an unreachable router exits 1 naming the URL', async (t) => {
  const dir = t.testdir({
    'bad.jsonl': ['{"t": 0, "input": 20, "output": 5}', '{"t": 1, "input": 20, "output": 5}', '{"t": 2, "input": "many", "output": 5}'].join('\n'),
  });
  const bad = join(dir, 'bad.jsonl');
  const noUrl = await pdpilot('replay', '--trace', bad);
  t.equal(noUrl.code, 2, 'no --url');
  t.match(noUrl.stderr, /--url/);

  const malformed = await pdpilot('replay', '--trace', bad, '--url', f.url);
  t.equal(malformed.code, 2, 'malformed trace');
  t.match(malformed.stderr, `${bad}:3: `);
  t.equal(malformed.stderr.trim().split('\n').length, 1, 'one line');

  const badSpeedup = await pdpilot('replay', '--trace', bad, '--url', f.url, '--speedup', '0');
  t.equal(badSpeedup.code, 2);
  t.match(badSpeedup.stderr, /^--speedup: /);

  // Port 9 (discard): nothing listens on it on a test machine.
  const unreachable = 'http://127.0.0.1:9';
  const ok = join(dir, 'ok.jsonl');
  writeFileSync(ok, '{"t": 0, "input": 20, "output": 5}\n');
  const down = await pdpilot('replay', '--trace', ok, '--url', unreachable);
  t.equal(down.code, 1, 'unreachable router');
  t.match(down.stderr, `${unreachable}/v1/models`);
  t.equal(down.stderr.trim().split('\n').length, 1, 'one line');
});
