/**
 * Capped exponential backoff: attempt 0 waits `baseSeconds`, each later
 * attempt doubles it, never beyond `maxSeconds`. Deterministic (no jitter)
 * unless a random source is given, so tests and the simulator can predict it.
 */
export function backoffSeconds(attempt: number, baseSeconds: number, maxSeconds: number, random?: () => number): number {
  const raw = Math.min(maxSeconds, baseSeconds * 2 ** Math.max(0, attempt));
  return random ? raw * (0.5 + random() / 2) : raw;
}
