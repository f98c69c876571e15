import t from 'tap';
import { join } from 'node:path';
import { detectFormat, openTrace } from '../../src/trace/index.js';
import { azureTrace, collect, readTrace } from './fixtures/trace-test-helpers.js';

const FILES = {
  'azure.csv': 'TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:00:00.0,5,6',
  'burst.csv': 'Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n0,ChatGPT,5,6,11,API log',
  'mooncake.jsonl': '{"timestamp": 0, "input_length": 5, "output_length": 6, "hash_ids": [1]}',
  'pdpilot.jsonl': '\n{"t": 0, "input": 5, "output": 6}',
};

t.test('the format is detected from the first non-blank line', async (t) => {
  const dir = t.testdir(FILES);
  t.equal(await detectFormat(join(dir, 'azure.csv')), 'azure');
  t.equal(await detectFormat(join(dir, 'burst.csv')), 'burstgpt');
  t.equal(await detectFormat(join(dir, 'mooncake.jsonl')), 'mooncake');
  t.equal(await detectFormat(join(dir, 'pdpilot.jsonl')), 'pdpilot');
  for (const name of Object.keys(FILES)) {
    const { requests } = await readTrace(join(dir, name));
    t.match(requests, [{ arrivalSeconds: 0, inputTokens: 5, outputTokens: 6 }], `${name} reads`);
  }
});

t.test('--format overrides detection; a CSV header is then taken as spelt, but must have the columns', async (t) => {
  const dir = t.testdir({
    'renamed.csv': 'when,prompt,completion\n2023-11-16 18:00:00.0,5,6\n2023-11-16 18:00:01.0,7,8',
    'short-header.csv': 'when,prompt\n2023-11-16 18:00:00.0,5,6',
  });
  await t.rejects(openTrace(join(dir, 'renamed.csv')), { name: 'InputError', where: join(dir, 'renamed.csv') });
  const { file, requests } = await readTrace(join(dir, 'renamed.csv'), { format: 'azure' });
  t.equal(file.format, 'azure');
  t.equal(requests.length, 2);
  const path = join(dir, 'short-header.csv');
  await t.rejects(collect(await openTrace(path, { format: 'azure' })), {
    name: 'InputError',
    where: `${path}:1`,
    message: /header has 2 columns; the azure format has 3 \(TIMESTAMP,ContextTokens,GeneratedTokens\)/,
  });
});

t.test('reading a file as the wrong format fails on its first row', async (t) => {
  const dir = t.testdir(FILES);
  const path = join(dir, 'pdpilot.jsonl');
  await t.rejects(collect(await openTrace(path, { format: 'mooncake' })), {
    where: `${path}:2`,
    message: /"timestamp": expected a number of milliseconds, got nothing/,
  });
});

t.test('an unknown format is an input error naming the file and showing its first line', async (t) => {
  const dir = t.testdir({ 'other.csv': 'time,prompt_tokens,completion_tokens\n1,2,3', 'other.jsonl': '{"arrival": 1, "prompt": 2}' });
  for (const name of ['other.csv', 'other.jsonl']) {
    const path = join(dir, name);
    await t.rejects(openTrace(path), { name: 'InputError', where: path, message: new RegExp(`^${escape(path)}: unknown trace format: first line .*--format`) });
  }
});

t.test('missing, empty and directory paths are input errors naming the path', async (t) => {
  const dir = t.testdir({ 'empty.csv': '\n\n' });
  await t.rejects(openTrace(join(dir, 'nope.csv')), { name: 'InputError', message: `${join(dir, 'nope.csv')}: cannot read trace: no such file` });
  await t.rejects(openTrace(join(dir, 'empty.csv')), { name: 'InputError', message: /empty\.csv: empty file/ });
  await t.rejects(openTrace(dir), { name: 'InputError', message: `${dir}: cannot read trace: is a directory, not a trace file` });
  await t.rejects(collect(await openTrace(join(dir, 'nope.csv'), { format: 'azure' })), { name: 'InputError', where: join(dir, 'nope.csv') });
});

t.test('a TraceFile streams again on each iteration, and stopping early is fine', async (t) => {
  const file = await openTrace(azureTrace('conv'));
  let seen = 0;
  for await (const request of file) {
    if (++seen === 3) {
      t.equal(request.inputTokens, 879, 'third row of the conv trace');
      break;
    }
  }
  t.equal((await collect(file)).length, 19366, 'a full pass after an early stop');
  t.equal((await collect(file)).length, 19366, 'and another');
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
