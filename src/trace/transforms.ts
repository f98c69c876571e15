import type { TraceRequest } from '../domain/request.js';
import type { TraceIterable } from './trace-format.js';

/*
 * Lazy, streaming transformations of traces. Each takes sync or async
 * iterables and returns the same kind (sync only when every input is sync,
 * so a CompactTrace replays without an await per request). Results are
 * re-iterable whenever their inputs are: iterating again re-runs the
 * pipeline from the sources. Requests are never mutated; a changed request
 * is a new object.
 *
 * Inputs must be sorted by arrival, as every reader guarantees; outputs are
 * then sorted too. sliceTime stops reading at the end of its window, and
 * superposeTraces checks the order it relies on.
 */

const STOP = Symbol('stop');
/** Maps one request to its replacement, drops it (undefined), or ends the stream (STOP). */
type Step = (request: TraceRequest) => TraceRequest | undefined | typeof STOP;

function isAsync(trace: TraceIterable): trace is AsyncIterable<TraceRequest> {
  return Symbol.asyncIterator in trace;
}

/** Runs a per-request step over a trace, lazily. makeStep is called per iteration so steps may keep state. */
function pipe(trace: TraceIterable, makeStep: () => Step): TraceIterable {
  if (isAsync(trace)) {
    return {
      async *[Symbol.asyncIterator]() {
        const step = makeStep();
        for await (const request of trace) {
          const out = step(request);
          if (out === STOP) return;
          if (out !== undefined) yield out;
        }
      },
    };
  }
  return {
    *[Symbol.iterator]() {
      const step = makeStep();
      for (const request of trace) {
        const out = step(request);
        if (out === STOP) return;
        if (out !== undefined) yield out;
      }
    },
  };
}

function atTime(request: TraceRequest, arrivalSeconds: number): TraceRequest {
  return arrivalSeconds === request.arrivalSeconds ? request : { ...request, arrivalSeconds };
}

function checkPositive(name: string, value: number): void {
  if (!(value > 0) || !Number.isFinite(value)) throw new RangeError(`${name} must be a positive finite number, got ${value}`);
}

/**
 * Arrivals `rateScale`× faster: every arrival time t becomes t / rateScale
 * (2 doubles the request rate, 0.5 halves it). Lengths are unchanged. This
 * is the K of DESIGN.md's goodput_rate_scale.
 */
export function scaleRate(trace: Iterable<TraceRequest>, rateScale: number): Iterable<TraceRequest>;
export function scaleRate(trace: AsyncIterable<TraceRequest>, rateScale: number): AsyncIterable<TraceRequest>;
export function scaleRate(trace: TraceIterable, rateScale: number): TraceIterable;
export function scaleRate(trace: TraceIterable, rateScale: number): TraceIterable {
  checkPositive('rateScale', rateScale);
  return pipe(trace, () => (request) => atTime(request, request.arrivalSeconds / rateScale));
}

export interface TimeSlice {
  /** Keep arrivals at or after this time (seconds, on the input's clock). Default: from the start. */
  fromSeconds?: number;
  /** Keep arrivals strictly before this time, so adjacent slices partition a trace. Default: to the end. */
  toSeconds?: number;
  /**
   * Re-base the slice so its first request arrives at 0 (default true), the
   * invariant every reader's output has; stats and concatTraces need no
   * special case then. false keeps the input's times, e.g. to compare a
   * slice against forecasts made on the whole trace's clock.
   */
  rebase?: boolean;
}

/** The requests arriving in [fromSeconds, toSeconds). Stops reading its input at the first arrival ≥ toSeconds. */
export function sliceTime(trace: Iterable<TraceRequest>, slice: TimeSlice): Iterable<TraceRequest>;
export function sliceTime(trace: AsyncIterable<TraceRequest>, slice: TimeSlice): AsyncIterable<TraceRequest>;
export function sliceTime(trace: TraceIterable, slice: TimeSlice): TraceIterable;
export function sliceTime(trace: TraceIterable, slice: TimeSlice): TraceIterable {
  const fromSeconds = slice.fromSeconds ?? -Infinity;
  const toSeconds = slice.toSeconds ?? Infinity;
  if (!(fromSeconds <= toSeconds)) throw new RangeError(`slice from ${fromSeconds} s must not be after to ${toSeconds} s`);
  const rebase = slice.rebase ?? true;
  return pipe(trace, () => {
    let baseSeconds: number | undefined;
    return (request) => {
      if (request.arrivalSeconds >= toSeconds) return STOP;
      if (request.arrivalSeconds < fromSeconds) return undefined;
      if (!rebase) return request;
      baseSeconds ??= request.arrivalSeconds;
      return atTime(request, request.arrivalSeconds - baseSeconds);
    };
  });
}

/**
 * Traces one after another: each trace's first request arrives `gapSeconds`
 * after the previous trace's last request (gap 0: at the same instant). The
 * first trace keeps its times. An empty trace contributes nothing.
 */
