import { decodeStepMs, kvTransferSeconds, prefillMsFromSums } from '../perf/latency.js';
import type { DecodeCoefficients, LatencyCoefficients } from '../perf/profile.js';
import type { Role, WorkerStatus } from '../domain/role.js';
import { EventQueue } from './event-queue.js';
import { EV_STEP_DONE, EV_TRANSFER_DONE, type SimHost, type SimInstance } from './host.js';
import { IntDeque } from './int-deque.js';

/**
 * A decode instance with continuous batching (docs/sim.md), which is also
 * the colocated instance: with `colocated` set, every request arrives in its
 * local prefill queue and prefill batches run before decode steps (vLLM's
 * policy), timed with the profile's colocated fits.
 *
 * Memory: a request reserves its whole KV (prompt + output) when it is
 * admitted, so a running batch never overflows and nothing is preempted.
 * Real engines grow pages as tokens come and preempt on overflow; full
 * reservation is the no-preemption equivalent, slightly conservative.
 *
 * KV hand-off: prefilled requests wait in a FIFO pull queue; the head is
 * pulled when its KV fits, over one link at a time (bytes ÷ bandwidth, or
 * instantly when the transfer is not modelled), and joins the batch at the
 * next step boundary. Its first token is delivered when its KV lands.
 *
 * Speed: instead of touching every running request each step, each request
 * is filed under the step number at which it will finish; a step then costs
 * O(1) plus the requests that finish in it.
 */
export class DecodeInstance implements SimInstance {
  readonly role: Role = 'decode';
  status: WorkerStatus = 'ready';
  /** KV tokens reserved by running, joining, transferring and locally prefilling requests. */
  reservedKvTokens = 0;
  readonly pullQueue = new IntDeque();
  /** Σ (prompt + output) of the pull queue: KV promised but not yet reserved. */
  pullQueueKvTokens = 0;
  private transferring = -1;
  private readonly joining = new IntDeque();
  /** Local prefill queue (colocated instances, and short prompts when local prefill is on). */
  readonly localQueue = new IntDeque();
  localQueuedTokenSum = 0;
  localQueuedSquaredTokenSum = 0;
  private localBatch: number[] = [];
  running = 0;
  /** Σ context tokens of the running batch. */
  private sumContextTokens = 0;
  private stepCount = 0;
  /** Running requests keyed by the step number at which they finish. */
  private readonly finishing = new EventQueue();
  busy = false;
  private busyPrefilling = false;
  busyUntilSeconds = 0;
  private readonly prefillMs: LatencyCoefficients;
  private readonly decodeMs: DecodeCoefficients;

  constructor(
    readonly index: number,
    readonly slot: number,
    private readonly host: SimHost,
    readonly colocated: boolean,
  ) {
    const fits = colocated ? host.profile.colocated : undefined;
    this.prefillMs = fits?.prefillMs ?? host.profile.prefillMs;
    this.decodeMs = fits?.decodeMs ?? host.profile.decodeMs;
  }

  get kvCapacityTokens(): number {
    return this.host.profile.kvCapacityTokens;
  }

  /** A prefilled request assigned here; it is pulled when its KV fits. */
  enqueuePull(id: number, nowSeconds: number): void {
    const r = this.host.requests;
    this.pullQueue.push(id);
    this.pullQueueKvTokens += (r.inputTokens[id] as number) + (r.outputTokens[id] as number);
    this.tryPull(nowSeconds);
    this.host.publish(this);
  }

  /** A new request whose prefill runs here. */
  enqueueLocal(id: number, nowSeconds: number): void {
    const l = this.host.requests.inputTokens[id] as number;
    this.localQueue.push(id);
    this.localQueuedTokenSum += l;
    this.localQueuedSquaredTokenSum += l * l;
    if (!this.busy) this.startIteration(nowSeconds);
    this.host.publish(this);
  }

  private tryPull(nowSeconds: number): void {
    const { requests, options, profile } = this.host;
    while (this.transferring < 0 && this.pullQueue.length > 0) {
      const id = this.pullQueue.peek();
      const need = (requests.inputTokens[id] as number) + (requests.outputTokens[id] as number);
      if (this.reservedKvTokens + need > profile.kvCapacityTokens) return; // FIFO: the head waits for room
      this.pullQueue.shift();
      this.pullQueueKvTokens -= need;
      this.reservedKvTokens += need;
      if (options.kvTransfer) {
        this.transferring = id;
        const seconds = kvTransferSeconds(profile, requests.inputTokens[id] as number, options.linkBytesPerSecond);
        this.host.events.push(nowSeconds + seconds, EV_TRANSFER_DONE, this.index);
      } else {
        this.landed(id, nowSeconds);
      }
    }
  }

  onTransferDone(nowSeconds: number): void {
    const id = this.transferring;
    this.transferring = -1;
    this.landed(id, nowSeconds);
    this.tryPull(nowSeconds);
    this.host.publish(this);
  }

