import type { RoleChange, RoleTarget } from '../domain/decision.js';
import type { FleetSnapshot, WorkerSnapshot } from '../domain/fleet.js';
import type { LoadSample } from '../domain/load.js';
import type { Role, WorkerId } from '../domain/role.js';
import { otherRole } from '../domain/role.js';
import type { Slo } from '../domain/slo.js';
import type { Forecaster } from '../forecast/forecaster.js';
import type { Clock } from '../lib/clock.js';
import { RingBuffer } from '../lib/ring-buffer.js';
import type { Profile } from '../perf/profile.js';
import type { Policy, PolicyDecision } from '../policy/policy.js';
import { byFlipPreference } from '../policy/split.js';
import type { Decision, DecisionInputs, DecisionRecorder, HeldChange } from './decision.js';
import type { ActuationResult, Actuator, FleetObserver, Observation } from './ports.js';
import { DEFAULT_SAFETY, safetyConfigFaults, type SafetyConfig, type SafetyRule } from './safety.js';

export interface ControllerDeps {
  clock: Clock;
  observer: FleetObserver;
  actuator: Actuator;
  policy: Policy;
  forecaster: Forecaster;
  profile: Profile;
  slo: Slo;
  /** Seconds between reconciles; also the forecast horizon. */
  intervalSeconds: number;
  safety?: Partial<SafetyConfig>;
  recorder?: DecisionRecorder;
  /** Intervals of load history handed to the policy (default 360: six hours at 60 s). */
  historyLength?: number;
  /** Start in advisory mode: decide and record, never act. */
  advisory?: boolean;
}

/** A flip this controller started and the fleet has not finished. */
interface PendingFlip {
  from: Role;
  to: Role;
  startedAtSeconds: number;
}

/**
 * The control loop of DESIGN.md, one step at a time: observe → feed the
 * forecaster → forecast → policy → safety rules → actuate → record. The
 * caller (the simulator's event loop, or the daemon's scheduler) calls
 * `reconcileOnce` at `decision.nextAtSeconds`; the controller never sleeps
 * or reads the wall clock, so the same code runs on a virtual clock.
 *
 * Targets are absolute and the loop is level-triggered (Karpenter, HPA):
 * flips already in flight count toward their new role, so a target repeated
 * while a drain takes several intervals does not start more flips.
 *
 * Seams for the live controller (issue 8): `setPaused`, `setAdvisory`;
 * manual role overrides fit as a Policy wrapper that pins workers and
 * removes them from the candidates (the controller honours a policy's own
 * choice of workers first).
 */
export class Controller {
  private readonly safety: SafetyConfig;
  private readonly history: RingBuffer<LoadSample>;
  private readonly pending = new Map<WorkerId, PendingFlip>();
  private readonly lastFlipAt = new Map<WorkerId, number>();
  /** Flips started within the cooldown, for the reversal rule. */
  private recentFlips: { atSeconds: number; from: Role; to: Role }[] = [];
  /** Prefill targets recommended within the stabilisation window. */
  private recommendations: { atSeconds: number; prefill: number }[] = [];
  private paused = false;
  private advisory: boolean;
  /** Workers a manual override pins to their role: never candidates, whatever the policy proposes. */
  private pinned: ReadonlySet<WorkerId> = new Set();

  constructor(private readonly deps: ControllerDeps) {
    this.safety = { ...DEFAULT_SAFETY, ...deps.safety };
    const faults = safetyConfigFaults(this.safety);
    if (faults.length > 0) throw new RangeError(`invalid safety config: ${faults.join('; ')}`);
    if (!(deps.intervalSeconds > 0)) throw new RangeError(`intervalSeconds must be positive, got ${deps.intervalSeconds}`);
    this.history = new RingBuffer(deps.historyLength ?? 360);
    this.advisory = deps.advisory ?? false;
  }

  get safetyConfig(): Readonly<SafetyConfig> {
    return this.safety;
  }

  /** Paused: observe and keep the forecaster warm, but make no decision. */
  setPaused(paused: boolean): void {
    this.paused = paused;
  }

  /** Advisory: decide and record, never act. */
  setAdvisory(advisory: boolean): void {
    this.advisory = advisory;
  }

  /**
   * Pins workers (manual role overrides): the controller neither moves them
   * nor picks them as candidates; the override's owner puts them in their
   * role. They still count toward the split in the role they are in.
   */
  setPinned(workerIds: Iterable<WorkerId>): void {
    this.pinned = new Set(workerIds);
  }

