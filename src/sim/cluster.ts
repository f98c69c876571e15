import type { RoleChange, RoleTarget } from '../domain/decision.js';
import type { FleetSnapshot, WorkerSnapshot } from '../domain/fleet.js';
import { idleSample, type LoadSample } from '../domain/load.js';
import type { TraceRequest } from '../domain/request.js';
import type { Role, WorkerStatus } from '../domain/role.js';
import type { ActuationResult, Actuator, FleetObserver, Observation } from '../control/ports.js';
import { percentile } from '../lib/stats.js';
import type { Profile } from '../perf/profile.js';
import {
  createDecodeScheduler,
  createPrefillScheduler,
  prefillLocally,
  type DecodeView,
  type PrefillView,
  type Scheduler,
} from '../router/scheduler/index.js';
import { CompatDecodeInstance } from './compat-decode-instance.js';
import { DecodeInstance } from './decode-instance.js';
import { EventQueue } from './event-queue.js';
import {
  EV_ARRIVAL,
  EV_CONTROL_TICK,
  EV_PREFILL_DONE,
  EV_START_DONE,
  EV_STEP_DONE,
  EV_SWITCH_DONE,
  EV_TRANSFER_DONE,
  type SimHost,
  type SimInstance,
} from './host.js';
import { IntDeque } from './int-deque.js';
import type { ResolvedSimOptions } from './options.js';
import { OutcomeRecorder } from './outcomes.js';
import { PrefillInstance } from './prefill-instance.js';
import { RequestTable } from './request-table.js';

type AnyInstance = PrefillInstance | DecodeInstance | CompatDecodeInstance;

/** One point of the P/D split over time, recorded at every control tick. */
export interface SplitPoint {
  atSeconds: number;
  prefill: number;
  decode: number;
  /** Arrivals per second over the interval that just ended. */
  arrivalsPerSecond: number;
}

/** Called at every control tick; the controller observes and actuates through the cluster's ports. */
export type ControlTick = (nowSeconds: number) => Promise<void>;

/** Ticks in a row with requests in flight but nothing left that could move them before the run is declared stuck. */
const MAX_STALLED_TICKS = 100;

/**
 * A simulated cluster: GPU slots, each running one instance, fed by a
 * streamed trace on a virtual clock, routed by the router's scheduler and
 * steered by a controller through the same ports the live fleet offers
 * (FleetObserver, Actuator). See docs/sim.md.
 *
 * A slot is a GPU. Its instance changes when it flips role: the old
 * instance drains (no new work; it finishes what it holds), then after the
 * profile's flip time a new instance of the other role starts on the slot.
 * With free flips (the oracle) the new instance starts at once and the old
 * one finishes its work alongside — the idealised upper bound.
 */
export class SimCluster implements SimHost, FleetObserver, Actuator {
  readonly events = new EventQueue();
  readonly requests = new RequestTable();
  readonly outcomes = new OutcomeRecorder();
  readonly timeline: SplitPoint[] = [];
  /** Flips started, and the GPU-seconds they cost (from drain start until the slot serves again). */
  flips = 0;
  flipCostSeconds = 0;
  /** Control rounds that acted: handed flips to the actuator or resized the pool. */
  decisions = 0;
  arrivals = 0;

  private readonly instances: AnyInstance[] = [];
  private readonly slotInstance: number[] = [];
  private readonly slotStatus: WorkerStatus[] = [];
  /** The role a slot reports: its current one, or the new one once a flip has drained it. */
  private readonly slotRole: Role[] = [];
  /** Where a draining slot is going. */
  private readonly slotNextRole: Role[] = [];
  private readonly slotAddedSeconds: number[] = [];
  private readonly slotRemovedSeconds: number[] = [];
  private readonly slotFlipStartSeconds: number[] = [];
  private readonly slotLastFlipSeconds: (number | undefined)[] = [];
  private readonly slotRemoving: boolean[] = [];

