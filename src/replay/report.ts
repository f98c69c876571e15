import type { LatencyFiguresJson, RequestOutcome } from '../domain/request.js';
import type { Slo } from '../domain/slo.js';
import { jointAttainment, mean, percentiles } from '../lib/stats.js';
import { OK, type ReplayRecord } from './outcome.js';

/**
 * The measurements of one replay, named as the bench JSON's at_scale_1 where
 * they overlap (attainment, ttft_*_s, tpot_*_s, completed). Every figure is
 * a number, never NaN: with nothing to measure it is 0, and attainment with
 * no requests is 1 (lib/stats jointAttainment: nothing asked, nothing missed).
 */
export interface ReplaySummary extends LatencyFiguresJson {
  requests: number;
  completed: number;
  /** Failed requests by reason (StreamOutcome.reason), most frequent first. */
  failed: Record<string, number>;
  /** Fraction of all requests that completed with TTFT ≤ SLO and TPOT ≤ SLO; failures count as misses. */
  attainment: number;
  ttft_mean_s: number;
  tpot_mean_s: number;
  /** First send to last send: the time the load was offered over (the trace's span ÷ speedup, plus any lateness). */
  span_s: number;
  /** requests ÷ span_s: the rate actually offered (0 for a span of 0, one request or a burst at one instant). */
  achieved_rps: number;
  /** First send to the last answer's end. */
  duration_s: number;
  /** Seconds a send went out after its scheduled time: large values mean the client, not the service, was the bottleneck. */
  send_lateness_p50_s: number;
  send_lateness_p99_s: number;
  send_lateness_max_s: number;
  /** Tokens received by the completed requests. */
  output_tokens: number;
  /** Tokens the replayed requests asked for (max_tokens with ignore_eos), completed or not. */
  requested_output_tokens: number;
  /** Completed requests whose token events differ from the usage chunk's count or from max_tokens. */
  token_mismatches: number;
}

/**
 * Client-side latencies of a completed request: TTFT from the send to the
 * first token event; TPOT (last − first token) ÷ (tokens − 1), 0 for one token.
 */
export function requestLatency(record: ReplayRecord): RequestOutcome {
  const { outcome, sentSeconds } = record;
  const first = outcome.firstTokenSeconds ?? outcome.endSeconds;
  const last = outcome.lastTokenSeconds ?? first;
  return {
    ttftSeconds: Math.max(0, first - sentSeconds),
    tpotSeconds: outcome.tokens > 1 ? Math.max(0, last - first) / (outcome.tokens - 1) : 0,
  };
}

export function replaySummary(records: readonly ReplayRecord[], slo: Pick<Slo, 'ttftSeconds' | 'tpotSeconds'>): ReplaySummary {
  const completed = records.filter((r) => r.outcome.reason === OK);
  const latencies = completed.map(requestLatency);
  const ttfts = latencies.map((l) => l.ttftSeconds);
  const tpots = latencies.map((l) => l.tpotSeconds);
  const [ttftP50, ttftP90, ttftP99] = percentiles(ttfts, [50, 90, 99]) as [number, number, number];
  const [tpotP50, tpotP90, tpotP99] = percentiles(tpots, [50, 90, 99]) as [number, number, number];

  const failedCounts = new Map<string, number>();
  for (const r of records) if (r.outcome.reason !== OK) failedCounts.set(r.outcome.reason, (failedCounts.get(r.outcome.reason) ?? 0) + 1);
  const failed = Object.fromEntries([...failedCounts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));

  // Loops, not Math.min(...): a spread of a long trace's sends would overflow the stack.
  let firstSend = records.length > 0 ? Infinity : 0;
  let lastSend = 0;
  for (const r of records) {
    firstSend = Math.min(firstSend, r.sentSeconds);
    lastSend = Math.max(lastSend, r.sentSeconds);
  }
  const lastEnd = records.reduce((end, r) => Math.max(end, r.outcome.endSeconds), firstSend);
  const spanSeconds = lastSend - firstSend;
  const lateness = records.map((r) => Math.max(0, r.sentSeconds - r.scheduledSeconds));
  const [lateP50, lateP99, lateMax] = percentiles(lateness, [50, 99, 100]) as [number, number, number];

  let outputTokens = 0;
  let mismatches = 0;
  for (const r of completed) {
    outputTokens += r.outcome.tokens;
    const usage = r.outcome.usageTokens;
    if (r.outcome.tokens !== r.request.outputTokens || (usage !== undefined && usage !== r.outcome.tokens)) mismatches++;
  }

  return {
    requests: records.length,
    completed: completed.length,
    failed,
    attainment: jointAttainment(latencies, slo, records.length - completed.length),
    ttft_p50_s: ttftP50,
    ttft_p90_s: ttftP90,
    ttft_p99_s: ttftP99,
    tpot_p50_s: tpotP50,
    tpot_p90_s: tpotP90,
    tpot_p99_s: tpotP99,
    ttft_mean_s: mean(ttfts),
    tpot_mean_s: mean(tpots),
    span_s: spanSeconds,
    achieved_rps: spanSeconds > 0 ? records.length / spanSeconds : 0,
    duration_s: lastEnd - firstSend,
    send_lateness_p50_s: lateP50,
    send_lateness_p99_s: lateP99,
    send_lateness_max_s: lateMax,
    output_tokens: outputTokens,
    requested_output_tokens: records.reduce((sum, r) => sum + r.request.outputTokens, 0),
    token_mismatches: mismatches,
  };
}
