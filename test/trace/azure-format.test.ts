import t from 'tap';
import { join } from 'node:path';
import { parseAzureTimestamp } from '../../src/trace/azure-format.js';
import { openTrace, traceStats } from '../../src/trace/index.js';
import { azureTrace, collect, readTrace } from './fixtures/trace-test-helpers.js';

const HEADER = 'TIMESTAMP,ContextTokens,GeneratedTokens';

t.test('timestamps keep their 7 fractional digits', async (t) => {
  t.same(parseAzureTimestamp('2023-11-16 18:15:46.6805900'), { epochSeconds: Date.UTC(2023, 10, 16, 18, 15, 46) / 1000, nanos: 680_590_000 });
  t.equal(parseAzureTimestamp('2023-11-16 18:15:46.0000001').nanos, 100, '100 ns');
  t.equal(parseAzureTimestamp('2023-11-16 18:15:46.5').nanos, 500_000_000, 'fewer digits');
  t.equal(parseAzureTimestamp('2023-11-16 18:15:46').nanos, 0, 'no fraction');
  t.equal(parseAzureTimestamp('2024-02-29 00:00:00').epochSeconds, Date.UTC(2024, 1, 29) / 1000, 'leap day');
});

t.test('no timezone reads as UTC; an explicit offset is applied', async (t) => {
  const utc = parseAzureTimestamp('2024-05-10 12:00:00.25');
  t.same(parseAzureTimestamp('2024-05-10T12:00:00.25Z'), utc);
  t.same(parseAzureTimestamp('2024-05-10 14:00:00.25+02:00'), utc);
  t.same(parseAzureTimestamp('2024-05-10 07:30:00.25-04:30'), utc);
});

t.test('impossible or malformed timestamps are rejected', async (t) => {
  for (const text of ['2023-02-29 00:00:00', '2023-11-31 00:00:00', '2023-11-16 24:00:00', '2023-11-16 18:60:00', '2023-13-01 00:00:00', '16/11/2023 18:15', '2023-11-16 18:15:46.1234567890', '']) {
    t.throws(() => parseAzureTimestamp(text), { name: 'RowError', message: /^TIMESTAMP: / }, JSON.stringify(text));
  }
});

t.test('arrivals are re-based to the first row exactly, across whole seconds and midnight', async (t) => {
  const dir = t.testdir({
    'midnight.csv': [
      HEADER,
      '2023-11-16 23:59:59.9999999,10,1',
      '2023-11-17 00:00:00.0000000,20,2',
      '2023-11-17 00:00:01.1234567,30,3',
    ].join('\n'), // no final newline, like the published files
  });
  const { file, requests } = await readTrace(join(dir, 'midnight.csv'));
  t.equal(file.format, 'azure');
  t.same(requests.map((r) => r.arrivalSeconds), [0, 1e-7, 1.1234568]);
  t.same(requests.map((r) => [r.inputTokens, r.outputTokens]), [[10, 1], [20, 2], [30, 3]]);
  t.notOk('extra' in (requests[0] ?? {}), 'Azure rows carry no extra');
});

t.test('the real traces stream in order from 0, ending at their span', async (t) => {
  const requests = await collect(await openTrace(azureTrace('code')));
  t.equal(requests.length, 8819);
  t.equal(requests[0]?.arrivalSeconds, 0);
  t.ok(requests.every((r, i) => i === 0 || r.arrivalSeconds > (requests[i - 1]?.arrivalSeconds ?? 0)), 'strictly increasing (all timestamps distinct)');
  // 2023-11-16 18:17:03.9799600 to 19:14:19.9280160.
  t.equal(requests.at(-1)?.arrivalSeconds, 3435.948056);
});

t.test('CRLF line ends, a byte-order mark and blank lines are tolerated', async (t) => {
  const dir = t.testdir({ 'win.csv': `\uFEFF${HEADER}\r\n2023-11-16 18:00:00.0,5,6\r\n\r\n2023-11-16 18:00:02.5,7,8\r\n` });
  const { file, requests } = await readTrace(join(dir, 'win.csv'));
  t.equal(file.format, 'azure');
  t.same(requests, [
    { arrivalSeconds: 0, inputTokens: 5, outputTokens: 6 },
    { arrivalSeconds: 2.5, inputTokens: 7, outputTokens: 8 },
  ]);
});

// Each bad row: the line it is on and the reason the error must give.
const BAD_ROWS: [string, string, RegExp][] = [
  ['wrong column count', '2023-11-16 18:00:01.0,5', /expected 3 columns \(TIMESTAMP,ContextTokens,GeneratedTokens\), got 2/],
  ['non-numeric tokens', '2023-11-16 18:00:01.0,many,6', /ContextTokens: expected a non-negative integer, got "many"/],
  ['fractional tokens', '2023-11-16 18:00:01.0,5,6.5', /GeneratedTokens: expected a non-negative integer/],
  ['negative tokens', '2023-11-16 18:00:01.0,5,-6', /GeneratedTokens: negative token count -6/],
  ['unparsable timestamp', '2023/11/16 18:00:01,5,6', /TIMESTAMP: expected YYYY-MM-DD HH:MM:SS\.fffffff/],
  ['arrival going backwards', '2023-11-16 17:59:59.5,5,6', /arrival goes back 0\.5 s from the previous row; rows must be sorted/],
];

for (const [what, row, reason] of BAD_ROWS) {
  t.test(`a row with ${what} fails naming file and line, or is skipped when lenient`, async (t) => {
    const dir = t.testdir({ 'bad.csv': [HEADER, '2023-11-16 18:00:00.0,5,6', row, '2023-11-16 18:00:03.0,7,8'].join('\n') });
    const path = join(dir, 'bad.csv');
    await t.rejects(collect(await openTrace(path)), { name: 'InputError', where: `${path}:3`, message: reason });
    const lenient = await readTrace(path, { lenient: true });
    t.equal(lenient.requests.length, 2, 'the good rows are read');
    t.equal(lenient.file.skippedRows, 1);
    t.match(lenient.file.firstSkipped?.message, `${path}:3: `);
    t.same(lenient.requests.map((r) => r.arrivalSeconds), [0, 3]);
  });
}

t.test('lenient counts every bad row, even a bad first row (the next good row becomes time 0)', async (t) => {
  const dir = t.testdir({ 'bad.csv': [HEADER, 'x,1,1', '2023-11-16 18:00:10.0,5,6', '2023-11-16 18:00:11.0,-1,1', '2023-11-16 18:00:12.0,7,8'].join('\n') });
  const path = join(dir, 'bad.csv');
  const file = await openTrace(path, { lenient: true });
  const stats = await traceStats(file);
  t.equal(stats.requests, 2);
  t.equal(stats.span_s, 2);
  t.equal(file.skippedRows, 2);
  t.match(file.firstSkipped?.message, `${path}:2: TIMESTAMP`);
  await collect(file);
  t.equal(file.skippedRows, 2, 'a second pass counts afresh, not on top');
});
