import t from 'tap';
import { simulate } from '../../src/sim/simulate.js';
import { HoldPolicy, LOOSE_SLO, ScriptedPolicy, handProfile, requests } from './fixtures/helpers.js';

const close = (a: number, b: number) => Math.abs(a - b) < 1e-9;

t.test('colocated: prefill first, and a new prompt stalls the running decode (interference)', async (t) => {
  // One GPU. A (100, 3): prefill 0..20 ms, decode steps 20..25, then B (arrived at 22 ms) prefills 25..45
  // before A's next step; A and B then step together 45..50 and both finish.
  const r = await simulate({
    trace: requests([0, 100, 3], [0.022, 100, 2]),
    profile: handProfile(),
    policy: new HoldPolicy(),
    slo: LOOSE_SLO,
    options: { gpus: 1, colocated: true },
  });
  t.equal(r.summary.completed, 2);
  const ttft = Array.from(r.summary.ttftSortedSeconds);
  const tpot = Array.from(r.summary.tpotSortedSeconds);
  t.ok(close(ttft[0] as number, 0.02) && close(ttft[1] as number, 0.023), `TTFT ${ttft}`);
  t.ok(close(tpot[0] as number, 0.005) && close(tpot[1] as number, 0.015), `TPOT: B 5 ms, A (50 − 20) / 2 = 15 ms: ${tpot}`);
});

t.test('colocated uses the profile’s colocated fits when present', async (t) => {
  const profile = handProfile({ colocated: { prefillMs: [20, 0.1, 0], decodeMs: { smallBatch: [8, 0, 0], largeBatch: [8, 0, 0], thresholdBatch: 1000 } } });
  const r = await simulate({ trace: requests([0, 100, 3]), profile, policy: new HoldPolicy(), slo: LOOSE_SLO, options: { gpus: 1, colocated: true } });
  t.ok(close(r.summary.ttftMeanSeconds, 0.03));
  t.ok(close(r.summary.tpotMeanSeconds, 0.008));
});

t.test('a prefill→decode flip drains the queue, waits for its KV to be pulled, then switches after flipSeconds', async (t) => {
  // 3 GPUs: w0, w1 prefill, w2 decode. At the tick at 0 the policy flips w0 to decode (the controller takes the
  // idlest prefill worker: both are idle, ties by id). Drain of an idle instance is instant; the switch takes
  // flipSeconds = 1, so w0 serves as decode from 1 s. Work meanwhile goes to w1.
  const policy = new ScriptedPolicy({ 0: [{ workerId: 'w0', from: 'prefill', to: 'decode' }] });
  const r = await simulate({
    trace: requests([0.5, 100, 2], [1.5, 100, 2]),
    profile: handProfile(),
    policy,
    slo: LOOSE_SLO,
    options: { gpus: 3, initialPrefill: 2, kvTransfer: false, intervalSeconds: 1 },
  });
  t.equal(r.flips, 1);
  t.equal(r.decisions, 1);
  t.ok(close(r.flipCostSeconds, 1), `an idle instance costs just the switch: ${r.flipCostSeconds}`);
  const second = policy.contexts[1]?.snapshot.workers.find((w) => w.id === 'w0');
  t.equal(second?.role, 'decode', 'after the switch, w0 reports decode');
  t.equal(second?.status, 'ready');
  t.equal(r.summary.completed, 2);
  t.ok(close(r.summary.ttftMeanSeconds, 0.02), 'no request waited for the flip');
});

