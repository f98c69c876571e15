import { sampleFromRequests, type LoadSample } from '../domain/load.js';
import type { TraceRequest } from '../domain/request.js';

/**
 * Cuts a trace into the per-interval LoadSamples a forecaster learns from:
 * intervals [k·I, (k+1)·I) from the trace's clock origin (readers put the
 * first arrival at 0), every interval up to the last arrival's, idle ones
 * included as idle samples. Streams: memory holds one interval's requests.
 *
 * Two exclusions, both so that a sample states only what was seen:
 * - the interval holding the last arrival is left out: the trace may end
 *   anywhere inside it, so its count is only a lower bound on its load;
 * - failed requests (BurstGPT rows with no response) are not counted, as
 *   in the trace stats.
 */
export async function* intervalSamples(
  trace: Iterable<TraceRequest> | AsyncIterable<TraceRequest>,
  intervalSeconds: number,
): AsyncGenerator<LoadSample> {
  if (!(intervalSeconds > 0) || !Number.isFinite(intervalSeconds)) {
    throw new RangeError(`intervalSeconds must be a positive finite number, got ${intervalSeconds}`);
  }
  let current = 0;
  let pending: TraceRequest[] = [];
  for await (const request of trace) {
    if (request.failed) continue;
    if (request.arrivalSeconds < 0) throw new RangeError(`arrival ${request.arrivalSeconds} s is before the trace origin 0`);
    const index = Math.floor(request.arrivalSeconds / intervalSeconds);
    if (index < current) throw new RangeError(`arrivals must not decrease: ${request.arrivalSeconds} s in interval ${index} after interval ${current}`);
    for (; current < index; current++) {
      // An empty list gives an idle sample.
      yield sampleFromRequests(current * intervalSeconds, intervalSeconds, pending);
      pending = [];
    }
    pending.push(request);
  }
}
