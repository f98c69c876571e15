// The router assembled: fleet view, shared schedulers, request runner,
// admission, metrics and the HTTP app, around WorkerClients chosen by the
// caller (concrete I/O is chosen in cli/, DESIGN.md).
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { SystemClock, type Clock } from '../lib/clock.js';
import type { LatencyCoefficients } from '../perf/profile.js';
import type { WorkerClient } from '../fleet/worker-client.js';
import { Admission } from './admission.js';
import { buildRouterApp, type RequestListener, type RouterSettings } from './app.js';
import { FleetView } from './fleet-view.js';
import { RouterMetrics } from './metrics.js';
import { DEFAULT_LIMITS, RequestRunner, type RunnerLimits } from './request-runner.js';
import { buildSchedulers, type ScorerWeights } from './schedulers.js';
import { encodingForModel, Tokenizer } from './tokenizer.js';

export interface RouterOptions {
  settings: RouterSettings;
  /** Requests waiting for a first token before new ones get 429. */
  maxQueue: number;
  weights: ScorerWeights;
  /** The workers' prefill fit (profile.prefillMs), for the length-aware scorer's cost estimate. */
  prefillMs: LatencyCoefficients;
  /** The workers' prefill batch budget, tokens. */
  prefillTokenBudget: number;
  /** Label of the latency metrics: the controller policy in force. */
  policy: string;
  /** How often worker states are polled, seconds. Default 0.5. */
  pollIntervalSeconds?: number;
  limits?: RunnerLimits;
  /** Told of every admitted request and its outcome (the daemon's load meter and SLO metrics). */
  listener?: RequestListener;
  registry?: Registry;
  clock?: Clock;
  logger?: boolean;
}

export class Router {
  readonly app: FastifyInstance;
  readonly fleet: FleetView;
  readonly admission: Admission;
  readonly metrics: RouterMetrics;

  private constructor(
    clients: readonly WorkerClient[],
    private readonly options: RouterOptions,
  ) {
    const clock = options.clock ?? new SystemClock();
    this.metrics = new RouterMetrics(options.policy, options.registry);
    this.fleet = new FleetView(clients);
    this.admission = new Admission(options.maxQueue, this.metrics);
    const runner = new RequestRunner(
      this.fleet,
      buildSchedulers(options.weights, options.prefillMs, options.prefillTokenBudget),
      clock,
      this.metrics,
      options.limits ?? DEFAULT_LIMITS,
    );
    this.app = buildRouterApp({
      settings: options.settings,
      fleet: this.fleet,
      runner,
      admission: this.admission,
      tokenizer: new Tokenizer(encodingForModel(options.settings.model)),
      metrics: this.metrics,
      clock,
      ...(options.listener ? { listener: options.listener } : {}),
      logger: options.logger ?? false,
    });
  }

  /** Builds the router and polls the workers once, so it knows the fleet before it serves. */
  static async create(clients: readonly WorkerClient[], options: RouterOptions): Promise<Router> {
    const router = new Router(clients, options);
    await router.fleet.refresh();
    router.fleet.start(options.pollIntervalSeconds ?? 0.5);
    return router;
  }

  /** Listens and returns the base URL. */
  async listen(host: string, port: number): Promise<string> {
    await this.app.listen({ host, port });
    const address = this.app.server.address();
    const bound = typeof address === 'object' && address ? address.port : port;
    return `http://${host.includes(':') ? `[${host}]` : host}:${bound}`;
  }

  /**
   * Graceful stop: refuse new requests (503), let the admitted ones finish
   * for up to `drainSeconds`, then close the server (cutting what is left).
   * Resolves whether everything finished in time.
   */
  async close(drainSeconds: number): Promise<boolean> {
    const drained = await this.admission.drain(drainSeconds);
    this.fleet.stop();
    await this.app.close();
    return drained;
  }
}
