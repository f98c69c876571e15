import t from 'tap';
import { join } from 'node:path';
import { openTrace, traceStats } from '../../src/trace/index.js';
import { collect, readTrace } from './fixtures/trace-test-helpers.js';

// A BurstGPT sample in the published layout, with two failed requests (0 response tokens).
const SAMPLE = [
  'Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type',
  '5,ChatGPT,472,18,490,Conversation log',
  '45,ChatGPT,1087,0,1087,Conversation log',
  '118,GPT-4,417,276,693,API log',
  '118.5,ChatGPT,1360,0,1360,API log',
  '170,ChatGPT,512,190,702,Conversation log',
].join('\n');

t.test('reads a BurstGPT sample: re-based seconds, failed rows flagged and kept, Model and Log Type in extra', async (t) => {
  const dir = t.testdir({ 'burst.csv': SAMPLE });
  const { file, requests } = await readTrace(join(dir, 'burst.csv'));
  t.equal(file.format, 'burstgpt');
  t.same(requests.map((r) => r.arrivalSeconds), [0, 40, 113, 113.5, 165]);
  t.same(requests.map((r) => r.failed ?? false), [false, true, false, true, false]);
  t.same(requests[2], { arrivalSeconds: 113, inputTokens: 417, outputTokens: 276, extra: { Model: 'GPT-4', 'Log Type': 'API log' } });
  t.same(requests[1]?.extra, { Model: 'ChatGPT', 'Log Type': 'Conversation log' });
});

t.test('stats leave failed requests out by default and count them', async (t) => {
  const dir = t.testdir({ 'burst.csv': SAMPLE });
  const path = join(dir, 'burst.csv');
  const stats = await traceStats(await openTrace(path));
  t.equal(stats.requests, 3);
  t.equal(stats.failed_rows, 2);
  t.equal(stats.span_s, 165);
  t.equal(stats.input.max, 512);
  const all = await traceStats(await openTrace(path), { includeFailed: true });
  t.equal(all.requests, 5);
  t.equal(all.input.max, 1360);
  t.equal(all.output.p50, 18);
});

t.test('header names match regardless of case and spacing', async (t) => {
  const dir = t.testdir({ 'burst.csv': 'timestamp, model ,request tokens,RESPONSE TOKENS,total tokens,log type\n0,m,1,1,2,x' });
  t.equal((await openTrace(join(dir, 'burst.csv'))).format, 'burstgpt');
});

const BAD_ROWS: [string, string, RegExp][] = [
  ['a missing column', '60,ChatGPT,10,10,Conversation log', /expected 6 columns \(Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\), got 5/],
  ['a non-numeric timestamp', 'soon,ChatGPT,10,10,20,Conversation log', /Timestamp: expected a number of seconds, got "soon"/],
  ['negative request tokens', '60,ChatGPT,-10,10,0,Conversation log', /Request tokens: negative token count -10/],
  ['a non-numeric total', '60,ChatGPT,10,10,NaN,Conversation log', /Total tokens: expected a non-negative integer/],
  ['an arrival going backwards', '4,ChatGPT,10,10,20,Conversation log', /arrival goes back 1 s/],
];

for (const [what, row, reason] of BAD_ROWS) {
  t.test(`a row with ${what} fails naming file and line`, async (t) => {
    const dir = t.testdir({ 'bad.csv': `${SAMPLE.split('\n').slice(0, 2).join('\n')}\n${row}\n` });
    const path = join(dir, 'bad.csv');
    await t.rejects(collect(await openTrace(path)), { name: 'InputError', where: `${path}:3`, message: reason });
    const lenient = await readTrace(path, { lenient: true });
    t.equal(lenient.file.skippedRows, 1);
    t.equal(lenient.requests.length, 1);
  });
}
