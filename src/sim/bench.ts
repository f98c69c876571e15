import type { LatencyFiguresJson } from '../domain/request.js';
import type { Slo } from '../domain/slo.js';
import { goodputRpsPerGpu } from '../lib/stats.js';
import type { Profile } from '../perf/profile.js';
import type { CompactTrace } from '../trace/compact-trace.js';
import { scaleRate } from '../trace/transforms.js';
import { searchGoodput, type GoodputSearch } from './goodput.js';
import type { SimOptions } from './options.js';
import { runPolicy, type PolicyFactory } from './run-policy.js';
import type { SimResult } from './simulate.js';
import { searchStaticSplit } from './static-best.js';

/** DESIGN.md "Bench JSON": `at_scale_1`, the run at the trace's own rate. */
export interface AtScale1Json extends LatencyFiguresJson {
  gpu_seconds: number;
  flips: number;
  completed: number;
  dropped: number;
}

export interface BenchPolicyJson {
  name: string;
  goodput_rate_scale: number;
  goodput_rps_per_gpu: number;
  at_scale_1: AtScale1Json;
}

export interface BenchJson {
  trace: { path: string; requests: number; span_s: number };
  gpus: number;
  profile: string;
  slo: { ttft_s: number; tpot_s: number; attainment: number };
  policies: BenchPolicyJson[];
  simulated_requests: number;
  wall_s: number;
}

/** `pdpilot sim --json`: at_scale_1 plus the policy, the means and the number of decisions. */
export interface SimJson extends AtScale1Json {
  policy: string;
  ttft_mean_s: number;
  tpot_mean_s: number;
  decisions: number;
}

export function atScale1Json(result: SimResult): AtScale1Json {
  const s = result.summary;
  return {
    attainment: result.attainment,
    ttft_p50_s: s.ttftP50Seconds,
    ttft_p90_s: s.ttftP90Seconds,
    ttft_p99_s: s.ttftP99Seconds,
    tpot_p50_s: s.tpotP50Seconds,
    tpot_p90_s: s.tpotP90Seconds,
    tpot_p99_s: s.tpotP99Seconds,
    gpu_seconds: result.gpuSeconds,
    flips: result.flips,
    completed: s.completed,
    dropped: s.dropped,
  };
}

export function simJson(result: SimResult): SimJson {
  return {
    policy: result.policy,
    ...atScale1Json(result),
    ttft_mean_s: result.summary.ttftMeanSeconds,
    tpot_mean_s: result.summary.tpotMeanSeconds,
    decisions: result.decisions,
  };
}

export interface BenchInput {
  trace: CompactTrace;
  tracePath: string;
  profile: Profile;
  profilePath: string;
  gpus: number;
  slo: Slo;
  policies: readonly string[];
  makePolicy: PolicyFactory;
  /** Model settings shared by every run (router, KV transfer, compat, interval). */
  options?: Omit<SimOptions, 'gpus' | 'initialPrefill' | 'rateScale'>;
  /** Called after every simulation. */
  onRun?: (event: { policy: string; rateScale: number; attainment: number }) => void;
  /** Wall clock for wall_s (seconds); injected so tests can fix it. */
  wallSeconds: () => number;
}

export interface BenchOutcome {
  json: BenchJson;
  /** The run at scale 1 of each policy, for the report. */
  runs: SimResult[];
  searches: Map<string, GoodputSearch>;
}

/**
 * The bench of DESIGN.md: for each policy, its run at the trace's own rate
 * and its goodput (largest rate scale meeting the attainment target, found by
 * searchGoodput). `static-best` first searches the split (searchStaticSplit).
 */
export async function runBench(input: BenchInput): Promise<BenchOutcome> {
  const started = input.wallSeconds();
  const { trace, profile, slo, gpus } = input;
  const spanSeconds = trace.length > 0 ? (trace.arrivalSeconds[trace.length - 1] as number) - (trace.arrivalSeconds[0] as number) : 0;
  const meanRps = spanSeconds > 0 ? trace.length / spanSeconds : 0;
  let simulatedRequests = 0;
  const runs: SimResult[] = [];
  const searches = new Map<string, GoodputSearch>();
  const policies: BenchPolicyJson[] = [];

  const runAt = async (name: string, params: Record<string, unknown> | undefined, initialPrefill: number | undefined, rateScale: number) => {
    const result = await runPolicy({
      trace: rateScale === 1 ? trace : scaleRate(trace, rateScale),
      profile,
      policy: input.makePolicy(name, params),
      slo,
      options: { ...input.options, gpus, ...(initialPrefill !== undefined ? { initialPrefill } : {}) },
    });
    simulatedRequests += result.simulatedRequests;
    input.onRun?.({ policy: name, rateScale, attainment: result.attainment });
    return result;
  };
  const goodputOf = (name: string, params?: Record<string, unknown>, initialPrefill?: number) =>
    searchGoodput(async (k) => (await runAt(name, params, initialPrefill, k)).attainment, slo.attainment);

  for (const name of input.policies) {
    let params: Record<string, unknown> | undefined;
    let initialPrefill: number | undefined;
    let search: GoodputSearch;
    if (name === 'static-best') {
      const split = await searchStaticSplit(gpus, (prefill) => goodputOf(name, { prefill, decode: gpus - prefill }, prefill));
      params = { prefill: split.prefill, decode: split.decode };
      initialPrefill = split.prefill;
      search = split.goodput;
    } else {
      search = await goodputOf(name);
    }
    searches.set(name, search);
    const atOne = await runAt(name, params, initialPrefill, 1);
    runs.push(atOne);
    policies.push({
      name,
      goodput_rate_scale: search.rateScale,
      goodput_rps_per_gpu: goodputRpsPerGpu(search.rateScale, meanRps, gpus),
      at_scale_1: atScale1Json(atOne),
    });
  }
  return {
    json: {
      trace: { path: input.tracePath, requests: trace.length, span_s: spanSeconds },
      gpus,
      profile: input.profilePath,
      slo: { ttft_s: slo.ttftSeconds, tpot_s: slo.tpotSeconds, attainment: slo.attainment },
      policies,
      simulated_requests: simulatedRequests,
      wall_s: input.wallSeconds() - started,
    },
    runs,
    searches,
  };
}
