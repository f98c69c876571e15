/**
 * The shapes trace replay passes around: a request to send, what the
 * transport saw of its answer, and the scheduler's record of both. Times are
 * seconds on one Clock (lib/clock.ts), the scheduler's and the transport's.
 */

/** One trace request as replay sends it: `inputTokens` and `outputTokens` are already ≥ 1 (the router's minimums). */
export interface ReplayRequest {
  /** Position in the replayed slice of the trace, from 0. */
  index: number;
  /** Seconds since the trace's first request (the trace's own time, before the speedup). */
  arrivalSeconds: number;
  inputTokens: number;
  outputTokens: number;
}

/** Reason of a completed request; any other reason is a failure, counted under its name. */
export const OK = 'ok';

/**
 * What the transport measured of one request's answer. It never throws:
 * every failure is a reason — an OpenAI error `code` (`queue_full`,
 * `context_length_exceeded`, …), `http_<status>` when the answer had none,
 * a transport problem (`connection_refused`, `connection_reset`, `timeout`,
 * `transport_error`) or a broken stream (`stream_truncated`,
 * `malformed_event`, `no_tokens`).
 */
export interface StreamOutcome {
  reason: string;
  /** Token events received (one per streamed token). */
  tokens: number;
  /** usage.completion_tokens of the final usage chunk, when one came. */
  usageTokens?: number;
  /** When the first and the last token event arrived; absent without tokens. */
  firstTokenSeconds?: number;
  lastTokenSeconds?: number;
  /** When the answer ended (stream closed, error read, or the transport gave up). */
  endSeconds: number;
}

/** Sends one request and measures its answer; the HTTP one lives in cli/, fakes in the tests. */
export interface ReplayTransport {
  send(request: ReplayRequest): Promise<StreamOutcome>;
}

/** One sent request: when it was due, when it went out, and what came back. */
export interface ReplayRecord {
  request: ReplayRequest;
  scheduledSeconds: number;
  sentSeconds: number;
  outcome: StreamOutcome;
}
