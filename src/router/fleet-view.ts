// The live router's picture of the fleet, kept in the typed-array views the
// shared scheduler reads (router/scheduler/types.ts). Two sources:
// - each worker's role and status come from polling GET /v1/state (a flip is
//   seen within one poll interval, and at once when a worker hands a request
//   back or stops answering, or when the controller tells of a flip it starts
//   (flipStarted/flipFinished);
// - load comes from the router's own accounting of the calls it has in
//   flight, which is exact the moment a request is placed — a polled queue
//   length would be up to one interval stale, and a burst would all land on
//   whichever worker looked idle at the last poll.
import type { Role } from '../domain/role.js';
import type { WorkerClient, WorkerState } from '../fleet/worker-client.js';
import type { DecodeView, PrefillView } from './scheduler/types.js';

export interface FleetWorker {
  readonly client: WorkerClient;
  /** Last known state; undefined until the first successful poll. */
  state: WorkerState | undefined;
  /** False after a call found it gone; true again after a successful poll. */
  reachable: boolean;
  /** Set when the worker handed work back: treated as draining until a poll says otherwise. */
  drainingSeen: boolean;
  /** Set while the controller flips this worker: no new work until the flip is over, whatever a poll says. */
  flipping: boolean;
}

export class FleetView {
  readonly workers: FleetWorker[];
  readonly prefill: PrefillView;
  readonly decode: DecodeView;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;

  constructor(clients: readonly WorkerClient[]) {
    const n = clients.length;
    this.workers = clients.map((client) => ({ client, state: undefined, reachable: false, drainingSeen: false, flipping: false }));
    this.prefill = {
      count: n,
      accepting: new Uint8Array(n),
      queuedRequests: new Float64Array(n),
      queuedTokens: new Float64Array(n),
      queuedSquaredTokens: new Float64Array(n),
      // The router does not see inside a worker's batch; everything it sent counts as queued.
      runningRequests: new Float64Array(n),
      busyUntilSeconds: new Float64Array(n),
    };
    this.decode = {
      count: n,
      accepting: new Uint8Array(n),
      freeKvTokens: new Float64Array(n),
      kvCapacityTokens: new Float64Array(n),
      loadRequests: new Float64Array(n),
    };
  }

  /** Polls every worker's state once, concurrently. A worker that does not answer is unreachable until it does. */
  refresh(): Promise<void> {
    // Overlapping polls would only pile up on a slow worker; callers share the one in progress.
    this.polling ??= Promise.all(this.workers.map((w, i) => this.poll(w, i))).then(() => {
      this.polling = undefined;
    });
    return this.polling;
  }

  private async poll(w: FleetWorker, i: number): Promise<void> {
    try {
      const state = await w.client.state();
      const capacityChange = state.kvTotalTokens - (this.decode.kvCapacityTokens[i] as number);
      w.state = state;
      w.reachable = true;
      w.drainingSeen = false;
      this.decode.kvCapacityTokens[i] = state.kvTotalTokens;
      this.decode.freeKvTokens[i] = (this.decode.freeKvTokens[i] as number) + capacityChange;
    } catch {
      w.reachable = false;
    }
  }

