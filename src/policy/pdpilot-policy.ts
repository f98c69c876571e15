import { Type, type Static } from '@sinclair/typebox';
import { PDPILOT_REASONS, type DecisionReason, type PdpilotReason, type RoleChange, type RoleTarget } from '../domain/decision.js';
import type { WorkerSnapshot } from '../domain/fleet.js';
import { otherRole, type Role } from '../domain/role.js';
import type { Forecaster } from '../forecast/forecaster.js';
import { observedMean } from './correction.js';
import { bisectLargest, mean } from '../lib/stats.js';
import { meanPrefillSeconds } from '../perf/capacity.js';
import { kvTransferSeconds } from '../perf/latency.js';
import type { Profile } from '../perf/profile.js';
import { decodePoolRate, decodeSlots, mgcWaitQuantileSeconds, prefillPoolRate, prefillService, type DecodeSlots, type PrefillService } from './pdpilot-capacity.js';
import { ForecasterChoiceSchema, forecasterOf, type ForecasterChoosingPolicy } from './pdpilot-forecast.js';
import type { LengthMoments } from './phase-capacity.js';
import type { PolicyContext, PolicyDecision } from './policy.js';
import { byFlipPreference, MIN_INSTANCES_PER_ROLE, usableWorkers } from './split.js';

/**
 * `pdpilot`: our policy (docs/policies/pdpilot.md). Each interval:
 *
 * 1. Plan. Size every split (p, d), p + d = pool, against the forecast's
 *    upper rate band plus the backlog to clear within the horizon, with
 *    pool-level capacities from the profile (pdpilot-capacity.ts: M/G/c
 *    prefill wait at the SLO percentile from E[l] and E[l²]; decode slots
 *    under TPOT and reserved KV, Poisson occupancy). A split's headroom is
 *    the largest multiple of that demand both phases carry within SLO; the
 *    plan is the split with the most headroom.
 * 2. Pay for it. Walk from the current split toward the plan one flip at a
 *    time, and take a step only if the load-weighted pressure it removes
 *    over the horizon exceeds what the flip adds while the worker drains and
 *    switches, and it raises headroom by more than the hysteresis margin.
 * 3. Correct. If the plan holds but the fleet shows one phase missing its
 *    SLO (observed TTFT/TPOT, queue, KV) while the other would still carry
 *    the band with one instance less, move one instance toward the pressure.
 */
export const PdpilotParamsSchema = Type.Object(
  {
    forecaster: ForecasterChoiceSchema,
    sizeFor: Type.Union([Type.Literal('high'), Type.Literal('mean')], {
      default: 'high',
      description: "size splits for the forecast's upper rate band (robust to bursts) or its mean",
    }),
    hysteresis: Type.Number({
      minimum: 0,
      default: 0.05,
      description: 'a flip must raise headroom by more than this fraction; larger than the capacity model\'s 0.1 % precision and the bench\'s 2 % goodput tolerance, so noise never flips',
    }),
    kvPressure: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0.9,
      description: 'mean decode KV usage (0–1) that, with requests waiting for KV, counts as decode pressure (Dynamo\'s KV scale-up threshold)',
    }),
    minSampleRequests: Type.Integer({
      minimum: 0,
      default: 1,
      description:
        'requests the history must hold before the first plan. 1: plan from the first interval that saw traffic — moments from n requests are off by about CV/√n, but the even split the pool starts from is no estimate at all, and the hysteresis and gain-vs-cost test still guard every later flip',
    }),
    linkGBps: Type.Number({ exclusiveMinimum: 0, default: 300, description: 'prefill→decode KV link, GB/s, for the TTFT budget (NVLink-class, as DistServe places P and D)' }),
    holdWithinError: Type.Boolean({
      default: true,
      description:
        'keep a split that observably meets both SLOs and carries the sized load (headroom ≥ 1) when the plan is predicted better by no more than the estimate\'s own relative uncertainty (burst-factor spread, 1/√n of the last interval\'s n requests; unbounded before two busy intervals): reason `hold-within-error`',
    }),
    recentIntervals: Type.Integer({
      minimum: 0,
      default: 8,
      description:
        'past intervals whose observed load (rate, lengths, with κ and the backlog) a plan must also carry: a split\'s headroom is its worst over the forecast and these. 8 intervals (4 min at 30 s): the controller moves one instance per interval, so a plan that only fits the next interval is left short when the mix swings back; 0 plans on the forecast alone',
    }),
  },
  { additionalProperties: false },
);
export type PdpilotParams = Static<typeof PdpilotParamsSchema>;

/** Stable reason codes (metric label values): domain/decision.ts, shared with telemetry. */
export { PDPILOT_REASONS, type PdpilotReason };

/** One step of the walk from the current split toward the plan. */
interface StepEconomics {
  verdict: 'take' | 'hold-hysteresis' | 'hold-cost';
  gainRequests: number;
  costRequests: number;
  flipSeconds: number;
}

