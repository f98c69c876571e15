import t from 'tap';
import { join } from 'node:path';
import { openTrace, traceStats } from '../../src/trace/index.js';
import { collect, readTrace } from './fixtures/trace-test-helpers.js';

t.test('reads pdpilot JSONL: t in seconds, optional fields kept in extra, failed understood', async (t) => {
  const dir = t.testdir({
    'trace.jsonl': [
      '{"t": 0.5, "input": 100, "output": 20, "class": "conv"}',
      '{"t": 1.25, "input": 3000, "output": 5, "class": "code", "session": 7}',
      '{"t": 2, "input": 50, "output": 0, "failed": true}',
      '{"t": 2, "input": 60, "output": 1, "failed": false}',
    ].join('\n'),
  });
  const { file, requests } = await readTrace(join(dir, 'trace.jsonl'));
  t.equal(file.format, 'pdpilot');
  t.same(requests, [
    { arrivalSeconds: 0, inputTokens: 100, outputTokens: 20, extra: { class: 'conv' } },
    { arrivalSeconds: 0.75, inputTokens: 3000, outputTokens: 5, extra: { class: 'code', session: 7 } },
    { arrivalSeconds: 1.5, inputTokens: 50, outputTokens: 0, failed: true },
    { arrivalSeconds: 1.5, inputTokens: 60, outputTokens: 1 },
  ]);
  const stats = await traceStats(await openTrace(join(dir, 'trace.jsonl')));
  t.equal(stats.requests, 3);
  t.equal(stats.failed_rows, 1);
});

const BAD_ROWS: [string, string, RegExp][] = [
  ['invalid JSON', '{"t": 3, input: 1}', /invalid JSON: /],
  ['a non-integer input', '{"t": 3, "input": 1.5, "output": 1}', /"input": expected a non-negative integer, got 1\.5/],
  ['a missing t', '{"input": 1, "output": 1}', /"t": expected a number of seconds, got nothing/],
  ['a non-boolean failed', '{"t": 3, "input": 1, "output": 1, "failed": "yes"}', /"failed": expected true or false, got "yes"/],
  ['an arrival going backwards', '{"t": 0.25, "input": 1, "output": 1}', /arrival goes back 0\.75 s/],
];

for (const [what, row, reason] of BAD_ROWS) {
  t.test(`a row with ${what} fails naming file and line`, async (t) => {
    const dir = t.testdir({ 'bad.jsonl': `{"t": 0, "input": 1, "output": 1}\n\n{"t": 1, "input": 1, "output": 1}\n${row}` });
    const path = join(dir, 'bad.jsonl');
    await t.rejects(collect(await openTrace(path)), { name: 'InputError', where: `${path}:4`, message: reason });
    const lenient = await readTrace(path, { lenient: true });
    t.equal(lenient.file.skippedRows, 1);
    t.equal(lenient.requests.length, 2);
  });
}
