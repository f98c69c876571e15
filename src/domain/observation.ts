/**
 * What the front door measured over one controller interval besides the
 * arrivals' moments (`LoadSample`): the latency of the requests that finished
 * in it and the demand it could not serve. One piece of code builds it from
 * request events, live (the router's reports) and simulated (the cluster's
 * events), so a policy reads the same figures in both bodies.
 *
 * A latency figure that is absent was not measured (no request finished in
 * the interval): never read it as 0, which would say "fast".
 */
export interface IntervalLatency {
  /** Requests served to the end in the interval. */
  completed: number;
  /**
   * Arrivals the fleet did not serve: refused at the door (429 queue full,
   * 503 no worker ready, never servable) or failed or timed out after
   * admission. Also counted in the interval's `LoadSample.requests`, so an
   * overloaded pool reads as overloaded.
   */
  refused: number;
  ttftP50Seconds?: number;
  ttftP90Seconds?: number;
  tpotP50Seconds?: number;
  tpotP90Seconds?: number;
  /** Fraction (0–1) of finished and refused requests that met both SLOs (a refusal is a miss). */
  attainment?: number;
}

/** One arrival as the front door saw it: lengths and time only, never text. */
export interface ObservedRequest {
  /** Controller-clock time of the arrival, seconds. */
  arrivalSeconds: number;
  inputTokens: number;
  /** Output tokens asked for (`max_tokens`, or the trace's length in the simulator). */
  outputTokens: number;
}