export function concatTraces(traces: readonly Iterable<TraceRequest>[], options?: { gapSeconds?: number }): Iterable<TraceRequest>;
export function concatTraces(traces: readonly TraceIterable[], options?: { gapSeconds?: number }): TraceIterable;
export function concatTraces(traces: readonly TraceIterable[], options: { gapSeconds?: number } = {}): TraceIterable {
  const gapSeconds = options.gapSeconds ?? 0;
  if (!(gapSeconds >= 0) || !Number.isFinite(gapSeconds)) throw new RangeError(`gapSeconds must be ≥ 0, got ${gapSeconds}`);
  // One placement rule for both loops below: offset each trace so its first
  // request lands gapSeconds after the last request placed so far.
  const placer = () => {
    let lastSeconds: number | undefined;
    let offsetSeconds: number | undefined;
    return {
      startTrace() {
        offsetSeconds = undefined;
      },
      place(request: TraceRequest): TraceRequest {
        offsetSeconds ??= lastSeconds === undefined ? 0 : lastSeconds + gapSeconds - request.arrivalSeconds;
        const placed = atTime(request, request.arrivalSeconds + offsetSeconds);
        lastSeconds = placed.arrivalSeconds;
        return placed;
      },
    };
  };
  if (traces.some(isAsync)) {
    return {
      async *[Symbol.asyncIterator]() {
        const placement = placer();
        for (const trace of traces) {
          placement.startTrace();
          for await (const request of trace) yield placement.place(request);
        }
      },
    };
  }
  return {
    *[Symbol.iterator]() {
      const placement = placer();
      for (const trace of traces as readonly Iterable<TraceRequest>[]) {
        placement.startTrace();
        for (const request of trace) yield placement.place(request);
      }
    },
  };
}

export interface TracePart {
  trace: TraceIterable;
  /** Seconds added to every arrival of this part, after rate scaling. Default 0. */
  offsetSeconds?: number;
  /** This part's arrivals rateScale× faster (see scaleRate). Default 1. */
  rateScale?: number;
  /** When set, every request of this part carries it as extra.tag (e.g. "code" or "conv" in a mixed trace). */
  tag?: string;
}

/**
 * Several traces at once, merged by arrival: part i's request at t arrives
 * at offsetSeconds + t / rateScale. Ties go to the earlier part, so the
 * result is deterministic. Not re-based: offsets are kept as given.
 *
 * The merge scans the parts' heads linearly: superposed traces are a
 * handful of request classes, where a scan beats a heap.
 */
export function superposeTraces(parts: readonly (TracePart & { trace: Iterable<TraceRequest> })[]): Iterable<TraceRequest>;
export function superposeTraces(parts: readonly TracePart[]): TraceIterable;
export function superposeTraces(parts: readonly TracePart[]): TraceIterable {
  const placed = parts.map((part) => {
    const offsetSeconds = part.offsetSeconds ?? 0;
    const rateScale = part.rateScale ?? 1;
    checkPositive('rateScale', rateScale);
    if (!Number.isFinite(offsetSeconds)) throw new RangeError(`offsetSeconds must be finite, got ${offsetSeconds}`);
    const { tag } = part;
    return pipe(part.trace, () => (request) => {
      const moved = atTime(request, offsetSeconds + request.arrivalSeconds / rateScale);
      return tag === undefined ? moved : { ...moved, extra: { ...moved.extra, tag } };
    });
  });
  if (placed.some(isAsync)) {
    return {
      async *[Symbol.asyncIterator]() {
        const iterators = placed.map((trace) =>
          isAsync(trace) ? trace[Symbol.asyncIterator]() : toAsyncIterator(trace[Symbol.iterator]()),
        );
        try {
          const heads = await Promise.all(iterators.map(async (it) => headOf(await it.next())));
          for (;;) {
            const i = earliest(heads);
            if (i < 0) return;
            const request = heads[i] as TraceRequest;
            yield request;
            heads[i] = checkedNext(headOf(await (iterators[i] as AsyncIterator<TraceRequest>).next()), request, i);
          }
        } finally {
          // Close every part (a file stream, say) when the consumer stops early.
          await Promise.all(iterators.map((it) => it.return?.()));
        }
      },
    };
  }
  return {
    *[Symbol.iterator]() {
      const iterators = (placed as Iterable<TraceRequest>[]).map((trace) => trace[Symbol.iterator]());
      try {
        const heads = iterators.map((it) => headOf(it.next()));
        for (;;) {
          const i = earliest(heads);
          if (i < 0) return;
          const request = heads[i] as TraceRequest;
          yield request;
          heads[i] = checkedNext(headOf((iterators[i] as Iterator<TraceRequest>).next()), request, i);
        }
      } finally {
        for (const it of iterators) it.return?.();
      }
    },
  };
}

function headOf(result: IteratorResult<TraceRequest>): TraceRequest | undefined {
  return result.done ? undefined : result.value;
}

/** Index of the head arriving first (lowest index on ties), or -1 when every part is done. */
function earliest(heads: readonly (TraceRequest | undefined)[]): number {
  let best = -1;
  let bestSeconds = Infinity;
  for (let i = 0; i < heads.length; i++) {
    const head = heads[i];
    if (head !== undefined && (best < 0 || head.arrivalSeconds < bestSeconds)) {
      best = i;
      bestSeconds = head.arrivalSeconds;
    }
  }
  return best;
}

/** The merge is only sorted if each part is; say which part is not rather than yield out of order. */
function checkedNext(next: TraceRequest | undefined, previous: TraceRequest, part: number): TraceRequest | undefined {
  if (next !== undefined && next.arrivalSeconds < previous.arrivalSeconds) {
    throw new RangeError(
      `superposeTraces: part ${part} is not sorted by arrival (${next.arrivalSeconds} s after ${previous.arrivalSeconds} s)`,
    );
  }
  return next;
}

function toAsyncIterator<T>(iterator: Iterator<T>): AsyncIterator<T> {
  return {
    next: async () => iterator.next(),
    return: async () => iterator.return?.() ?? { done: true, value: undefined },
  };
}
