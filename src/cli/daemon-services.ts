// The daemon's control services wired from the config: store, controller
// service and its timer, background jobs, admin API with the daemon's
// /metrics. `pdpilot up` builds the fleet and the router, then calls
// `startDaemonServices` with the workers (as ObservedWorkers), the load
// meter and controller metrics the router feeds, and the router's flip
// listener; `stop` ends them in reverse order and closes the store.
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { buildApp } from '../api/app.js';
import { ControllerService, type PolicyFactory } from '../control/controller-service.js';
import type { FlipListener, WallClock } from '../control/flip-executor.js';
import { IntervalLoadMeter } from '../control/interval-load-meter.js';
import type { ObservedWorker } from '../control/live-fleet-observer.js';
import type { SafetyConfig } from '../control/safety.js';
import type { PdpilotConfig } from '../config/index.js';
import { JOB_OFF, SIMULATION_ONLY_POLICIES } from '../config/schema.js';
import { InputError } from '../domain/errors.js';
import type { Role } from '../domain/role.js';
import { EngineObservedWorker } from '../fleet/adapters/engine-worker.js';
import { NativeObservedWorker } from '../fleet/adapters/native-worker.js';
import type { WorkerClient } from '../fleet/worker-client.js';
import { createForecaster } from '../forecast/create-forecaster.js';
import { SystemClock, type Clock } from '../lib/clock.js';
import type { Profile } from '../perf/profile.js';
import { createPolicy } from '../policy/registry.js';
import { ControllerLoop } from '../jobs/controller-loop.js';
import { scheduleJobs, type ScheduledJobs } from '../jobs/cron-jobs.js';
import { compactAndRetain, previousUtcDay, refitForecaster, writeDailySummary } from '../jobs/maintenance.js';
import { LowdbStore } from '../store/lowdb-store.js';
import type { RetentionPolicy, Store } from '../store/store.js';
import { ControllerMetrics, registerProcessMetrics } from '../telemetry/controller-metrics.js';
import type { Logger } from '../telemetry/logger.js';

/** The forecaster the daemon starts with, until the first refit picks one from the history. */
const INITIAL_FORECASTER = 'holt';

export interface DaemonServicesInput {
  config: PdpilotConfig;
  profile: Profile;
  /** The fleet as the controller sees it; see `observedWorkers`. */
  workers: readonly ObservedWorker[];
  log: Logger;
  /** Where the router reports arrivals and outcomes; one is made if not given. */
  meter?: IntervalLoadMeter;
  /** The daemon's metrics (the router also reports request outcomes to them); made if not given, see `controllerMetrics`. */
  metrics?: ControllerMetrics;
  /** Told when each flip starts and ends (the router's fleet view). */
  onFlip?: FlipListener;
  /** Tests inject these; live they are the system clocks. */
  clock?: Clock;
  wallClock?: WallClock;
  /** Listen on config.admin.host:port (default true); false builds the app for inject only. */
  listen?: boolean;
}

export interface DaemonServices {
  store: Store;
  service: ControllerService;
  meter: IntervalLoadMeter;
  metrics: ControllerMetrics;
  app: FastifyInstance;
  jobs: ScheduledJobs;
  /** The admin API's address, when listening. */
  url?: string;
  /** Stops the loop and the jobs, closes the API, waits for flips in progress, closes the store. */
  stop(): Promise<void>;
}

export const systemWallClock: WallClock = { nowIso: () => new Date().toISOString() };

/**
 * The controller's view of each worker: native workers through their
 * WorkerClient (worker protocol), vLLM and SGLang servers of a static fleet
 * through their Prometheus metrics. `clients` are the native workers' clients
 * (the router's, so connections are shared).
 */
export function observedWorkers(config: PdpilotConfig, clients: readonly WorkerClient[]): ObservedWorker[] {
  const native = clients.map((c) => new NativeObservedWorker(c));
  if (config.fleet.mode === 'local') return native;
  const engines = config.fleet.urls.flatMap((w) => {
    if (w.kind === 'native') return [];
    const role: Role | undefined = w.role;
    if (!role) throw new InputError(`fleet.urls (${w.url})`, `a ${w.kind} worker must state its role`);
    return [new EngineObservedWorker({ engine: w.kind, url: w.url, role, timeoutSeconds: config.fleet.scrapeTimeoutSeconds })];
  });
  return [...native, ...engines];
}

/** The daemon's metrics in a fresh registry with the process metrics (docs/metrics.md, "Wiring the daemon"). */
export function controllerMetrics(config: PdpilotConfig, workerIds: readonly string[], clock: Clock): ControllerMetrics {
  const registry = new Registry();
  registerProcessMetrics(registry);
  return new ControllerMetrics({ registry, workers: workerIds, slo: config.slo, clock });
}

/** Config keys → the controller's safety knobs (docs/controller.md has the table). */
export function safetyFromConfig(config: PdpilotConfig, poolSize: number): Partial<SafetyConfig> {
  const c = config.controller;
  return {
    minPrefillInstances: c.minPerRole.prefill,
    minDecodeInstances: c.minPerRole.decode,
    maxFlipsPerInterval: c.maxFlipsPerInterval,
    cooldownSeconds: c.cooldownSeconds,
    stabilisationWindowSeconds: c.stabilizationWindowSeconds,
    // The config's band is a fraction of the pool (HPA's tolerance); the controller counts instances.
    toleranceInstances: Math.floor(c.toleranceBand * poolSize),
    maxSnapshotAgeSeconds: c.staleAfterSeconds,
  };
}

