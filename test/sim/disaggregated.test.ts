import t from 'tap';
import { simulate } from '../../src/sim/simulate.js';
import { HoldPolicy, LOOSE_SLO, handProfile, requests } from './fixtures/helpers.js';

const base = { gpus: 2, initialPrefill: 1, prefillTokenBudget: 4096, linkBytesPerSecond: 1e9 };

t.test('one request: prefill, KV transfer, decode steps', async (t) => {
  // prefill 10 + 0.1·100 = 20 ms; transfer 100 tokens × 1 MB ÷ 1 GB/s = 0.1 s; 2 decode steps × 5 ms.
  const r = await simulate({ trace: requests([0, 100, 3]), profile: handProfile(), policy: new HoldPolicy(), slo: LOOSE_SLO, options: base });
  t.equal(r.summary.completed, 1);
  t.ok(Math.abs(r.summary.ttftMeanSeconds - 0.12) < 1e-9, `TTFT ${r.summary.ttftMeanSeconds}`);
  t.ok(Math.abs(r.summary.tpotMeanSeconds - 0.005) < 1e-9, `TPOT ${r.summary.tpotMeanSeconds}`);
  t.ok(Math.abs(r.makespanSeconds - 0.13) < 1e-9);
  t.ok(Math.abs(r.gpuSeconds - 0.26) < 1e-9, 'non-elastic: every GPU for the whole run');
});

t.test('KV transfer off: TTFT is the prefill alone', async (t) => {
  const r = await simulate({ trace: requests([0, 100, 3]), profile: handProfile(), policy: new HoldPolicy(), slo: LOOSE_SLO, options: { ...base, kvTransfer: false } });
  t.ok(Math.abs(r.summary.ttftMeanSeconds - 0.02) < 1e-9);
  t.ok(Math.abs(r.summary.tpotMeanSeconds - 0.005) < 1e-9);
});

t.test('a batch takes prompts while they fit the token budget; FCFS queueing adds to TTFT', async (t) => {
  // The first arrival finds the instance idle and starts alone (20 ms); the other two then batch
  // together within the 250-token budget: 10 + 0.1·200 = 30 ms, finishing at 50 ms.
  const r = await simulate({
    trace: requests([0, 100, 1], [0, 100, 1], [0, 100, 1]),
    profile: handProfile(),
    policy: new HoldPolicy(),
    slo: LOOSE_SLO,
    options: { ...base, prefillTokenBudget: 250 },
  });
  t.equal(r.summary.completed, 3);
  const sorted = Array.from(r.summary.ttftSortedSeconds);
  t.ok(Math.abs((sorted[0] as number) - 0.02) < 1e-9, `first alone ${sorted}`);
  t.ok(Math.abs((sorted[1] as number) - 0.05) < 1e-9 && Math.abs((sorted[2] as number) - 0.05) < 1e-9, `then a batch of two ${sorted}`);
  t.equal(r.summary.tpotMeanSeconds, 0, 'single-token outputs have no TPOT');
});

t.test('continuous batching: a later request joins the running batch at a step boundary', async (t) => {
  // A: prefill 20 ms, lands at 20 ms (no transfer), decodes 6 steps (20..50 ms).
  // B arrives at 0.021: prefill 21..41 ms; joins at the first boundary ≥ 41 ms, i.e. 45 ms; 2 steps → 55 ms.
  const r = await simulate({
    trace: requests([0, 100, 7], [0.021, 100, 3]),
    profile: handProfile(),
    policy: new HoldPolicy(),
    slo: LOOSE_SLO,
    options: { ...base, kvTransfer: false },
  });
  t.equal(r.summary.completed, 2);
  const tpot = Array.from(r.summary.tpotSortedSeconds);
  // A: 6 steps of 5 ms → 5 ms. B: first token at 41 ms, finish at 55 ms → 14 ms / 2 = 7 ms.
  t.ok(Math.abs((tpot[0] as number) - 0.005) < 1e-9, `${tpot}`);
  t.ok(Math.abs((tpot[1] as number) - 0.007) < 1e-9, `${tpot}`);
  t.ok(Math.abs(r.makespanSeconds - 0.055) < 1e-9, `${r.makespanSeconds}`);
});

t.test('decode KV bounds the batch: the second request waits for the first to finish', async (t) => {
  // Capacity 300 tokens: each request reserves 100 + 101 = 201, so only one fits.
  const r = await simulate({
    trace: requests([0, 100, 101], [0, 100, 101]),
    profile: handProfile({ kvCapacityTokens: 300 }),
    policy: new HoldPolicy(),
    slo: LOOSE_SLO,
    options: { ...base, kvTransfer: false },
  });
  t.equal(r.summary.completed, 2);
  const ttft = Array.from(r.summary.ttftSortedSeconds);
  // A prefills alone (20 ms) and lands at once; B prefills 20..40 ms but waits for A's 100 steps (done at 520 ms) to be pulled.
  t.ok(Math.abs((ttft[0] as number) - 0.02) < 1e-9, `${ttft}`);
  t.ok(Math.abs((ttft[1] as number) - 0.52) < 1e-9, `${ttft}`);
});

t.test('prefill memory is the queue: prefill stalls until a pull frees it', async (t) => {
  // Capacity 250: once A (200 tokens) is prefilled its KV stays resident, so B (100) cannot start
  // until the decode instance has pulled A.
  const r = await simulate({
    trace: requests([0, 200, 2], [0, 100, 2]),
    profile: handProfile({ kvCapacityTokens: 250 }),
    policy: new HoldPolicy(),
    slo: LOOSE_SLO,
    options: { ...base, kvTransfer: true, prefillTokenBudget: 200 },
  });
  // A: prefill 30 ms, transfer 200 MB / 1 GB/s = 0.2 s → lands 0.23; B's prefill (20 ms) can only start when A's KV leaves at 0.23.
  const ttft = Array.from(r.summary.ttftSortedSeconds);
  t.ok(Math.abs((ttft[0] as number) - 0.23) < 1e-9, `${ttft}`);
  // B: prefill 0.23..0.25, decode holds A until it finishes one step at 0.235; B's pull needs 102 + 202 > 250, so it waits until 0.235: lands 0.25 + 0.1 = 0.35.
  t.ok(Math.abs((ttft[1] as number) - 0.35) < 1e-9, `${ttft}`);
});

t.test('requests larger than the KV capacity are dropped and count as misses', async (t) => {
  const r = await simulate({ trace: requests([0, 9_000, 2_000], [0, 10, 2]), profile: handProfile(), policy: new HoldPolicy(), slo: LOOSE_SLO, options: base });
  t.equal(r.summary.dropped, 1);
  t.equal(r.summary.completed, 1);
  t.equal(r.attainment, 0.5);
});

t.test('same input, same result', async (t) => {
  const trace = requests(...Array.from({ length: 200 }, (_, i) => [i * 0.01, 50 + ((i * 37) % 400), 2 + ((i * 13) % 50)] as [number, number, number]));
  const run = () => simulate({ trace, profile: handProfile(), policy: new HoldPolicy(), slo: LOOSE_SLO, options: { ...base, gpus: 4, initialPrefill: 2 } });
  const a = await run();
  const b = await run();
  t.same(Array.from(a.summary.ttftSortedSeconds), Array.from(b.summary.ttftSortedSeconds));
  t.same(Array.from(a.summary.tpotSortedSeconds), Array.from(b.summary.tpotSortedSeconds));
  t.equal(a.summary.completed, 200);
});