  /**
   * Feeds past intervals (oldest first) to the forecaster and the policy's
   * history without deciding: a restarted daemon starts warm instead of
   * from an empty history. Samples must be on this controller's clock.
   */
  warm(samples: readonly LoadSample[]): void {
    for (const sample of samples) {
      this.history.push(sample);
      this.deps.forecaster.observe(sample);
    }
  }

  async reconcileOnce(): Promise<Decision> {
    const now = this.deps.clock.nowSeconds();
    let observation: Observation;
    try {
      observation = await this.deps.observer.observe();
    } catch (error) {
      return this.finish(this.noDecision(now, 'not-synced', 'observe-failed', `observing the fleet: ${(error as Error).message}`));
    }
    // The interval's load is measured by the router, not by scraping workers,
    // so it is learnt from even when the worker view is not usable.
    this.history.push(observation.load);
    this.deps.forecaster.observe(observation.load);

    const { snapshot } = observation;
    if (observation.synced === false) {
      return this.finish(this.noDecision(now, 'not-synced', 'not-synced', 'the fleet view is not synced; doing nothing'));
    }
    const ageSeconds = now - snapshot.atSeconds;
    if (ageSeconds > this.safety.maxSnapshotAgeSeconds) {
      return this.finish(
        this.noDecision(now, 'not-synced', 'snapshot-too-old', `the snapshot is ${ageSeconds.toFixed(1)} s old (limit ${this.safety.maxSnapshotAgeSeconds} s); doing nothing`, { ageSeconds }),
      );
    }
    this.settlePending(snapshot);
    const inputs = this.inputsOf(snapshot, observation.load);
    if (this.paused) {
      return this.finish({ ...this.noDecision(now, 'paused', 'paused', 'controller paused; observed only'), inputs });
    }

    const forecast = this.deps.forecaster.forecast(this.deps.intervalSeconds);
    let policyDecision: PolicyDecision;
    try {
      policyDecision = this.deps.policy.decide({
        nowSeconds: now,
        intervalSeconds: this.deps.intervalSeconds,
        snapshot,
        history: this.history.toArray(),
        forecast,
        ...(observation.latency ? { latency: observation.latency } : {}),
        ...(observation.recentRequests ? { recentRequests: observation.recentRequests } : {}),
        profile: this.deps.profile,
        slo: this.deps.slo,
        ...(observation.future ? { future: observation.future } : {}),
      });
    } catch (error) {
      throw new Error(`deciding with policy ${this.deps.policy.name}: ${(error as Error).message}`, { cause: error });
    }

    const plan = this.plan(snapshot, policyDecision, now, inputs);
    let applied: ActuationResult[] = [];
    const held = plan.held;
    if (plan.selected.length > 0 && this.advisory) {
      for (const change of plan.selected) held.push({ change, rule: 'advisory', message: 'advisory mode: not acting' });
    } else if (plan.selected.length > 0) {
      applied = await this.actuate(plan.selected, now);
    }
    const status = this.advisory && plan.selected.length > 0 ? 'advisory' : applied.length > 0 ? 'acted' : plan.wanted === 0 ? 'steady' : 'held';
    return this.finish({
      atSeconds: now,
      status,
      policy: this.deps.policy.name,
      inputs,
      forecast,
      target: policyDecision.target,
      effectiveTarget: plan.effectiveTarget,
      proposed: policyDecision.changes,
      applied,
      held,
      reason: policyDecision.reason,
      nextAtSeconds: now + this.deps.intervalSeconds,
    });
  }

