// The daemon's control plane on a thread of its own. `pdpilot up` keeps the
// router (the data plane) on the main thread and runs the controller, its
// store, the jobs and the admin API with the daemon's /metrics on a worker
// thread (control-thread-entry.ts), so nothing the control plane does
// synchronously stalls a request in flight: the interval's percentiles, a
// policy's decide(), the store's JSON serialisation, a what-if simulation or
// a forecaster refit asked for on the admin API, and the garbage collection
// of all that in a heap of its own. On one event loop, what-if simulations
// run back to back on the admin API took the router from p99 4 ms to
// 0.4–1 s at 1,000 req/s; on this thread, to 15 ms (docs/router-api.md,
// "Overhead").
//
// What crosses the thread boundary, and nothing else:
// - main → control: the router's request reports (RequestListener), batched
//   every few ms into two Float64Arrays, for the interval load meter and the
//   SLO metrics; and `stop`;
// - control → main: `ready` or `start-failed`, each flip's start and end (for
//   the router's fleet view and the local fleet's restart roles), `stopped`.
//
// A control thread that dies after it was ready is logged and started again
// (it resumes unfinished flips from the store, as after a daemon restart);
// the router goes on serving with the fleet's roles as they are meanwhile.
import { Worker } from 'node:worker_threads';
import type { PdpilotConfig } from '../config/index.js';
import type { FlipState } from '../store/store.js';
import { UsageError } from '../domain/errors.js';
import type { Role } from '../domain/role.js';
import type { Profile } from '../perf/profile.js';
import type { RequestListener } from '../router/app.js';
import type { Logger } from '../telemetry/logger.js';

export interface ControlThreadInit {
  config: PdpilotConfig;
  profile: Profile;
  /** The native workers, as the router's clients name them. */
  workers: { id: string; url: string }[];
}

/** Main → control thread. */
export type ToControl =
  | {
      type: 'requests';
      /** Admitted requests: input tokens, output tokens asked for; a pair each. */
      arrivals: Float64Array;
      /** Served requests: TTFT and TPOT in seconds; a pair each. */
      outcomes: Float64Array;
      /** Admitted requests that failed. */
      failures: number;
    }
  | { type: 'stop' };

/** Control thread → main. */
export type FromControl =
  | { type: 'ready' }
  | { type: 'start-failed'; inputProblem: boolean; message: string }
  | { type: 'flip-started'; workerId: string }
  | { type: 'flip-finished'; workerId: string; to: Role; state: FlipState }
  | { type: 'stopped' };

export interface ControlThreadHooks {
  log: Logger;
  onFlipStarted(workerId: string): void;
  onFlipFinished(workerId: string, to: Role, state: FlipState): void;
  /** The thread's module; tests point it at a fixture. */
  entry?: URL;
  /** First restart delay after a crash, doubled per failed attempt up to 30 s. */
  restartDelaySeconds?: number;
}

/**
 * How long a request report may wait before it is sent: the meter only
 * needs it within its 30 s interval and the SLO metrics within a scrape,
 * while one message per request would cost the router a thread wake-up
 * per request.
 */
const FLUSH_MS = 20;
const MAX_RESTART_DELAY_SECONDS = 30;

export class ControlThread implements RequestListener {
  private worker: Worker | undefined;
  private arrivals: number[] = [];
  private outcomes: number[] = [];
  private failures = 0;
  private flushTimer: NodeJS.Timeout | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private readonly firstRestartDelaySeconds: number;
  private restartDelaySeconds: number;
  private stopping = false;
  private stopped: (() => void) | undefined;

  private constructor(
    private readonly init: ControlThreadInit,
    private readonly hooks: ControlThreadHooks,
  ) {
    this.firstRestartDelaySeconds = hooks.restartDelaySeconds ?? 1;
    this.restartDelaySeconds = this.firstRestartDelaySeconds;
  }