export class PdpilotPolicy implements ForecasterChoosingPolicy {
  readonly name = 'pdpilot';
  /**
   * Burst factor κ ≥ 1 of the prefill arrivals, smoothed over intervals:
   * the rate at which the Poisson model reproduces the observed TTFT p90,
   * over the rate observed (burstFactor). State that depends only on the
   * contexts seen, as the Policy contract allows.
   */
  private readonly burst: BurstFactor;

  constructor(readonly params: PdpilotParams) {
    this.burst = new BurstFactor();
    // Fail at creation, naming the model, rather than when the simulator builds the controller.
    forecasterOf(params.forecaster);
  }

  createForecaster(): Forecaster {
    return forecasterOf(this.params.forecaster);
  }

  decide(context: PolicyContext): PolicyDecision {
    const { forecast, snapshot } = context;
    const workers = usableWorkers(snapshot);
    const pool = workers.length;
    const current = effectiveSplit(workers);
    const hold = (code: PdpilotReason, message: string, detail: DecisionReason['detail'] = {}): PolicyDecision => ({
      target: current,
      changes: [],
      reason: { code, message, detail: { pool, prefill: current.prefill, decode: current.decode, ...detail } },
    });
    if (pool < 2 * MIN_INSTANCES_PER_ROLE) return hold('pool-too-small', `a pool of ${pool} cannot hold one instance of each role`);

    const lengths: LengthMoments = {
      inputMean: forecast.inputMean,
      inputSecondMoment: Math.max(forecast.inputSecondMoment, forecast.inputMean ** 2),
      outputMean: forecast.outputMean,
    };
    const horizonSeconds = forecast.horizonSeconds > 0 ? forecast.horizonSeconds : context.intervalSeconds;
    const meanRate = forecast.requestsPerSecond.mean;
    const sizedRate = this.params.sizeFor === 'high' ? forecast.requestsPerSecond.high : meanRate;
    const queuedPrefill = sumOver(workers, 'prefill', (w) => w.queuedRequests);
    const queuedDecode = sumOver(workers, 'decode', (w) => w.queuedRequests);
    // Idle: no load coming, nothing queued, or no request seen yet to size with. Hold, never divide by 0.
    if (!(lengths.inputMean > 0) || (!(sizedRate > 0) && queuedPrefill + queuedDecode === 0)) {
      return hold('idle', 'no load forecast and nothing queued: keeping the split', { requestsPerSecond: meanRate });
    }

    const linkBytesPerSecond = this.params.linkGBps * 1e9;
    const burst = this.burst.update(context, workers, queuedDecode, this.params.kvPressure, linkBytesPerSecond);
    const seen = context.history.reduce((n, sample) => n + sample.requests, 0);
    if (seen < this.params.minSampleRequests) {
      return hold('warm-up', `${seen} requests seen, fewer than the ${this.params.minSampleRequests} the length moments need: keeping the split`, { requestsSeen: seen });
    }
    // Demand on each phase over the horizon: the sized rate plus the backlog it must also clear;
    // prefill sees the rate κ× burstier than Poisson.
    const model = splitModel(
      context,
      pool,
      lengths,
      burst * sizedRate + queuedPrefill / horizonSeconds,
      sizedRate + queuedDecode / horizonSeconds,
      linkBytesPerSecond,
      // The floors carry the expected load (the forecast mean, and each recent load below); the band and κ
      // only distribute the instances left (docs/policies/pdpilot.md, "Phase floors").
      meanRate + queuedPrefill / horizonSeconds,
      meanRate + queuedDecode / horizonSeconds,
    );
    const recent = context.history.slice(-this.params.recentIntervals).filter((x) => x.requests > 0 && x.inputMean > 0);
    if (this.params.recentIntervals > 0 && recent.length > 0) {
      model.alsoCarry(
        recent.map((x) => {
          const rate = x.requests / x.intervalSeconds;
          const l = { inputMean: x.inputMean, inputSecondMoment: Math.max(x.inputSecondMoment, x.inputMean ** 2), outputMean: x.outputMean };
          return splitModel(context, pool, l, burst * rate + queuedPrefill / horizonSeconds, rate + queuedDecode / horizonSeconds, linkBytesPerSecond, rate + queuedPrefill / horizonSeconds);
        }),
      );
    }
    const best = model.bestPrefill(current.prefill);
    const detail: Record<string, number> = {
      requestsPerSecond: meanRate,
      sizedRequestsPerSecond: sizedRate,
      inputMean: lengths.inputMean,
      inputRms: Math.sqrt(lengths.inputSecondMoment),
      outputMean: lengths.outputMean,
      prefillServiceSeconds: model.service.meanSeconds,
      prefillServiceScv: model.service.scv,
      decodeBatch: model.slots.batch,
      queuedPrefill,
      queuedDecode,
      burstFactor: burst,
      planPrefill: best,
      headroomCurrent: model.headroom(current.prefill),
      headroomPlan: model.headroom(best),
    };
    if (!(model.headroom(best) > 0)) {
      return hold('slo-infeasible', 'no split meets the SLO for this load (a prompt or a decode step alone exceeds it): keeping the split', detail);
    }

    const bounds = model.floors();
    const outsideFloors = (p: number) => p < bounds.minPrefill || p > bounds.maxPrefill;
    if (this.params.holdWithinError && best !== current.prefill && !outsideFloors(current.prefill)) {
      const guard = this.withinError(context, workers, model, current.prefill, best, queuedPrefill, queuedDecode);
      Object.assign(detail, guard.detail);
      if (guard.hold) {
        return hold('hold-within-error', `${current.prefill}P/${current.decode}D meets both SLOs and carries the sized load; the plan ${best}P is predicted ${(100 * (guard.detail.predictedAdvantage ?? 0)).toFixed(0)} % better, within the ±${(100 * (guard.detail.modelUncertainty ?? 0)).toFixed(0)} % the estimate is uncertain by`, detail);
      }
    }

    // Walk toward the plan, paying for each flip with the least busy worker left.
    const direction = Math.sign(best - current.prefill);
    const from: Role = direction > 0 ? 'decode' : 'prefill';
    const donors = workers.filter((w) => w.role === from && w.status === 'ready').sort(byFlipPreference);
    let prefill = current.prefill;
    let last: StepEconomics | undefined;
    let taken = 0;
    // A split below a phase's floor starves that phase: the steps back to the floor are not weighed.
    let forced = 0;
    while (prefill !== best) {
      const donor = donors[taken];
      if (!donor) break;
      if (outsideFloors(prefill)) {
        prefill += direction;
        taken++;
        forced++;
        continue;
      }
      last = model.step(prefill, prefill + direction, drainSeconds(donor, model), horizonSeconds, meanRate, this.params.hysteresis);
      if (last.verdict !== 'take') break;
      prefill += direction;
      taken++;
    }
    if (taken > 0) {
      const target = { prefill, decode: pool - prefill };
      const code: PdpilotReason = forced === taken ? 'floor-move' : 'plan-move';
      const reason: DecisionReason = {
        code,
        message: `${code === 'floor-move' ? 'back to the phase floors: ' : ''}${current.prefill}P/${current.decode}D → ${target.prefill}P/${target.decode}D (plan ${best}P): headroom ${fmt(model.headroom(current.prefill))} → ${fmt(model.headroom(prefill))} of ${sizedRate.toFixed(2)} req/s`,
        detail: { ...detail, ...target, targetHeadroom: model.headroom(prefill), minPrefill: bounds.minPrefill, maxPrefill: bounds.maxPrefill },
      };
      return { target, changes: flips(donors.slice(0, taken), from, reason), reason };
    }

    const planCode: PdpilotReason = best === current.prefill ? 'hold-at-plan' : (last?.verdict as Exclude<StepEconomics['verdict'], 'take'>) ?? 'hold-cost';
    if (last) Object.assign(detail, { gainRequests: last.gainRequests, costRequests: last.costRequests, flipSeconds: last.flipSeconds });
    const corrected = this.correct(context, workers, current, model, best, detail, queuedPrefill, queuedDecode);
    if (corrected) return corrected;
    return hold(planCode, holdMessage(planCode, current, best, last), detail);
  }

