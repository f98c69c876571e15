// Admission control: the router's bounded queue. A request is "queued" from
// admission until its first token (it is waiting for a prefill worker, at the
// router or in a worker's queue); past `maxQueue` of those, new requests are
// refused with 429 at once rather than left to time out, so a client or a
// load balancer can back off. The in-flight count (queued or streaming)
// serves the graceful stop: stop admitting, then wait for it to reach zero.
import { RouterError } from './errors.js';
import type { RouterMetrics } from './metrics.js';

export class Admission {
  private queued = 0;
  private active = 0;
  private closing = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly maxQueue: number,
    private readonly metrics: RouterMetrics,
  ) {}

  /** Admits a request or throws the 429/503 it should get. Pair with firstToken() and finish(). */
  admit(): void {
    if (this.closing) throw new RouterError('shutting_down', 'the router is shutting down', null, 1);
    if (this.queued >= this.maxQueue) {
      throw new RouterError('queue_full', `the router already has ${this.queued} requests waiting for a first token (router.maxQueue); retry later`, null, 1);
    }
    this.queued++;
    this.active++;
    this.metrics.queueDepth.set(this.queued);
  }

  /** The request got its first token, or ended before one: it leaves the queue. Call once per admitted request. */
  leaveQueue(): void {
    this.queued--;
    this.metrics.queueDepth.set(this.queued);
  }

  finish(): void {
    this.active--;
    if (this.active === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  get inFlight(): number {
    return this.active;
  }

  /** Stops admitting and resolves true when every admitted request has finished, or false after `timeoutSeconds`. */
  drain(timeoutSeconds: number): Promise<boolean> {
    this.closing = true;
    if (this.active === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutSeconds * 1000);
      this.idleWaiters.push(done);
    });
  }
}
