// `pdpilot up`, the daemon's composition root: the fleet, the router in
// front of it, and the control services (controller loop, jobs, admin API,
// /metrics) behind it, wired to each other and stopped in order on
// SIGINT/SIGTERM. The parts live elsewhere; this file only connects them.
import { readdirSync } from 'node:fs';
import type { Command } from 'commander';
import { loadConfig, type PdpilotConfig } from '../../config/index.js';
import { UsageError } from '../../domain/errors.js';
import type { Role } from '../../domain/role.js';
import { LocalFleet, type LocalWorkerSpec } from '../../fleet/local-fleet.js';
import { NativeWorkerClient } from '../../fleet/native-worker-client.js';
import type { WorkerClient } from '../../fleet/worker-client.js';
import { SystemClock } from '../../lib/clock.js';
import { loadProfile } from '../../perf/profile.js';
import { Router } from '../../router/router.js';
import { rolesAfterFlips } from '../../store/last-roles.js';
import { StoreFile } from '../../store/lowdb-store.js';
import { registerProcessMetrics } from '../../telemetry/controller-metrics.js';
import { createLogger, type Logger } from '../../telemetry/logger.js';
import { ControlThread } from '../control-thread.js';
import { action } from '../run.js';

/** Prefill batch budget of local workers; the router's length-aware scorer prices queues with the same figure. */
const PREFILL_TOKEN_BUDGET = 4096;

export function registerUp(program: Command): void {
  program
    .command('up')
    .description(
      'start pdpilot: a local fleet of workers (or a static one), the OpenAI-compatible router, the controller, its jobs and the admin API with /metrics; stop with SIGINT/SIGTERM',
    )
    .option('--config <file>', 'config file', 'config.example.json')
    .option('--dry-run', 'decide and record every decision but never flip a worker (sets controller.advisory)')
    .action(
      action(async (flags: { config: string; dryRun?: boolean }) => {
        const { config, warnings } = await loadConfig(flags.config);
        const log = createLogger(config.telemetry.logLevel);
        for (const w of warnings) log.warn({ where: w.where }, w.message);
        if (flags.dryRun) config.controller.advisory = true;
        return up(config, log);
      }),
    );
}

/** Local worker specs: the configured split, except workers whose recorded flips left them in another role. */
function localSpecs(config: PdpilotConfig, flipped: ReadonlyMap<string, Role>): LocalWorkerSpec[] {
  const { fleet } = config;
  const prefill = fleet.initialPrefill ?? Math.floor(fleet.workers / 2);
  return Array.from({ length: fleet.workers }, (_, i) => ({
    role: flipped.get(`w${i}`) ?? (i < prefill ? 'prefill' : 'decode'),
    backend: fleet.backend,
    host: fleet.host,
    port: fleet.basePort + i,
    ...(fleet.backend === 'sim' ? { profile: fleet.profile } : {}),
    workerId: `w${i}`,
    extraArgs: ['--prefill-token-budget', String(PREFILL_TOKEN_BUDGET)],
  }));
}

/**
 * Why no GPU is visible to a worker started from here, or undefined when
 * one is: CUDA_VISIBLE_DEVICES set to nothing hides every device, and
 * without an NVIDIA device node there is no driver to reach one.
 */
function noVisibleGpu(): string | undefined {
  const visible = process.env.CUDA_VISIBLE_DEVICES;
  if (visible !== undefined && ['', '-1', 'NoDevFiles'].includes(visible.trim())) return `CUDA_VISIBLE_DEVICES is "${visible}"`;
  let nodes: string[];
  try {
    nodes = readdirSync('/dev').filter((n) => /^nvidia\d+$/.test(n));
  } catch {
    nodes = [];
  }
  return nodes.length === 0 ? 'no /dev/nvidia* device (no NVIDIA driver or GPU on this machine)' : undefined;
}

/** The roles recorded flips left each worker in (none when the store does not exist yet). */
async function rolesInStore(path: string): Promise<Map<string, Role>> {
  const document = await new StoreFile(path).read();
  return document ? rolesAfterFlips(document.flips) : new Map();
}

interface Fleet {
  clients: WorkerClient[];
  /** Tells a local fleet a worker's role after a flip, so a restart after a crash keeps it. */
  noteRole(workerId: string, role: Role): void;
  stop(): Promise<void>;
}

