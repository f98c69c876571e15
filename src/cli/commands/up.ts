import type { Command } from 'commander';
import { loadConfig, type PdpilotConfig } from '../../config/index.js';
import { UsageError } from '../../domain/errors.js';
import { LocalFleet, type LocalWorkerSpec } from '../../fleet/local-fleet.js';
import { NativeWorkerClient } from '../../fleet/native-worker-client.js';
import type { WorkerClient } from '../../fleet/worker-client.js';
import { loadProfile } from '../../perf/profile.js';
import { Router } from '../../router/router.js';
import { createLogger, type Logger } from '../../telemetry/logger.js';
import { action } from '../run.js';

/** Prefill batch budget of local workers; the router's length-aware scorer prices queues with the same figure. */
const PREFILL_TOKEN_BUDGET = 4096;

export function registerUp(program: Command): void {
  program
    .command('up')
    .description('start pdpilot: a local fleet of workers (or a static one) and the OpenAI-compatible router; stop with SIGINT/SIGTERM')
    .option('--config <file>', 'config file', 'config.example.json')
    .action(
      action(async (flags: { config: string }) => {
        const { config, warnings } = await loadConfig(flags.config);
        const log = createLogger(config.telemetry.logLevel);
        for (const w of warnings) log.warn({ where: w.where }, w.message);
        return up(config, log);
      }),
    );
}

function localSpecs(config: PdpilotConfig): LocalWorkerSpec[] {
  const { fleet } = config;
  const prefill = fleet.initialPrefill ?? Math.floor(fleet.workers / 2);
  return Array.from({ length: fleet.workers }, (_, i) => ({
    role: i < prefill ? 'prefill' : 'decode',
    backend: fleet.backend,
    host: fleet.host,
    port: fleet.basePort + i,
    ...(fleet.backend === 'sim' ? { profile: fleet.profile } : {}),
    workerId: `w${i}`,
    extraArgs: ['--prefill-token-budget', String(PREFILL_TOKEN_BUDGET)],
  }));
}

async function up(config: PdpilotConfig, log: Logger): Promise<number> {
  // Listen for the stop signal from the start: one that arrives while workers start is acted on once they have.
  const stopSignal = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  const profile = await loadProfile(config.fleet.profile);
  let fleet: LocalFleet | undefined;
  let clients: WorkerClient[];
  if (config.fleet.mode === 'local') {
    fleet = new LocalFleet(localSpecs(config), { log: (line) => log.warn(line) });
    log.info({ workers: config.fleet.workers, prefill: config.fleet.initialPrefill, backend: config.fleet.backend }, 'starting local workers');
    await fleet.start();
    for (const w of fleet.workers) log.info({ role: w.spec.role, url: w.url, pid: w.process.pid }, 'worker ready');
    clients = fleet.workers.map((w) => new NativeWorkerClient(w.url, { id: w.spec.workerId ?? w.url, controlTimeoutSeconds: config.fleet.scrapeTimeoutSeconds }));
  } else {
    const foreign = config.fleet.urls.find((w) => w.kind !== 'native');
    if (foreign) throw new UsageError(`fleet.urls: ${foreign.url} is a ${foreign.kind} worker; the router carries requests through native workers only so far`);
    clients = config.fleet.urls.map((w) => new NativeWorkerClient(w.url, { controlTimeoutSeconds: config.fleet.scrapeTimeoutSeconds }));
  }

  let router: Router | undefined;
  const stopWorkers = async () => {
    await Promise.all(clients.map((c) => c.close()));
    if (fleet) {
      log.info('stopping workers');
      await fleet.stop();
    }
  };
  try {
    const r = config.router;
    router = await Router.create(clients, {
      settings: { model: r.model, maxTokens: r.maxTokens, contextTokens: r.contextTokens, requestTimeoutSeconds: r.requestTimeoutSeconds },
      maxQueue: r.maxQueue,
      weights: r.scorers,
      prefillMs: profile.prefillMs,
      prefillTokenBudget: PREFILL_TOKEN_BUDGET,
      policy: config.policy.name ?? 'file',
    });
    const url = await router.listen(r.host, r.port);
    log.info({ url, model: r.model, prefill: router.fleet.countAccepting('prefill'), decode: router.fleet.countAccepting('decode') }, 'router listening (OpenAI-compatible: /v1/completions, /v1/chat/completions, /v1/models; /metrics)');
  } catch (error) {
    await router?.close(0);
    await stopWorkers();
    throw error;
  }

  const signal = await stopSignal;
  // Stop admitting at once (new requests get 503); requests already admitted may run to their own time bound.
  const bound = config.router.requestTimeoutSeconds;
  log.info({ signal, inFlight: router.admission.inFlight, boundSeconds: bound }, 'stopping: no new requests; finishing those in flight');
  const drained = await router.close(bound);
  if (!drained) log.warn('in-flight requests did not finish in time; closed them');
  await stopWorkers();
  log.info('stopped');
  return 0;
}
