/** Service-level objectives. A request meets them jointly only if both its TTFT and its TPOT are within bounds. */
export interface Slo {
  ttftSeconds: number;
  tpotSeconds: number;
  /** Fraction of requests (0–1) that must meet both bounds, e.g. 0.9 or 0.99. */
  attainment: number;
}
