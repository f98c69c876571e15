import { Type, type Static } from '@sinclair/typebox';
import type { RoleTarget } from '../domain/decision.js';
import { meanOverRole } from './correction.js';
import type { Policy, PolicyContext, PolicyDecision } from './policy.js';
import { MIN_INSTANCES_PER_ROLE, clampSplit, currentSplit, flipsToward, usableWorkers } from './split.js';

/**
 * `reactive`: NVIDIA Dynamo's load-based planner (docs/policies/reactive.md).
 * Prefill load is the queue per prefill instance; decode load is the mean KV
 * usage of the decode instances; each is compared with an up and a down
 * threshold, and the split moves by one instance per interval at most
 * ("to avoid over-compensation"). Defaults are Dynamo's LoadPlannerDefaults.
 */
export const ReactiveParamsSchema = Type.Object(
  {
    prefillQueueScaleUp: Type.Number({ minimum: 0, default: 5, description: 'queued requests per prefill instance above which prefill grows (Dynamo prefill_queue_scale_up_threshold)' }),
    prefillQueueScaleDown: Type.Number({ minimum: 0, default: 0.2, description: 'queued requests per prefill instance below which prefill may shrink (prefill_queue_scale_down_threshold)' }),
    decodeKvScaleUp: Type.Number({ minimum: 0, maximum: 1, default: 0.9, description: 'mean decode KV usage (0–1) above which decode grows (decode_kv_scale_up_threshold)' }),
    decodeKvScaleDown: Type.Number({ minimum: 0, maximum: 1, default: 0.5, description: 'mean decode KV usage below which decode may shrink (decode_kv_scale_down_threshold)' }),
    newDecodeGraceIntervals: Type.Integer({ minimum: 0, default: 3, description: 'intervals after decode grew during which decode never shrinks: a new decode instance needs time to fill its KV (NEW_DECODE_WORKER_GRACE_PERIOD)' }),
  },
  { additionalProperties: false },
);
export type ReactiveParams = Static<typeof ReactiveParamsSchema>;

type Signal = 'up' | 'down' | 'hold';

export class ReactivePolicy implements Policy {
  readonly name = 'reactive';
  /** Decode count of the previous call, to see decode grow. */
  private lastDecode: number | undefined;
  /** Decisions left in which decode may not shrink. */
  private graceLeft = 0;

  constructor(readonly params: ReactiveParams) {}

  decide(context: PolicyContext): PolicyDecision {
    const { snapshot } = context;
    const current = currentSplit(snapshot);
    const pool = usableWorkers(snapshot).length;
    // The grace period starts when the fleet shows decode grew, not when we
    // asked: a held or slow flip has not added KV capacity yet.
    if (this.lastDecode !== undefined && current.decode > this.lastDecode) this.graceLeft = this.params.newDecodeGraceIntervals;
    else if (this.graceLeft > 0) this.graceLeft--;
    this.lastDecode = current.decode;

    const queuePerPrefill = current.prefill === 0 ? 0 : meanOverRole(snapshot, 'prefill', (w) => w.queuedRequests);
    const decodeKvUsage = meanOverRole(snapshot, 'decode', (w) => w.kvUsage);
    const prefill: Signal = queuePerPrefill > this.params.prefillQueueScaleUp ? 'up' : queuePerPrefill < this.params.prefillQueueScaleDown ? 'down' : 'hold';
    const decode: Signal = decodeKvUsage > this.params.decodeKvScaleUp ? 'up' : decodeKvUsage < this.params.decodeKvScaleDown ? 'down' : 'hold';
    const decodeMayShrink = this.graceLeft === 0;

    // In a fixed pool one role grows only by the other shrinking. A role
    // grows when it is over its up threshold and the other is not; failing
    // that, a role under its down threshold gives an instance to the other
    // when the other is not also under its own (an idle pool stays put).
    let step = 0;
    let code = 'within-thresholds';
    if (prefill === 'up' && decode !== 'up') {
      step = decodeMayShrink ? 1 : 0;
      code = decodeMayShrink ? 'prefill-queue-high' : 'decode-grace-period';
    } else if (decode === 'up' && prefill !== 'up') {
      step = -1;
      code = 'decode-kv-high';
    } else if (prefill === 'up' && decode === 'up') {
      code = 'both-saturated';
    } else if (prefill === 'down' && decode === 'hold') {
      step = -1;
      code = 'prefill-queue-low';
    } else if (decode === 'down' && prefill === 'hold') {
      step = decodeMayShrink ? 1 : 0;
      code = decodeMayShrink ? 'decode-kv-low' : 'decode-grace-period';
    }
    const target: RoleTarget = step === 0 ? current : clampSplit(current.prefill + step, pool, MIN_INSTANCES_PER_ROLE);
    if (step !== 0 && target.prefill === current.prefill) code = 'at-minimum';
    const reason = {
      code,
      message: `queue/prefill ${queuePerPrefill.toFixed(2)} (up ${this.params.prefillQueueScaleUp}, down ${this.params.prefillQueueScaleDown}), decode KV ${decodeKvUsage.toFixed(2)} (up ${this.params.decodeKvScaleUp}, down ${this.params.decodeKvScaleDown}) → ${target.prefill}P/${target.decode}D`,
      detail: { queuePerPrefill, decodeKvUsage, graceIntervalsLeft: this.graceLeft, prefill: target.prefill, decode: target.decode },
    };
    return { target, changes: flipsToward(snapshot, target, reason), reason };
  }
}