  private prefillView: PrefillView;
  private decodeView: DecodeView;
  private readonly prefillScheduler: Scheduler<PrefillView>;
  private readonly decodeScheduler: Scheduler<DecodeView>;
  private readonly waitingForPrefill = new IntDeque();
  private readonly waitingForDecode = new IntDeque();

  private iterator: Iterator<TraceRequest> | undefined;
  private arrivalsDone = false;
  private nextInput = 0;
  private nextOutput = 0;
  private lastArrivalSeconds = 0;
  private nowSeconds = 0;
  // Load of the current control interval, as moments (LoadSample).
  private intervalArrivals = 0;
  private intervalInputSum = 0;
  private intervalInputSquaredSum = 0;
  private intervalOutputSum = 0;
  private lastSample: LoadSample;
  private outcomesAtLastTick = 0;
  private stalledTicks = 0;
  private actedThisTick = false;

  constructor(
    readonly profile: Profile,
    readonly options: ResolvedSimOptions,
    /** True load of each control interval from time 0, handed to the controller only when options.revealFuture. */
    private readonly futureSamples: readonly LoadSample[] = [],
  ) {
    this.prefillView = emptyPrefillView(0);
    this.decodeView = emptyDecodeView(0);
    this.prefillScheduler = createPrefillScheduler({
      router: options.router,
      prefillMs: (options.colocated && profile.colocated?.prefillMs) || profile.prefillMs,
      tokenBudget: options.prefillTokenBudget,
    });
    this.decodeScheduler = createDecodeScheduler(options.compat ? 'fewest-requests' : 'kv-and-load');
    this.lastSample = idleSample(-options.intervalSeconds, options.intervalSeconds);
    // Elastic pools start at the smallest that serves (one of each role) and grow on demand.
    const initialSlots = options.elastic ? Math.min(options.gpus, options.colocated ? 1 : 2) : options.gpus;
    const initialPrefill = options.elastic ? (options.colocated ? 0 : 1) : options.initialPrefill;
    for (let slot = 0; slot < initialSlots; slot++) {
      this.addSlot(slot < initialPrefill ? 'prefill' : 'decode', 0, true);
    }
  }

  /** Runs the trace to completion: every request finished or dropped. */
  async run(trace: Iterable<TraceRequest>, tick: ControlTick): Promise<void> {
    this.iterator = trace[Symbol.iterator]();
    this.events.push(0, EV_CONTROL_TICK, 0);
    this.readNextArrival();
    const ev = this.events;
    while (ev.pop()) {
      const now = ev.timeSeconds;
      this.nowSeconds = now;
      const target = ev.target;
      switch (ev.kind) {
        case EV_ARRIVAL:
          this.onArrival(now);
          break;
        case EV_PREFILL_DONE:
          (this.instances[target] as PrefillInstance).onBatchDone(now);
          break;
        case EV_TRANSFER_DONE:
          (this.instances[target] as DecodeInstance).onTransferDone(now);
          break;
        case EV_STEP_DONE:
          (this.instances[target] as DecodeInstance | CompatDecodeInstance).onStepDone(now);
          break;
        case EV_CONTROL_TICK:
          await this.onTick(now, tick);
          break;
        case EV_SWITCH_DONE:
          this.onSwitchDone(target, now);
          break;
        case EV_START_DONE:
          this.onStartDone(target);
          break;
        default:
          throw new Error(`unknown event kind ${ev.kind}`);
      }
    }
  }

  // ---- arrivals and routing ----

  private readNextArrival(): void {
    const next = this.iterator?.next();
    if (!next || next.done) {
      this.arrivalsDone = true;
      return;
    }
    const r = next.value;
    this.nextInput = r.inputTokens;
    this.nextOutput = r.outputTokens;
    // Readers guarantee sorted arrivals; max() only absorbs float noise after scaling.
    const at = Math.max(this.lastArrivalSeconds, r.arrivalSeconds / this.options.rateScale);
    this.lastArrivalSeconds = at;
    this.events.push(at, EV_ARRIVAL, 0);
  }

