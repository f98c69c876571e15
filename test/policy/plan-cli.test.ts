// `pdpilot plan` end to end: the built CLI (dist/, built by pretest) in a child process.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../../', import.meta.url).pathname;
function pdpilot(...args: string[]) {
  const run = spawnSync(process.execPath, [join(root, 'bin', 'pdpilot.js'), 'plan', ...args], { encoding: 'utf8' });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}
const base = ['--slo-ttft', '0.4', '--slo-tpot', '0.04'];

t.test('a table with every option and the best placement', async (t) => {
  const run = pdpilot('--rate', '5', ...base, '--input-mean', '755', '--output-mean', '200');
  t.equal(run.code, 0, run.stderr);
  t.match(run.stdout, /^phase +config +req\/s\/inst +req\/s\/GPU +instances +GPUs$/m);
  t.equal(run.stdout.match(/^(prefill|decode) +tp[124] /gm)?.length, 6);
  t.match(run.stdout, /^best: prefill \d+ × tp\d \+ decode \d+ × tp\d = \d+ GPUs/m);
});

t.test('--json, and the trace gives the rate and the moments', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pdpilot-plan-'));
  const trace = join(dir, 't.jsonl');
  // Four requests over 3 s: 4/3 req/s; prompts 100 and 300 → mean 200, E[l²] 50,000.
  writeFileSync(trace, [0, 1, 2, 3].map((t) => JSON.stringify({ t, input: t % 2 ? 300 : 100, output: 50 })).join('\n') + '\n');
  const run = pdpilot('--trace', trace, ...base, '--json');
  t.equal(run.code, 0, run.stderr);
  const plan = JSON.parse(run.stdout);
  t.equal(plan.rate_rps, 4 / 3);
  t.same(plan.lengths, { input_mean: 200, input_second_moment: 50000, output_mean: 50 });
  t.equal(plan.options.length, 6);
  t.ok(plan.best.gpus >= 2);
  t.same(Object.keys(plan.best), ['prefill', 'decode', 'gpus', 'rps_per_gpu', 'capacity_rps']);
});

t.test('bad input: exit 2 with one line naming the flag', async (t) => {
  const cases: [string[], RegExp][] = [
    [['--rate', 'x', ...base, '--input-mean', '1', '--output-mean', '1'], /^--rate: must be a positive number, got "x"\n$/],
    [['--rate', '1', '--slo-tpot', '1', '--input-mean', '1', '--output-mean', '1'], /^--slo-ttft: required\n$/],
    [['--rate', '1', ...base, '--input-mean', '0', '--output-mean', '1'], /^--input-mean: must be a positive number/],
    [['--rate', '1', ...base, '--input-mean', '100', '--input-p2', '50', '--output-mean', '1'], /^--input-p2: E\[l²\] must be at least/],
    [['--rate', '1', ...base, '--input-mean', '1', '--output-mean', '1', '--attainment', '1.5'], /^--attainment: must be a fraction/],
    [['--rate', '1', ...base, '--input-mean', '1', '--output-mean', '1', '--model', 'gpt-9'], /^--model: no profile of gpt-9 on a100-80gb/],
    [['--rate', '1', ...base, '--input-mean', '1', '--output-mean', '1', '--max-gpus', '2.5'], /^--max-gpus: must be a positive integer/],
    [['--trace', 'x.jsonl', ...base, '--input-mean', '1'], /^--input-mean: give either the length flags or --trace/],
  ];
  for (const [args, message] of cases) {
    const run = pdpilot(...args);
    t.equal(run.code, 2, args.join(' '));
    t.match(run.stderr, message);
    t.equal(run.stderr.trim().split('\n').length, 1, 'one line');
  }
});

t.test('no placement within --max-gpus: exit 1 with the reason', async (t) => {
  const run = pdpilot('--rate', '50', ...base, '--input-mean', '755', '--output-mean', '200', '--max-gpus', '2');
  t.equal(run.code, 1);
  t.match(run.stderr, /^pdpilot plan: the best placement needs \d+ GPUs, more than the 2 allowed\n$/);
});
