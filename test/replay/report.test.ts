// The replay report from hand-built records: joint SLO attainment, failures
// by reason, rates and lateness, and no NaN whatever the input.
import t from 'tap';
import { replaySummary, type ReplayRecord } from '../../src/replay/index.js';

const SLO = { ttftSeconds: 1, tpotSeconds: 0.1 };

/** A completed request sent at `sent` with its first token after `ttft` and `tokens` tokens `tpot` apart. */
function done(index: number, sent: number, ttft: number, tpot: number, tokens: number, extra: Partial<ReplayRecord['outcome']> = {}): ReplayRecord {
  const first = sent + ttft;
  const last = first + tpot * (tokens - 1);
  return {
    request: { index, arrivalSeconds: sent, inputTokens: 100, outputTokens: tokens },
    scheduledSeconds: sent,
    sentSeconds: sent,
    outcome: { reason: 'ok', tokens, usageTokens: tokens, firstTokenSeconds: first, lastTokenSeconds: last, endSeconds: last, ...extra },
  };
}

function failed(index: number, sent: number, reason: string): ReplayRecord {
  return { request: { index, arrivalSeconds: sent, inputTokens: 100, outputTokens: 8 }, scheduledSeconds: sent, sentSeconds: sent, outcome: { reason, tokens: 0, endSeconds: sent + 0.01 } };
}

type Test = Parameters<Parameters<typeof t.test>[0]>[0];

function noNaN(t: Test, value: unknown, path = 'summary'): void {
  if (typeof value === 'number') t.ok(Number.isFinite(value), `${path} is finite (${value})`);
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) noNaN(t, v, `${path}.${k}`);
}

t.test('attainment counts only requests within both SLOs; failures are misses', async (t) => {
  const records = [
    done(0, 0, 0.5, 0.05, 11), // both met
    done(1, 1, 2.0, 0.05, 11), // TTFT missed
    done(2, 2, 0.5, 0.2, 11), // TPOT missed
    done(3, 3, 1.0, 0.1, 1), // on the bounds, one token: TPOT 0, met
    failed(4, 4, 'queue_full'),
    failed(5, 5, 'context_length_exceeded'),
    failed(6, 6, 'queue_full'),
  ];
  const s = replaySummary(records, SLO);
  t.equal(s.requests, 7);
  t.equal(s.completed, 4);
  t.equal(s.attainment, 2 / 7);
  t.same(s.failed, { queue_full: 2, context_length_exceeded: 1 });
  t.same(Object.keys(s.failed), ['queue_full', 'context_length_exceeded'], 'most frequent first');
  t.equal(s.ttft_p50_s, 0.75);
  t.equal(s.ttft_mean_s, 1);
  t.equal(s.tpot_p50_s, 0.05);
  t.ok(Math.abs(s.tpot_mean_s - 0.3 / 4) < 1e-12, 'TPOT 0 for the one-token request');
  t.equal(s.span_s, 6);
  t.equal(s.achieved_rps, 7 / 6);
  t.equal(s.output_tokens, 34);
  t.equal(s.requested_output_tokens, 34 + 24);
  t.equal(s.token_mismatches, 0);
  noNaN(t, s);
});

t.test('TTFT and TPOT are measured from the send, not the schedule; lateness from the schedule', async (t) => {
  const late = done(0, 5, 0.25, 0.1, 3);
  late.scheduledSeconds = 4.5;
  const s = replaySummary([late, done(1, 6, 0.25, 0.1, 3)], SLO);
  t.equal(s.ttft_p99_s, 0.25);
  t.equal(s.send_lateness_max_s, 0.5);
  t.equal(s.send_lateness_p50_s, 0.25);
  t.equal(s.duration_s, 6.45 - 5);
});

t.test('token counts that disagree with usage or with max_tokens are counted', async (t) => {
  const short = done(0, 0, 0.1, 0.01, 4);
  short.request.outputTokens = 5;
  const s = replaySummary([short, done(1, 0, 0.1, 0.01, 4, { usageTokens: 3 }), done(2, 0, 0.1, 0.01, 4)], SLO);
  t.equal(s.token_mismatches, 2);
});

t.test('idle edge cases never give NaN', async (t) => {
  const empty = replaySummary([], SLO);
  t.match(empty, { requests: 0, completed: 0, failed: {}, attainment: 1, span_s: 0, achieved_rps: 0, duration_s: 0, ttft_p99_s: 0 });
  noNaN(t, empty);
  const allFailed = replaySummary([failed(0, 3, 'connection_refused'), failed(1, 3, 'connection_refused')], SLO);
  t.match(allFailed, { completed: 0, attainment: 0, span_s: 0, achieved_rps: 0, ttft_mean_s: 0, failed: { connection_refused: 2 } });
  noNaN(t, allFailed);
  const one = replaySummary([done(0, 7, 0.25, 0, 1)], SLO);
  t.match(one, { attainment: 1, span_s: 0, achieved_rps: 0, tpot_p99_s: 0, ttft_p50_s: 0.25 });
  noNaN(t, one);
});