  private onArrival(now: number): void {
    const input = this.nextInput;
    const output = this.nextOutput;
    this.readNextArrival();
    this.arrivals++;
    this.intervalArrivals++;
    this.intervalInputSum += input;
    this.intervalInputSquaredSum += input * input;
    this.intervalOutputSum += output;
    // A request whose KV can never fit an instance cannot be served: count it as dropped (an SLO miss).
    const capacity = this.profile.kvCapacityTokens;
    if (this.options.compat ? input > capacity : input + output > capacity) {
      this.outcomes.dropped++;
      return;
    }
    const id = this.requests.allocate(now, input, output);
    this.dispatch(id, now);
  }

  private dispatch(id: number, now: number): void {
    const request = { promptTokens: this.requests.inputTokens[id] as number };
    if (this.options.colocated) {
      if (!anyAccepting(this.prefillView)) return this.waitingForPrefill.push(id);
      const i = this.prefillScheduler.pick(this.prefillView, request, now);
      return (this.instances[this.slotInstance[i] as number] as DecodeInstance).enqueueLocal(id, now);
    }
    if (this.options.localPrefillMaxTokens > 0 && prefillLocally({ maxPromptTokens: this.options.localPrefillMaxTokens }, request.promptTokens) && anyAccepting(this.decodeView)) {
      const i = this.decodeScheduler.pick(this.decodeView, request, now);
      return (this.instances[this.slotInstance[i] as number] as DecodeInstance).enqueueLocal(id, now);
    }
    if (!anyAccepting(this.prefillView)) return this.waitingForPrefill.push(id);
    const i = this.prefillScheduler.pick(this.prefillView, request, now);
    (this.instances[this.slotInstance[i] as number] as PrefillInstance).enqueue(id, now);
  }

  prefillDone(id: number, now: number): void {
    const r = this.requests;
    if (this.options.compat) r.firstTokenSeconds[id] = now; // compat: TTFT at prefill completion
    else if ((r.outputTokens[id] as number) <= 1) {
      r.firstTokenSeconds[id] = now; // nothing to decode: the prefill's token is the whole answer
      this.complete(id, now);
      return;
    }
    this.handToDecode(id, now);
  }

  private handToDecode(id: number, now: number): void {
    if (!anyAccepting(this.decodeView)) {
      this.waitingForDecode.push(id);
      return;
    }
    const i = this.decodeScheduler.pick(this.decodeView, { promptTokens: this.requests.inputTokens[id] as number }, now);
    const instance = this.instances[this.slotInstance[i] as number] as DecodeInstance | CompatDecodeInstance;
    if (instance instanceof CompatDecodeInstance) instance.enqueue(id, now);
    else instance.enqueuePull(id, now);
  }

  kvPulled(id: number, now: number): void {
    const holder = this.requests.kvHolder[id] as number;
    if (holder < 0) return;
    this.requests.kvHolder[id] = -1;
    (this.instances[holder] as PrefillInstance).release(this.requests.inputTokens[id] as number, now);
  }

  complete(id: number, now: number): void {
    const r = this.requests;
    const arrival = r.arrivalSeconds[id] as number;
    const output = r.outputTokens[id] as number;
    const first = r.firstTokenSeconds[id] as number;
    let tpot: number;
    if (this.options.compat) tpot = (now - (r.prefillEndSeconds[id] as number)) / output;
    else tpot = output > 1 ? (now - first) / (output - 1) : 0;
    this.outcomes.record(first - arrival, tpot, now);
    r.release(id);
  }

  publish(instance: SimInstance): void {
    const slot = instance.slot;
    if (this.slotInstance[slot] !== instance.index) return;
    if (instance instanceof PrefillInstance) {
      const v = this.prefillView;
      v.queuedRequests[slot] = instance.queue.length;
      v.queuedTokens[slot] = instance.queuedTokenSum;
      v.queuedSquaredTokens[slot] = instance.queuedSquaredTokenSum;
      v.runningRequests[slot] = instance.runningRequests();
      v.busyUntilSeconds[slot] = instance.busy ? instance.busyUntilSeconds : 0;
    } else if (instance instanceof DecodeInstance && instance.colocated) {
      const v = this.prefillView;
      v.queuedRequests[slot] = instance.localQueue.length;
      v.queuedTokens[slot] = instance.localQueuedTokenSum;
      v.queuedSquaredTokens[slot] = instance.localQueuedSquaredTokenSum;
      v.runningRequests[slot] = instance.runningRequests();
      v.busyUntilSeconds[slot] = instance.busy ? instance.busyUntilSeconds : 0;
    } else {
      const v = this.decodeView;
      const d = instance as DecodeInstance | CompatDecodeInstance;
      v.loadRequests[slot] = d.loadRequests();
      v.freeKvTokens[slot] = d instanceof DecodeInstance ? d.freeKvTokens() : this.profile.kvCapacityTokens;
    }
  }

