import type { Command } from 'commander';
import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { InputError, UsageError } from '../../domain/errors.js';
import { loadProfile, type Profile } from '../../perf/profile.js';
import type { LengthMoments } from '../../policy/phase-capacity.js';
import { searchPlacement, type PhaseOption, type PlacementSearch } from '../../policy/placement.js';
import { openTrace } from '../../trace/index.js';
import { action, writeJson } from '../run.js';

interface PlanFlags {
  rate?: string;
  sloTtft?: string;
  sloTpot?: string;
  attainment: string;
  model: string;
  gpu: string;
  inputMean?: string;
  inputP2?: string;
  outputMean?: string;
  trace?: string;
  maxGpus?: string;
  profiles: string;
  json?: boolean;
}

const SHIPPED_PROFILES = fileURLToPath(new URL('../../../profiles/', import.meta.url));

export function registerPlan(program: Command): void {
  program
    .command('plan')
    .description("DistServe's placement search: per-phase tensor degree and instance counts for a target rate and SLOs, over the shipped profiles")
    .option('--rate <rps>', 'target request rate, req/s (default with --trace: the trace\'s mean rate)')
    .option('--slo-ttft <s>', 'TTFT SLO, seconds')
    .option('--slo-tpot <s>', 'TPOT SLO, seconds')
    .option('--attainment <f>', 'fraction of requests that must meet the TTFT SLO (0–1)', '0.9')
    .option('--model <name>', 'model of the profiles to search', 'opt-13b')
    .option('--gpu <name>', 'GPU of the profiles to search', 'a100-80gb')
    .option('--input-mean <tokens>', 'mean prompt length')
    .option('--input-p2 <tokens2>', 'mean squared prompt length E[l²] (default: input-mean², i.e. all prompts alike)')
    .option('--output-mean <tokens>', 'mean output length')
    .option('--trace <file>', 'take the rate and the length moments from a trace instead')
    .option('--max-gpus <n>', 'fail when the best placement needs more GPUs')
    .option('--profiles <dir>', 'folder of profiles to search', SHIPPED_PROFILES)
    .option('--json', 'print the search as JSON')
    .action(action((flags: PlanFlags) => planCommand(flags)));
}

async function planCommand(flags: PlanFlags): Promise<number> {
  const sloTtft = positive('--slo-ttft', flags.sloTtft);
  const sloTpot = positive('--slo-tpot', flags.sloTpot);
  const attainment = Number(flags.attainment);
  if (!(attainment > 0 && attainment < 1)) throw new InputError('--attainment', `must be a fraction within (0, 1), got "${flags.attainment}"`);
  const maxGpus = flags.maxGpus === undefined ? undefined : positiveInteger('--max-gpus', flags.maxGpus);

  let rateRps: number;
  let lengths: LengthMoments;
  if (flags.trace !== undefined) {
    for (const flag of ['inputMean', 'inputP2', 'outputMean'] as const) {
      if (flags[flag] !== undefined) throw new UsageError(`--${kebab(flag)}: give either the length flags or --trace, not both`);
    }
    const fromTrace = await traceMoments(flags.trace);
    lengths = fromTrace.lengths;
    rateRps = flags.rate === undefined ? fromTrace.meanRps : positive('--rate', flags.rate);
  } else {
    rateRps = positive('--rate', flags.rate);
    const inputMean = positive('--input-mean', flags.inputMean);
    const inputSecondMoment = flags.inputP2 === undefined ? inputMean * inputMean : positive('--input-p2', flags.inputP2);
    // E[l²] ≥ E[l]² for any distribution (the variance is not negative).
    if (inputSecondMoment < inputMean * inputMean * (1 - 1e-9)) {
      throw new InputError('--input-p2', `E[l²] must be at least input-mean² = ${inputMean * inputMean}, got ${inputSecondMoment}`);
    }
    lengths = { inputMean, inputSecondMoment, outputMean: positive('--output-mean', flags.outputMean) };
  }

  const profiles = await profilesFor(flags.profiles, flags.model, flags.gpu);
  const search = searchPlacement({ profiles, rateRps, slo: { ttftSeconds: sloTtft, tpotSeconds: sloTpot, attainment }, lengths, ...(maxGpus !== undefined ? { maxGpus } : {}) });
  if (flags.json) await writeJson(planJson(flags, search, lengths, { ttft_s: sloTtft, tpot_s: sloTpot, attainment }));
  else process.stdout.write(table(search, lengths));
  if (!search.best) {
    process.stderr.write(`pdpilot plan: ${search.infeasible}\n`);
    return 1;
  }
  return 0;
}

function positive(flag: string, value: string | undefined): number {
  if (value === undefined) throw new UsageError(`${flag}: required`);
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n)) throw new InputError(flag, `must be a positive number, got "${value}"`);
  return n;
}

function positiveInteger(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InputError(flag, `must be a positive integer, got "${value}"`);
  return n;
}

function kebab(name: string): string {
  return name.replace(/[A-Z0-9]+/g, (m) => `-${m.toLowerCase()}`);
}

