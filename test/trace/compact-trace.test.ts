import t from 'tap';
import type { TraceRequest } from '../../src/domain/request.js';
import { CompactTrace, compactTrace, openTrace, traceStats } from '../../src/trace/index.js';
import { azureTrace } from './fixtures/trace-test-helpers.js';

t.test('compactTrace packs arrivals and lengths into typed arrays, leaving failed requests out', async (t) => {
  const requests: TraceRequest[] = [
    { arrivalSeconds: 0, inputTokens: 10, outputTokens: 1, extra: { hash_ids: [1] } },
    { arrivalSeconds: 0.5, inputTokens: 20, outputTokens: 0, failed: true },
    { arrivalSeconds: 1.25, inputTokens: 30, outputTokens: 3 },
  ];
  const compact = await compactTrace(requests);
  t.type(compact.arrivalSeconds, Float64Array);
  t.type(compact.inputTokens, Int32Array);
  t.equal(compact.length, 2);
  t.same([...compact.arrivalSeconds], [0, 1.25]);
  t.same([...compact.outputTokens], [1, 3]);
  t.same([...compact], [
    { arrivalSeconds: 0, inputTokens: 10, outputTokens: 1 },
    { arrivalSeconds: 1.25, inputTokens: 30, outputTokens: 3 },
  ], 'iterates as plain requests (extra is not kept)');
  t.equal((await compactTrace(requests, { includeFailed: true })).length, 3);
  t.equal(compact.arrivalSeconds.buffer.byteLength, 16, 'trimmed to its length');
});

t.test('a compacted real trace gives the same stats as the file', async (t) => {
  const compact = await compactTrace(await openTrace(azureTrace('code')));
  t.equal(compact.length, 8819);
  t.same(await traceStats(compact), await traceStats(await openTrace(azureTrace('code'))));
});

t.test('the three arrays must have one length', async (t) => {
  t.throws(() => new CompactTrace(new Float64Array(2), new Int32Array(2), new Int32Array(1)), { name: 'RangeError', message: /differ in length/ });
});
