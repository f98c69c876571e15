import { histogramDelta, histogramQuantile, readHistogram, type CumulativeHistogram } from './histogram.js';
import { meanOf, parsePrometheusText, sumOf, type PromPage } from './prometheus-text.js';

/** The engines whose Prometheus metrics pdpilot reads. */
export type EngineKind = 'vllm' | 'sglang';

/**
 * What one scrape of an engine's /metrics tells the controller, in
 * WorkerSnapshot units. Latency percentiles are over the requests that
 * finished since the previous scrape (histogram deltas), absent on the
 * first scrape and when none finished; token counters are the engine's running totals.
 */
export interface EngineMetrics {
  queuedRequests: number;
  runningRequests: number;
  /** Fraction (0–1) of KV capacity in use. */
  kvUsage: number;
  ttftP90Seconds?: number;
  tpotP90Seconds?: number;
  promptTokensTotal?: number;
  generationTokensTotal?: number;
}

/**
 * Metric names per engine; where an engine renamed a metric, the current
 * name comes first and the older one after it:
 * - vLLM V1 renamed `gpu_cache_usage_perc` to `kv_cache_usage_perc` and
 *   `time_per_output_token_seconds` to `inter_token_latency_seconds`. Both
 *   "perc" gauges are fractions (1 = full), despite the name.
 * - SGLang's `token_usage` is the fraction of KV token slots in use; older
 *   releases export TPOT as `time_per_output_token_seconds`.
 */
const DIALECTS: Record<EngineKind, { queued: string; running: string; kv: string[]; ttft: string[]; tpot: string[]; prompt: string; generation: string }> = {
  vllm: {
    queued: 'vllm:num_requests_waiting',
    running: 'vllm:num_requests_running',
    kv: ['vllm:kv_cache_usage_perc', 'vllm:gpu_cache_usage_perc'],
    ttft: ['vllm:time_to_first_token_seconds'],
    tpot: ['vllm:inter_token_latency_seconds', 'vllm:time_per_output_token_seconds'],
    prompt: 'vllm:prompt_tokens_total',
    generation: 'vllm:generation_tokens_total',
  },
  sglang: {
    queued: 'sglang:num_queue_reqs',
    running: 'sglang:num_running_reqs',
    kv: ['sglang:token_usage'],
    ttft: ['sglang:time_to_first_token_seconds'],
    tpot: ['sglang:inter_token_latency_seconds', 'sglang:time_per_output_token_seconds'],
    prompt: 'sglang:prompt_tokens_total',
    generation: 'sglang:generation_tokens_total',
  },
};

/**
 * Reads one engine's /metrics page after page. Stateful per worker: the
 * latency percentiles come from the difference between this page's
 * histograms and the previous page's (a histogram since process start
 * would answer "what was p90 over the last week", which no controller can
 * act on).
 */
export class EngineMetricsReader {
  private previous: { ttft?: CumulativeHistogram; tpot?: CumulativeHistogram } = {};

  constructor(readonly engine: EngineKind) {}

  /** Parses a page; throws (naming the line or the metric) when it is malformed or lacks the queue, batch or KV gauges. */
  read(text: string): EngineMetrics {
    const page = parsePrometheusText(text);
    const d = DIALECTS[this.engine];
    const queued = sumOf(page, d.queued);
    const running = sumOf(page, d.running);
    const kv = firstPresent(d.kv, (name) => meanOf(page, name));
    if (queued === undefined || running === undefined || kv === undefined) {
      const missing = [queued === undefined ? d.queued : '', running === undefined ? d.running : '', kv === undefined ? d.kv.join(' or ') : ''].filter(Boolean);
      throw new Error(`${this.engine} metrics lack ${missing.join(', ')} (is the engine started with metrics on?)`);
    }
    const ttft = this.latency(page, d.ttft, 'ttft');
    const tpot = this.latency(page, d.tpot, 'tpot');
    const prompt = sumOf(page, d.prompt);
    const generation = sumOf(page, d.generation);
    return {
      queuedRequests: queued,
      runningRequests: running,
      kvUsage: Math.min(1, Math.max(0, kv)),
      ...(ttft === undefined ? {} : { ttftP90Seconds: ttft }),
      ...(tpot === undefined ? {} : { tpotP90Seconds: tpot }),
      ...(prompt === undefined ? {} : { promptTokensTotal: prompt }),
      ...(generation === undefined ? {} : { generationTokensTotal: generation }),
    };
  }

  private latency(page: PromPage, names: string[], key: 'ttft' | 'tpot'): number | undefined {
    const now = firstPresent(names, (name) => readHistogram(page, name));
    if (!now) return undefined;
    const before = this.previous[key];
    this.previous[key] = now;
    // The first page only opens the window: its histograms cover the process's whole life.
    if (!before) return undefined;
    return histogramQuantile(histogramDelta(now, before), 0.9);
  }
}

function firstPresent<T>(names: readonly string[], read: (name: string) => T | undefined): T | undefined {
  for (const name of names) {
    const value = read(name);
    if (value !== undefined) return value;
  }
  return undefined;
}