  /**
   * Applies the safety rules to the policy's target and picks the workers.
   * Order matters: the split-level limits (stabilisation window, tolerance
   * band, role minimums) decide how many flips are allowed at all; the
   * worker-level rules (stale, busy, cooldown) then pass over a worker to
   * the next candidate; the reversal rule and the per-interval budget stop
   * the rest.
   */
  private plan(snapshot: FleetSnapshot, decision: PolicyDecision, now: number, inputs: DecisionInputs) {
    const current: RoleTarget = { prefill: inputs.prefill, decode: inputs.decode };
    const pool = current.prefill + current.decode;
    const wanted = decision.target.prefill - current.prefill;
    const limits: SafetyRule[] = [];

    let allowedPrefill = this.stabilise(decision.target.prefill, current.prefill, now);
    pushN(limits, 'stabilisation-window', Math.abs(decision.target.prefill - allowedPrefill));
    if (allowedPrefill !== current.prefill && Math.abs(allowedPrefill - current.prefill) <= this.safety.toleranceInstances) {
      pushN(limits, 'tolerance-band', Math.abs(allowedPrefill - current.prefill));
      allowedPrefill = current.prefill;
    }
    const lowest = Math.min(current.prefill, this.safety.minPrefillInstances);
    const highest = Math.max(current.prefill, pool - this.safety.minDecodeInstances);
    const clamped = Math.min(highest, Math.max(lowest, allowedPrefill));
    pushN(limits, 'min-instances', Math.abs(allowedPrefill - clamped));
    allowedPrefill = clamped;
    const effectiveTarget = { prefill: allowedPrefill, decode: pool - allowedPrefill };

    const held: HeldChange[] = [];
    const selected: RoleChange[] = [];
    if (wanted === 0) return { wanted, selected, held, effectiveTarget };
    const from: Role = wanted > 0 ? 'decode' : 'prefill';
    const to = otherRole(from);
    const allowed = Math.abs(allowedPrefill - current.prefill);
    const reversal = this.recentFlips.find((f) => f.from === to && now - f.atSeconds < this.safety.cooldownSeconds);

    let outstanding = Math.abs(wanted);
    for (const change of this.candidates(snapshot, decision, from, to)) {
      if (outstanding === 0) break;
      const worker = snapshot.workers.find((w) => w.id === change.workerId);
      const workerRule = worker ? this.workerRule(worker, now) : undefined;
      if (workerRule) {
        held.push({ change, rule: workerRule.rule, message: workerRule.message });
        continue;
      }
      outstanding--;
      if (selected.length >= allowed) {
        const rule = limits.shift() ?? 'min-instances';
        held.push({ change, rule, message: limitMessage(rule, effectiveTarget) });
      } else if (reversal) {
        held.push({ change, rule: 'reversal-within-cooldown', message: `would undo the ${reversal.from}→${reversal.to} flip made ${(now - reversal.atSeconds).toFixed(0)} s ago (cooldown ${this.safety.cooldownSeconds} s)` });
      } else if (selected.length >= this.safety.maxFlipsPerInterval) {
        held.push({ change, rule: 'max-flips-per-interval', message: `${this.safety.maxFlipsPerInterval} flip(s) per interval already started` });
      } else {
        selected.push(change);
      }
    }
    return { wanted, selected, held, effectiveTarget };
  }

  /** The policy's own picks first (in its order), then every other worker of the role by in-flight work, ties by id. */
  private candidates(snapshot: FleetSnapshot, decision: PolicyDecision, from: Role, to: Role): RoleChange[] {
    const proposed = decision.changes.filter((c) => c.from === from && c.to === to);
    const named = new Set(proposed.map((c) => c.workerId));
    const rest = snapshot.workers
      .filter((w) => this.effectiveRole(w) === from && !named.has(w.id))
      .sort(byFlipPreference)
      .map((w): RoleChange => ({ workerId: w.id, from, to, reason: decision.reason }));
    return [...proposed.filter((c) => snapshot.workers.some((w) => w.id === c.workerId && this.effectiveRole(w) === from)), ...rest];
  }

  private workerRule(worker: WorkerSnapshot, now: number): { rule: SafetyRule; message: string } | undefined {
    if (worker.status === 'stale') return { rule: 'stale-worker', message: `${worker.id} could not be scraped; not acting on it` };
    if (this.pinned.has(worker.id)) return { rule: 'manual-override', message: `${worker.id} is pinned to ${worker.role} by a manual override` };
    if (this.pending.has(worker.id) || worker.status !== 'ready') {
      return { rule: 'worker-busy', message: `${worker.id} is ${this.pending.has(worker.id) ? 'mid-flip' : worker.status}; one flip at a time per worker` };
    }
    const last = Math.max(this.lastFlipAt.get(worker.id) ?? -Infinity, worker.lastFlipAtSeconds ?? -Infinity);
    if (now - last < this.safety.cooldownSeconds) {
      return { rule: 'cooldown', message: `${worker.id} flipped ${(now - last).toFixed(0)} s ago (cooldown ${this.safety.cooldownSeconds} s)` };
    }
    return undefined;
  }

