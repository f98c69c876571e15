import t from 'tap';
import type { TraceRequest } from '../../src/domain/request.js';
import { openTrace, traceStats } from '../../src/trace/index.js';
import { azureTrace } from './fixtures/trace-test-helpers.js';

// Every figure of ../shared/traces/README.md (copied in data/traces/README.md)
// that the stats JSON carries, to the precision the README prints.
const REFERENCE = {
  code: {
    requests: 8819, span_s: 3435.9, mean_rps: 2.567, peak_1min_rps: 632 / 60,
    input: { mean: 2047.8, p50: 1469, p90: 5187.6, p99: 7436, max: 7437 },
    output: { mean: 27.9, p50: 13, p90: 55, p99: 251.5, max: 1899 },
  },
  conv: {
    requests: 19366, span_s: 3501.7, mean_rps: 5.530, peak_1min_rps: 507 / 60,
    input: { mean: 1154.7, p50: 1020, p90: 2734.5, p99: 4142, max: 14050 },
    output: { mean: 211.1, p50: 129, p90: 424, p99: 601, max: 1000 },
  },
} as const;

/** Equal once rounded to the decimals the README prints `expected` with (at least 0.01 for the peak rates). */
function near(actual: number, expected: number, decimals: number): boolean {
  return Math.abs(actual - expected) <= 0.5 * 10 ** -decimals + 1e-9;
}

for (const which of ['code', 'conv'] as const) {
  t.test(`stats of the Azure ${which} trace match the README`, async (t) => {
    const stats = await traceStats(await openTrace(azureTrace(which)));
    const ref = REFERENCE[which];
    t.equal(stats.requests, ref.requests, 'requests');
    t.ok(near(stats.span_s, ref.span_s, 1), `span_s ${stats.span_s} ≈ ${ref.span_s}`);
    t.ok(near(stats.mean_rps, ref.mean_rps, 3), `mean_rps ${stats.mean_rps} ≈ ${ref.mean_rps}`);
    t.ok(near(stats.peak_1min_rps, ref.peak_1min_rps, 9), `peak_1min_rps ${stats.peak_1min_rps} = ${ref.peak_1min_rps}`);
    t.equal(stats.peak_1min_rps.toFixed(2), which === 'code' ? '10.53' : '8.45', 'peak as the README prints it');
    for (const side of ['input', 'output'] as const) {
      for (const key of ['mean', 'p50', 'p90', 'p99', 'max'] as const) {
        const expected = ref[side][key];
        const decimals = Number.isInteger(expected) && key !== 'mean' ? 0 : 1;
        t.ok(near(stats[side][key], expected, decimals), `${side}.${key} ${stats[side][key]} ≈ ${expected}`);
      }
    }
    t.equal(stats.failed_rows, 0);
  });
}

t.test('exact figures on a small trace', async (t) => {
  const requests: TraceRequest[] = [
    { arrivalSeconds: 0, inputTokens: 10, outputTokens: 1 },
    { arrivalSeconds: 30, inputTokens: 20, outputTokens: 2 },
    { arrivalSeconds: 59.999, inputTokens: 30, outputTokens: 3 },
    { arrivalSeconds: 60, inputTokens: 40, outputTokens: 4 }, // second bin starts at exactly 60 s
    { arrivalSeconds: 100, inputTokens: 50, outputTokens: 5 },
  ];
  const stats = await traceStats(requests);
  t.same(stats, {
    requests: 5,
    span_s: 100,
    mean_rps: 0.05,
    peak_1min_rps: 3 / 60,
    input: { mean: 30, p50: 30, p90: 46, p99: 49.6, max: 50 },
    output: { mean: 3, p50: 3, p90: 4.6, p99: 4.96, max: 5 },
    failed_rows: 0,
  });
});

t.test('bins start at the first arrival, not at 0', async (t) => {
  // Bins from 0 would put 3 arrivals in [60, 120); from the first (50 s) they split 2 + 1.
  const stats = await traceStats([50, 100, 119].map((arrivalSeconds) => ({ arrivalSeconds, inputTokens: 1, outputTokens: 1 })));
  t.equal(stats.peak_1min_rps, 2 / 60);
});

t.test('failed requests are left out unless asked, and counted either way', async (t) => {
  const requests: TraceRequest[] = [
    { arrivalSeconds: 0, inputTokens: 100, outputTokens: 10 },
    { arrivalSeconds: 1, inputTokens: 900, outputTokens: 0, failed: true },
    { arrivalSeconds: 2, inputTokens: 300, outputTokens: 30 },
  ];
  const without = await traceStats(requests);
  t.equal(without.requests, 2);
  t.equal(without.input.max, 300);
  t.equal(without.failed_rows, 1);
  const withFailed = await traceStats(requests, { includeFailed: true });
  t.equal(withFailed.requests, 3);
  t.equal(withFailed.input.max, 900);
  t.equal(withFailed.output.p50, 10);
  t.equal(withFailed.failed_rows, 1);
});

t.test('an empty or one-request trace reads as 0, never NaN or Infinity', async (t) => {
  const zeros = { mean: 0, p50: 0, p90: 0, p99: 0, max: 0 };
  t.same(await traceStats([]), { requests: 0, span_s: 0, mean_rps: 0, peak_1min_rps: 0, input: zeros, output: zeros, failed_rows: 0 });
  const one = await traceStats([{ arrivalSeconds: 5, inputTokens: 7, outputTokens: 3 }]);
  t.equal(one.span_s, 0);
  t.equal(one.mean_rps, 0);
  t.equal(one.peak_1min_rps, 1 / 60);
  t.equal(one.input.p99, 7);
});