  // ---- control: observation and actuation ----

  private async onTick(now: number, tick: ControlTick): Promise<void> {
    this.closeInterval(now);
    this.actedThisTick = false;
    await tick(now);
    if (this.actedThisTick) this.decisions++;
    this.recordSplit(now);
    const busy = !this.arrivalsDone || this.requests.inFlight > 0;
    if (!busy) return;
    // Stuck: requests in flight and nothing scheduled that could move them (e.g. no instance of a role and no flip coming).
    const onlyArrival = this.events.length === (this.arrivalsDone ? 0 : 1);
    if (onlyArrival && this.requests.inFlight > 0 && this.arrivalsDone) {
      if (++this.stalledTicks > MAX_STALLED_TICKS) {
        throw new Error(`simulation stalled at ${now.toFixed(1)} s: ${this.requests.inFlight} requests in flight and no instance can serve them`);
      }
    } else this.stalledTicks = 0;
    this.events.push(now + this.options.intervalSeconds, EV_CONTROL_TICK, 0);
  }

  private closeInterval(now: number): void {
    const n = this.intervalArrivals;
    const interval = this.options.intervalSeconds;
    this.lastSample =
      n === 0
        ? idleSample(now - interval, interval)
        : {
            startSeconds: now - interval,
            intervalSeconds: interval,
            requests: n,
            inputMean: this.intervalInputSum / n,
            inputSecondMoment: this.intervalInputSquaredSum / n,
            outputMean: this.intervalOutputSum / n,
          };
    this.intervalArrivals = 0;
    this.intervalInputSum = 0;
    this.intervalInputSquaredSum = 0;
    this.intervalOutputSum = 0;
  }

  private recordSplit(now: number): void {
    let prefill = 0;
    let decode = 0;
    for (let slot = 0; slot < this.slotStatus.length; slot++) {
      if (this.slotRemovedSeconds[slot] !== undefined && !Number.isNaN(this.slotRemovedSeconds[slot])) continue;
      if (this.slotRole[slot] === 'prefill') prefill++;
      else decode++;
    }
    this.timeline.push({ atSeconds: now, prefill, decode, arrivalsPerSecond: this.lastSample.requests / this.lastSample.intervalSeconds });
  }

  /** FleetObserver: the fleet as workers would report it, plus the interval's load (and, for the oracle, the future). */
  async observe(): Promise<Observation> {
    const now = this.nowSeconds;
    // Recent latency per role: P90 of what completed since the last observation.
    const ttftP90 = percentile(this.outcomes.ttftSince(this.outcomesAtLastTick), 90);
    const tpotP90 = percentile(this.outcomes.tpotSince(this.outcomesAtLastTick), 90);
    const measured = this.outcomes.completed > this.outcomesAtLastTick;
    this.outcomesAtLastTick = this.outcomes.completed;
    const workers: WorkerSnapshot[] = [];
    for (let slot = 0; slot < this.slotStatus.length; slot++) {
      if (this.isRemoved(slot)) continue;
      const index = this.slotInstance[slot] as number;
      const instance = index >= 0 ? this.instances[index] : undefined; // none while switching or starting
      const role = this.slotRole[slot] as Role;
      const worker: WorkerSnapshot = {
        id: workerId(slot),
        role,
        status: this.slotStatus[slot] as WorkerStatus,
        queuedRequests: instance?.queuedRequests() ?? 0,
        queuedTokens: instance?.queuedTokens() ?? 0,
        runningRequests: instance?.runningRequests() ?? 0,
        kvUsage: instance?.kvUsage() ?? 0,
      };
      if (measured) {
        if (role === 'prefill' || this.options.colocated) worker.ttftP90Seconds = ttftP90;
        if (role === 'decode') worker.tpotP90Seconds = tpotP90;
      }
      const lastFlip = this.slotLastFlipSeconds[slot];
      if (lastFlip !== undefined) worker.lastFlipAtSeconds = lastFlip;
      workers.push(worker);
    }
    const snapshot: FleetSnapshot = { atSeconds: now, workers };
    const observation: Observation = { snapshot, load: this.lastSample };
    if (this.options.revealFuture) {
      const k = Math.round(now / this.options.intervalSeconds);
      observation.future = this.futureSamples.slice(k, k + FUTURE_INTERVALS);
    }
    return observation;
  }