  /**
   * Two-sided stabilisation window (HPA's scale-down rule applied to both
   * directions): among the recommendations of the window, act toward the
   * one closest to the current split; if they lie on both sides of it, stay.
   */
  private stabilise(recommended: number, current: number, now: number): number {
    const windowSeconds = this.safety.stabilisationWindowSeconds;
    if (windowSeconds <= 0) return recommended;
    this.recommendations = this.recommendations.filter((r) => now - r.atSeconds < windowSeconds);
    this.recommendations.push({ atSeconds: now, prefill: recommended });
    const values = this.recommendations.map((r) => r.prefill);
    const lowest = Math.min(...values);
    const highest = Math.max(...values);
    if (lowest > current) return lowest;
    if (highest < current) return highest;
    return current;
  }

  private async actuate(changes: RoleChange[], now: number): Promise<ActuationResult[]> {
    let results: ActuationResult[];
    try {
      results = await this.deps.actuator.apply(changes);
    } catch (error) {
      results = changes.map((change) => ({ change, outcome: 'failed', message: `actuating: ${(error as Error).message}` }));
    }
    for (const { change, outcome } of results) {
      if (outcome !== 'started' && outcome !== 'done') continue;
      this.lastFlipAt.set(change.workerId, now);
      this.recentFlips.push({ atSeconds: now, from: change.from, to: change.to });
      if (outcome === 'started') this.pending.set(change.workerId, { from: change.from, to: change.to, startedAtSeconds: now });
    }
    this.recentFlips = this.recentFlips.filter((f) => now - f.atSeconds < this.safety.cooldownSeconds);
    return results;
  }

  /**
   * Forgets flips the fleet has finished (the worker reports its new role and
   * is ready) or abandoned (it is ready in its old role again, or gone).
   * A stale worker keeps its pending flip: we cannot see how it went.
   */
  private settlePending(snapshot: FleetSnapshot): void {
    for (const [id, flip] of this.pending) {
      const worker = snapshot.workers.find((w) => w.id === id);
      if (!worker) {
        this.pending.delete(id);
      } else if (worker.status === 'ready') {
        this.pending.delete(id);
        // The cooldown runs from when the fleet says the flip finished, when it says so.
        if (worker.role === flip.to && worker.lastFlipAtSeconds !== undefined) {
          this.lastFlipAt.set(id, Math.max(flip.startedAtSeconds, worker.lastFlipAtSeconds));
        }
      }
    }
  }

  /** A worker mid-flip counts toward the role it is moving to. */
  private effectiveRole(worker: WorkerSnapshot): Role {
    return this.pending.get(worker.id)?.to ?? worker.role;
  }

  private inputsOf(snapshot: FleetSnapshot, load: LoadSample): DecisionInputs {
    let prefill = 0;
    let decode = 0;
    let stale = 0;
    let busy = 0;
    for (const w of snapshot.workers) {
      if (w.status === 'stale') {
        stale++;
        continue;
      }
      if (w.status !== 'ready') busy++;
      if (this.effectiveRole(w) === 'prefill') prefill++;
      else decode++;
    }
    return { snapshotAtSeconds: snapshot.atSeconds, workers: snapshot.workers.length, prefill, decode, stale, busy, pendingFlips: this.pending.size, load };
  }

  private noDecision(now: number, status: 'not-synced' | 'paused', code: string, message: string, detail?: Record<string, number>): Decision {
    return {
      atSeconds: now,
      status,
      policy: this.deps.policy.name,
      proposed: [],
      applied: [],
      held: [],
      reason: { code, message, ...(detail ? { detail } : {}) },
      nextAtSeconds: now + this.deps.intervalSeconds,
    };
  }

  private async finish(decision: Decision): Promise<Decision> {
    await this.deps.recorder?.record(decision);
    return decision;
  }
}

function pushN<T>(list: T[], value: T, count: number): void {
  for (let i = 0; i < count; i++) list.push(value);
}

function limitMessage(rule: SafetyRule, target: RoleTarget): string {
  switch (rule) {
    case 'stabilisation-window':
      return `a recommendation in the stabilisation window is closer to the current split; acting toward ${target.prefill}P/${target.decode}D`;
    case 'tolerance-band':
      return 'the target is within the tolerance band of the current split';
    default:
      return `would leave a role below its minimum; acting toward ${target.prefill}P/${target.decode}D`;
  }
}