export function retentionFromConfig(config: PdpilotConfig): Partial<RetentionPolicy> {
  const r = config.store.retention;
  const day = 86_400;
  return {
    decisionsMaxAgeSeconds: r.decisionsDays * day,
    flipsMaxAgeSeconds: r.decisionsDays * day,
    historyMaxAgeSeconds: r.historyDays * day,
    historyCompactAfterSeconds: r.compactAfterHours * 3600,
    historyBucketSeconds: r.compactedBucketSeconds,
  };
}

export async function startDaemonServices(input: DaemonServicesInput): Promise<DaemonServices> {
  const { config, log } = input;
  const clock = input.clock ?? new SystemClock();
  const wallClock = input.wallClock ?? systemWallClock;
  const slo = config.slo;
  const meter = input.meter ?? new IntervalLoadMeter(slo, clock.nowSeconds());
  const metrics = input.metrics ?? controllerMetrics(config, input.workers.map((w) => w.id), clock);
  const readText = (path: string) => readFileSync(path, 'utf8');
  const livePolicy: PolicyFactory = (name, params) => {
    if ((SIMULATION_ONLY_POLICIES as readonly string[]).includes(name)) throw new InputError('policy', `${name} runs only in the simulator`);
    return createPolicy(name, params, readText);
  };
  const store = await LowdbStore.open(config.store.path);
  const service = new ControllerService({
    clock,
    wallClock,
    store,
    workers: input.workers,
    load: meter,
    policy: { name: config.policy.file ?? config.policy.name ?? 'pdpilot', params: config.policy.params },
    createPolicy: livePolicy,
    forecaster: createForecaster(INITIAL_FORECASTER),
    profile: input.profile,
    slo,
    intervalSeconds: config.controller.intervalSeconds,
    safety: safetyFromConfig(config, input.workers.length),
    drainTimeoutSeconds: config.controller.drainTimeoutSeconds,
    advisory: config.controller.advisory,
    onError: (message) => log.warn(message),
    ...(input.onFlip ? { onFlip: input.onFlip } : {}),
  });
  const stopStore = async () => store.close();
  try {
    await service.start();
  } catch (error) {
    await stopStore();
    throw error;
  }
  for (const r of service.status().recovered) log.info(r, 'recovered an unfinished flip');

  const recordObservation = () => {
    const last = service.observer.last;
    if (!last) return;
    metrics.recordSnapshot({ atSeconds: last.atSeconds, workers: last.workers.map((w) => w.snapshot) });
    for (const w of last.workers) if (w.error !== undefined) metrics.recordScrapeError(w.snapshot.id);
  };
  const loop = new ControllerLoop({
    clock,
    intervalSeconds: config.controller.intervalSeconds,
    tick: async () => {
      const startedAt = clock.nowSeconds();
      // The observation is recorded even when the policy failed: the fleet was seen either way.
      const decision = await service.tick().finally(recordObservation);
      metrics.recordDecision(decision, clock.nowSeconds() - startedAt);
      log.info({ status: decision.status, reason: decision.reason.code, target: decision.target, applied: decision.applied.length, held: decision.held.length }, 'reconciled');
      for (const a of decision.applied) log.info({ worker: a.change.workerId, from: a.change.from, to: a.change.to, reason: a.change.reason.code, outcome: a.outcome, message: a.message }, 'flip');
      return decision;
    },
    onError: (error) => log.error({ err: error }, 'reconcile failed; retrying next interval'),
  });
  const expression = (e: string) => (e === JOB_OFF ? {} : { expression: e });
  const jobs = scheduleJobs(
    [
      {
        name: 'refit',
        ...expression(config.jobs.refit),
        run: async () => {
          const samples = service.onControllerClock(await store.history());
          const result = await refitForecaster({ store, samples, nowIso: wallClock.nowIso(), current: service.status().forecaster });
          if (result) service.replaceForecaster(result.forecaster);
          return result?.chosen;
        },
      },
      { name: 'compaction', ...expression(config.jobs.compaction), run: () => compactAndRetain(store, wallClock.nowIso(), retentionFromConfig(config)) },
      { name: 'dailySummary', ...expression(config.jobs.dailySummary), run: () => writeDailySummary(store, previousUtcDay(wallClock.nowIso()), wallClock.nowIso()) },
    ],
    { ...(config.jobs.timezone ? { timezone: config.jobs.timezone } : {}), onError: (job, error) => log.error({ err: error, job }, 'job failed') },
  );
  const app = await buildApp({
    service,
    store,
    tokens: config.admin.tokens.flatMap((t) => (t.token === undefined ? [] : [{ name: t.name, token: t.token, scope: t.scope }])),
    wallClock,
    profile: input.profile,
    slo,
    createSimPolicy: (name, params) => createPolicy(name, params),
  });
  // Prometheus scrapes without a token (the admin port binds to loopback by default). The router's metrics
  // stay on the router's own /metrics only: docs/metrics.md scrapes the two as separate jobs, and serving
  // them here as well would count every router series twice in the dashboards' sums. Flags are read at
  // scrape time: the API changes them between reconciles.
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    metrics.recordControllerState(service.status());
    return reply.header('content-type', metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  let url: string | undefined;
  if (input.listen !== false) {
    try {
      url = await app.listen({ host: config.admin.host, port: config.admin.port });
    } catch (error) {
      await jobs.stop();
      await stopStore();
      throw error;
    }
  }
  loop.start();
  return {
    store,
    service,
    meter,
    metrics,
    app,
    jobs,
    ...(url ? { url } : {}),
    async stop() {
      await loop.stop();
      await jobs.stop();
      await app.close();
      // A flip in progress finishes (or fails) and is recorded before the store closes; an unfinished one is resumed at the next start.
      await service.idle();
      await store.close();
    },
  };
}