  /**
   * Actuator: starts each flip. A flip is refused when the worker is unknown,
   * not ready, or not in the role the change says it leaves (the plan was
   * made on a stale view), or when the pool is colocated.
   */
  async apply(changes: readonly RoleChange[]): Promise<ActuationResult[]> {
    const results: ActuationResult[] = [];
    if (changes.length > 0) this.actedThisTick = true;
    for (const change of changes) results.push(this.startFlip(change));
    return results;
  }

  private startFlip(change: RoleChange): ActuationResult {
    const now = this.nowSeconds;
    const slot = slotOf(change.workerId);
    if (slot < 0 || slot >= this.slotStatus.length || this.isRemoved(slot)) return { change, outcome: 'refused', message: `unknown worker ${change.workerId}` };
    if (this.options.colocated) return { change, outcome: 'refused', message: 'colocated instances serve both phases; there is no role to flip' };
    if (this.slotStatus[slot] !== 'ready') return { change, outcome: 'refused', message: `worker ${change.workerId} is ${this.slotStatus[slot]}, not ready` };
    if (this.slotRole[slot] !== change.from) return { change, outcome: 'refused', message: `worker ${change.workerId} is ${this.slotRole[slot]}, not ${change.from}` };
    this.flips++;
    this.slotLastFlipSeconds[slot] = now;
    this.slotFlipStartSeconds[slot] = now;
    const old = this.instances[this.slotInstance[slot] as number] as AnyInstance;
    old.status = 'draining';
    this.slotNextRole[slot] = change.to;
    if (this.options.freeFlips) {
      this.slotRole[slot] = change.to;
      this.slotStatus[slot] = 'ready';
      this.startInstance(slot, change.to);
      this.maybeIdle(old, now);
      return { change, outcome: 'done' };
    }
    this.slotStatus[slot] = 'draining';
    this.refreshAccepting(slot);
    this.maybeIdle(old, now);
    return { change, outcome: 'started' };
  }

  /**
   * Elastic pool: grows each role to the target (new instances serve after
   * profile.startSeconds) within the GPU budget, and drains then removes
   * instances beyond it, idlest first.
   */
  resize(target: RoleTarget): void {
    if (!this.options.elastic) return;
    const now = this.nowSeconds;
    let changed = false;
    // Colocated slots all carry the decode role and serve both phases: only the total counts.
    const wanted: [Role, number][] = this.options.colocated
      ? [['decode', Math.max(1, target.prefill + target.decode)]]
      : [
          ['prefill', Math.max(1, target.prefill)],
          ['decode', Math.max(1, target.decode)],
        ];
    for (const [role, want] of wanted) {
      const live: number[] = [];
      for (let slot = 0; slot < this.slotStatus.length; slot++) {
        if (!this.isRemoved(slot) && !this.slotRemoving[slot] && this.slotRole[slot] === role) live.push(slot);
      }
      for (let n = live.length; n < want && this.poolSize() < this.options.gpus; n++) {
        this.addSlot(role, now, false);
        changed = true;
      }
      const extra = live
        .filter((slot) => this.slotStatus[slot] === 'ready')
        .sort((a, b) => this.heldWork(a) - this.heldWork(b) || a - b)
        .slice(0, Math.max(0, live.length - want));
      for (const slot of extra) {
        this.slotRemoving[slot] = true;
        this.slotStatus[slot] = 'draining';
        const instance = this.instances[this.slotInstance[slot] as number] as AnyInstance;
        instance.status = 'draining';
        this.refreshAccepting(slot);
        this.maybeIdle(instance, now);
        changed = true;
      }
    }
    if (changed) this.actedThisTick = true;
  }

