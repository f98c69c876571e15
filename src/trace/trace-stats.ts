import { mean, percentileSorted } from '../lib/stats.js';
import { binCounts } from '../lib/time-window.js';
import { GrowableArray } from './growable-array.js';
import type { TraceIterable } from './trace-format.js';

/** Token-length summary; percentiles interpolate linearly between closest ranks (lib/stats). */
export interface TokenStats {
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/**
 * The figures of DESIGN.md "Trace stats JSON", named as there (the CLI
 * writes this object as is, plus path and format).
 */
export interface TraceStats {
  requests: number;
  /** Last arrival − first arrival, seconds. */
  span_s: number;
  /** requests / span_s; 0 when the span is 0 (fewer than two distinct arrivals), never Infinity or NaN. */
  mean_rps: number;
  /** Most arrivals in one fixed 60 s bin counted from the first arrival, ÷ 60. */
  peak_1min_rps: number;
  input: TokenStats;
  output: TokenStats;
  /** Failed requests seen (BurstGPT zero-response rows); counted in the figures above only with includeFailed. */
  failed_rows: number;
}

const PEAK_BIN_SECONDS = 60;

/**
 * Stats of a trace, in one pass. Exact percentiles need every length, so
 * this holds 16 bytes a request in typed arrays; nothing else is kept.
 * Failed requests are left out unless includeFailed.
 */
export async function traceStats(trace: TraceIterable, options: { includeFailed?: boolean } = {}): Promise<TraceStats> {
  const includeFailed = options.includeFailed ?? false;
  const arrivals = new GrowableArray((n) => new Float64Array(n));
  const inputs = new GrowableArray((n) => new Int32Array(n));
  const outputs = new GrowableArray((n) => new Int32Array(n));
  let failedRows = 0;
  let firstSeconds = Infinity;
  let lastSeconds = -Infinity;
  for await (const request of trace) {
    if (request.failed) {
      failedRows++;
      if (!includeFailed) continue;
    }
    arrivals.push(request.arrivalSeconds);
    inputs.push(request.inputTokens);
    outputs.push(request.outputTokens);
    // min/max rather than first/last: right even for an input that is not sorted.
    firstSeconds = Math.min(firstSeconds, request.arrivalSeconds);
    lastSeconds = Math.max(lastSeconds, request.arrivalSeconds);
  }
  const requests = arrivals.length;
  const spanSeconds = requests === 0 ? 0 : lastSeconds - firstSeconds;
  let peakCount = 0;
  if (requests > 0) {
    for (const count of binCounts(arrivals.view(), firstSeconds, PEAK_BIN_SECONDS)) peakCount = Math.max(peakCount, count);
  }
  return {
    requests,
    span_s: spanSeconds,
    mean_rps: spanSeconds > 0 ? requests / spanSeconds : 0,
    peak_1min_rps: peakCount / PEAK_BIN_SECONDS,
    input: tokenStats(inputs.view()),
    output: tokenStats(outputs.view()),
    failed_rows: failedRows,
  };
}

/** Sorts `values` in place (they are this module's own buffer) and summarises them. */
function tokenStats(values: Int32Array): TokenStats {
  values.sort();
  return {
    mean: mean(values),
    p50: percentileSorted(values, 50),
    p90: percentileSorted(values, 90),
    p99: percentileSorted(values, 99),
    max: values.length === 0 ? 0 : (values[values.length - 1] as number),
  };
}
