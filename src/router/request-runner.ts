// One request's life across the fleet: choose a prefill worker → prefill →
// choose a decode worker → the decode worker pulls the KV → stream tokens.
//
// Failure handling (docs/router-api.md, "Failure handling"):
// - a prefill that fails or whose worker is gone is retried once, on another worker;
// - a prefill or decode handed back by a draining worker is re-routed (the
//   worker is treated as draining until the next poll says otherwise);
// - a decode that breaks off (its worker died, or handed the request back
//   mid-stream) is resumed: prefill again over the prompt plus every token
//   already emitted — whose first token is therefore the next one — and
//   continue on another decode worker. The caller sees each token exactly
//   once, in order, because only this loop emits and `emitted` is the single
//   record of what was.
import type { Clock } from '../lib/clock.js';
import { isWorkerFailure } from '../fleet/worker-call-error.js';
import type { PrefillResult, WorkerFailure } from '../fleet/worker-client.js';
import { RouterError } from './errors.js';
import type { FleetView } from './fleet-view.js';
import type { RouterMetrics } from './metrics.js';
import type { RouterSchedulers } from './schedulers.js';
import { NoEligibleInstanceError } from './scheduler/types.js';

export interface Generation {
  requestId: string;
  /** Prompt token ids as sent to the workers. */
  promptIds: readonly number[];
  /** Output tokens wanted, ≥ 1. */
  maxTokens: number;
  /** Stop after emitting this id (the model's end of text); undefined with `ignore_eos`. */
  eosToken: number | undefined;
}

export interface GenerationResult {
  tokens: number[];
  finishReason: 'length' | 'stop';
  /** Clock seconds at which the first and the last token were emitted. */
  firstTokenAtSeconds: number;
  lastTokenAtSeconds: number;
  /** Seconds spent waiting on workers (prefill calls, decode streams between tokens), failed attempts included: the rest of the request's time is the router's own. */
  workerSeconds: number;
}

export interface RunnerLimits {
  /** Re-runs of a failed prefill on another worker (the issue asks for one). */
  prefillRetries: number;
  /** Resumptions after a decode broke off, per request. */
  decodeResumes: number;
  /** Re-routings after hand-backs, per request; a bound so a fleet that keeps flipping cannot loop a request forever. */
  handBacks: number;
}

/** Decode failures that are the KV source's, not the decode worker's (docs/protocol.md codes). */
const KV_SOURCE_CODES = new Set(['kv_not_found', 'kv_unreachable']);

export const DEFAULT_LIMITS: RunnerLimits = { prefillRetries: 1, decodeResumes: 3, handBacks: 8 };

export class RequestRunner {
  constructor(
    private readonly fleet: FleetView,
    private readonly schedulers: RouterSchedulers,
    private readonly clock: Clock,
    private readonly metrics: RouterMetrics,
    private readonly limits: RunnerLimits = DEFAULT_LIMITS,
  ) {}

  /** Runs `g` to completion, calling `onToken` once per output token in order. Throws RouterError or a WorkerFailure of kind `aborted`. */
  async run(g: Generation, onToken: (token: number) => void, signal: AbortSignal): Promise<GenerationResult> {
    const emitted: number[] = [];
    let firstAt = 0;
    let lastAt = 0;
    const waited = { seconds: 0 };
    const emit = (token: number): boolean => {
      lastAt = this.clock.nowSeconds();
      if (emitted.length === 0) firstAt = lastAt;
      emitted.push(token);
      onToken(token);
      return token === g.eosToken;
    };
    const budget = { handBacks: this.limits.handBacks, decodeResumes: this.limits.decodeResumes };
    const lostDecoders = new Set<number>();

    while (true) {
      const context = emitted.length === 0 ? g.promptIds : [...g.promptIds, ...emitted];
      // When the prefill's first token is the last one wanted, no decode follows: the worker frees the KV at once
      // (no release round trip). Otherwise it holds it for the decode worker's pull.
      const retainKv = emitted.length + 1 < g.maxTokens;
      const { result: pf, worker: p } = await this.prefill(g.requestId, context, retainKv, signal, budget, waited);
      let stopped = emit(pf.firstToken);
      const done = (): GenerationResult => ({
        tokens: emitted,
        finishReason: stopped ? 'stop' : 'length',
        firstTokenAtSeconds: firstAt,
        lastTokenAtSeconds: lastAt,
        workerSeconds: waited.seconds,
      });
      if (stopped || emitted.length >= g.maxTokens) {
        this.release(p, pf.kvUrl);
        return done();
      }

      const remaining = g.maxTokens - emitted.length;
      if (!pf.kvUrl) throw new RouterError('upstream_failed', `prefill worker ${this.fleet.workers[p]!.client.id} returned no kvUrl`);
      const d = this.pick('decode', context.length, lostDecoders);
      if (d < 0) {
        this.release(p, pf.kvUrl);
        throw new RouterError('no_worker_ready', 'no decode worker is ready', null, 1);
      }
      const reserved = context.length + remaining;
      this.fleet.beginDecode(d, reserved);
      this.metrics.inFlightDecode.inc();
      // Waiting on the decode worker = the stream's whole time less the router's own work on each token (emit).
      // Added when the stream ends, before the result is made (a `finally` would run after `return done()` had
      // read it), or when it fails; a request aborted or failed for good reports no overhead, so needs none.
      const decodeStart = this.clock.nowSeconds();
      let ownSeconds = 0;
      const decodeWaitSeconds = () => this.clock.nowSeconds() - decodeStart - ownSeconds;
      try {
        const client = this.fleet.workers[d]!.client;
        let expected = 1;
        const stream = client.decode(
          { requestId: g.requestId, kvUrl: pf.kvUrl, firstToken: pf.firstToken, promptTokens: context.length, maxTokens: remaining + 1 },
          { signal },
        );
        for await (const t of stream) {
          // The worker numbers tokens from 1 after the prefill's; a gap or repeat would break the exactly-once promise.
          if (t.index !== expected) throw new RouterError('upstream_failed', `decode worker ${client.id} sent token index ${t.index}, expected ${expected}`);
          expected++;
          const own = this.clock.nowSeconds();
          stopped = emit(t.token);
          ownSeconds += this.clock.nowSeconds() - own;
          if (stopped || emitted.length >= g.maxTokens) break;
        }
        waited.seconds += decodeWaitSeconds();
        return done();
      } catch (error) {
        if (!isWorkerFailure(error) || error.kind === 'aborted') throw error;
        waited.seconds += decodeWaitSeconds();
        // The KV may still be held at the prefill worker (a decode that failed before its pull): free it now.
        this.release(p, pf.kvUrl);
        if (error.kind === 'rejected') throw new RouterError('upstream_failed', `decode refused: ${error.message}`);
        if (error.kind === 'handed-back') {
          this.fleet.markDraining(d);
          this.metrics.countRetry('decode_handed_back');
          if (--budget.handBacks < 0) throw new RouterError('upstream_failed', `handed back too many times; last: ${error.message}`);
        } else if (KV_SOURCE_CODES.has(error.code)) {
          // The decode worker is fine; the KV it was to pull is gone (the prefill worker died, or released it while
          // draining for a flip). Prefill again; the same decode worker stays eligible.
          this.metrics.countRetry('kv_lost');
          if (--budget.decodeResumes < 0) throw new RouterError('upstream_failed', `KV lost; resumed too many times; last: ${error.message}`);
        } else {
          if (error.kind === 'unreachable') this.fleet.markUnreachable(d);
          lostDecoders.add(d);
          this.metrics.countRetry('decode_lost');
          if (--budget.decodeResumes < 0) throw new RouterError('upstream_failed', `decode failed; resumed too many times; last: ${error.message}`);
        }
        // Loop: prefill again over the prompt plus everything emitted, then decode on another worker.
      } finally {
        this.fleet.endDecode(d, reserved);
        this.metrics.inFlightDecode.dec();
      }
    }
  }

