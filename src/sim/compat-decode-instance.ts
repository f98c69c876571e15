import { decodeStepMs } from '../perf/latency.js';
import type { WorkerStatus } from '../domain/role.js';
import { EV_STEP_DONE, type SimHost, type SimInstance } from './host.js';
import { IntDeque } from './int-deque.js';
import { DISTSERVE_COMPAT, iterationOverheadMs } from './options.js';

/**
 * The decode instance of DistServe's simulator (`--compat distserve`,
 * docs/sim.md): one FIFO of requests; each iteration takes requests from the
 * head while their context tokens fit 50,000 (stopping at the first that does
 * not; always at least one), runs one step for them, and puts the unfinished
 * ones back at the tail, behind anything that arrived meanwhile. No KV bound.
 * A request needs `output` decode iterations after its prefill, and its TPOT
 * is (finish − prefill end) / output.
 */
export class CompatDecodeInstance implements SimInstance {
  readonly role = 'decode' as const;
  status: WorkerStatus = 'ready';
  readonly queue = new IntDeque();
  private batch: number[] = [];
  busy = false;
  busyUntilSeconds = 0;

  constructor(
    readonly index: number,
    readonly slot: number,
    private readonly host: SimHost,
  ) {}

  enqueue(id: number, nowSeconds: number): void {
    this.queue.push(id);
    if (!this.busy) this.startStep(nowSeconds);
    this.host.publish(this);
  }

  private startStep(nowSeconds: number): void {
    const r = this.host.requests;
    let context = 0;
    while (this.queue.length > 0) {
      const id = this.queue.peek();
      const c = (r.inputTokens[id] as number) + (r.decodedSteps[id] as number);
      if (this.batch.length > 0 && context + c > DISTSERVE_COMPAT.decodeBatchContextTokens) break;
      this.queue.shift();
      this.batch.push(id);
      context += c;
    }
    if (this.batch.length === 0) {
      this.host.maybeIdle(this, nowSeconds);
      return;
    }
    const n = this.batch.length;
    // The per-token overhead counts the tokens the step's fit counts: Σ(context + 1).
    const ms = decodeStepMs(this.host.profile, n, context) + iterationOverheadMs(true, context + n);
    this.busy = true;
    this.busyUntilSeconds = nowSeconds + ms / 1000;
    this.host.events.push(this.busyUntilSeconds, EV_STEP_DONE, this.index);
  }

  onStepDone(nowSeconds: number): void {
    this.busy = false;
    const r = this.host.requests;
    const batch = this.batch;
    this.batch = [];
    for (const id of batch) {
      const steps = (r.decodedSteps[id] as number) + 1;
      r.decodedSteps[id] = steps;
      if (steps >= (r.outputTokens[id] as number)) this.host.complete(id, nowSeconds);
      else this.queue.push(id);
    }
    this.startStep(nowSeconds);
    this.host.publish(this);
  }

  isIdle(): boolean {
    return !this.busy && this.queue.length === 0;
  }

  queuedRequests(): number {
    return this.queue.length;
  }

  queuedTokens(): number {
    return 0;
  }

  runningRequests(): number {
    return this.batch.length;
  }

  kvUsage(): number {
    return 0;
  }

  loadRequests(): number {
    return this.queue.length + this.batch.length;
  }
}