  /**
   * The safeguard against flips the model cannot justify
   * (docs/policies/pdpilot.md, "Hold within model error"). A split that
   * observably meets both SLOs (TTFT and TPOT p90 within SLO, prefill
   * backlog under the TTFT SLO, no decode KV pressure) and that the model
   * says carries the sized load (headroom ≥ 1) is kept when the plan's
   * predicted advantage, headroom(plan) ÷ headroom(current) − 1, is no
   * larger than the relative uncertainty of the estimate behind it:
   * √(spread(κ)² + 1/n), with spread(κ) the relative spread of the recent
   * burst evidence and 1/√n the sampling error of moments from the last
   * interval's n requests (lengths have CV ≈ 1); unbounded before two busy
   * intervals. "Meets" needs an observation: an interval with no completed
   * request holds nothing back. No tuned constant: every term is measured.
   */
  withinError(
    context: PolicyContext,
    workers: WorkerSnapshot[],
    model: SplitModel,
    currentPrefill: number,
    best: number,
    queuedPrefill: number,
    queuedDecode: number,
  ): { hold: boolean; detail: Record<string, number> } {
    const { slo } = context;
    const { ttftP90, tpotP90, kvUsage, backlogSeconds } = observePhases(context, workers, model.service.meanSeconds, queuedPrefill);
    const meeting =
      ttftP90 !== undefined && ttftP90 <= slo.ttftSeconds && (tpotP90 === undefined || tpotP90 <= slo.tpotSeconds) && backlogSeconds <= slo.ttftSeconds && !(queuedDecode > 0 && kvUsage >= this.params.kvPressure);
    const last = context.history[context.history.length - 1];
    const n = last ? last.requests : 0;
    // The rate band is left out: a rate error scales the headroom of every split alike, so it hardly moves their
    // ratio (the code trace's band, 150 % of its mean, held 9P/7D against a steady plan of 14P). Before two busy
    // intervals, though, nothing has been measured — the first busy interval is often a partial one — and the
    // estimate counts as unbounded.
    const busyIntervals = context.history.filter((x) => x.requests > 0).length;
    const startUp = busyIntervals < 2 ? Number.POSITIVE_INFINITY : 0;
    const spread = this.burst.spread();
    const uncertainty = startUp + Math.sqrt(spread * spread + (n > 0 ? 1 / n : 1));
    const now = model.headroom(currentPrefill);
    const advantage = model.headroom(best) / now - 1;
    const hold = meeting && now >= 1 && advantage <= uncertainty;
    return { hold, detail: { predictedAdvantage: advantage, modelUncertainty: Math.min(uncertainty, 1e9), meetingSlo: meeting ? 1 : 0 } };
  }

