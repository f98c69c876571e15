import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TraceRequest } from '../../src/domain/request.js';
import { secondClassWeight, mixedTraceLine, shiftingMix } from '../../src/trace/mix.js';
import { openTrace } from '../../src/trace/index.js';
import { azureTrace, collect, repoRoot } from './fixtures/trace-test-helpers.js';

/** A steady class: one request a second for `seconds`, lengths marking the class. */
function steady(seconds: number, inputTokens: number): TraceRequest[] {
  return Array.from({ length: seconds }, (_, i) => ({ arrivalSeconds: i, inputTokens, outputTokens: 1 }));
}

t.test('the shapes move the second class weight 0 → 1 → 0 over a period', async (t) => {
  const table: [Parameters<typeof secondClassWeight>[0], number[]][] = [
    ['linear', [0, 0.5, 1, 0.5, 0]],
    ['step', [0, 1, 1, 0, 0]],
    ['sine', [0, 0.5, 1, 0.5, 0]],
  ];
  for (const [shape, expected] of table) {
    const got = [0, 25, 50, 75, 100].map((tSeconds) => secondClassWeight(shape, tSeconds, 100));
    t.ok(got.every((w, i) => Math.abs(w - expected[i]!) < 1e-12), `${shape}: ${got}`);
  }
  t.equal(secondClassWeight('linear', 125, 100), 0.5, 'periodic');
});

t.test('shares shift: first-heavy at the ends, second-heavy mid-period; tags mark the class', async (t) => {
  const mixed = await collect(shiftingMix({ trace: steady(3000, 1), tag: 'conv' }, { trace: steady(3000, 2), tag: 'code' }, { shape: 'linear', periodSeconds: 3000, seed: 5 }));
  t.ok(mixed.every((r) => r.extra?.tag === (r.inputTokens === 1 ? 'conv' : 'code')), 'each request tagged by its source');
  const share = (from: number, to: number) => {
    const part = mixed.filter((r) => r.arrivalSeconds >= from && r.arrivalSeconds < to);
    return part.filter((r) => r.extra?.tag === 'code').length / part.length;
  };
  t.ok(share(0, 300) < 0.2, `code share at the start ${share(0, 300)}`);
  t.ok(share(1350, 1650) > 0.8, `code share mid-period ${share(1350, 1650)}`);
  t.ok(share(2700, 3000) < 0.2, `code share at the end ${share(2700, 3000)}`);
  // The floor keeps a class present at its lowest: at the very start, about 10% of code is kept.
  t.ok(mixed.some((r) => r.extra?.tag === 'code' && r.arrivalSeconds < 150), 'code never vanishes');
  for (let i = 1; i < mixed.length; i++) if (mixed[i]!.arrivalSeconds < mixed[i - 1]!.arrivalSeconds) t.fail('out of order');
});

t.test('deterministic: the same seed gives the same trace, another seed another', async (t) => {
  const make = (seed: number) => collect(shiftingMix({ trace: steady(2000, 1), tag: 'a' }, { trace: steady(2000, 2), tag: 'b' }, { shape: 'sine', periodSeconds: 1000, seed }));
  const [a, b, c] = await Promise.all([make(1), make(1), make(2)]);
  t.same(a, b);
  t.notSame(a, c);
  t.throws(() => shiftingMix({ trace: [], tag: 'a' }, { trace: [], tag: 'b' }, { shape: 'step', periodSeconds: 0 }), /periodSeconds/);
  t.throws(() => shiftingMix({ trace: [], tag: 'a' }, { trace: [], tag: 'b' }, { shape: 'step', periodSeconds: 1, floor: 2 }), /floor/);
});

const SHIPPED = join(repoRoot, 'data', 'traces', 'mixed-code-conv-shift.jsonl');

t.test('the shipped mixed trace regenerates byte for byte (data/traces/README.md recipe)', async (t) => {
  const mixed = shiftingMix(
    { trace: await openTrace(azureTrace('conv')), tag: 'conv' },
    { trace: await openTrace(azureTrace('code')), tag: 'code' },
    { shape: 'sine', periodSeconds: 3600, seed: 1 },
  );
  let text = '';
  for await (const request of mixed) text += mixedTraceLine(request);
  t.equal(text, await readFile(SHIPPED, 'utf8'));
  const readme = await readFile(join(repoRoot, 'data', 'traces', 'README.md'), 'utf8');
  t.match(readme, 'pdpilot trace mix --code data/traces/AzureLLMInferenceTrace_code.csv --conv data/traces/AzureLLMInferenceTrace_conv.csv --shape sine --period 3600 --seed 1 --out data/traces/mixed-code-conv-shift.jsonl');
});

t.test('pdpilot trace mix end to end: writes the same file, reads back as pdpilot JSONL with classes; bad flags exit 2', async (t) => {
  const dir = t.testdir({});
  const out = join(dir, 'mix.jsonl');
  const cli = (...args: string[]) => spawnSync(process.execPath, [join(repoRoot, 'bin', 'pdpilot.js'), 'trace', 'mix', ...args], { encoding: 'utf8' });
  const base = ['--code', azureTrace('code'), '--conv', azureTrace('conv'), '--shape', 'sine', '--period', '3600'];
  const run = cli(...base, '--out', out);
  t.equal(run.status, 0, run.stderr);
  t.match(run.stdout, /^wrote 14885 requests \(conv \d+, code \d+\) to /);
  t.equal(await readFile(out, 'utf8'), await readFile(SHIPPED, 'utf8'), 'default seed 1 is the shipped file');
  const back = await collect(await openTrace(out));
  t.equal(back.length, 14885);
  t.same(new Set(back.map((r) => r.extra?.class)), new Set(['conv', 'code']));
  const bad: [string[], RegExp][] = [
    [[...base.slice(0, 6), '--period', '-5', '--out', out], /^--period: expected a positive number of seconds/],
    [[...base, '--seed', 'x', '--out', out], /^--seed: expected an integer/],
    [[...base, '--out', join(dir, 'missing', 'x.jsonl')], /missing\/x\.jsonl: cannot write/],
    [['--code', 'nope.csv', ...base.slice(2), '--out', out], /^nope\.csv: cannot read trace: no such file$/m],
    [[...base.slice(0, 4), '--shape', 'square', '--period', '60', '--out', out], /argument 'square' is invalid/],
  ];
  for (const [args, stderr] of bad) {
    const r = cli(...args);
    t.equal(r.status, 2, args.join(' '));
    t.match(r.stderr, stderr);
  }
});