  maybeIdle(instance: SimInstance, now: number): void {
    if (instance.status !== 'draining' || !instance.isIdle()) return;
    instance.status = 'switching'; // retired: it will never take work again
    const slot = instance.slot;
    if (this.slotInstance[slot] !== instance.index) return; // a free flip's old instance: its slot already serves the new role
    this.slotInstance[slot] = -1;
    if (this.slotRemoving[slot]) {
      this.slotRemovedSeconds[slot] = now;
      this.slotRemoving[slot] = false;
      return;
    }
    // Drained: the worker now reports its new role while it switches (a live worker's /v1/state does the same).
    this.slotStatus[slot] = 'switching';
    this.slotRole[slot] = this.slotNextRole[slot] as Role;
    this.events.push(now + this.profile.flipSeconds, EV_SWITCH_DONE, slot);
  }

  private onSwitchDone(slot: number, now: number): void {
    this.flipCostSeconds += now - (this.slotFlipStartSeconds[slot] as number);
    this.slotStatus[slot] = 'ready';
    this.startInstance(slot, this.slotRole[slot] as Role);
  }

  private onStartDone(slot: number): void {
    this.slotStatus[slot] = 'ready';
    this.startInstance(slot, this.slotRole[slot] as Role);
  }

  private addSlot(role: Role, now: number, immediately: boolean): void {
    const slot = this.slotStatus.length;
    this.slotInstance.push(-1);
    this.slotStatus.push(immediately ? 'ready' : 'starting');
    this.slotRole.push(role);
    this.slotNextRole.push(role);
    this.slotAddedSeconds.push(now);
    this.slotRemovedSeconds.push(Number.NaN);
    this.slotFlipStartSeconds.push(0);
    this.slotLastFlipSeconds.push(undefined);
    this.slotRemoving.push(false);
    this.growViews(slot + 1);
    if (immediately) this.startInstance(slot, role);
    else this.events.push(now + this.profile.startSeconds, EV_START_DONE, slot);
  }

  private startInstance(slot: number, role: Role): void {
    const index = this.instances.length;
    const instance: AnyInstance = this.options.colocated
      ? new DecodeInstance(index, slot, this, true)
      : role === 'prefill'
        ? new PrefillInstance(index, slot, this)
        : this.options.compat
          ? new CompatDecodeInstance(index, slot, this)
          : new DecodeInstance(index, slot, this, false);
    this.instances.push(instance);
    this.slotInstance[slot] = index;
    this.publish(instance);
    this.refreshAccepting(slot);
    this.drainWaiting(this.nowSeconds);
  }

  /** Requests parked because no instance of a role was accepting. */
  private drainWaiting(now: number): void {
    if (this.waitingForPrefill.length > 0 && anyAccepting(this.prefillView)) {
      const n = this.waitingForPrefill.length;
      for (let k = 0; k < n; k++) this.dispatch(this.waitingForPrefill.shift(), now);
    }
    if (this.waitingForDecode.length > 0 && anyAccepting(this.decodeView)) {
      const n = this.waitingForDecode.length;
      for (let k = 0; k < n; k++) this.handToDecode(this.waitingForDecode.shift(), now);
    }
  }