  /**
   * The fast reactive correction: the model sizes for Poisson arrivals
   * within an interval, and real traffic (the Azure code trace above all)
   * bursts within seconds. When the fleet shows one phase missing its SLO
   * and the other does not, one instance moves toward the pressure — only
   * if the plan does not point the other way and the donor role would still
   * carry the sized demand with one instance less.
   */
  private correct(
    context: PolicyContext,
    workers: WorkerSnapshot[],
    current: RoleTarget,
    model: SplitModel,
    best: number,
    detail: Record<string, number>,
    queuedPrefill: number,
    queuedDecode: number,
  ): PolicyDecision | undefined {
    const { slo } = context;
    const observed = observePhases(context, workers, model.service.meanSeconds, queuedPrefill);
    const ttftP90 = observed.ttftP90 ?? 0;
    const tpotP90 = observed.tpotP90 ?? 0;
    const { kvUsage, backlogSeconds } = observed;
    // A late first token is the prefill's fault only when prompts are queued at prefill; a full decode KV delays it too.
    const prefillPressure = queuedPrefill > 0 && (ttftP90 > slo.ttftSeconds || backlogSeconds > slo.ttftSeconds);
    const decodePressure = tpotP90 > slo.tpotSeconds || (kvUsage >= this.params.kvPressure && queuedDecode > 0);
    Object.assign(detail, { ttftP90Seconds: ttftP90, tpotP90Seconds: tpotP90, decodeKvUsage: kvUsage, prefillBacklogSeconds: Math.min(backlogSeconds, 1e9) });
    if (prefillPressure === decodePressure) return undefined;

    const direction = prefillPressure ? 1 : -1;
    const next = current.prefill + direction;
    if (Math.sign(best - current.prefill) === -direction) return undefined;
    if (next < MIN_INSTANCES_PER_ROLE || next > model.pool - MIN_INSTANCES_PER_ROLE) return undefined;
    const donorHeadroom = direction > 0 ? model.decodeHeadroom(model.pool - next) : model.prefillHeadroom(next);
    if (donorHeadroom < 1) return undefined;
    const from: Role = direction > 0 ? 'decode' : 'prefill';
    const donor = workers.filter((w) => w.role === from && w.status === 'ready').sort(byFlipPreference)[0];
    if (!donor) return undefined;
    const target = { prefill: next, decode: model.pool - next };
    const code: PdpilotReason = prefillPressure ? 'reactive-prefill-pressure' : 'reactive-decode-pressure';
    const reason: DecisionReason = {
      code,
      message: prefillPressure
        ? `prefill misses its SLO (TTFT p90 ${fmt(ttftP90)} s, ${queuedPrefill} queued, ${fmt(backlogSeconds)} s of backlog) while decode has room: ${target.prefill}P/${target.decode}D`
        : `decode misses its SLO (TPOT p90 ${fmt(tpotP90)} s, KV ${(kvUsage * 100).toFixed(0)}%, ${queuedDecode} waiting) while prefill has room: ${target.prefill}P/${target.decode}D`,
      detail: { ...detail, ...target, donorHeadroom },
    };
    return { target, changes: flips([donor], from, reason), reason };
  }
}

/**
 * The capacity model of one load (lengths, per-phase demand in req/s) on a
 * pool: what pdpilot plans with, and what the oracle plans with on the true
 * future load (src/policy/oracle.ts), so the bound is the same planner with
 * perfect knowledge.
 */
export function splitModel(
  context: Pick<PolicyContext, 'profile' | 'slo'>,
  pool: number,
  lengths: LengthMoments,
  prefillDemand: number,
  decodeDemand: number,
  linkBytesPerSecond: number,
  basePrefillDemand = prefillDemand,
  baseDecodeDemand = decodeDemand,
): SplitModel {
  const { profile, slo } = context;
  const slots = decodeSlots(profile, slo.tpotSeconds, lengths);
  return new SplitModel(
    profile.flipSeconds,
    pool,
    prefillService(profile, lengths),
    slots,
    lengths,
    prefillDemand,
    decodeDemand,
    basePrefillDemand,
    baseDecodeDemand,
    (p) => prefillPoolRate(profile, p, slo.ttftSeconds, slo.attainment, lengths, linkBytesPerSecond),
    (d) => decodePoolRate(profile, d, slots, slo.attainment, lengths),
  );
}

/**
 * Headroom of every split under one forecast, memoised: capacities are
 * bisections, and the walk and the correction ask for the same splits.
 */
