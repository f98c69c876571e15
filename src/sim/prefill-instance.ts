import { prefillMsFromSums } from '../perf/latency.js';
import type { WorkerStatus } from '../domain/role.js';
import { EV_PREFILL_DONE, type SimHost, type SimInstance } from './host.js';
import { IntDeque } from './int-deque.js';
import { iterationOverheadMs } from './options.js';

/**
 * A prefill instance (docs/sim.md): FCFS queue; a batch takes prompts from
 * the head while their tokens fit the budget L_m (always at least one). A
 * finished prompt's KV stays resident here until a decode instance pulls it,
 * so the instance's KV memory is its output queue: when resident KV plus the
 * next batch would exceed the capacity, prefill stalls until a pull frees
 * room. In compat mode the budget is the KV capacity, a batch stops at the
 * first prompt that does not fit, and the KV leaves at once (no transfer).
 */
export class PrefillInstance implements SimInstance {
  readonly role = 'prefill' as const;
  status: WorkerStatus = 'ready';
  readonly queue = new IntDeque();
  queuedTokenSum = 0;
  queuedSquaredTokenSum = 0;
  private batch: number[] = [];
  busy = false;
  busyUntilSeconds = 0;
  /** KV tokens of finished prompts not yet pulled. */
  residentKvTokens = 0;

  constructor(
    readonly index: number,
    readonly slot: number,
    private readonly host: SimHost,
  ) {}

  enqueue(id: number, nowSeconds: number): void {
    const l = this.host.requests.inputTokens[id] as number;
    this.queue.push(id);
    this.queuedTokenSum += l;
    this.queuedSquaredTokenSum += l * l;
    if (!this.busy) this.startBatch(nowSeconds);
    this.host.publish(this);
  }

  startBatch(nowSeconds: number): void {
    if (this.busy || this.queue.length === 0) return;
    const { requests, options, profile } = this.host;
    const budget = options.prefillTokenBudget;
    const capacity = profile.kvCapacityTokens;
    let tokens = 0;
    let squares = 0;
    while (this.queue.length > 0) {
      const l = requests.inputTokens[this.queue.peek()] as number;
      if (this.batch.length > 0 && tokens + l > budget) break;
      if (this.residentKvTokens + tokens + l > capacity) break; // memory full: stall (never in compat: residentKv stays 0)
      const id = this.queue.shift();
      this.batch.push(id);
      tokens += l;
      squares += l * l;
    }
    if (this.batch.length === 0) return;
    this.queuedTokenSum -= tokens;
    this.queuedSquaredTokenSum -= squares;
    const ms = prefillMsFromSums(profile, tokens, squares) + iterationOverheadMs(options.compat, tokens);
    this.busy = true;
    this.busyUntilSeconds = nowSeconds + ms / 1000;
    this.host.events.push(this.busyUntilSeconds, EV_PREFILL_DONE, this.index);
    this.host.publish(this);
  }

  onBatchDone(nowSeconds: number): void {
    this.busy = false;
    const { requests, options } = this.host;
    const batch = this.batch;
    this.batch = [];
    for (const id of batch) {
      requests.prefillEndSeconds[id] = nowSeconds;
      // KV waits here for a pull (with or without transfer time) unless it leaves at once (compat) or there is nothing to decode.
      if (!options.compat && (requests.outputTokens[id] as number) > 1) {
        this.residentKvTokens += requests.inputTokens[id] as number;
        requests.kvHolder[id] = this.index;
      }
      this.host.prefillDone(id, nowSeconds);
    }
    this.startBatch(nowSeconds);
    this.host.publish(this);
    this.host.maybeIdle(this, nowSeconds);
  }

  /** A decode instance pulled `tokens` of this instance's KV. */
  release(tokens: number, nowSeconds: number): void {
    this.residentKvTokens -= tokens;
    this.startBatch(nowSeconds);
    this.host.maybeIdle(this, nowSeconds);
  }

  isIdle(): boolean {
    return !this.busy && this.queue.length === 0 && this.residentKvTokens === 0;
  }

  queuedRequests(): number {
    return this.queue.length;
  }

  queuedTokens(): number {
    return this.queuedTokenSum;
  }

  runningRequests(): number {
    return this.batch.length;
  }

  kvUsage(): number {
    return Math.min(1, this.residentKvTokens / this.host.profile.kvCapacityTokens);
  }
}