/** The profiles of one model on one GPU, every parallel degree shipped. */
async function profilesFor(dir: string, model: string, gpu: string): Promise<{ name: string; profile: Profile }[]> {
  let files: string[];
  try {
    files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  } catch (error) {
    throw new InputError('--profiles', `cannot read ${dir}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  const all = await Promise.all(files.map(async (f) => ({ name: f, profile: await loadProfile(`${dir.replace(/\/$/, '')}/${f}`) })));
  const chosen = all.filter((p) => p.profile.model === model && p.profile.gpu === gpu);
  if (chosen.length === 0) {
    const known = [...new Set(all.map((p) => `${p.profile.model} on ${p.profile.gpu}`))].join(', ');
    throw new InputError('--model', `no profile of ${model} on ${gpu} in ${dir} (have: ${known || 'none'})`);
  }
  return chosen.sort((a, b) => a.profile.tensorParallel - b.profile.tensorParallel || a.profile.pipelineParallel - b.profile.pipelineParallel);
}

/** Mean rate and length moments of a trace, streamed (failed requests excluded, as trace stats does). */
async function traceMoments(path: string): Promise<{ meanRps: number; lengths: LengthMoments }> {
  let n = 0;
  let input = 0;
  let input2 = 0;
  let output = 0;
  let lastArrival = 0;
  for await (const r of await openTrace(path)) {
    if (r.failed) continue;
    n++;
    input += r.inputTokens;
    input2 += r.inputTokens * r.inputTokens;
    output += r.outputTokens;
    lastArrival = r.arrivalSeconds;
  }
  if (n === 0 || !(lastArrival > 0)) throw new InputError(path, 'the trace needs at least two requests at different times to give a rate');
  return { meanRps: n / lastArrival, lengths: { inputMean: input / n, inputSecondMoment: input2 / n, outputMean: output / n } };
}

/** The search as JSON, in the snake_case-with-units style of DESIGN.md's JSON contracts. */
function planJson(flags: PlanFlags, search: PlacementSearch, lengths: LengthMoments, slo: Record<string, number>) {
  const option = (o: PhaseOption) => ({
    phase: o.phase,
    profile: o.profile,
    tensor_parallel: o.tensorParallel,
    pipeline_parallel: o.pipelineParallel,
    gpus_per_instance: o.gpusPerInstance,
    instance_rps: o.instanceRps,
    gpu_rps: o.gpuRps,
    instances: o.instances ?? null,
    gpus: o.gpus ?? null,
    ...(o.phase === 'decode' ? { batch: o.batch, limited_by: o.limitedBy } : {}),
  });
  const best = search.best;
  return {
    model: flags.model,
    gpu: flags.gpu,
    rate_rps: search.rateRps,
    slo,
    lengths: { input_mean: lengths.inputMean, input_second_moment: lengths.inputSecondMoment, output_mean: lengths.outputMean },
    options: search.options.map(option),
    best: best ? { prefill: option(best.prefill), decode: option(best.decode), gpus: best.gpus, rps_per_gpu: best.rpsPerGpu, capacity_rps: best.capacityRps } : null,
    ...(search.infeasible ? { infeasible: search.infeasible } : {}),
  };
}

function table(search: PlacementSearch, lengths: LengthMoments): string {
  const fmt = (v: number | undefined, digits: number) => (v === undefined ? '-' : v.toFixed(digits));
  const row = (o: PhaseOption) =>
    `${o.phase.padEnd(8)}${`tp${o.tensorParallel}${o.pipelineParallel > 1 ? `-pp${o.pipelineParallel}` : ''}`.padEnd(8)}` +
    `${fmt(o.instanceRps, 2).padStart(12)}${fmt(o.gpuRps, 2).padStart(10)}${(o.instances === undefined ? '-' : String(o.instances)).padStart(11)}${(o.gpus === undefined ? '-' : String(o.gpus)).padStart(6)}` +
    `${o.phase === 'decode' ? `  batch ${o.batch} (${o.limitedBy})` : ''}\n`;
  let out =
    `target ${search.rateRps.toFixed(2)} req/s; prompt mean ${lengths.inputMean.toFixed(0)} (E[l²] ${lengths.inputSecondMoment.toExponential(2)}), output mean ${lengths.outputMean.toFixed(0)} tokens\n` +
    `${'phase'.padEnd(8)}${'config'.padEnd(8)}${'req/s/inst'.padStart(12)}${'req/s/GPU'.padStart(10)}${'instances'.padStart(11)}${'GPUs'.padStart(6)}\n`;
  for (const o of search.options) out += row(o);
  const best = search.best;
  if (best) {
    out +=
      `best: prefill ${best.prefill.instances} × tp${best.prefill.tensorParallel} + decode ${best.decode.instances} × tp${best.decode.tensorParallel}` +
      ` = ${best.gpus} GPUs (${best.rpsPerGpu.toFixed(3)} req/s per GPU at the target; carries up to ${best.capacityRps.toFixed(2)} req/s)\n`;
  }
  return out;
}