export class SplitModel {
  private readonly prefillRates = new Map<number, number>();
  private readonly decodeRates = new Map<number, number>();

  constructor(
    readonly flipSeconds: number,
    readonly pool: number,
    readonly service: PrefillService,
    readonly slots: DecodeSlots,
    readonly lengths: LengthMoments,
    private readonly prefillDemand: number,
    private readonly decodeDemand: number,
    /** Prefill demand without the burst factor: what the floor of the prefill side must carry. */
    private readonly basePrefillDemand: number,
    /** Decode demand the floor of the decode side must carry. */
    private readonly baseDecodeDemand: number,
    private readonly prefillRateOf: (instances: number) => number,
    private readonly decodeRateOf: (instances: number) => number,
  ) {}

  private others: readonly SplitModel[] = [];

  /** Other loads the split must also carry: every headroom becomes the worst over this model and them. */
  alsoCarry(models: readonly SplitModel[]): void {
    this.others = models;
  }

  /** Multiple of the prefill demand `p` prefill instances carry within SLO. */
  prefillHeadroom(p: number): number {
    let h = ratio(memo(this.prefillRates, p, this.prefillRateOf), this.prefillDemand);
    for (const m of this.others) h = Math.min(h, m.prefillHeadroom(p));
    return h;
  }

  decodeHeadroom(d: number): number {
    let h = ratio(memo(this.decodeRates, d, this.decodeRateOf), this.decodeDemand);
    for (const m of this.others) h = Math.min(h, m.decodeHeadroom(d));
    return h;
  }

  /** Does `p` carry the prefill demand without the burst factor? */
  prefillCarriesBase(p: number): boolean {
    return memo(this.prefillRates, p, this.prefillRateOf) >= this.basePrefillDemand && this.others.every((m) => m.prefillCarriesBase(p));
  }

  /** The range of prefill counts that leave each phase its own demand (phaseFloors). */
  /** Does `d` carry the decode demand the floor is sized for? */
  decodeCarriesBase(d: number): boolean {
    return memo(this.decodeRates, d, this.decodeRateOf) >= this.baseDecodeDemand && this.others.every((m) => m.decodeCarriesBase(d));
  }

  floors(): SplitBounds {
    return phaseFloors(this.pool, (p) => this.prefillCarriesBase(p), (d) => this.decodeCarriesBase(d));
  }

  /** Largest multiple of the demand the split (p, pool − p) carries within both SLOs. */
  headroom(p: number): number {
    return Math.min(this.prefillHeadroom(p), this.decodeHeadroom(this.pool - p));
  }

  /**
   * The split with the most headroom. Prefill headroom rises with p and
   * decode headroom falls, so the best split is where they cross: binary
   * search for the first p whose prefill side is at least its decode side,
   * then the better of it and its left neighbour (ties to the one nearer
   * the current split). O(log pool) capacity evaluations.
   */
  bestPrefill(currentPrefill: number): number {
    return bestSplit(this.pool, (p) => this.prefillHeadroom(p), (d) => this.decodeHeadroom(d), currentPrefill, this.floors());
  }

  /**
   * Is one flip from `p` to `next` worth it? The split's pressure is
   * 1 / headroom (sized demand ÷ capacity within SLO, per the tighter
   * phase); its value over time is the load-weighted pressure, mean rate ×
   * seconds × pressure. The flip lowers pressure over the rest of the
   * horizon once it completes; while the donor drains and switches
   * (`drain` + profile.flipSeconds) the donor role has one instance less and
   * the other has not gained it yet, which raises pressure: that is its
   * cost. Pressure is not capped at 1 (a split "carrying" the demand):
   * the model sizes for Poisson arrivals, and real traffic bursts within
   * an interval, so headroom above 1 still buys attainment.
   */
  step(p: number, next: number, drain: number, horizonSeconds: number, meanRate: number, hysteresis: number): StepEconomics {
    const flipSeconds = drain + this.flipSeconds;
    const before = this.headroom(p);
    const after = this.headroom(next);
    const during = Math.min(this.prefillHeadroom(Math.min(p, next)), this.decodeHeadroom(this.pool - Math.max(p, next)));
    const gainRequests = meanRate * Math.max(0, horizonSeconds - flipSeconds) * (pressure(before) - pressure(after));
    const costRequests = meanRate * Math.min(flipSeconds, horizonSeconds) * (pressure(during) - pressure(before));
    const economics = { gainRequests, costRequests, flipSeconds };
    if (!(after > before * (1 + hysteresis))) return { verdict: 'hold-hysteresis', ...economics };
    if (!(gainRequests > costRequests)) return { verdict: 'hold-cost', ...economics };
    return { verdict: 'take', ...economics };
  }
}

/**
 * The split with the most headroom min(prefill(p), decode(pool − p)), given
 * a rising prefill side and a falling decode side (each phase's capacity
 * grows with its instances): binary search for the first p whose prefill
 * side is at least its decode side, then the better of it and its left
 * neighbour (ties to the one nearer the current split). O(log pool)
 * capacity evaluations. Shared with the oracle, whose sides are the worst
 * over its lookahead (a minimum of monotone functions is monotone).
 */
