import t from 'tap';
import { simulate } from '../../src/sim/simulate.js';
import { HoldPolicy, LOOSE_SLO, handProfile, requests } from './fixtures/helpers.js';

// Compat iterations pay 2 ms + 0.0001 ms per token of the iteration.
const close = (a: number, b: number) => Math.abs(a - b) < 1e-9;

t.test('compat distserve: TTFT at prefill end, TPOT = (finish − prefill end) / output, per-iteration overhead', async (t) => {
  // Prefill of 100 tokens: 10 + 10 + 2 + 0.01 = 22.01 ms. No KV transfer even though it is on by default.
  // Decode: `output` = 2 iterations; step 1 over context 100: 5 + 2 + 0.0001·101 ms; step 2 over 101: 5 + 2 + 0.0001·102 ms.
  const r = await simulate({ trace: requests([0, 100, 2]), profile: handProfile(), policy: new HoldPolicy(), slo: LOOSE_SLO, options: { gpus: 2, compat: 'distserve' } });
  t.ok(close(r.summary.ttftMeanSeconds, 0.02201), `TTFT ${r.summary.ttftMeanSeconds}`);
  const decodeMs = 7 + 0.0101 + 7 + 0.0102;
  t.ok(close(r.summary.tpotMeanSeconds, decodeMs / 1000 / 2), `TPOT ${r.summary.tpotMeanSeconds}`);
});

t.test('compat prefill: FCFS while prompts fit the KV capacity, stopping at the first that does not', async (t) => {
  // Capacity 1,000. A (600) starts alone at 0, leaving [300, 200, 600, 50] queued: 300 + 200 fit, the next
  // 600 does not, so the batch stops there — the 50 behind it is not taken even though it would fit.
  const profile = handProfile({ kvCapacityTokens: 1000 });
  const r = await simulate({
    trace: requests([0, 600, 1], [0, 300, 1], [0, 200, 1], [0, 600, 1], [0, 50, 1]),
    profile,
    policy: new HoldPolicy(),
    slo: LOOSE_SLO,
    options: { gpus: 2, compat: 'distserve' },
  });
  const ttft = Array.from(r.summary.ttftSortedSeconds);
  const a = (10 + 60 + 2 + 0.06) / 1000; // A alone
  const bc = a + (10 + 50 + 2 + 0.05) / 1000; // B + C; the 600 behind them does not fit, so 50 waits behind it (no skipping)
  const d = bc + (10 + 65 + 2 + 0.065) / 1000; // 600 + 50 together
  t.ok(close(ttft[0] as number, a), `A ${ttft}`);
  t.ok(close(ttft[1] as number, bc) && close(ttft[2] as number, bc), `B, C ${ttft}`);
  t.ok(close(ttft[3] as number, d) && close(ttft[4] as number, d), `then 600 and 50 ${ttft}`);
});

t.test('compat decode: batches capped at 50,000 context tokens, unfinished requests rotate to the back', async (t) => {
  // Three 30,000-token prompts, 2 output tokens each; prefill costs only the overhead. Two contexts
  // (60,000) exceed the 50,000 cap, so every decode iteration holds one request.
  // Prefill: A alone 0..5 ms (2 + 3), then B and C together 5..13 ms (2 + 6).
  // Decode: A 5..15.0001 (7 + 0.0001·30,001 ms); B and C arrive at 13 and queue; A rotates behind them:
  // B 15.0001..25.0002, C ..35.0003, A ..45.0005 (done), B ..55.0007 (done), C ..65.0009 (done).
  const profile = handProfile({ kvCapacityTokens: 100_000, prefillMs: [0, 0, 0] });
  const r = await simulate({
    trace: requests([0, 30_000, 2], [0, 30_000, 2], [0, 30_000, 2]),
    profile,
    policy: new HoldPolicy(),
    slo: LOOSE_SLO,
    options: { gpus: 2, compat: 'distserve' },
  });
  t.equal(r.summary.completed, 3);
  const tpot = Array.from(r.summary.tpotSortedSeconds);
  t.ok(close(tpot[0] as number, (45.0005 - 5) / 2 / 1000), `A ${tpot}`);
  t.ok(close(tpot[1] as number, (55.0007 - 13) / 2 / 1000), `B ${tpot}`);
  t.ok(close(tpot[2] as number, (65.0009 - 13) / 2 / 1000), `C ${tpot}`);
});

t.test('compat routing: new requests go to the prefill instance with the fewest requests', async (t) => {
  // Two prefill instances: three simultaneous requests spread 2 + 1 (not all on the first).
  const r = await simulate({
    trace: requests([0, 100, 1], [0, 100, 1], [0, 100, 1]),
    profile: handProfile(),
    policy: new HoldPolicy(),
    slo: LOOSE_SLO,
    options: { gpus: 3, initialPrefill: 2, compat: 'distserve' },
  });
  const ttft = Array.from(r.summary.ttftSortedSeconds);
  const one = (10 + 10 + 2 + 0.01) / 1000;
  t.ok(close(ttft[0] as number, one) && close(ttft[1] as number, one), `two start at once: ${ttft}`);
  t.ok(close(ttft[2] as number, 2 * one), `the third waits behind one: ${ttft}`);
});