t.test('a busy decode instance finishes its running requests before switching; the drain is counted', async (t) => {
  // 2 prefill + 1 decode → flip nothing at 0; at 1 s flip w2 (decode) to prefill while it decodes A
  // (landed 20 ms, 400 steps of 5 ms → finishes at 2.02 s). The flip can only start when the pool has
  // another decode: w1 is flipped to decode at tick 0 first.
  const policy = new ScriptedPolicy({
    0: [{ workerId: 'w1', from: 'prefill', to: 'decode' }],
    2: [{ workerId: 'w2', from: 'decode', to: 'prefill' }],
  });
  const r = await simulate({
    trace: requests([0, 100, 401]),
    profile: handProfile(),
    policy,
    slo: LOOSE_SLO,
    options: { gpus: 3, initialPrefill: 2, kvTransfer: false, intervalSeconds: 1 },
    safety: { cooldownSeconds: 0 }, // the second flip reverses the first's direction
  });
  // A went to w2 (w1 still switching at 0 s). At 2 s w2 drains until A finishes at 2.02 s, then switches for 1 s.
  t.equal(r.flips, 2);
  t.ok(close(r.summary.tpotMeanSeconds, 0.005), 'the drained request finished at full speed (finish, not migrate)');
  t.ok(close(r.flipCostSeconds, 1 + (0.02 + 1)), `w1: 1 s switch; w2: 20 ms drain + 1 s switch: ${r.flipCostSeconds}`);
  const atThree = policy.contexts[3]?.snapshot.workers.find((w) => w.id === 'w2');
  t.equal(atThree?.role, 'prefill', 'drained at 2.02 s, it reports its new role while it switches');
  t.equal(atThree?.status, 'switching', 'until 3.02 s');
});

t.test('free flips (the oracle) switch at once and cost nothing', async (t) => {
  const policy = new ScriptedPolicy({ 0: [{ workerId: 'w0', from: 'prefill', to: 'decode' }] });
  const r = await simulate({
    trace: requests([0.1, 100, 2]),
    profile: handProfile(),
    policy,
    slo: LOOSE_SLO,
    options: { gpus: 3, initialPrefill: 2, freeFlips: true, intervalSeconds: 1 },
  });
  t.equal(r.flips, 1);
  t.equal(r.flipCostSeconds, 0);
  t.same(r.timeline[0], { atSeconds: 0, prefill: 1, decode: 2, arrivalsPerSecond: 0 });
});

t.test('the oracle sees the true load of the coming intervals; other policies do not', async (t) => {
  const trace = requests([0.5, 100, 2], [1.5, 300, 4], [1.6, 100, 2]);
  const seeing = new ScriptedPolicy({});
  await simulate({ trace, profile: handProfile(), policy: seeing, slo: LOOSE_SLO, options: { gpus: 2, revealFuture: true, intervalSeconds: 1 } });
  const future = seeing.contexts[1]?.future;
  t.equal(future?.[0]?.requests, 2, 'at 1 s the coming interval [1, 2) holds two arrivals');
  t.equal(future?.[0]?.inputMean, 200);
  const blind = new ScriptedPolicy({});
  await simulate({ trace, profile: handProfile(), policy: blind, slo: LOOSE_SLO, options: { gpus: 2, intervalSeconds: 1 } });
  t.equal(blind.contexts[1]?.future, undefined);
  t.equal(blind.contexts[1]?.history.at(-1)?.requests, 1, 'the load of the interval that just ended');
});

t.test('elastic: grows to the target after startSeconds within the budget, removes idle instances, reports GPU-seconds', async (t) => {
  // Budget 4 GPUs; starts 1P + 1D. A policy that always wants 2P + 2D: two instances start at 0 and serve from 10 s.
  const wants = { target: { prefill: 2, decode: 2 } };
  const policy = {
    name: 'wants-4',
    decide: (context: { snapshot: { workers: unknown[] } }) => ({ ...wants, changes: [], reason: { code: 'x', message: String(context.snapshot.workers.length) } }),
  };
  const r = await simulate({ trace: requests([0, 100, 2], [25, 100, 2]), profile: handProfile(), policy, slo: LOOSE_SLO, options: { gpus: 4, elastic: true, intervalSeconds: 5 } });
  // Slots: two from 0 and two from 0 (starting until 10 s); the run ends at the last completion ≈ 25.03 s.
  t.ok(close(r.gpuSeconds, 4 * r.makespanSeconds), `${r.gpuSeconds} vs ${r.makespanSeconds}`);
  t.equal(r.decisions, 1, 'one resize');

  const shrinking = { name: 'wants-2', decide: () => ({ target: { prefill: 1, decode: 1 }, changes: [], reason: { code: 'x', message: 'x' } }) };
  const small = await simulate({ trace: requests([0, 100, 2], [25, 100, 2]), profile: handProfile(), policy: shrinking, slo: LOOSE_SLO, options: { gpus: 4, elastic: true, intervalSeconds: 5 } });
  t.ok(close(small.gpuSeconds, 2 * small.makespanSeconds), 'never grows past what it is asked for');
});