export function bestSplit(
  pool: number,
  prefillHeadroom: (p: number) => number,
  decodeHeadroom: (d: number) => number,
  currentPrefill: number,
  bounds?: SplitBounds,
): number {
  const best = unconstrainedBestSplit(pool, prefillHeadroom, decodeHeadroom, currentPrefill);
  // headroom(p) is unimodal (a rising side and a falling side), so the best split within bounds is the clamped optimum.
  return bounds ? Math.min(bounds.maxPrefill, Math.max(bounds.minPrefill, best)) : best;
}

/** Prefill counts a plan may choose: [minPrefill, maxPrefill]. */
export interface SplitBounds {
  minPrefill: number;
  maxPrefill: number;
}

/**
 * The floors that keep a wrong burst factor from starving a phase
 * (docs/policies/pdpilot.md, "Phase floors"). The burst factor κ is an
 * empirical correction of uncertain size that inflates only the prefill
 * demand; the split search balances the two sides, so a κ that is too large
 * takes decode instances until decode is as short as prefill looks. A
 * decode shortage is the worse failure: requests wait for KV in FIFO order,
 * prefill memory fills behind them and every first token stalls (the
 * 16-GPU collapse). So the plan keeps at least the fewest decode instances
 * that carry the decode demand, and at least the fewest prefill instances
 * that carry the prefill demand *without* κ; κ only distributes what is
 * left. When the two floors overlap (the pool cannot carry the demand),
 * there are no bounds and the search balances the shortfall as before.
 */
export function phaseFloors(pool: number, prefillCarries: (p: number) => boolean, decodeCarries: (d: number) => boolean): SplitBounds {
  const lo = MIN_INSTANCES_PER_ROLE;
  const hi = pool - MIN_INSTANCES_PER_ROLE;
  let minPrefill = hi + 1;
  for (let p = lo; p <= hi; p++) {
    if (prefillCarries(p)) {
      minPrefill = p;
      break;
    }
  }
  let minDecode = hi + 1;
  for (let d = lo; d <= hi; d++) {
    if (decodeCarries(d)) {
      minDecode = d;
      break;
    }
  }
  const maxPrefill = pool - minDecode;
  if (minPrefill > maxPrefill) return { minPrefill: lo, maxPrefill: hi };
  return { minPrefill, maxPrefill };
}

function unconstrainedBestSplit(pool: number, prefillHeadroom: (p: number) => number, decodeHeadroom: (d: number) => number, currentPrefill: number): number {
  const headroom = (p: number) => Math.min(prefillHeadroom(p), decodeHeadroom(pool - p));
  let lo = MIN_INSTANCES_PER_ROLE;
  let hi = pool - MIN_INSTANCES_PER_ROLE;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (prefillHeadroom(mid) >= decodeHeadroom(pool - mid)) hi = mid;
    else lo = mid + 1;
  }
  const candidates = lo > MIN_INSTANCES_PER_ROLE ? [lo - 1, lo] : [lo];
  let best = candidates[0] as number;
  for (const p of candidates) {
    const h = headroom(p);
    const b = headroom(best);
    if (h > b || (h === b && Math.abs(p - currentPrefill) < Math.abs(best - currentPrefill))) best = p;
  }
  // Equal headroom on a plateau (e.g. both sides unbounded): stay put when the current split is as good.
  const inPool = currentPrefill >= MIN_INSTANCES_PER_ROLE && currentPrefill <= pool - MIN_INSTANCES_PER_ROLE;
  return inPool && headroom(currentPrefill) >= headroom(best) ? currentPrefill : best;
}

/** Mean KV usage (0–1) of the decode workers; 0 when there are none. */
function meanDecodeKvUsage(workers: readonly WorkerSnapshot[]): number {
  const decodeWorkers = workers.filter((w) => w.role === 'decode');
  return decodeWorkers.length === 0 ? 0 : decodeWorkers.reduce((s, w) => s + w.kvUsage, 0) / decodeWorkers.length;
}

/**
 * What the last interval showed of each phase, as the reactive correction
 * and the hold-within-error guard read it: the observed TTFT and TPOT p90
 * (undefined when no request finished), the decode KV usage, and how long
 * the queued prompts take at least to clear on the ready prefill instances.
 */
function observePhases(
  context: PolicyContext,
  workers: readonly WorkerSnapshot[],
  prefillServiceMeanSeconds: number,
  queuedPrefill: number,
): { ttftP90: number | undefined; tpotP90: number | undefined; kvUsage: number; backlogSeconds: number } {
  const readyPrefill = workers.filter((w) => w.role === 'prefill' && w.status === 'ready').length;
  return {
    ttftP90: observedMean(context.snapshot, 'prefill', 'ttftP90Seconds'),
    tpotP90: observedMean(context.snapshot, 'decode', 'tpotP90Seconds'),
    kvUsage: meanDecodeKvUsage(workers),
    backlogSeconds: readyPrefill === 0 ? Number.POSITIVE_INFINITY : (queuedPrefill * prefillServiceMeanSeconds) / readyPrefill,
  };
}

