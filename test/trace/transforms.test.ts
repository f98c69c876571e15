import t from 'tap';
import type { TraceRequest } from '../../src/domain/request.js';
import { compactTrace, concatTraces, openTrace, scaleRate, sliceTime, superposeTraces, traceStats } from '../../src/trace/index.js';
import { azureTrace, collect } from './fixtures/trace-test-helpers.js';

const at = (...arrivals: number[]): TraceRequest[] =>
  arrivals.map((arrivalSeconds, i) => ({ arrivalSeconds, inputTokens: 100 + i, outputTokens: 10 + i }));
const times = (trace: Iterable<TraceRequest>): number[] => [...trace].map((r) => r.arrivalSeconds);

async function* asAsync(requests: TraceRequest[]): AsyncGenerator<TraceRequest> {
  for (const request of requests) yield request;
}

/** A sync source that records how many requests were pulled and whether it was closed. */
function watched(requests: TraceRequest[]) {
  const state = { pulled: 0, closed: false };
  const trace = {
    *[Symbol.iterator]() {
      try {
        for (const request of requests) {
          state.pulled++;
          yield request;
        }
      } finally {
        state.closed = true;
      }
    },
  };
  return { trace, state };
}

t.test('scaleRate divides arrivals, keeps lengths and extra, and does not touch its input', async (t) => {
  const input = at(0, 1, 3);
  input[1]!.extra = { hash_ids: [1] };
  const scaled = [...scaleRate(input, 2)];
  t.same(scaled.map((r) => r.arrivalSeconds), [0, 0.5, 1.5]);
  t.same(scaled[1], { arrivalSeconds: 0.5, inputTokens: 101, outputTokens: 11, extra: { hash_ids: [1] } });
  t.same(times(scaleRate(input, 0.5)), [0, 2, 6], '0.5 halves the rate');
  t.same(times(input), [0, 1, 3], 'input unchanged');
  for (const bad of [0, -1, Infinity, NaN]) t.throws(() => scaleRate(input, bad), RangeError);
});

t.test('a sync input gives a sync, re-iterable result; an async one an async result', async (t) => {
  const scaled = scaleRate(at(0, 2), 2);
  t.ok(Symbol.iterator in scaled && !(Symbol.asyncIterator in scaled));
  t.same(times(scaled), [0, 1]);
  t.same(times(scaled), [0, 1], 'iterates again');
  const asyncScaled = scaleRate(asAsync(at(0, 2)), 2);
  t.ok(Symbol.asyncIterator in asyncScaled);
  t.same((await collect(asyncScaled)).map((r) => r.arrivalSeconds), [0, 1]);
});

t.test('sliceTime keeps [from, to), re-based to its first request by default', async (t) => {
  const trace = at(0, 5, 10, 15, 20);
  t.same(times(sliceTime(trace, { fromSeconds: 5, toSeconds: 15 })), [0, 5]);
  t.same(times(sliceTime(trace, { fromSeconds: 6, toSeconds: 15 })), [0], 're-based to the first kept arrival (10), not to from');
  t.same(times(sliceTime(trace, { fromSeconds: 5, toSeconds: 15, rebase: false })), [5, 10]);
  t.same(times(sliceTime(trace, { toSeconds: 10 })), [0, 5], 'open start');
  t.same(times(sliceTime(trace, { fromSeconds: 12, rebase: false })), [15, 20], 'open end');
  const halves = [...sliceTime(trace, { toSeconds: 10, rebase: false }), ...sliceTime(trace, { fromSeconds: 10, rebase: false })];
  t.same(times(halves), times(trace), 'adjacent slices partition the trace');
  t.throws(() => sliceTime(trace, { fromSeconds: 2, toSeconds: 1 }), RangeError);
});

t.test('sliceTime stops reading its input at the end of the window', async (t) => {
  const { trace, state } = watched(at(0, 1, 2, 3, 4, 5, 6));
  t.same(times(sliceTime(trace, { toSeconds: 2 })), [0, 1]);
  t.equal(state.pulled, 3, 'read up to the first arrival past the window, no further');
  t.ok(state.closed, 'and closed the source');
});

t.test('sliceTime over a real file, then stats of the slice', async (t) => {
  // Minutes 14 of the code trace is its busiest fixed bin: 632 requests.
  const minute14 = sliceTime(await openTrace(azureTrace('code')), { fromSeconds: 14 * 60, toSeconds: 15 * 60, rebase: false });
  const stats = await traceStats(minute14);
  t.equal(stats.requests, 632);
});

