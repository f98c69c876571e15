import { Option, type Command } from 'commander';
import { readFileSync } from 'node:fs';
import { InputError, UsageError } from '../../domain/errors.js';
import type { Slo } from '../../domain/slo.js';
import { loadProfile, type Profile } from '../../perf/profile.js';
import { createPolicy, isPolicyName, POLICY_NAMES } from '../../policy/registry.js';
import { isColocated } from '../../policy/colocated.js';
import { PREFILL_ROUTERS, type PrefillRouter } from '../../router/scheduler/index.js';
import { simJson } from '../../sim/bench.js';
import { searchGoodput } from '../../sim/goodput.js';
import type { SimOptions } from '../../sim/options.js';
import { runPolicy, type PolicyFactory } from '../../sim/run-policy.js';
import { searchStaticSplit } from '../../sim/static-best.js';
import { compactTrace, openTrace, type CompactTrace } from '../../trace/index.js';
import { scaleRate } from '../../trace/transforms.js';
import { action, writeJson } from '../run.js';

/** SLOs `pdpilot sim` uses when none are given (a chat service on a 13B model). */
export const DEFAULT_SIM_SLO: Slo = { ttftSeconds: 1, tpotSeconds: 0.1, attainment: 0.9 };

/** Flags `sim` and `bench` share. */
export interface ModelFlags {
  trace: string;
  gpus: string;
  profile: string;
  compat?: string;
  router?: PrefillRouter;
  kvTransfer?: boolean;
  linkGbps?: string;
  prefillBudget?: string;
  interval?: string;
  elastic?: boolean;
}

interface SimFlags extends ModelFlags {
  policy: string;
  prefill?: string;
  decode?: string;
  rateScale?: string;
  sloTtft?: string;
  sloTpot?: string;
  json?: string;
}

/** Adds the flags `sim` and `bench` share. */
export function addModelOptions(command: Command): Command {
  return command
    .requiredOption('--trace <file>', 'trace file (Azure CSV, BurstGPT CSV, Mooncake or pdpilot JSONL)')
    .requiredOption('--gpus <n>', 'GPUs in the pool (one instance each; the budget with --elastic)')
    .requiredOption('--profile <file>', 'performance profile JSON (profiles/*.json)')
    .addOption(new Option('--compat <name>', "reproduce another simulator's semantics (docs/sim.md)").choices(['distserve']))
    .addOption(new Option('--router <rule>', 'prefill routing rule (docs/router.md)').choices(PREFILL_ROUTERS).default('length-aware'))
    .option('--no-kv-transfer', 'do not model the prefill→decode KV transfer time')
    .option('--link-gbps <GB/s>', 'KV transfer link bandwidth, GB/s (default 300, NVLink-class)')
    .option('--prefill-budget <tokens>', 'prefill batch budget L_m in prompt tokens (default 4096)')
    .option('--interval <seconds>', 'control interval, seconds (default 30)')
    .option('--elastic', 'elastic pool: start with 1P+1D, grow to --gpus after the profile start time, remove idle instances');
}

export function registerSim(program: Command): void {
  addModelOptions(program.command('sim').description('simulate a trace on a P/D pool under a policy, with the real controller and router'))
    .requiredOption('--policy <name|file>', `policy name (${[...POLICY_NAMES, 'static-best'].filter(unique).join(', ')}) or policies/<name>.json`)
    .option('--prefill <n>', 'prefill instances, with --policy static')
    .option('--decode <n>', 'decode instances, with --policy static')
    .option('--rate-scale <k>', 'replay arrivals k× faster (default 1)')
    .option('--slo-ttft <seconds>', `TTFT SLO (default ${DEFAULT_SIM_SLO.ttftSeconds})`)
    .option('--slo-tpot <seconds>', `TPOT SLO (default ${DEFAULT_SIM_SLO.tpotSeconds})`)
    .option('--json <file>', 'write the result JSON to a file ("-" for stdout) instead of a table')
    .action(action((flags: SimFlags) => simCommand(flags)));
}

