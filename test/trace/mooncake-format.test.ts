import t from 'tap';
import { join } from 'node:path';
import { openTrace } from '../../src/trace/index.js';
import { collect, readTrace } from './fixtures/trace-test-helpers.js';

const SAMPLE = [
  '{"timestamp": 27482, "input_length": 6955, "output_length": 52, "hash_ids": [46, 47, 48, 49]}',
  '{"timestamp": 30535, "input_length": 6472, "output_length": 26, "hash_ids": [46, 47, 50]}',
  '{"timestamp": 30535, "input_length": 12, "output_length": 0, "hash_ids": []}',
  '',
].join('\n');

t.test('reads Mooncake JSONL: milliseconds to re-based seconds, hash_ids kept in extra', async (t) => {
  const dir = t.testdir({ 'mooncake.jsonl': SAMPLE });
  const { file, requests } = await readTrace(join(dir, 'mooncake.jsonl'));
  t.equal(file.format, 'mooncake');
  t.same(requests, [
    { arrivalSeconds: 0, inputTokens: 6955, outputTokens: 52, extra: { hash_ids: [46, 47, 48, 49] } },
    { arrivalSeconds: 3.053, inputTokens: 6472, outputTokens: 26, extra: { hash_ids: [46, 47, 50] } },
    { arrivalSeconds: 3.053, inputTokens: 12, outputTokens: 0, extra: { hash_ids: [] } },
  ]);
  t.notOk(requests[2]?.failed, 'zero output is not a failure in Mooncake (only BurstGPT records failures that way)');
});

const BAD_ROWS: [string, string, RegExp][] = [
  ['invalid JSON', '{"timestamp": 31000, "input_length": 1,', /invalid JSON: /],
  ['a JSON array', '[31000, 1, 1]', /expected a JSON object, got an array/],
  ['a missing output_length', '{"timestamp": 31000, "input_length": 1}', /"output_length": expected a non-negative integer, got nothing/],
  ['a string timestamp', '{"timestamp": "31000", "input_length": 1, "output_length": 1}', /"timestamp": expected a number of milliseconds, got "31000"/],
  ['negative tokens', '{"timestamp": 31000, "input_length": -1, "output_length": 1}', /"input_length": negative token count -1/],
  ['an arrival going backwards', '{"timestamp": 30000, "input_length": 1, "output_length": 1}', /arrival goes back 0\.535 s/],
];

for (const [what, row, reason] of BAD_ROWS) {
  t.test(`a row with ${what} fails naming file and line`, async (t) => {
    const dir = t.testdir({ 'bad.jsonl': `${SAMPLE.split('\n').slice(0, 2).join('\n')}\n${row}\n` });
    const path = join(dir, 'bad.jsonl');
    await t.rejects(collect(await openTrace(path)), { name: 'InputError', where: `${path}:3`, message: reason });
    const lenient = await readTrace(path, { lenient: true });
    t.equal(lenient.file.skippedRows, 1);
    t.equal(lenient.requests.length, 2);
  });
}
