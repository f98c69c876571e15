import t from 'tap';
import { readFileSync } from 'node:fs';
import { createPolicy } from '../../src/policy/registry.js';
import { runBench } from '../../src/sim/bench.js';
import { GOODPUT_RELATIVE_TOLERANCE } from '../../src/sim/goodput.js';
import { compactTrace, openTrace } from '../../src/trace/index.js';
import { sliceTime } from '../../src/trace/transforms.js';
import { profile } from './fixtures/helpers.js';

// End to end on a real trace: the first 20 minutes of the bursty Azure code
// trace, through the simulator, the controller and the router, exactly as
// `pdpilot bench` runs. pdpilot starts from half and half and must find the
// prefill-heavy split the best fixed split was chosen to be.
const path = new URL('../../data/traces/AzureLLMInferenceTrace_code.csv', import.meta.url).pathname;
const whole = await compactTrace(await openTrace(path));
const slice = await compactTrace(sliceTime(whole, { toSeconds: 1200 }));

t.test('pdpilot is at least as good as the best fixed split on a slice of the code trace', async (t) => {
  const { json } = await runBench({
    trace: slice,
    tracePath: path,
    profile,
    profilePath: 'opt-13b-tp1-a100',
    gpus: 8,
    slo: { ttftSeconds: 1, tpotSeconds: 0.1, attainment: 0.9 },
    policies: ['static-best', 'pdpilot'],
    makePolicy: (name, params = {}) => createPolicy(name, params, (p) => readFileSync(p, 'utf8')),
    wallSeconds: () => 0,
  });
  const [staticBest, pdpilot] = json.policies;
  t.ok(staticBest && pdpilot);
  if (!staticBest || !pdpilot) return;
  // Goodput is searched to within GOODPUT_RELATIVE_TOLERANCE; a policy within it is not worse.
  t.ok(
    pdpilot.goodput_rate_scale >= staticBest.goodput_rate_scale * (1 - GOODPUT_RELATIVE_TOLERANCE),
    `pdpilot ×${pdpilot.goodput_rate_scale.toFixed(3)} vs static-best ×${staticBest.goodput_rate_scale.toFixed(3)}`,
  );
  t.ok(pdpilot.at_scale_1.flips >= 1, 'it moves the split (it starts from half and half)');
  t.ok(pdpilot.at_scale_1.flips <= 20, `few flips in 20 minutes: ${pdpilot.at_scale_1.flips}`);
  t.equal(pdpilot.at_scale_1.dropped, staticBest.at_scale_1.dropped, 'the same requests are servable');
});
