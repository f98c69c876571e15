import t from 'tap';
import { EngineMetricsReader } from '../../../src/fleet/adapters/engine-metrics.js';
import { histogramDelta, histogramQuantile, readHistogram } from '../../../src/fleet/adapters/histogram.js';
import { parsePrometheusText, PromParseError } from '../../../src/fleet/adapters/prometheus-text.js';
import { sglangPage, VLLM_V0_PAGE, vllmV1Page } from './fixtures/metrics-pages.js';

const ZERO_15 = Array.from({ length: 15 }, () => 0);

t.test('vLLM V1: gauges summed over engine ranks, KV averaged, p90 from the histogram delta between scrapes', async (t) => {
  const reader = new EngineMetricsReader('vllm');
  const first = reader.read(vllmV1Page([0, 0, 0, 0, 0, 0, 0, 10, 20, 20, 20, 20, 20, 20, 20], Array.from({ length: 11 }, () => 0)));
  t.equal(first.queuedRequests, 4);
  t.equal(first.runningRequests, 21);
  t.equal(first.kvUsage, 0.4, 'a fraction averages over ranks, it does not add');
  t.equal(first.promptTokensTotal, 2e6);
  t.equal(first.generationTokensTotal, 350000);
  t.equal(first.ttftP90Seconds, undefined, 'the first page only opens the window (its histogram covers the process life)');
  // 100 new TTFTs: 50 ≤ 0.1 s, 30 in (0.1, 0.25], 20 in (0.25, 0.5]; rank 90 lies half-way into the last bucket.
  // 1000 new ITLs: 100 ≤ 0.025 s, 800 in (0.025, 0.05]: rank 900 is that bucket's top.
  const second = reader.read(vllmV1Page([0, 0, 0, 0, 0, 0, 0, 60, 100, 120, 120, 120, 120, 120, 120], [0, 100, 900, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000]));
  t.ok(Math.abs((second.ttftP90Seconds ?? NaN) - 0.375) < 1e-12, `ttft p90 ${second.ttftP90Seconds}`);
  t.ok(Math.abs((second.tpotP90Seconds ?? NaN) - 0.05) < 1e-12, `itl p90 ${second.tpotP90Seconds}`);
  const idle = reader.read(vllmV1Page([0, 0, 0, 0, 0, 0, 0, 60, 100, 120, 120, 120, 120, 120, 120], [0, 100, 900, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000]));
  t.equal(idle.ttftP90Seconds, undefined, 'no request finished between scrapes: no latency, not 0');
});

t.test('vLLM V0 names: gpu_cache_usage_perc and time_per_output_token_seconds', async (t) => {
  const reader = new EngineMetricsReader('vllm');
  const m = reader.read(VLLM_V0_PAGE);
  t.same([m.queuedRequests, m.runningRequests, m.kvUsage], [2, 5, 0.734]);
  // A restarted engine reports smaller counts: its page alone is the window (rank 279 of 310 in (0.025, 0.05]).
  const restarted = VLLM_V0_PAGE.replaceAll('100.0', '10.0').replaceAll('300.0', '30.0').replaceAll('310.0', '31.0');
  const after = new EngineMetricsReader('vllm');
  after.read(VLLM_V0_PAGE);
  const r = after.read(restarted);
  t.ok(Math.abs((r.tpotP90Seconds ?? NaN) - (0.025 + 0.025 * ((27.9 - 10) / 20))) < 1e-12, `reset handled: ${r.tpotP90Seconds}`);
});

t.test('SGLang: num_queue_reqs, num_running_reqs, token_usage, TTFT p90', async (t) => {
  const reader = new EngineMetricsReader('sglang');
  const first = reader.read(sglangPage(2826, 162, 0.28, ZERO_15));
  t.same([first.queuedRequests, first.runningRequests, first.kvUsage], [2826, 162, 0.28]);
  t.equal(first.promptTokensTotal, 8128902);
  const cumulative = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10, 20, 20, 20];
  const second = reader.read(sglangPage(0, 3, 0.1, cumulative));
  // rank 18 of 20: 8 of the 10 observations in (1.0, 2.5].
  t.ok(Math.abs((second.ttftP90Seconds ?? NaN) - 2.2) < 1e-12, `p90 ${second.ttftP90Seconds}`);
  t.equal(second.tpotP90Seconds, undefined, 'no TPOT histogram on the page');
});

t.test('a page without the queue, batch or KV gauges is an error, not zeros', async (t) => {
  t.throws(() => new EngineMetricsReader('sglang').read('# HELP x y\nprocess_cpu_seconds_total 12.5\n'), /sglang metrics lack sglang:num_queue_reqs, sglang:num_running_reqs, sglang:token_usage/);
  t.throws(() => new EngineMetricsReader('vllm').read(sglangPage(1, 1, 0.1, ZERO_15)), /vllm metrics lack/);
});

t.test('the text parser is strict and names the line', async (t) => {
  const page = parsePrometheusText('# a free comment\n# TYPE m gauge\nm{a="x\\"y\\\\z\\n",b="2"} -1.5e-3 1700000000000\nn +Inf\n\n');
  t.same(page.samples[0], { name: 'm', labels: { a: 'x"y\\z\n', b: '2' }, value: -0.0015 });
  t.equal(page.samples[1]?.value, Infinity);
  t.equal(page.families.get('m')?.type, 'gauge');
  const bad: [string, RegExp][] = [
    ['m 1\nm{a="1"} abc\n', /line 2: value "abc" of m is not a number/],
    ['m{a="1} 1\n', /unterminated value of label a/],
    ['m{a="1",a="2"} 1\n', /label a repeated/],
    ['m{a=1} 1\n', /expected ="…" after label a/],
    ['m 1 2 3\n', /expected a value/],
    ['# TYPE m widget\n', /unknown metric type "widget"/],
    ['9m 1\n', /expected a metric name/],
    ['m 0x10\n', /not a number/],
  ];
  for (const [text, message] of bad) t.throws(() => parsePrometheusText(text), message, JSON.stringify(text));
  t.throws(() => parsePrometheusText('m{a="1"} abc\n'), PromParseError);
});

t.test('histogram quantile: PromQL semantics at the edges', async (t) => {
  const page = parsePrometheusText('h_bucket{le="1"} 0\nh_bucket{le="2"} 0\nh_bucket{le="+Inf"} 5\nh_sum 50\nh_count 5\n');
  const h = readHistogram(page, 'h');
  t.ok(h);
  if (!h) return;
  t.equal(histogramQuantile(h, 0.9), 2, 'a rank in +Inf answers the highest finite bound');
  const low = readHistogram(parsePrometheusText('h_bucket{le="0.5"} 4\nh_bucket{le="+Inf"} 4\nh_count 4\nh_sum 1\n'), 'h');
  t.equal(low && histogramQuantile(low, 0.5), 0.25, 'the lowest bucket interpolates from 0');
  t.equal(histogramQuantile(histogramDelta(h, h), 0.9), undefined, 'an empty delta has no quantile');
  t.throws(() => histogramQuantile(h, 90), RangeError);
});