async function startFleet(config: PdpilotConfig, log: Logger): Promise<Fleet> {
  if (config.fleet.mode === 'static') {
    const foreign = config.fleet.urls.find((w) => w.kind !== 'native');
    if (foreign) throw new UsageError(`fleet.urls: ${foreign.url} is a ${foreign.kind} worker; the router carries requests through native workers only so far`);
    const clients = config.fleet.urls.map((w) => new NativeWorkerClient(w.url, { controlTimeoutSeconds: config.fleet.scrapeTimeoutSeconds }));
    return { clients, noteRole: () => undefined, stop: async () => void (await Promise.all(clients.map((c) => c.close()))) };
  }
  if (config.fleet.backend === 'cuda') {
    const why = noVisibleGpu();
    // The config has no key that allows running on another backend instead: a fleet asked to run on GPUs that
    // silently ran on the simulator would report made-up latencies as measured ones.
    if (why) throw new UsageError(`fleet.backend is "cuda" but no GPU is visible: ${why}. Set fleet.backend to "sim" (or "cpu") to run without one.`);
  }
  // A restart brings the workers back in the roles their flips left them in. The store is read here, before any
  // worker starts, so a file the control plane could not open stops the daemon before it has spawned anything.
  const flipped = await rolesInStore(config.store.path);
  for (const [worker, role] of flipped) log.info({ worker, role }, 'restoring the role the last flip left this worker in');
  const fleet = new LocalFleet(localSpecs(config, flipped), {
    log: (line) => log.warn(line),
    restart: config.fleet.restart,
    onEvent: (event) => (event.kind === 'restarted' ? log.info(event, 'worker restarted') : log.error(event, `worker ${event.kind}`)),
  });
  log.info({ workers: config.fleet.workers, prefill: config.fleet.initialPrefill, backend: config.fleet.backend }, 'starting local workers');
  await fleet.start();
  for (const w of fleet.workers) log.info({ worker: w.spec.workerId, role: w.spec.role, url: w.url, pid: w.process.pid }, 'worker ready');
  const clients = fleet.workers.map((w) => new NativeWorkerClient(w.url, { id: w.spec.workerId ?? w.url, controlTimeoutSeconds: config.fleet.scrapeTimeoutSeconds }));
  return {
    clients,
    noteRole: (workerId, role) => fleet.noteRole(workerId, role),
    async stop() {
      await Promise.all(clients.map((c) => c.close()));
      log.info('stopping workers');
      await fleet.stop();
    },
  };
}

async function up(config: PdpilotConfig, log: Logger): Promise<number> {
  // Listen for the stop signal from the start: one that arrives while workers start is acted on once they have.
  const stopSignal = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  const profile = await loadProfile(config.fleet.profile);
  const clock = new SystemClock();
  const fleet = await startFleet(config, log);

  let router: Router | undefined;
  // Request reports go to the control thread (its interval meter and SLO metrics) once it runs; until then
  // they are dropped, so the router, which the thread's start-up does not need, can come first.
  let control: ControlThread | undefined;
  try {
    const r = config.router;
    const created = await Router.create(fleet.clients, {
      settings: { model: r.model, maxTokens: r.maxTokens, contextTokens: r.contextTokens, requestTimeoutSeconds: r.requestTimeoutSeconds },
      maxQueue: r.maxQueue,
      weights: r.scorers,
      prefillMs: profile.prefillMs,
      prefillTokenBudget: PREFILL_TOKEN_BUDGET,
      policy: config.policy.name ?? 'file',
      clock,
      listener: {
        admitted: (request) => control?.admitted(request),
        served: (outcome) => control?.served(outcome),
        failed: () => control?.failed(),
      },
    });
    router = created;
    // The router's own event loop, heap and GC (this thread's), beside its request metrics on its port; the
    // daemon's pdpilot_nodejs_* on the admin port describe the control thread.
    registerProcessMetrics(router.metrics.registry, 'pdpilot_router_');
    const url = await router.listen(r.host, r.port);
    log.info({ url, model: r.model, prefill: router.fleet.countAccepting('prefill'), decode: router.fleet.countAccepting('decode') }, 'router listening (OpenAI-compatible: /v1/completions, /v1/chat/completions, /v1/models; /metrics)');
    // The controller, its store, jobs and admin API run on a thread of their own (control-thread.ts says why).
    control = await ControlThread.start(
      { config, profile, workers: fleet.clients.map((c) => ({ id: c.id, url: c.url })) },
      {
        log,
        // The router stops choosing a worker as soon as its flip starts, instead of at its next poll.
        onFlipStarted: (workerId) => created.fleet.flipStarted(workerId),
        onFlipFinished: (workerId, to, state) => {
          if (state === 'done') fleet.noteRole(workerId, to);
          void created.fleet.flipFinished(workerId);
        },
      },
    );
  } catch (error) {
    await router?.close(0);
    await fleet.stop();
    throw error;
  }

  const signal = await stopSignal;
  // Stop admitting at once (new requests get 503); requests already admitted may run to their own time bound.
  const bound = config.router.requestTimeoutSeconds;
  log.info({ signal, inFlight: router.admission.inFlight, boundSeconds: bound }, 'stopping: no new requests; finishing those in flight');
  const drained = await router.close(bound);
  if (!drained) log.warn('in-flight requests did not finish in time; closed them');
  // The controller stops after the router: the last requests' outcomes still reach the meter, and a flip
  // in progress finishes and is recorded before the store closes (an unfinished one resumes at the next start).
  log.info('stopping the controller, jobs and admin API; saving state');
  await control?.stop();
  await fleet.stop();
  log.info('stopped');
  return 0;
}