  /**
   * Polls each worker once every `intervalSeconds` until stop(), one worker
   * at a time at even spacing (interval ÷ workers) rather than all at once:
   * the router serves requests on the same event loop, and 16 polls answered
   * together were a burst of a few milliseconds every interval that the
   * requests arriving behind it waited out (a cost at the p99 of the
   * latency the router adds). A worker whose last poll has not answered yet
   * is not polled again. The timer does not keep the process alive.
   */
  start(intervalSeconds: number): void {
    this.stop();
    const n = this.workers.length;
    if (n === 0) return;
    let next = 0;
    const inFlight = new Set<number>();
    this.timer = setInterval(
      () => {
        const i = next;
        next = (next + 1) % n;
        if (inFlight.has(i)) return;
        inFlight.add(i);
        void this.poll(this.workers[i] as FleetWorker, i).finally(() => inFlight.delete(i));
      },
      (intervalSeconds * 1000) / n,
    );
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Whether worker i takes new work in `role` now. */
  accepts(i: number, role: Role): boolean {
    const w = this.workers[i];
    return !!w && w.reachable && !w.drainingSeen && !w.flipping && w.state?.role === role && w.state.status === 'ready';
  }

  /**
   * The controller is about to drain worker `workerId` for a flip: stop
   * choosing it now. A poll cannot clear this (the worker may still report
   * ready in its old role until the drain request reaches it); only
   * flipFinished does. Unknown ids are ignored: the router serves native
   * workers only, the controller may also move engine workers.
   */
  flipStarted(workerId: string): void {
    const w = this.workers.find((x) => x.client.id === workerId);
    if (w) w.flipping = true;
  }

  /**
   * The flip is over (done or not): read the worker's state afresh, then let
   * it take work again in whatever role it now reports, without waiting for
   * the timer. Clearing only after the read keeps the pre-flip state from
   * being used in between.
   */
  async flipFinished(workerId: string): Promise<void> {
    const i = this.workers.findIndex((x) => x.client.id === workerId);
    const w = this.workers[i];
    if (!w) return;
    await this.poll(w, i);
    w.flipping = false;
  }

  /** Writes the `accepting` mask of one phase's view, leaving out `excluded` workers; returns how many accept. */
  prepare(role: Role, excluded?: ReadonlySet<number>): number {
    const mask = role === 'prefill' ? this.prefill.accepting : this.decode.accepting;
    let n = 0;
    for (let i = 0; i < this.workers.length; i++) {
      const ok = this.accepts(i, role) && !excluded?.has(i);
      mask[i] = ok ? 1 : 0;
      if (ok) n++;
    }
    return n;
  }

  countAccepting(role: Role): number {
    let n = 0;
    for (let i = 0; i < this.workers.length; i++) if (this.accepts(i, role)) n++;
    return n;
  }

  /** Smallest context any worker reports (0 before the first poll). */
  contextTokens(): number {
    let min = Number.POSITIVE_INFINITY;
    for (const w of this.workers) if (w.state) min = Math.min(min, w.state.contextTokens);
    return Number.isFinite(min) ? min : 0;
  }

  markUnreachable(i: number): void {
    const w = this.workers[i];
    if (w) w.reachable = false;
  }

  markDraining(i: number): void {
    const w = this.workers[i];
    if (w) w.drainingSeen = true;
  }

  beginPrefill(i: number, promptTokens: number): void {
    const v = this.prefill;
    v.queuedRequests[i] = (v.queuedRequests[i] as number) + 1;
    v.queuedTokens[i] = (v.queuedTokens[i] as number) + promptTokens;
    v.queuedSquaredTokens[i] = (v.queuedSquaredTokens[i] as number) + promptTokens * promptTokens;
  }

  endPrefill(i: number, promptTokens: number): void {
    const v = this.prefill;
    v.queuedRequests[i] = (v.queuedRequests[i] as number) - 1;
    v.queuedTokens[i] = (v.queuedTokens[i] as number) - promptTokens;
    v.queuedSquaredTokens[i] = (v.queuedSquaredTokens[i] as number) - promptTokens * promptTokens;
  }

  /** Reserves `kvTokens` (context plus the output still to come) on decode worker i. */
  beginDecode(i: number, kvTokens: number): void {
    const v = this.decode;
    v.loadRequests[i] = (v.loadRequests[i] as number) + 1;
    v.freeKvTokens[i] = (v.freeKvTokens[i] as number) - kvTokens;
  }

  endDecode(i: number, kvTokens: number): void {
    const v = this.decode;
    v.loadRequests[i] = (v.loadRequests[i] as number) - 1;
    v.freeKvTokens[i] = (v.freeKvTokens[i] as number) + kvTokens;
  }
}