async function simCommand(flags: SimFlags): Promise<void> {
  const gpus = positiveInteger('--gpus', flags.gpus);
  const slo: Slo = {
    ttftSeconds: flags.sloTtft === undefined ? DEFAULT_SIM_SLO.ttftSeconds : positiveNumber('--slo-ttft', flags.sloTtft),
    tpotSeconds: flags.sloTpot === undefined ? DEFAULT_SIM_SLO.tpotSeconds : positiveNumber('--slo-tpot', flags.sloTpot),
    attainment: DEFAULT_SIM_SLO.attainment,
  };
  const rateScale = flags.rateScale === undefined ? 1 : positiveNumber('--rate-scale', flags.rateScale);
  const makePolicy = policyFactory();
  const params: Record<string, unknown> = {};
  if (flags.prefill !== undefined || flags.decode !== undefined) {
    if (flags.policy !== 'static') throw new UsageError('--prefill and --decode fix the split of --policy static only');
    if (flags.prefill === undefined || flags.decode === undefined) throw new UsageError('--policy static needs both --prefill and --decode');
    params.prefill = positiveInteger('--prefill', flags.prefill);
    params.decode = positiveInteger('--decode', flags.decode);
    if ((params.prefill as number) + (params.decode as number) !== gpus) {
      throw new InputError('--prefill/--decode', `${params.prefill} + ${params.decode} instances do not add up to --gpus ${gpus}`);
    }
  }
  const isStaticBest = flags.policy === 'static-best';
  const policy = makePolicy(flags.policy, isStaticBest ? { prefill: 1, decode: 1 } : params);
  checkPool(gpus, isColocated(policy), flags.policy);
  const profile = await loadProfile(flags.profile);
  const trace = await loadTrace(flags.trace);
  const options = modelOptions(flags, gpus);

  let initialPrefill = typeof params.prefill === 'number' ? params.prefill : undefined;
  let runPolicyObject = policy;
  if (isStaticBest) {
    // The best fixed split for this trace: highest goodput over the splits.
    const split = await searchStaticSplit(gpus, (prefill) =>
      searchGoodput(
        async (k) =>
          (await runPolicy({ trace: scaleRate(trace, k * rateScale), profile, policy: makePolicy('static-best', { prefill, decode: gpus - prefill }), slo, options: { ...options, initialPrefill: prefill } }))
            .attainment,
        slo.attainment,
      ),
    );
    initialPrefill = split.prefill;
    runPolicyObject = makePolicy('static-best', { prefill: split.prefill, decode: split.decode });
  }
  const result = await runPolicy({
    trace: rateScale === 1 ? trace : scaleRate(trace, rateScale),
    profile,
    policy: runPolicyObject,
    slo,
    options: { ...options, ...(initialPrefill !== undefined ? { initialPrefill } : {}) },
  });
  const json = simJson(result);
  if (flags.json !== undefined) {
    await writeJson(json, flags.json);
    return;
  }
  const ms = (s: number) => `${(s * 1000).toFixed(1)} ms`;
  process.stdout.write(
    `policy       ${json.policy}${isStaticBest ? ` (${initialPrefill}P/${gpus - (initialPrefill as number)}D)` : ''}\n` +
      `requests     ${json.completed} completed, ${json.dropped} dropped\n` +
      `attainment   ${(json.attainment * 100).toFixed(2)}% (TTFT ≤ ${slo.ttftSeconds} s and TPOT ≤ ${slo.tpotSeconds} s)\n` +
      `TTFT         mean ${ms(json.ttft_mean_s)}  p50 ${ms(json.ttft_p50_s)}  p90 ${ms(json.ttft_p90_s)}  p99 ${ms(json.ttft_p99_s)}\n` +
      `TPOT         mean ${ms(json.tpot_mean_s)}  p50 ${ms(json.tpot_p50_s)}  p90 ${ms(json.tpot_p90_s)}  p99 ${ms(json.tpot_p99_s)}\n` +
      `GPU-seconds  ${json.gpu_seconds.toFixed(0)}\n` +
      `flips        ${json.flips} in ${json.decisions} decisions\n`,
  );
}

function unique<T>(value: T, index: number, all: T[]): boolean {
  return all.indexOf(value) === index;
}

/** Policies by name or file through the registry; files are read here, in the composition root. */
export function policyFactory(): PolicyFactory {
  return (name, params = {}) => createPolicy(name, params, (path) => readFileSync(path, 'utf8'));
}

/** A disaggregated pool needs one instance of each role (the controller's minimums); colocated needs one GPU. */
export function checkPool(gpus: number, colocated: boolean, policy: string): void {
  const minimum = colocated ? 1 : 2;
  if (gpus < minimum) throw new InputError('--gpus', `${gpus} GPU(s) is smaller than policy ${policy}'s minimum pool of ${minimum} (one prefill and one decode instance)`);
}

/** Checks a policy name before any simulation runs (files are checked when read). */
export function checkPolicyName(name: string): void {
  if (name === 'static-best' || name.endsWith('.json') || name.includes('/')) return;
  if (!isPolicyName(name)) throw new InputError('--policies', `unknown policy "${name}" (known: ${[...POLICY_NAMES, 'static-best'].filter(unique).join(', ')})`);
}

export async function loadTrace(path: string): Promise<CompactTrace> {
  const trace = await compactTrace(await openTrace(path));
  if (trace.length === 0) throw new InputError(path, 'the trace has no requests');
  return trace;
}

export async function loadInputs(flags: ModelFlags): Promise<{ profile: Profile; trace: CompactTrace }> {
  return { profile: await loadProfile(flags.profile), trace: await loadTrace(flags.trace) };
}

export function modelOptions(flags: ModelFlags, gpus: number): SimOptions {
  const options: SimOptions = { gpus, router: flags.router ?? 'length-aware', kvTransfer: flags.kvTransfer !== false };
  if (flags.compat === 'distserve') options.compat = 'distserve';
  if (flags.linkGbps !== undefined) options.linkBytesPerSecond = positiveNumber('--link-gbps', flags.linkGbps) * 1e9;
  if (flags.prefillBudget !== undefined) options.prefillTokenBudget = positiveInteger('--prefill-budget', flags.prefillBudget);
  if (flags.interval !== undefined) options.intervalSeconds = positiveNumber('--interval', flags.interval);
  if (flags.elastic) options.elastic = true;
  return options;
}

export function positiveNumber(flag: string, text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0) throw new InputError(flag, `must be a number > 0, got "${text}"`);
  return value;
}

export function positiveInteger(flag: string, text: string): number {
  const value = positiveNumber(flag, text);
  if (!Number.isInteger(value)) throw new InputError(flag, `must be a whole number, got "${text}"`);
  return value;
}
