import type { Clock } from '../lib/clock.js';
import type { ReplayRecord, ReplayRequest, ReplayTransport } from './outcome.js';

/** A clock that can also wait: the wall clock with a timer live, a ManualClock that jumps in tests. */
export interface Pacer extends Clock {
  /** Resolves at (or after) `seconds` on this clock. */
  sleepUntil(seconds: number): Promise<void>;
}

export interface OpenLoopOptions {
  /** Arrivals are replayed this many times faster (> 0). */
  speedup: number;
  pacer: Pacer;
  transport: ReplayTransport;
}

/**
 * Open-loop replay: request i is sent at start + (arrival_i − arrival_0) ÷
 * speedup, whatever is still in flight — the load does not slow down when
 * the service does, as real users would not (a closed loop would hide
 * overload by sending less). Sends are never awaited before the next one;
 * the result, in trace order, comes when every answer is in.
 *
 * Requests must be in arrival order (trace readers guarantee it). A send
 * due while the loop is late goes out at once; the lateness is recorded so
 * the report can show whether the client kept to the schedule.
 */
export async function runOpenLoop(requests: readonly ReplayRequest[], options: OpenLoopOptions): Promise<ReplayRecord[]> {
  const { speedup, pacer, transport } = options;
  if (!(speedup > 0) || !Number.isFinite(speedup)) throw new RangeError(`speedup must be a finite number > 0, got ${speedup}`);
  const startSeconds = pacer.nowSeconds();
  const firstArrival = requests[0]?.arrivalSeconds ?? 0;
  const answers: Promise<ReplayRecord>[] = [];
  for (const request of requests) {
    const scheduledSeconds = startSeconds + (request.arrivalSeconds - firstArrival) / speedup;
    if (pacer.nowSeconds() < scheduledSeconds) await pacer.sleepUntil(scheduledSeconds);
    const sentSeconds = pacer.nowSeconds();
    answers.push(
      transport.send(request).then(
        (outcome) => ({ request, scheduledSeconds, sentSeconds, outcome }),
        // Transports report failures as outcomes; a throw is a transport bug, still one failed request, not a lost run.
        () => ({
          request,
          scheduledSeconds,
          sentSeconds,
          outcome: { reason: 'client_error', tokens: 0, endSeconds: pacer.nowSeconds() },
        }),
      ),
    );
  }
  return Promise.all(answers);
}
