import type { Clock } from '../lib/clock.js';

/**
 * The timer that drives the live controller. control/ holds no timers (the
 * simulator drives the same code on a virtual clock), so this loop calls
 * one reconcile, sleeps until the `nextAtSeconds` it returned (Karpenter's
 * "requeue after") and repeats. A failed reconcile is reported and retried
 * one interval later; reconciles never overlap.
 */
export class ControllerLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;

  constructor(
    private readonly deps: {
      clock: Clock;
      tick: () => Promise<{ nextAtSeconds: number }>;
      intervalSeconds: number;
      onError: (error: unknown) => void;
    },
  ) {}

  /** Starts with a reconcile one interval from now: the first interval's load has to be measured before it is decided on. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(this.deps.clock.nowSeconds() + this.deps.intervalSeconds);
  }

  /** Cancels the next reconcile and waits for one in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private schedule(atSeconds: number): void {
    if (this.stopped) return;
    const delayMs = Math.max(0, (atSeconds - this.deps.clock.nowSeconds()) * 1000);
    this.timer = setTimeout(() => {
      this.running = this.runOnce().finally(() => (this.running = undefined));
    }, delayMs);
  }

  private async runOnce(): Promise<void> {
    let next = this.deps.clock.nowSeconds() + this.deps.intervalSeconds;
    try {
      next = (await this.deps.tick()).nextAtSeconds;
    } catch (error) {
      this.deps.onError(error);
    }
    this.schedule(next);
  }
}
