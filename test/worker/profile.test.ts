// `pdpilot profile --backend sim` measures the sim backend through the engine
// and fits the latency model: the profile it writes must predict the given
// profile's step times within 5% across the grid.
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { decodeStepMs, prefillBatchMs } from '../../src/perf/latency.js';
import { parseProfile } from '../../src/perf/profile.js';
import { ROOT, testProfile } from './fixtures/workers.js';

const run = promisify(execFile);

t.test('profiling the sim backend recovers the profile it was given (within 5%)', async (t) => {
  // Fastest of 5 per point (the profiler keeps the minimum): other test files share the cores, and a
  // preempted step only adds time, so it must not move the fit.
  // Distinct small/large decode regimes so the threshold split is exercised too. Steps of 25 ms and up:
  // on a CI box with more runnable threads than cores a step can end ~1 ms late (the OS does not run the
  // spinning thread), which a 5% bound on 5 ms steps would turn into a flaky test.
  const givenPath = await testProfile({
    prefillMs: [25, 0.02, 0.00002],
    decodeMs: { smallBatch: [25, 0.0004, 0.05], largeBatch: [20, 0.0003, 0.12], thresholdBatch: 48 },
    kvCapacityTokens: 65536,
    contextTokens: 4096,
  });
  const out = join(await mkdtemp(join(tmpdir(), 'pdpilot-profile-')), 'measured.json');
  await run(process.execPath, [join(ROOT, 'bin/pdpilot.js'), 'profile', '--backend', 'sim', '--profile', givenPath, '--out', out, '--repeats', '5', '--max-batch', '128'], { cwd: ROOT });
  const given = parseProfile(JSON.parse(await readFile(givenPath, 'utf8')), givenPath);
  const measured = parseProfile(JSON.parse(await readFile(out, 'utf8')), out); // the output is a valid profile
  t.match(measured.source, /^measured by pdpilot profile --backend sim/);
  t.equal(measured.kvCapacityTokens, 65536);
  t.equal(measured.decodeMs.thresholdBatch, 48);
  const within = (a: number, b: number) => Math.abs(a - b) / b;
  for (const batch of [[32], [256], [1024], [128, 128, 128, 128], [64, 512]]) {
    const e = within(prefillBatchMs(measured, batch), prefillBatchMs(given, batch));
    t.ok(e < 0.05, `prefill [${batch.join(',')}]: ${prefillBatchMs(measured, batch).toFixed(2)} vs ${prefillBatchMs(given, batch).toFixed(2)} ms (${(e * 100).toFixed(2)}%)`);
  }
  for (const [batch, context] of [[1, 128], [8, 1024], [32, 512], [64, 128], [96, 512], [128, 128]] as const) {
    const m = decodeStepMs(measured, batch, batch * context);
    const g = decodeStepMs(given, batch, batch * context);
    t.ok(within(m, g) < 0.05, `decode batch ${batch} context ${context}: ${m.toFixed(2)} vs ${g.toFixed(2)} ms (${(within(m, g) * 100).toFixed(2)}%)`);
  }
  // Teeth: a profile twice as slow is not "recovered".
  t.ok(within(prefillBatchMs(measured, [512]), 2 * prefillBatchMs(given, [512])) > 0.05);
});