t.test('concatTraces puts each trace gapSeconds after the last request of the previous one', async (t) => {
  t.same(times(concatTraces([at(0, 2), at(0, 1), at(0)])), [0, 2, 2, 3, 3], 'gap 0: at the same instant');
  t.same(times(concatTraces([at(0, 2), at(0, 1)], { gapSeconds: 10 })), [0, 2, 12, 13]);
  t.same(times(concatTraces([at(5, 7), at(3, 4)], { gapSeconds: 1 })), [5, 7, 8, 9], 'inputs not at 0 are placed by their first arrival');
  t.same(times(concatTraces([at(0, 2), [], at(0, 1)], { gapSeconds: 1 })), [0, 2, 3, 4], 'an empty trace adds nothing');
  t.same([...concatTraces([at(0), at(0)])].map((r) => r.inputTokens), [100, 100], 'lengths kept');
  t.throws(() => concatTraces([at(0)], { gapSeconds: -1 }), RangeError);
  const mixed = concatTraces([at(0, 1), asAsync(at(0, 1))], { gapSeconds: 2 });
  t.ok(Symbol.asyncIterator in mixed, 'any async input makes the result async');
  t.same((await collect(mixed)).map((r) => r.arrivalSeconds), [0, 1, 3, 4]);
});

t.test('concatTraces of the two real traces: code then conv after a 60 s gap', async (t) => {
  const [code, conv] = await Promise.all([openTrace(azureTrace('code')), openTrace(azureTrace('conv'))]);
  const stats = await traceStats(concatTraces([code, conv], { gapSeconds: 60 }));
  t.equal(stats.requests, 8819 + 19366);
  t.ok(Math.abs(stats.span_s - (3435.948056 + 60 + 3501.721937)) < 1e-6, `span ${stats.span_s}`);
});

t.test('superposeTraces merges by arrival, each part with its own offset and rate scale', async (t) => {
  const merged = [...superposeTraces([
    { trace: at(0, 4, 8), tag: 'a' },
    { trace: at(0, 4, 8), offsetSeconds: 1, rateScale: 2, tag: 'b' }, // 1, 3, 5
  ])];
  t.same(merged.map((r) => r.arrivalSeconds), [0, 1, 3, 4, 5, 8]);
  t.same(merged.map((r) => r.extra?.tag), ['a', 'b', 'b', 'a', 'b', 'a']);
  t.same(times(superposeTraces([{ trace: at(0, 1) }, { trace: at(0) }])), [0, 0, 1]);
  const tagged = [...superposeTraces([{ trace: [{ arrivalSeconds: 0, inputTokens: 1, outputTokens: 1, extra: { hash_ids: [9] } }], tag: 'x' }])];
  t.same(tagged[0]?.extra, { hash_ids: [9], tag: 'x' }, 'the tag joins existing extra');
  t.same(times(superposeTraces([])), [], 'no parts, no requests');
});

t.test('superposeTraces: ties go to the earlier part', async (t) => {
  const merged = [...superposeTraces([
    { trace: [{ arrivalSeconds: 2, inputTokens: 1, outputTokens: 1 }] },
    { trace: [{ arrivalSeconds: 2, inputTokens: 2, outputTokens: 2 }] },
  ])];
  t.same(merged.map((r) => r.inputTokens), [1, 2]);
});

t.test('superposeTraces rejects an unsorted part and closes its parts when stopped early', async (t) => {
  t.throws(() => [...superposeTraces([{ trace: at(0, 5, 3) }])], { name: 'RangeError', message: /part 0 is not sorted by arrival/ });
  const a = watched(at(0, 2, 4, 6));
  const b = watched(at(1, 3, 5, 7));
  for (const request of superposeTraces([{ trace: a.trace }, { trace: b.trace }])) if (request.arrivalSeconds >= 2) break;
  t.ok(a.state.closed && b.state.closed, 'both sources closed');
});

t.test('superposeTraces of code and conv files, async, in order', async (t) => {
  const [code, conv] = await Promise.all([openTrace(azureTrace('code')), openTrace(azureTrace('conv'))]);
  const mixed = superposeTraces([{ trace: code, tag: 'code' }, { trace: conv, rateScale: 2, tag: 'conv' }]);
  let previous = -Infinity;
  let sorted = true;
  const perTag: Record<string, number> = {};
  for await (const request of mixed) {
    sorted &&= request.arrivalSeconds >= previous;
    previous = request.arrivalSeconds;
    const tag = String(request.extra?.tag);
    perTag[tag] = (perTag[tag] ?? 0) + 1;
  }
  t.ok(sorted, 'merged in arrival order');
  t.same(perTag, { code: 8819, conv: 19366 });
  t.equal(previous, 3435.948056, 'ends with the code trace, the later of the two (conv at 2× ends at 1750.9 s)');
});

t.test('a compact trace replays at many rate scales without re-reading the file', async (t) => {
  const compact = await compactTrace(await openTrace(azureTrace('conv')));
  for (const rateScale of [0.5, 1, 4]) {
    const stats = await traceStats(scaleRate(compact, rateScale));
    t.equal(stats.requests, 19366);
    t.ok(Math.abs(stats.mean_rps - 5.53042198907183 * rateScale) < 1e-9, `mean rate ×${rateScale}`);
  }
});
