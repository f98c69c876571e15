import type { RoleTarget } from '../../src/domain/decision.js';
import type { TraceRequest } from '../../src/domain/request.js';
import type { Profile } from '../../src/perf/profile.js';
import type { Policy, PolicyContext, PolicyDecision } from '../../src/policy/policy.js';

/**
 * A profile with round numbers so that expected latencies can be worked out
 * by hand: prefill 10 ms + 0.1 ms/token (no quadratic term), decode step
 * 5 ms flat, 1 MB of KV per token.
 */
export function handProfile(overrides: Partial<Profile> = {}): Profile {
  return {
    schemaVersion: 1,
    model: 'hand',
    gpu: 'hand',
    tensorParallel: 1,
    pipelineParallel: 1,
    prefillMs: [10, 0.1, 0],
    decodeMs: { smallBatch: [5, 0, 0], largeBatch: [5, 0, 0], thresholdBatch: 1000 },
    kvCapacityTokens: 10_000,
    kvBytesPerToken: 1_000_000,
    flipSeconds: 1,
    startSeconds: 10,
    source: 'test',
    ...overrides,
  };
}

export function requests(...rows: [number, number, number][]): TraceRequest[] {
  return rows.map(([arrivalSeconds, inputTokens, outputTokens]) => ({ arrivalSeconds, inputTokens, outputTokens }));
}

/** A policy that holds the split it is given and never flips: enough to time instances. */
export class HoldPolicy implements Policy {
  readonly name = 'hold';
  decide(context: PolicyContext): PolicyDecision {
    const target: RoleTarget = { prefill: 0, decode: 0 };
    for (const w of context.snapshot.workers) target[w.role]++;
    return { target, changes: [], reason: { code: 'hold', message: 'hold' } };
  }
}

/** A policy that orders given flips at given ticks (by tick number, 0-based). */
export class ScriptedPolicy implements Policy {
  readonly name = 'scripted';
  private tick = 0;
  readonly contexts: PolicyContext[] = [];
  constructor(private readonly script: Record<number, { workerId: string; from: 'prefill' | 'decode'; to: 'prefill' | 'decode' }[]>) {}
  decide(context: PolicyContext): PolicyDecision {
    this.contexts.push(context);
    const flips = this.script[this.tick++] ?? [];
    const target: RoleTarget = { prefill: 0, decode: 0 };
    for (const w of context.snapshot.workers) target[w.role]++;
    return {
      target,
      changes: flips.map((f) => ({ ...f, reason: { code: 'scripted', message: 'scripted' } })),
      reason: { code: 'scripted', message: 'scripted' },
    };
  }
}

export const LOOSE_SLO = { ttftSeconds: 10, tpotSeconds: 1, attainment: 0.9 };