/** z of the 90th percentile of a normal: the observed TTFT figure is a p90. (Cantelli's distribution-free k = 3 on S was tried: it under-corrects the bursty code trace, docs/policies/pdpilot.md.) */
const Z90 = 1.2816;
/** φ(Z90): the standard normal density at its 90th percentile. */
const NORMAL_DENSITY_AT_P90 = Math.exp(-(Z90 * Z90) / 2) / Math.sqrt(2 * Math.PI);
/** Weight of the newest interval in the burst factor; the forecasters' default smoothing weight. */
const BURST_ALPHA = 0.5;
/** Per-interval burst evidences whose spread measures how uncertain κ is (8 min at 30 s: twice `recentIntervals`' default). */
const BURST_SPREAD_WINDOW = 16;

/**
 * Burst factor κ ≥ 1 of the prefill arrivals (docs/policies/pdpilot.md,
 * "Burst factor"). The model assumes Poisson arrivals within an interval;
 * bursty traffic queues far more. From the last interval we know the
 * arrival rate λ, the lengths and the TTFT p90 the fleet saw, so we find
 * the rate λ_eff at which the model's p90, S₉₀ + W₉₀(λ_eff) + transfer on
 * the ready prefill instances (S₉₀: prefillServiceP90Seconds, log-normal
 * prompt lengths), equals the observation; κ = λ_eff / λ, never below 1. A late first token is
 * blamed on prefill only when decode showed no pressure (requests waiting
 * for KV, or KV ≥ kvPressure) at this observation **or the previous one**:
 * the TTFT p90 covers the whole interval, and a KV stall that cleared
 * before the tick still delayed its first tokens. κ is smoothed with weight
 * BURST_ALPHA and held when there is no evidence.
 */
export class BurstFactor {
  value = 1;
  private decodePressureBefore = false;
  /** The last BURST_SPREAD_WINDOW per-interval evidences, oldest first. */
  private readonly recent: number[] = [];

  /** Relative spread (standard deviation ÷ mean) of the recent per-interval evidence; 0 with fewer than two. */
  spread(): number {
    const n = this.recent.length;
    if (n < 2) return 0;
    const average = mean(this.recent);
    const variance = this.recent.reduce((a, b) => a + (b - average) ** 2, 0) / (n - 1);
    return Math.sqrt(variance) / average;
  }

  update(context: PolicyContext, workers: readonly WorkerSnapshot[], queuedDecode: number, kvPressure: number, linkBytesPerSecond: number): number {
    const decodePressure = queuedDecode > 0 || meanDecodeKvUsage(workers) >= kvPressure;
    const blamed = decodePressure || this.decodePressureBefore;
    this.decodePressureBefore = decodePressure;
    const factor = blamed ? undefined : burstEvidence(context, workers, linkBytesPerSecond);
    if (factor !== undefined) {
      this.recent.push(factor);
      if (this.recent.length > BURST_SPREAD_WINDOW) this.recent.shift();
    }
    if (factor !== undefined) this.value = (1 - BURST_ALPHA) * this.value + BURST_ALPHA * factor;
    return this.value;
  }
}

/** κ implied by the last interval alone (see BurstFactor); undefined when there is no evidence. */
export function burstEvidence(context: PolicyContext, workers: readonly WorkerSnapshot[], linkBytesPerSecond: number): number | undefined {
  const last = context.history[context.history.length - 1];
  const observedP90 = observedMean(context.snapshot, 'prefill', 'ttftP90Seconds');
  const instances = workers.filter((w) => w.role === 'prefill' && w.status === 'ready').length;
  if (!last || !(last.requests > 0) || observedP90 === undefined || instances === 0) return undefined;
  const rate = last.requests / last.intervalSeconds;
  const lengths = { inputMean: last.inputMean, inputSecondMoment: Math.max(last.inputSecondMoment, last.inputMean ** 2), outputMean: last.outputMean };
  const service = prefillService(context.profile, lengths);
  if (!(service.meanSeconds > 0)) return undefined;
  const fixed = prefillServiceP90Seconds(context.profile, lengths) + kvTransferSeconds(context.profile, lengths.inputMean, linkBytesPerSecond);
  const modelP90 = (r: number) => fixed + mgcWaitQuantileSeconds(r, instances, service, 0.9);
  // The observed p90 is an estimate from n requests: its standard error is √(0.9·0.1/n) / f(p90), f the density
  // there, ≈ 1.71·σ_S/√n for a normal spread σ_S (docs/policies/pdpilot.md, "Burst factor"). The evidence is
  // taken at the one-sided 90 % lower confidence bound, so an excess the sample cannot tell from the model's
  // own p90 reads as no burst: at light load on a large pool the modelled p90 is flat in the rate, and a
  // 0.01 s excess inverted to κ ≈ 17 (code trace, 16 GPUs).
  const standardError = (Math.sqrt(0.9 * 0.1) / NORMAL_DENSITY_AT_P90) * service.meanSeconds * Math.sqrt(service.scv) / Math.sqrt(last.requests);
  const observed = observedP90 - Z90 * standardError;
  if (!(observed > modelP90(rate))) return 1;
  const stable = (instances / service.meanSeconds) * (1 - 1e-9);
  if (!(stable > rate)) return 1;
  const evidence = bisectLargest((r) => modelP90(r) <= observed, rate, stable, 1e-3) / rate;
  // Conditioning: below the knee — the load at which the model starts to queue at the p90 (P(wait) > 10 %) —
  // the modelled p90 is flat in the rate, so any excess inverts to the knee itself. The evidence then says only
  // "the pool behaved as if at its knee"; it is weighted by how far toward the knee the interval's load was.
  const knee = bisectLargest((r) => mgcWaitQuantileSeconds(r, instances, service, 0.9) === 0, 0, stable, 1e-3);
  const weight = Math.min(1, rate / Math.max(knee, Number.MIN_VALUE));
  return 1 + (evidence - 1) * weight;
}

