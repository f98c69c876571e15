// The worker host's state machine around the engine: role and status, the
// requests in flight (so a role switch can drain them or hand them back), the
// KV handles waiting to be pulled, and the role switch itself.
//
// Status: starting → ready ⇄ (draining → switching → ready).
// A role switch: stop admitting (new work gets 503 draining, retryable); hand
// back every admitted request that has not produced output yet (it is
// cancelled in the engine and its caller gets 503 draining, retryable); let
// the ones already producing finish, and let decode workers pull the KV
// handles still held, up to the drain timeout — after it, what is left is
// handed back too and held KV is released; then switch. The weights and the
// KV storage stay allocated; the switch itself only checks the cache is empty
// and consistent and flips the role, so it takes well under 100 ms.
import { randomBytes } from 'node:crypto';
import type { Role } from '../domain/role.js';
import type { WorkerEngine } from './engine.js';
import { WorkerError } from './errors.js';
import type { WorkerMetrics } from './metrics.js';
import type { WorkerOptions } from './options.js';

export type HostStatus = 'starting' | 'ready' | 'draining' | 'switching';

/** One admitted request, as the drain sees it. */
export interface Tracked {
  engineId: number | undefined;
  /** True once the request has produced output (a first token, a streamed token). */
  started: boolean;
  /** Set when the request was handed back; its route answers 503 draining. */
  handedBack: boolean;
}

interface HeldKv {
  engineId: number;
  tokens: number;
  accountedBytes: number;
  timer: NodeJS.Timeout;
}

export interface SwitchResult {
  role: Role;
  previousRole: Role;
  changed: boolean;
  drainSeconds: number;
  switchSeconds: number;
  handedBack: number;
  releasedKvHandles: number;
}

const now = () => performance.now() / 1000;

export class WorkerHost {
  role: Role;
  status: HostStatus = 'starting';
  lastSwitch: { drainSeconds: number; switchSeconds: number; role: Role } | undefined;
  private readonly tracked = new Set<Tracked>();
  private readonly held = new Map<string, HeldKv>();
  private idleWaiters: (() => void)[] = [];

  constructor(
    readonly engine: WorkerEngine,
    readonly options: WorkerOptions,
    readonly metrics: WorkerMetrics,
  ) {
    this.role = options.role;
  }

  markReady(): void {
    this.status = 'ready';
  }

  /** Throws the retryable 503 or the 409 that a request meeting this worker now should get. */
  admit(role: Role | 'any'): void {
    if (this.status === 'starting') throw new WorkerError('starting', 'worker is starting');
    if (this.status !== 'ready') throw new WorkerError('draining', `worker is ${this.status} for a role switch; retry on another worker`);
    if (role !== 'any' && role !== this.role) throw new WorkerError('wrong_role', `this worker serves ${this.role}, not ${role}`);
  }

  track(): Tracked {
    const t: Tracked = { engineId: undefined, started: false, handedBack: false };
    this.tracked.add(t);
    return t;
  }

  untrack(t: Tracked): void {
    this.tracked.delete(t);
    this.checkIdle();
  }

  get inFlight(): number {
    return this.tracked.size;
  }

  get heldHandles(): number {
    return this.held.size;
  }

  /** Registers a prefill's KV under a fresh handle, released after `kvTtlSeconds` if nobody pulls it. */
  holdKv(engineId: number, tokens: number, accountedBytes: number): string {
    const handle = randomBytes(12).toString('hex');
    const timer = setTimeout(() => this.releaseKv(handle), this.options.kvTtlSeconds * 1000);
    timer.unref();
    this.held.set(handle, { engineId, tokens, accountedBytes, timer });
    return handle;
  }

  /** Takes the KV of `handle` out of the engine; the handle is spent either way. */
  async takeKv(handle: string): Promise<{ blob: Buffer; tokens: number; accountedBytes: number }> {
    const h = this.held.get(handle);
    if (!h) throw new WorkerError('kv_not_found', `no KV handle ${handle} here (never issued, already pulled, or expired)`);
    this.held.delete(handle);
    clearTimeout(h.timer);
    try {
      const blob = await this.engine.kvTake(h.engineId);
      this.metrics.countKvBytes('out', h.accountedBytes);
      return { blob, tokens: h.tokens, accountedBytes: h.accountedBytes };
    } catch (error) {
      throw new WorkerError('kv_not_found', `KV handle ${handle}: ${(error as Error).message}`);
    } finally {
      this.checkIdle();
    }
  }

  private releaseKv(handle: string): boolean {
    const h = this.held.get(handle);
    if (!h) return false;
    this.held.delete(handle);
    clearTimeout(h.timer);
    this.engine.kvRelease(h.engineId);
    this.checkIdle();
    return true;
  }

  private checkIdle(): void {
    if (this.tracked.size === 0 && this.held.size === 0 && this.idleWaiters.length) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private waitIdle(timeoutSeconds: number): Promise<boolean> {
    if (this.tracked.size === 0 && this.held.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutSeconds * 1000);
      const done = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.idleWaiters.push(done);
    });
  }

  private handBack(t: Tracked): boolean {
    if (t.handedBack) return false;
    t.handedBack = true;
    if (t.engineId !== undefined) this.engine.cancel(t.engineId);
    return true;
  }

  async switchRole(target: Role, drainTimeoutSeconds = this.options.drainTimeoutSeconds): Promise<SwitchResult> {
    if (this.status === 'draining' || this.status === 'switching') {
      throw new WorkerError('switch_in_progress', `a role switch is already in progress (status ${this.status})`);
    }
    if (this.status === 'starting') throw new WorkerError('starting', 'worker is starting');
    const previousRole = this.role;
    if (target === previousRole) {
      return { role: target, previousRole, changed: false, drainSeconds: 0, switchSeconds: 0, handedBack: 0, releasedKvHandles: 0 };
    }
    const t0 = now();
    this.status = 'draining';
    let handedBack = 0;
    let releasedKvHandles = 0;
    try {
      // Work that has produced nothing yet goes back to its caller at once: it would only lengthen the drain.
      for (const t of this.tracked) if (!t.started && this.handBack(t)) handedBack++;
      if (!(await this.waitIdle(drainTimeoutSeconds))) {
        for (const t of this.tracked) if (this.handBack(t)) handedBack++;
        for (const handle of [...this.held.keys()]) if (this.releaseKv(handle)) releasedKvHandles++;
        // Cancellations complete within one engine step; bound the wait anyway.
        await this.waitIdle(10);
      }
      const t1 = now();
      this.status = 'switching';
      // The new role starts with the whole cache: nothing may be left behind.
      const stats = this.engine.stats();
      const problem = this.engine.checkKv();
      if (problem || stats.kvUsedBlocks !== 0) {
        throw new Error(`KV cache not empty after drain (${stats.kvUsedBlocks} blocks used${problem ? `; ${problem}` : ''})`);
      }
      this.role = target;
      this.metrics.setRole(target);
      const t2 = now();
      const result = { role: target, previousRole, changed: true, drainSeconds: t1 - t0, switchSeconds: t2 - t1, handedBack, releasedKvHandles };
      this.lastSwitch = { drainSeconds: result.drainSeconds, switchSeconds: result.switchSeconds, role: target };
      this.metrics.observeSwitch(result.drainSeconds, result.switchSeconds);
      return result;
    } finally {
      this.status = 'ready';
    }
  }

  async close(): Promise<void> {
    for (const handle of [...this.held.keys()]) this.releaseKv(handle);
    this.engine.close();
  }
}
