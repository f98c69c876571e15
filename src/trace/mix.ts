import type { TraceRequest } from '../domain/request.js';
import type { TraceIterable } from './trace-format.js';
import { superposeTraces } from './transforms.js';
import { mulberry32 } from '../lib/random.js';

/**
 * Mixed traces with a shifting mix: two request classes (say conv and code)
 * superposed, each thinned over time so the share of each class moves
 * through a period: first-heavy → second-heavy → first-heavy.
 *
 * The shape gives the second class's weight w(t) ∈ [0, 1] at phase
 * u = (t mod period) / period:
 * - linear: a triangle, w = 1 − |2u − 1| (0 at the start, 1 mid-period);
 * - step:   w = 1 for u in [0.25, 0.75), else 0 (two abrupt shifts);
 * - sine:   w = (1 − cos 2πu) / 2 (the smooth version of linear).
 * A request of the second class arriving at t is kept with probability
 * floor + (1 − floor)·w(t), one of the first class with floor + (1 − floor)·(1 − w(t)),
 * so neither class ever vanishes completely (floor, default 0.1).
 *
 * Deterministic: each class has its own mulberry32 generator seeded from
 * (seed, class index), and draws one number per request of its source in
 * arrival order. The same inputs and seed give the same trace, and one
 * class's thinning does not depend on how it interleaves with the other.
 */
export const MIX_SHAPES = ['linear', 'step', 'sine'] as const;
export type MixShape = (typeof MIX_SHAPES)[number];

export function isMixShape(name: string): name is MixShape {
  return (MIX_SHAPES as readonly string[]).includes(name);
}

export interface MixClass {
  trace: TraceIterable;
  /** Written to each request's extra.tag (and to the "class" field of the JSONL). */
  tag: string;
}

export interface MixOptions {
  shape: MixShape;
  /** One full first-heavy → second-heavy → first-heavy cycle, seconds. */
  periodSeconds: number;
  /** Seed of the thinning; default 1. */
  seed?: number;
  /** Keep probability of a class at its lowest, 0 ≤ floor ≤ 1; default 0.1. */
  floor?: number;
}

/** The second class's weight w(t) of the shape, 0..1. */
export function secondClassWeight(shape: MixShape, tSeconds: number, periodSeconds: number): number {
  const phase = (((tSeconds % periodSeconds) + periodSeconds) % periodSeconds) / periodSeconds;
  switch (shape) {
    case 'linear':
      return 1 - Math.abs(2 * phase - 1);
    case 'step':
      return phase >= 0.25 && phase < 0.75 ? 1 : 0;
    case 'sine':
      return (1 - Math.cos(2 * Math.PI * phase)) / 2;
  }
}

/** The two classes, thinned by the shape and superposed by arrival, each request tagged with its class. */
export function shiftingMix(first: MixClass, second: MixClass, options: MixOptions): TraceIterable {
  const { shape, periodSeconds } = options;
  const seed = options.seed ?? 1;
  const floor = options.floor ?? 0.1;
  if (!(periodSeconds > 0) || !Number.isFinite(periodSeconds)) throw new RangeError(`periodSeconds must be a positive finite number, got ${periodSeconds}`);
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  if (!(floor >= 0 && floor <= 1)) throw new RangeError(`floor must be within 0..1, got ${floor}`);
  const keep = (weight: number) => floor + (1 - floor) * weight;
  return superposeTraces([
    { trace: thin(first.trace, (t) => keep(1 - secondClassWeight(shape, t, periodSeconds)), seed, 0), tag: first.tag },
    { trace: thin(second.trace, (t) => keep(secondClassWeight(shape, t, periodSeconds)), seed, 1), tag: second.tag },
  ]);
}

/** One line of pdpilot JSONL with the class: {"t","input","output","class"}. */
export function mixedTraceLine(request: TraceRequest): string {
  const tag = request.extra?.tag;
  return `${JSON.stringify({ t: request.arrivalSeconds, input: request.inputTokens, output: request.outputTokens, class: tag })}\n`;
}

/** Keeps each request with probability keep(arrival), drawing from a generator of its own per iteration. */
function thin(trace: TraceIterable, keep: (tSeconds: number) => number, seed: number, stream: number): TraceIterable {
  if (Symbol.asyncIterator in trace) {
    return {
      async *[Symbol.asyncIterator]() {
        const random = mulberry32(streamSeed(seed, stream));
        for await (const request of trace) if (random() < keep(request.arrivalSeconds)) yield request;
      },
    };
  }
  return {
    *[Symbol.iterator]() {
      const random = mulberry32(streamSeed(seed, stream));
      for (const request of trace) if (random() < keep(request.arrivalSeconds)) yield request;
    },
  };
}

/** Spreads (seed, stream) apart with the golden-ratio increment, so seeds 1 and 2 do not share a stream. */
function streamSeed(seed: number, stream: number): number {
  return (seed + Math.imul(stream + 1, 0x9e3779b9)) >>> 0;
}