  private async prefill(
    requestId: string,
    promptIds: readonly number[],
    retainKv: boolean,
    signal: AbortSignal,
    budget: { handBacks: number },
    waited: { seconds: number },
  ): Promise<{ result: PrefillResult; worker: number }> {
    const tried = new Set<number>();
    let failures = 0;
    let last: WorkerFailure | undefined;
    while (true) {
      const p = this.pick('prefill', promptIds.length, tried);
      if (p < 0) {
        if (last) throw new RouterError('upstream_failed', `prefill failed and no other prefill worker is ready; last: ${last.message}`);
        throw new RouterError('no_worker_ready', 'no prefill worker is ready', null, 1);
      }
      const n = promptIds.length;
      this.fleet.beginPrefill(p, n);
      this.metrics.inFlightPrefill.inc();
      const callStart = this.clock.nowSeconds();
      try {
        const result = await this.fleet.workers[p]!.client.prefill({ requestId, promptTokens: promptIds, ...(retainKv ? {} : { retainKv: false }) }, { signal });
        return { result, worker: p };
      } catch (error) {
        if (!isWorkerFailure(error) || error.kind === 'aborted') throw error;
        if (error.kind === 'rejected') {
          // The worker judged the request itself (too long for its KV, malformed): no other worker will differ.
          throw new RouterError(error.status === 413 ? 'context_length_exceeded' : 'upstream_failed', `prefill refused: ${error.message}`);
        }
        tried.add(p);
        last = error;
        if (error.kind === 'handed-back') {
          this.fleet.markDraining(p);
          this.metrics.countRetry('prefill_handed_back');
          if (--budget.handBacks < 0) throw new RouterError('upstream_failed', `handed back too many times; last: ${error.message}`);
        } else {
          if (error.kind === 'unreachable') this.fleet.markUnreachable(p);
          this.metrics.countRetry('prefill_failed');
          if (++failures > this.limits.prefillRetries) throw new RouterError('upstream_failed', `prefill failed on ${failures} workers; last: ${error.message}`);
        }
      } finally {
        waited.seconds += this.clock.nowSeconds() - callStart;
        this.fleet.endPrefill(p, n);
        this.metrics.inFlightPrefill.dec();
      }
    }
  }

  /** Index of the worker the shared scheduler chooses, or −1 when none is eligible. */
  private pick(role: 'prefill' | 'decode', promptTokens: number, excluded: ReadonlySet<number>): number {
    this.fleet.prepare(role, excluded);
    try {
      return role === 'prefill'
        ? this.schedulers.prefill.pick(this.fleet.prefill, { promptTokens }, this.clock.nowSeconds())
        : this.schedulers.decode.pick(this.fleet.decode, { promptTokens }, this.clock.nowSeconds());
    } catch (error) {
      if (error instanceof NoEligibleInstanceError) return -1;
      throw error;
    }
  }

  /** Frees a KV handle nobody will pull, in the background; a failure only means the worker's TTL frees it later. */
  private release(worker: number, kvUrl: string): void {
    // Empty: the prefill was asked not to retain its KV (retainKv: false), so there is nothing to free.
    if (!kvUrl) return;
    this.fleet.workers[worker]!.client.releaseKv(kvUrl).catch(() => undefined);
  }
}
