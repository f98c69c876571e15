import type { Command } from 'commander';
import { writeFile } from 'node:fs/promises';
import cliProgress from 'cli-progress';
import { UsageError } from '../../domain/errors.js';
import type { Slo } from '../../domain/slo.js';
import { SystemClock } from '../../lib/clock.js';
import { isColocated } from '../../policy/colocated.js';
import { runBench, type BenchOutcome } from '../../sim/bench.js';
import { renderReport } from '../../sim/report.js';
import { action, writeJson } from '../run.js';
import { addModelOptions, checkPolicyName, checkPool, loadInputs, modelOptions, policyFactory, positiveInteger, positiveNumber, type ModelFlags } from './sim.js';

interface BenchFlags extends ModelFlags {
  sloTtft: string;
  sloTpot: string;
  attainment: string;
  policies: string;
  json?: string;
  report?: string;
}

export function registerBench(program: Command): void {
  addModelOptions(program.command('bench').description('goodput of each policy on a trace: largest rate scale meeting the SLOs at the attainment target'))
    .requiredOption('--slo-ttft <seconds>', 'TTFT SLO')
    .requiredOption('--slo-tpot <seconds>', 'TPOT SLO')
    .requiredOption('--attainment <fraction>', 'joint attainment target, e.g. 0.9')
    .requiredOption('--policies <a,b,…>', 'policies to compare, e.g. static-best,reactive,dynamo-sla,dopd,oracle,colocated')
    .option('--json <file>', 'write the bench JSON to a file ("-" for stdout) instead of a table')
    .option('--report <file.html>', 'write a self-contained HTML report with plots')
    .action(action((flags: BenchFlags) => benchCommand(flags)));
}

async function benchCommand(flags: BenchFlags): Promise<void> {
  const gpus = positiveInteger('--gpus', flags.gpus);
  const attainment = positiveNumber('--attainment', flags.attainment);
  if (attainment > 1) throw new UsageError(`--attainment is a fraction in (0, 1], got ${flags.attainment}`);
  const slo: Slo = { ttftSeconds: positiveNumber('--slo-ttft', flags.sloTtft), tpotSeconds: positiveNumber('--slo-tpot', flags.sloTpot), attainment };
  const names = flags.policies.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (names.length === 0) throw new UsageError('--policies names no policy');
  const makePolicy = policyFactory();
  // Every name and pool checked before the first simulation.
  for (const name of names) {
    checkPolicyName(name);
    checkPool(gpus, name !== 'static-best' && isColocated(makePolicy(name)), name);
  }
  const { profile, trace } = await loadInputs(flags);
  const bar = process.stderr.isTTY
    ? new cliProgress.SingleBar({ format: 'bench {bar} {value} runs | {policy} ×{scale}', stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic)
    : undefined;
  bar?.start(names.length * 12, 0, { policy: names[0], scale: '1' });
  let runs = 0;
  const clock = new SystemClock();
  let outcome: BenchOutcome;
  try {
    outcome = await runBench({
      trace,
      tracePath: flags.trace,
      profile,
      profilePath: flags.profile,
      gpus,
      slo,
      policies: names,
      makePolicy,
      options: modelOptions(flags, gpus),
      wallSeconds: () => clock.nowSeconds(),
      onRun: ({ policy, rateScale }) => {
        runs++;
        // The total is an estimate (searches differ in length): grow it rather than overflow.
        if (bar && runs >= bar.getTotal()) bar.setTotal(runs + 12);
        bar?.update(runs, { policy, scale: rateScale.toPrecision(3) });
      },
    });
  } finally {
    bar?.stop();
  }
  const { json } = outcome;
  if (flags.report) await writeFile(flags.report, await renderReport(outcome, slo));
  if (flags.json !== undefined) {
    await writeJson(json, flags.json);
    return;
  }
  const pct = (v: number) => `${(v * 100).toFixed(1)}%`.padStart(8);
  const ms = (v: number) => `${(v * 1000).toFixed(0)}`.padStart(8);
  let text = `${'policy'.padEnd(13)}${'goodput'.padStart(9)}${'rps/GPU'.padStart(9)}${'attain'.padStart(8)}${'TTFTp90'.padStart(8)}${'TPOTp90'.padStart(8)}${'flips'.padStart(7)}\n`;
  for (const p of json.policies) {
    text += `${p.name.padEnd(13)}${`×${p.goodput_rate_scale.toFixed(3)}`.padStart(9)}${p.goodput_rps_per_gpu.toFixed(3).padStart(9)}${pct(p.at_scale_1.attainment)}${ms(p.at_scale_1.ttft_p90_s)}${ms(p.at_scale_1.tpot_p90_s)}${String(p.at_scale_1.flips).padStart(7)}\n`;
  }
  text += `(latencies in ms at the trace's own rate; ${json.simulated_requests} requests simulated in ${json.wall_s.toFixed(1)} s: ${Math.round(json.simulated_requests / json.wall_s)} per second)\n`;
  process.stdout.write(text);
}
