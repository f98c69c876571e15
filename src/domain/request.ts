/**
 * One request of a trace: when it arrived and how long it is. Every trace
 * reader yields these, with arrivals in seconds relative to the trace's first
 * request, so the simulator, the forecaster and the replayer share one shape.
 */
export interface TraceRequest {
  /** Seconds since the first request of the trace (the first is 0). */
  arrivalSeconds: number;
  inputTokens: number;
  outputTokens: number;
  /** Set by readers whose format records failures (BurstGPT: zero response tokens). Failed requests are excluded from stats by default. */
  failed?: boolean;
  /** Fields of the source row that the reader kept but pdpilot does not interpret (e.g. Mooncake hash_ids, BurstGPT model). */
  extra?: Record<string, unknown>;
}

/** Per-request outcome, as measured by the router or the simulator. */
export interface RequestOutcome {
  ttftSeconds: number;
  /** Time per output token after the first; 0 for single-token outputs. */
  tpotSeconds: number;
}

/**
 * Joint SLO attainment and latency percentiles as the JSON contracts name
 * them (DESIGN.md, bench JSON `at_scale_1`); `pdpilot replay --json` uses the
 * same names for the same figures measured at the client.
 */
export interface LatencyFiguresJson {
  attainment: number;
  ttft_p50_s: number;
  ttft_p90_s: number;
  ttft_p99_s: number;
  tpot_p50_s: number;
  tpot_p90_s: number;
  tpot_p99_s: number;
}