  /** The KV of `id` is here: its first token goes out now and it joins at the next step boundary. */
  private landed(id: number, nowSeconds: number): void {
    this.host.kvPulled(id, nowSeconds);
    this.host.requests.firstTokenSeconds[id] = nowSeconds;
    this.joining.push(id);
    if (!this.busy) this.startIteration(nowSeconds);
  }

  /** Starts the next iteration: a local prefill batch first if one fits, else a decode step. */
  private startIteration(nowSeconds: number): void {
    while (this.joining.length > 0) this.join(this.joining.shift());
    if (this.localQueue.length > 0 && this.startLocalPrefill(nowSeconds)) return;
    if (this.running === 0) {
      this.host.maybeIdle(this, nowSeconds);
      return;
    }
    const ms = decodeStepMs(this.host.profile, this.running, this.sumContextTokens, this.decodeMs);
    this.busy = true;
    this.busyPrefilling = false;
    this.busyUntilSeconds = nowSeconds + ms / 1000;
    this.host.events.push(this.busyUntilSeconds, EV_STEP_DONE, this.index);
  }

  private join(id: number): void {
    const r = this.host.requests;
    // The first token came with the prefill; output − 1 decode steps remain.
    const steps = (r.outputTokens[id] as number) - 1;
    this.finishing.push(this.stepCount + steps, id, 0);
    this.sumContextTokens += r.inputTokens[id] as number;
    this.running++;
  }

  private startLocalPrefill(nowSeconds: number): boolean {
    const { requests, options, profile } = this.host;
    let tokens = 0;
    let squares = 0;
    while (this.localQueue.length > 0) {
      const id = this.localQueue.peek();
      const l = requests.inputTokens[id] as number;
      const need = l + (requests.outputTokens[id] as number);
      if (this.localBatch.length > 0 && tokens + l > options.prefillTokenBudget) break;
      if (this.reservedKvTokens + need > profile.kvCapacityTokens) break;
      this.localQueue.shift();
      this.reservedKvTokens += need;
      this.localBatch.push(id);
      tokens += l;
      squares += l * l;
    }
    if (this.localBatch.length === 0) return false;
    this.localQueuedTokenSum -= tokens;
    this.localQueuedSquaredTokenSum -= squares;
    const ms = prefillMsFromSums(profile, tokens, squares, this.prefillMs);
    this.busy = true;
    this.busyPrefilling = true;
    this.busyUntilSeconds = nowSeconds + ms / 1000;
    this.host.events.push(this.busyUntilSeconds, EV_STEP_DONE, this.index);
    return true;
  }

  onStepDone(nowSeconds: number): void {
    this.busy = false;
    const r = this.host.requests;
    if (this.busyPrefilling) {
      const batch = this.localBatch;
      this.localBatch = [];
      for (const id of batch) {
        r.prefillEndSeconds[id] = nowSeconds;
        r.firstTokenSeconds[id] = nowSeconds;
        if ((r.outputTokens[id] as number) <= 1) this.finish(id, nowSeconds);
        else this.joining.push(id);
      }
    } else {
      this.stepCount++;
      this.sumContextTokens += this.running;
      const finishing = this.finishing;
      while (finishing.length > 0 && finishing.peekTimeSeconds() <= this.stepCount) {
        finishing.pop();
        const id = finishing.kind;
        this.sumContextTokens -= (r.inputTokens[id] as number) + (r.outputTokens[id] as number) - 1;
        this.running--;
        this.finish(id, nowSeconds);
      }
    }
    this.tryPull(nowSeconds);
    if (!this.busy) this.startIteration(nowSeconds);
    this.host.publish(this);
  }

  private finish(id: number, nowSeconds: number): void {
    const r = this.host.requests;
    this.reservedKvTokens -= (r.inputTokens[id] as number) + (r.outputTokens[id] as number);
    this.host.complete(id, nowSeconds);
  }

  isIdle(): boolean {
    return !this.busy && this.running === 0 && this.transferring < 0 && this.pullQueue.length === 0 && this.joining.length === 0 && this.localQueue.length === 0;
  }

  queuedRequests(): number {
    return this.pullQueue.length + this.joining.length + this.localQueue.length;
  }

  queuedTokens(): number {
    return this.pullQueueKvTokens + this.localQueuedTokenSum;
  }

  runningRequests(): number {
    return this.running + (this.busyPrefilling ? this.localBatch.length : 0);
  }

  kvUsage(): number {
    return Math.min(1, this.reservedKvTokens / this.host.profile.kvCapacityTokens);
  }

  /** KV not reserved and not promised to the pull queue (negative when oversubscribed). */
  freeKvTokens(): number {
    return this.host.profile.kvCapacityTokens - this.reservedKvTokens - this.pullQueueKvTokens;
  }

  loadRequests(): number {
    return this.running + this.joining.length + this.pullQueue.length + this.localQueue.length + (this.transferring >= 0 ? 1 : 0);
  }
}