/**
 * The 90th percentile of one prompt's prefill time, with prompt lengths
 * taken as log-normal with the observed E[l] and E[l²] (σ² = ln(E[l²]/E[l]²)):
 * prompt lengths are right-skewed, and the normal approximation
 * E[S] + 1.28·σ_S under-states the p90 of a heavy-tailed mix, so that a
 * quiet interval's long prompts read as queueing (a "burst") — at light
 * load on a large pool, where the modelled wait is flat in the rate, a
 * 0.1 s shortfall inverts to a κ of 10–50 (docs/policies/pdpilot.md).
 */
export function prefillServiceP90Seconds(profile: Profile, lengths: LengthMoments): number {
  const mean = lengths.inputMean;
  if (!(mean > 0)) return meanPrefillSeconds(profile, 0, 0);
  const sigma2 = Math.log(Math.max(1, lengths.inputSecondMoment / (mean * mean)));
  const l90 = Math.exp(Math.log(mean) - sigma2 / 2 + Z90 * Math.sqrt(sigma2));
  return meanPrefillSeconds(profile, l90, l90 * l90);
}

/**
 * How long a worker takes to drain. A prefill instance finishes its queue
 * one prompt after another (batching only shortens it); a decode instance
 * finishes its batch in about OSL steps, one batch round per `batch`
 * requests it holds.
 */
function drainSeconds(worker: WorkerSnapshot, model: SplitModel): number {
  const held = worker.queuedRequests + worker.runningRequests;
  if (held === 0) return 0;
  if (worker.role === 'prefill') return held * model.service.meanSeconds;
  const rounds = Math.ceil(held / Math.max(1, model.slots.batch));
  return rounds * Math.max(1, model.lengths.outputMean) * model.slots.stepSeconds;
}

/**
 * The split the fleet is moving to: a draining worker is mid-flip (the
 * worker protocol drains only to switch role), so it already counts for
 * the role it goes to — as the controller counts its own pending flips, so
 * that a target repeated while a drain lasts starts no second flip.
 */
function effectiveSplit(workers: readonly WorkerSnapshot[]): RoleTarget {
  let prefill = 0;
  for (const w of workers) if ((w.status === 'draining' ? otherRole(w.role) : w.role) === 'prefill') prefill++;
  return { prefill, decode: workers.length - prefill };
}

function sumOver(workers: readonly WorkerSnapshot[], role: Role, figure: (w: WorkerSnapshot) => number): number {
  let sum = 0;
  for (const w of workers) if (w.role === role) sum += figure(w);
  return sum;
}

function flips(donors: readonly WorkerSnapshot[], from: Role, reason: DecisionReason): RoleChange[] {
  return donors.map((w) => ({ workerId: w.id, from, to: otherRole(from), reason }));
}

function memo(cache: Map<number, number>, key: number, compute: (key: number) => number): number {
  let value = cache.get(key);
  if (value === undefined) {
    value = compute(key);
    cache.set(key, value);
  }
  return value;
}

/** demand ÷ capacity within SLO; Infinity for a split that cannot meet the SLO at all. */
function pressure(headroom: number): number {
  return headroom > 0 ? 1 / headroom : Number.POSITIVE_INFINITY;
}

/** capacity ÷ demand, with no demand meaning unbounded headroom (never NaN). */
function ratio(capacity: number, demand: number): number {
  if (!(demand > 0)) return Number.POSITIVE_INFINITY;
  return capacity / demand;
}

function fmt(value: number): string {
  return Number.isFinite(value) ? value.toFixed(2) : '∞';
}

function holdMessage(code: PdpilotReason, current: RoleTarget, best: number, last: StepEconomics | undefined): string {
  const split = `${current.prefill}P/${current.decode}D`;
  switch (code) {
    case 'hold-at-plan':
      return `${split} is the split with the most headroom`;
    case 'hold-hysteresis':
      return `moving toward ${best}P raises headroom by less than the hysteresis margin`;
    default:
      return `moving toward ${best}P gains ${fmt(last?.gainRequests ?? 0)} requests within SLO, less than the ${fmt(last?.costRequests ?? 0)} the flip costs`;
  }
}
