import type { Slo } from '../domain/slo.js';
import type { Profile } from '../perf/profile.js';
import { decodeInstanceRate, prefillInstanceRate, type LengthMoments } from './phase-capacity.js';

/**
 * DistServe's placement search for clusters with high node affinity
 * (Zhong et al., OSDI 2024, §4.1, Algorithm 1): with a fast network
 * between nodes, prefill and decode instances can be placed apart, so each
 * phase is optimised on its own. For each phase, every parallel
 * configuration is scored by its goodput per GPU (the largest rate one
 * instance serves within the SLO, divided by its GPUs); the best is then
 * replicated — n = ⌈R / prefill goodput⌉, m = ⌈R / decode goodput⌉ — to
 * carry the target rate R. (Ranking: see `best` below.)
 *
 * DistServe scores a configuration by simulating it; we score it with the
 * same analytic models the policies use (prefill: M/D/1 TTFT at the
 * attainment percentile from the length moments; decode: the largest batch
 * within TPOT and KV at context ISL + OSL/2), over the shipped profiles.
 */
export interface PhaseOption {
  phase: 'prefill' | 'decode';
  profile: string;
  tensorParallel: number;
  pipelineParallel: number;
  gpusPerInstance: number;
  /** Requests per second one instance serves within the SLO (0 when it cannot meet it). */
  instanceRps: number;
  gpuRps: number;
  /** Instances (and GPUs) this option needs for the target rate; undefined when it cannot meet the SLO. */
  instances?: number;
  gpus?: number;
  /** Decode only: the batch at that rate and what bounds it. */
  batch?: number;
  limitedBy?: 'tpot' | 'kv';
}

export interface Placement {
  prefill: PhaseOption & { instances: number; gpus: number };
  decode: PhaseOption & { instances: number; gpus: number };
  gpus: number;
  /** The target rate over the GPUs used: DistServe's per-GPU goodput of the placement. */
  rpsPerGpu: number;
  /** The most the placement carries within the SLO: the lesser of its phases' instances × rate. */
  capacityRps: number;
}

export interface PlacementSearch {
  rateRps: number;
  options: PhaseOption[];
  /** Undefined when a phase has no option meeting the SLO, or none fits maxGpus. */
  best?: Placement;
  /** Why there is no best. */
  infeasible?: string;
}

export interface PlacementRequest {
  profiles: readonly { name: string; profile: Profile }[];
  rateRps: number;
  slo: Slo;
  lengths: LengthMoments;
  maxGpus?: number;
}

export function searchPlacement(request: PlacementRequest): PlacementSearch {
  const { rateRps, slo, lengths } = request;
  const options: PhaseOption[] = [];
  for (const { name, profile } of request.profiles) {
    const gpusPerInstance = profile.tensorParallel * profile.pipelineParallel;
    const base = { profile: name, tensorParallel: profile.tensorParallel, pipelineParallel: profile.pipelineParallel, gpusPerInstance };
    const prefillRps = prefillInstanceRate(profile, slo.ttftSeconds, slo.attainment, lengths);
    options.push(withCount({ phase: 'prefill', ...base, instanceRps: prefillRps, gpuRps: prefillRps / gpusPerInstance }, rateRps));
    const decode = decodeInstanceRate(profile, slo.tpotSeconds, lengths);
    options.push(
      withCount({ phase: 'decode', ...base, instanceRps: decode.requestsPerSecond, gpuRps: decode.requestsPerSecond / gpusPerInstance, batch: decode.batch, limitedBy: decode.limitedBy }, rateRps),
    );
  }
  const best = (phase: 'prefill' | 'decode') =>
    options
      .filter((o): o is PhaseOption & { instances: number; gpus: number } => o.phase === phase && o.gpus !== undefined)
      // Fewest GPUs for the target rate, then the highest goodput per GPU, then the smaller instance.
      // Algorithm 1 ranks by goodput per GPU alone and replicates; at the rates a few instances
      // carry, the rounding of ⌈R / goodput⌉ dominates (one tp4 decode instance is 4 GPUs where
      // one tp2 does), so we rank by the GPUs the phase needs — the same choice at high rates.
      .sort((a, b) => a.gpus - b.gpus || b.gpuRps - a.gpuRps || a.gpusPerInstance - b.gpusPerInstance)[0];
  const prefill = best('prefill');
  const decode = best('decode');
  if (!prefill || !decode) {
    const phase = !prefill ? 'prefill' : 'decode';
    const bound = phase === 'prefill' ? `TTFT ${slo.ttftSeconds} s` : `TPOT ${slo.tpotSeconds} s`;
    return { rateRps, options, infeasible: `no ${phase} configuration meets ${bound} at these lengths` };
  }
  const gpus = prefill.gpus + decode.gpus;
  const capacityRps = Math.min(prefill.instances * prefill.instanceRps, decode.instances * decode.instanceRps);
  const placement: Placement = { prefill, decode, gpus, rpsPerGpu: rateRps / gpus, capacityRps };
  if (request.maxGpus !== undefined && gpus > request.maxGpus) {
    return { rateRps, options, infeasible: `the best placement needs ${gpus} GPUs, more than the ${request.maxGpus} allowed` };
  }
  return { rateRps, options, best: placement };
}

function withCount(option: PhaseOption, rateRps: number): PhaseOption {
  if (!(option.instanceRps > 0)) return option;
  // At least one instance per phase: a P/D deployment needs both even at a trickle.
  const instances = Math.max(1, Math.ceil(rateRps / option.instanceRps - 1e-9));
  return { ...option, instances, gpus: instances * option.gpusPerInstance };
}