  /** Starts the thread and resolves once the control plane runs; rejects with its start-up error (a bad store file, a port in use). */
  static async start(init: ControlThreadInit, hooks: ControlThreadHooks): Promise<ControlThread> {
    const thread = new ControlThread(init, hooks);
    await thread.spawn();
    return thread;
  }

  admitted(request: { inputTokens: number; outputTokens: number }): void {
    if (!this.worker) return;
    this.arrivals.push(request.inputTokens, request.outputTokens);
    this.scheduleFlush();
  }

  served(outcome: { ttftSeconds: number; tpotSeconds: number }): void {
    if (!this.worker) return;
    this.outcomes.push(outcome.ttftSeconds, outcome.tpotSeconds);
    this.scheduleFlush();
  }

  failed(): void {
    if (!this.worker) return;
    this.failures++;
    this.scheduleFlush();
  }

  /** Sends the last reports, stops the control plane (it waits for flips in progress and saves the store), and ends the thread. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const worker = this.worker;
    if (!worker) return;
    this.flush();
    const done = new Promise<void>((resolve) => {
      this.stopped = resolve;
      worker.once('exit', () => resolve());
    });
    this.post({ type: 'stop' });
    await done;
    await worker.terminate();
  }

  private spawn(): Promise<void> {
    const worker = new Worker(this.hooks.entry ?? new URL('./control-thread-entry.js', import.meta.url), { workerData: this.init });
    this.worker = worker;
    return new Promise((resolve, reject) => {
      let ready = false;
      worker.on('message', (message: FromControl) => {
        switch (message.type) {
          case 'ready':
            ready = true;
            this.restartDelaySeconds = this.firstRestartDelaySeconds;
            resolve();
            break;
          case 'start-failed':
            // Bad input (the store file, a port) keeps exit code 2 and its one-line message.
            reject(message.inputProblem ? new UsageError(message.message) : new Error(message.message));
            break;
          case 'flip-started':
            this.hooks.onFlipStarted(message.workerId);
            break;
          case 'flip-finished':
            this.hooks.onFlipFinished(message.workerId, message.to, message.state);
            break;
          case 'stopped':
            this.stopped?.();
            break;
        }
      });
      worker.on('error', (error) => {
        this.hooks.log.error({ err: error }, 'the control thread failed');
        if (!ready) reject(error);
      });
      worker.on('exit', (code) => {
        if (this.worker === worker) this.worker = undefined;
        // Reports buffered for a thread that is gone belong to its interval, which is gone with it.
        this.clearReports();
        if (!ready) reject(new Error(`the control thread exited (code ${code}) before it was ready`));
        else if (!this.stopping) this.restartLater(code);
      });
    });
  }

  private restartLater(code: number | null): void {
    const delay = this.restartDelaySeconds;
    this.hooks.log.error({ code, restartInSeconds: delay }, 'the control thread exited; the router goes on with the current roles; restarting it');
    this.restartDelaySeconds = Math.min(MAX_RESTART_DELAY_SECONDS, delay * 2);
    this.restartTimer = setTimeout(() => {
      if (this.stopping) return;
      this.spawn().then(
        () => this.hooks.log.info('the control thread is running again'),
        (error: unknown) => {
          this.hooks.log.error({ err: error }, 'restarting the control thread failed');
          if (!this.stopping) this.restartLater(null);
        },
      );
    }, delay * 1000);
  }

  private scheduleFlush(): void {
    this.flushTimer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  private flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.arrivals.length === 0 && this.outcomes.length === 0 && this.failures === 0) return;
    const arrivals = Float64Array.from(this.arrivals);
    const outcomes = Float64Array.from(this.outcomes);
    this.post({ type: 'requests', arrivals, outcomes, failures: this.failures }, [arrivals.buffer, outcomes.buffer]);
    this.clearReports();
  }

  private clearReports(): void {
    this.arrivals = [];
    this.outcomes = [];
    this.failures = 0;
  }

  private post(message: ToControl, transfer: ArrayBuffer[] = []): void {
    this.worker?.postMessage(message, transfer);
  }
}