  private refreshAccepting(slot: number): void {
    const index = this.slotInstance[slot] as number;
    const instance = index >= 0 ? this.instances[index] : undefined;
    const ready = instance !== undefined && this.slotStatus[slot] === 'ready' && instance.status === 'ready';
    const servesPrefill = instance instanceof PrefillInstance || (instance instanceof DecodeInstance && instance.colocated);
    this.prefillView.accepting[slot] = ready && servesPrefill ? 1 : 0;
    this.decodeView.accepting[slot] = ready && !servesPrefill ? 1 : 0;
    if (instance instanceof DecodeInstance) this.decodeView.kvCapacityTokens[slot] = instance.kvCapacityTokens;
    else if (instance instanceof CompatDecodeInstance) this.decodeView.kvCapacityTokens[slot] = this.profile.kvCapacityTokens;
  }

  private growViews(count: number): void {
    if (this.prefillView.accepting.length < count) {
      const size = Math.max(count, this.prefillView.accepting.length * 2, 8);
      this.prefillView = copyPrefillView(this.prefillView, emptyPrefillView(size));
      this.decodeView = copyDecodeView(this.decodeView, emptyDecodeView(size));
    }
    this.prefillView.count = count;
    this.decodeView.count = count;
  }

  private heldWork(slot: number): number {
    const instance = this.instances[this.slotInstance[slot] as number];
    return instance ? instance.queuedRequests() + instance.runningRequests() : 0;
  }

  private isRemoved(slot: number): boolean {
    return !Number.isNaN(this.slotRemovedSeconds[slot] as number);
  }

  private poolSize(): number {
    let n = 0;
    for (let slot = 0; slot < this.slotStatus.length; slot++) if (!this.isRemoved(slot)) n++;
    return n;
  }

  // ---- results ----

  /** Last completion or arrival, whichever is later: how long the pool was needed. */
  get makespanSeconds(): number {
    return Math.max(this.outcomes.lastCompletionSeconds, this.lastArrivalSeconds);
  }

  /** GPU-seconds: every slot from when it was added until removed or the end of the run. */
  gpuSeconds(): number {
    const end = this.makespanSeconds;
    let total = 0;
    for (let slot = 0; slot < this.slotStatus.length; slot++) {
      const removed = this.slotRemovedSeconds[slot] as number;
      total += Math.max(0, (Number.isNaN(removed) ? end : removed) - (this.slotAddedSeconds[slot] as number));
    }
    return total;
  }
}

/** Upcoming intervals the oracle sees. */
const FUTURE_INTERVALS = 3;

export function workerId(slot: number): string {
  return `w${slot}`;
}

function slotOf(id: string): number {
  return /^w\d+$/.test(id) ? Number(id.slice(1)) : -1;
}

function anyAccepting(view: { count: number; accepting: Uint8Array }): boolean {
  for (let i = 0; i < view.count; i++) if (view.accepting[i]) return true;
  return false;
}

function emptyPrefillView(size: number): PrefillView {
  return {
    count: 0,
    accepting: new Uint8Array(size),
    queuedRequests: new Float64Array(size),
    queuedTokens: new Float64Array(size),
    queuedSquaredTokens: new Float64Array(size),
    runningRequests: new Float64Array(size),
    busyUntilSeconds: new Float64Array(size),
  };
}

function emptyDecodeView(size: number): DecodeView {
  return {
    count: 0,
    accepting: new Uint8Array(size),
    freeKvTokens: new Float64Array(size),
    kvCapacityTokens: new Float64Array(size),
    loadRequests: new Float64Array(size),
  };
}

function copyPrefillView(from: PrefillView, to: PrefillView): PrefillView {
  to.count = from.count;
  to.accepting.set(from.accepting);
  to.queuedRequests.set(from.queuedRequests);
  to.queuedTokens.set(from.queuedTokens);
  to.queuedSquaredTokens.set(from.queuedSquaredTokens);
  to.runningRequests.set(from.runningRequests);
  to.busyUntilSeconds.set(from.busyUntilSeconds);
  return to;
}

function copyDecodeView(from: DecodeView, to: DecodeView): DecodeView {
  to.count = from.count;
  to.accepting.set(from.accepting);
  to.freeKvTokens.set(from.freeKvTokens);
  to.kvCapacityTokens.set(from.kvCapacityTokens);
  to.loadRequests.set(from.loadRequests);
  return to;
}
