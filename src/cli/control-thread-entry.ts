// The control thread's own code (control-thread.ts starts it): the control
// services of daemon-services.ts over clients of its own to the same workers,
// fed with the router's request reports from the main thread and telling it
// of every flip. Nothing here is shared with the router's event loop.
import { parentPort, workerData } from 'node:worker_threads';
import { IntervalLoadMeter } from '../control/interval-load-meter.js';
import { isInputProblem } from '../domain/errors.js';
import { NativeWorkerClient } from '../fleet/native-worker-client.js';
import { SystemClock } from '../lib/clock.js';
import { createLogger } from '../telemetry/logger.js';
import type { ControlThreadInit, FromControl, ToControl } from './control-thread.js';
import { controllerMetrics, observedWorkers, startDaemonServices, type DaemonServices } from './daemon-services.js';

const port = parentPort;
if (!port) throw new Error('control-thread-entry runs only as a worker thread (control-thread.ts starts it)');
const { config, profile, workers: endpoints } = workerData as ControlThreadInit;
const post = (message: FromControl) => port.postMessage(message);

const log = createLogger(config.telemetry.logLevel);
const clock = new SystemClock();
const clients = endpoints.map((w) => new NativeWorkerClient(w.url, { id: w.id, controlTimeoutSeconds: config.fleet.scrapeTimeoutSeconds }));
const workers = observedWorkers(config, clients);
const meter = new IntervalLoadMeter(config.slo, clock.nowSeconds());
const metrics = controllerMetrics(
  config,
  workers.map((w) => w.id),
  clock,
);

let daemon: DaemonServices | undefined;
let stopping = false;
const closeClients = () => Promise.all(clients.map((c) => c.close()));

const starting = startDaemonServices({
  config,
  profile,
  workers,
  log,
  meter,
  metrics,
  clock,
  // The router stops choosing a worker as soon as its flip starts, instead of at its next poll. The flip's
  // own first step is a store write, so this message reaches the router before the worker is asked to drain.
  onFlip: {
    started: (change) => post({ type: 'flip-started', workerId: change.workerId }),
    finished: (change, state) => post({ type: 'flip-finished', workerId: change.workerId, to: change.to, state }),
  },
}).then(
  (started) => {
    daemon = started;
  },
  async (error: unknown) => {
    stopping = true;
    await closeClients();
    post({ type: 'start-failed', inputProblem: isInputProblem(error), message: error instanceof Error ? error.message : String(error) });
    port.close();
  },
);

/** Waits for a start in progress (a stop can come during a restart), then stops what it started. */
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await starting;
  await daemon?.stop();
  await closeClients();
  post({ type: 'stopped' });
  port!.close();
}

port.on('message', (message: ToControl) => {
  if (message.type === 'stop') {
    void stop();
    return;
  }
  const { arrivals, outcomes } = message;
  for (let i = 0; i + 1 < arrivals.length; i += 2) meter.recordArrival({ inputTokens: arrivals[i]!, outputTokens: arrivals[i + 1]! });
  for (let i = 0; i + 1 < outcomes.length; i += 2) {
    const outcome = { ttftSeconds: outcomes[i]!, tpotSeconds: outcomes[i + 1]! };
    meter.recordOutcome(outcome);
    metrics.recordRequestOutcome(outcome);
  }
  for (let i = 0; i < message.failures; i++) metrics.recordRequestFailure();
});

await starting;
if (daemon && !stopping) {
  const status = daemon.service.status();
  log.info(
    { url: daemon.url, policy: status.policy.name, intervalSeconds: status.intervalSeconds, advisory: status.advisory, paused: status.paused, tokens: config.admin.tokens.filter((t) => t.token !== undefined).length },
    'controller running (on its own thread); admin API and /metrics listening',
  );
  post({ type: 'ready' });
}
