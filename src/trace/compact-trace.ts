import type { TraceRequest } from '../domain/request.js';
import { GrowableArray } from './growable-array.js';
import type { TraceIterable } from './trace-format.js';

/**
 * A trace held in three parallel typed arrays: 16 bytes a request, versus
 * well over 100 for TraceRequest objects, and no file parsing on replay.
 * The bench replays one trace at many rate scales: materialise once, then
 * `scaleRate(compact, K)` (a sync, re-iterable pipeline) or read the arrays
 * directly in a hot loop. `failed` and `extra` are not kept.
 */
export class CompactTrace implements Iterable<TraceRequest> {
  constructor(
    /** Arrival times in seconds, non-decreasing. */
    readonly arrivalSeconds: Float64Array,
    readonly inputTokens: Int32Array,
    readonly outputTokens: Int32Array,
  ) {
    if (inputTokens.length !== arrivalSeconds.length || outputTokens.length !== arrivalSeconds.length) {
      throw new RangeError(
        `CompactTrace arrays differ in length: ${arrivalSeconds.length} arrivals, ${inputTokens.length} inputs, ${outputTokens.length} outputs`,
      );
    }
  }

  get length(): number {
    return this.arrivalSeconds.length;
  }

  *[Symbol.iterator](): Iterator<TraceRequest> {
    for (let i = 0; i < this.arrivalSeconds.length; i++) {
      yield {
        arrivalSeconds: this.arrivalSeconds[i] as number,
        inputTokens: this.inputTokens[i] as number,
        outputTokens: this.outputTokens[i] as number,
      };
    }
  }
}

/**
 * Reads a whole trace into a CompactTrace. Failed requests are left out
 * unless includeFailed, as in traceStats, so a replay loads the service with
 * the requests the stats describe.
 */
export async function compactTrace(trace: TraceIterable, options: { includeFailed?: boolean } = {}): Promise<CompactTrace> {
  const includeFailed = options.includeFailed ?? false;
  const arrivals = new GrowableArray((n) => new Float64Array(n));
  const inputs = new GrowableArray((n) => new Int32Array(n));
  const outputs = new GrowableArray((n) => new Int32Array(n));
  for await (const request of trace) {
    if (request.failed && !includeFailed) continue;
    arrivals.push(request.arrivalSeconds);
    inputs.push(request.inputTokens);
    outputs.push(request.outputTokens);
  }
  return new CompactTrace(arrivals.toTrimmed(), inputs.toTrimmed(), outputs.toTrimmed());
}
