import { idleSample, type LoadSample } from '../domain/load.js';
import type { TraceRequest } from '../domain/request.js';
import type { Slo } from '../domain/slo.js';
import type { Profile } from '../perf/profile.js';
import type { Policy } from '../policy/policy.js';
import { SimCluster, type SplitPoint } from './cluster.js';
import { resolveOptions, type SimOptions } from './options.js';
import type { OutcomeSummary } from './outcomes.js';
import { Controller } from '../control/controller.js';
import type { SafetyConfig } from '../control/safety.js';
import { LastValueForecaster, type Forecaster } from '../forecast/forecaster.js';
import { ManualClock } from '../lib/clock.js';

export interface SimulateInput {
  /** The trace, sorted by arrival; iterated once, or twice when the policy sees the future (the oracle). */
  trace: Iterable<TraceRequest>;
  profile: Profile;
  policy: Policy;
  slo: Slo;
  options: SimOptions;
  /** Overrides of the controller's safety rules (the oracle lifts the flip limits). */
  safety?: Partial<SafetyConfig>;
  /** Defaults to last-value until the forecasting issue lands. */
  forecaster?: Forecaster;
}

export interface SimResult {
  policy: string;
  summary: OutcomeSummary;
  /** Joint attainment of the SLO (dropped requests count as misses). */
  attainment: number;
  gpuSeconds: number;
  makespanSeconds: number;
  flips: number;
  /** GPU-seconds spent draining and switching (the cost of the flips). */
  flipCostSeconds: number;
  /** Control rounds that acted: handed flips to the actuator or resized the pool. */
  decisions: number;
  /** Requests that arrived (completed + dropped). */
  simulatedRequests: number;
  timeline: SplitPoint[];
}

/**
 * One run: the trace through a simulated cluster steered by `policy`, on the
 * virtual clock. The policy sees the future only with options.revealFuture.
 */
export async function simulate(input: SimulateInput): Promise<SimResult> {
  const { profile, policy, slo } = input;
  const options = resolveOptions(input.options, profile.kvCapacityTokens);
  const future = options.revealFuture ? intervalSamples(input.trace, options.intervalSeconds, options.rateScale) : [];
  const cluster = new SimCluster(profile, options, future);
  // The controller of src/control/, exactly as live: it observes and actuates
  // through the cluster's ports and reads time from a clock the event loop moves.
  const clock = new ManualClock();
  const controller = new Controller({
    clock,
    observer: cluster,
    actuator: cluster,
    policy,
    forecaster: input.forecaster ?? new LastValueForecaster(),
    profile,
    slo,
    intervalSeconds: options.intervalSeconds,
    ...(input.safety ? { safety: input.safety } : {}),
  });
  await cluster.run(input.trace, async (nowSeconds) => {
    clock.set(nowSeconds);
    const decision = await controller.reconcileOnce();
    if (decision.target) cluster.resize(decision.target);
  });
  const summary = cluster.outcomes.summary();
  return {
    policy: policy.name,
    summary,
    attainment: cluster.outcomes.attainment(slo.ttftSeconds, slo.tpotSeconds),
    gpuSeconds: cluster.gpuSeconds(),
    makespanSeconds: cluster.makespanSeconds,
    flips: cluster.flips,
    flipCostSeconds: cluster.flipCostSeconds,
    decisions: cluster.decisions,
    simulatedRequests: cluster.arrivals,
    timeline: cluster.timeline,
  };
}

/**
 * The true load of each control interval from time 0 (arrivals scaled by
 * rateScale), in one streaming pass: only per-interval moments are kept.
 */
export function intervalSamples(trace: Iterable<TraceRequest>, intervalSeconds: number, rateScale = 1): LoadSample[] {
  const samples: LoadSample[] = [];
  const sums: { n: number; input: number; input2: number; output: number }[] = [];
  for (const r of trace) {
    const k = Math.floor(r.arrivalSeconds / rateScale / intervalSeconds);
    while (sums.length <= k) sums.push({ n: 0, input: 0, input2: 0, output: 0 });
    const s = sums[k] as (typeof sums)[number];
    s.n++;
    s.input += r.inputTokens;
    s.input2 += r.inputTokens * r.inputTokens;
    s.output += r.outputTokens;
  }
  sums.forEach((s, k) => {
    const start = k * intervalSeconds;
    samples.push(
      s.n === 0
        ? idleSample(start, intervalSeconds)
        : { startSeconds: start, intervalSeconds, requests: s.n, inputMean: s.input / s.n, inputSecondMoment: s.input2 / s.n, outputMean: s.output / s.n },
    );
  });
  return samples;
}
