// `pdpilot profile`: measures a backend through the engine (each grid point a
// probe step timed on the engine thread), fits DistServe's latency model with
// src/perf/fit.ts and returns a profile JSON in the shipped format.
import { hostname } from 'node:os';
import { fitDecode, fitPrefill, type DecodeMeasurement, type PrefillMeasurement } from '../perf/fit.js';
import type { Profile } from '../perf/profile.js';
import { WorkerEngine } from './engine.js';
import { WorkerHost } from './host.js';
import { WorkerMetrics } from './metrics.js';
import { nativeConfig, type WorkerOptions } from './options.js';

export interface ProfileRun {
  profile: Profile;
  prefill: PrefillMeasurement[];
  decode: DecodeMeasurement[];
}

/**
 * The step time a grid point is fitted with: the fastest of its repeats.
 * Interference (other processes, a descheduled engine thread) only ever adds
 * time to a step, never removes it, so the minimum is the estimate of the
 * backend's own cost that a busy machine disturbs least; a median still moves
 * once most repeats are preempted.
 */
function fastest(xs: number[]): number {
  return Math.min(...xs);
}

/** Prefill batches: single prompts over a length ladder, plus mixed batches (so Σl and Σl² vary independently). */
export function prefillGrid(maxPrompt: number, budget: number): number[][] {
  const lens = [16, 32, 64, 128, 256, 512, 1024, 2048].filter((l) => l <= maxPrompt);
  const grid: number[][] = lens.map((l) => [l]);
  for (const l of lens.slice(0, -1)) {
    grid.push([l, l], [l, l, l, l]);
    grid.push([l, Math.min(maxPrompt, l * 4)]);
  }
  return grid.filter((b) => b.reduce((s, l) => s + l, 0) <= budget);
}

/** Decode steps: batch × context, both sides of the small/large threshold when it is in reach. */
export function decodeGrid(maxContext: number, capacityTokens: number, threshold: number, maxBatch: number): { batch: number; context: number }[] {
  const batches = [1, 2, 4, 8, 16, 32, 64, 96, 128, 192, 256].filter((b) => b <= maxBatch);
  if (threshold <= maxBatch) batches.push(threshold, threshold + 8, Math.max(1, threshold - 8));
  const contexts = [16, 128, 512, 1024, 2048].filter((c) => c < maxContext);
  const grid: { batch: number; context: number }[] = [];
  for (const batch of [...new Set(batches)].sort((a, b) => a - b)) {
    for (const context of contexts) if (batch * (context + 17) <= capacityTokens) grid.push({ batch, context });
  }
  return grid;
}

export async function profileBackend(options: WorkerOptions, opts: { repeats: number; log?: (line: string) => void }): Promise<ProfileRun> {
  const log = opts.log ?? (() => undefined);
  const t0 = performance.now();
  const engine = new WorkerEngine(nativeConfig(options));
  const startSeconds = (performance.now() - t0) / 1000;
  try {
    const s = engine.stats();
    const capacity = s.kvTotalBlocks * s.blockSize;
    const prefill: PrefillMeasurement[] = [];
    const pGrid = prefillGrid(Math.min(s.contextTokens - 1, capacity / 4), Math.min(options.prefillTokenBudget, capacity / 2));
    await engine.probe('prefill', [8]); // warm-up: first touches of weights and KV pages
    for (const batch of pGrid) {
      const times: number[] = [];
      for (let r = 0; r < opts.repeats; r++) times.push((await engine.probe('prefill', batch)) * 1000);
      prefill.push({ promptTokens: batch, ms: fastest(times) });
      log(`prefill [${batch.join(',')}] ${fastest(times).toFixed(3)} ms`);
    }
    const threshold = options.profile?.decodeMs.thresholdBatch ?? Number.MAX_SAFE_INTEGER;
    const decode: DecodeMeasurement[] = [];
    for (const { batch, context } of decodeGrid(s.contextTokens, capacity, threshold, options.maxBatch)) {
      const lens = Array.from({ length: batch }, () => context);
      const times: number[] = [];
      for (let r = 0; r < opts.repeats; r++) times.push((await engine.probe('decode', lens)) * 1000);
      decode.push({ batch, sumContextTokens: batch * context, ms: fastest(times) });
      log(`decode batch ${batch} context ${context} ${fastest(times).toFixed(3)} ms`);
    }
    const fittedThreshold = Number.isFinite(threshold) && threshold < Number.MAX_SAFE_INTEGER ? threshold : options.maxBatch + 1;
    // A flip measured the way a worker does it: empty engine, drain (nothing to wait for), check, switch.
    const metrics = new WorkerMetrics('profile', options.role, () => engine.stats());
    const host = new WorkerHost(engine, options, metrics);
    host.markReady();
    const flip = await host.switchRole(options.role === 'prefill' ? 'decode' : 'prefill');
    const shape = options.shape;
    const model =
      options.backend === 'sim'
        ? (options.profile?.model ?? 'sim')
        : `llama-l${shape.layers}-h${shape.hidden}-a${shape.heads}-kv${shape.kvHeads}-f${shape.ffn}-v${shape.vocab}`;
    const profile: Profile = {
      schemaVersion: 1,
      model,
      gpu: options.backend === 'sim' ? (options.profile?.gpu ?? 'sim') : `cpu-${hostname()}`,
      tensorParallel: 1,
      pipelineParallel: 1,
      prefillMs: fitPrefill(prefill),
      decodeMs: fitDecode(decode, fittedThreshold),
      kvCapacityTokens: capacity,
      kvBytesPerToken: Math.max(1, s.kvBytesPerToken || (options.profile?.kvBytesPerToken ?? 1)),
      contextTokens: s.contextTokens,
      flipSeconds: flip.drainSeconds + flip.switchSeconds,
      startSeconds,
      source: `measured by pdpilot profile --backend ${options.backend} on ${hostname()}, ${new Date().toISOString()}`,
      assumptions:
        `${prefill.length} prefill batches and ${decode.length} decode steps, fastest of ${opts.repeats} each, timed on the engine thread; ` +
        'least-squares fits from src/perf/fit.ts. pipelineParallel is 1: the fits describe the measured times directly. ' +
        `flipSeconds is an idle worker's drain + switch; startSeconds is engine creation (weights ${options.weights ? `from ${options.weights}` : 'generated'} and KV allocation).` +
        (options.backend === 'cpu' ? ` threads ${options.threads || 'all cores'}, float32.` : ''),
    };
    return { profile, prefill, decode };
  } finally {
    engine.close();
  }
}
