import t from 'tap';
import type { Decision } from '../../src/control/decision.js';
import type { FleetSnapshot, WorkerSnapshot } from '../../src/domain/fleet.js';
import { ManualClock } from '../../src/lib/clock.js';
import {
  ACTUATION_OUTCOMES,
  ControllerMetrics,
  DECISION_STATUSES,
  FORECAST_BANDS,
  HELD_RULES,
  INSTANCE_KINDS,
  POLICY_REASON_CODES,
  registerProcessMetrics,
  WORKER_STATUSES,
} from '../../src/telemetry/controller-metrics.js';
import { Registry } from 'prom-client';
import { key, scrape } from './fixtures/exposition.js';

const SLO = { ttftSeconds: 1, tpotSeconds: 0.1, attainment: 0.9 };

function metrics(clock = new ManualClock(100)) {
  return new ControllerMetrics({ workers: ['w0', 'w1'], slo: SLO, clock, attainmentWindowSeconds: 60 });
}

function worker(id: string, role: WorkerSnapshot['role'], status: WorkerSnapshot['status'], figures: Partial<WorkerSnapshot> = {}): WorkerSnapshot {
  return { id, role, status, queuedRequests: 0, queuedTokens: 0, runningRequests: 0, kvUsage: 0, ...figures };
}

const idleLoad = { startSeconds: 0, intervalSeconds: 60, requests: 0, inputMean: 0, inputSecondMoment: 0, outputMean: 0 };

t.test('every label value known at start is exported as 0 before anything is recorded', async (t) => {
  const s = await scrape(metrics().registry);
  for (const role of ['prefill', 'decode']) {
    for (const kind of INSTANCE_KINDS) t.equal(s.get(key('pdpilot_instances', { role, kind })), 0, `instances ${role}/${kind}`);
    for (const name of ['pdpilot_fleet_queue_requests', 'pdpilot_fleet_queue_tokens', 'pdpilot_fleet_running_requests', 'pdpilot_fleet_kv_usage_ratio']) {
      t.equal(s.get(key(name, { role })), 0, `${name} ${role}`);
    }
  }
  for (const status of WORKER_STATUSES) t.equal(s.get(key('pdpilot_fleet_workers', { status })), 0, `workers ${status}`);
  for (const band of FORECAST_BANDS) t.equal(s.get(key('pdpilot_forecast_arrival_rate', { band })), 0, `forecast ${band}`);
  for (const reason of POLICY_REASON_CODES) {
    t.equal(s.get(key('pdpilot_flips_total', { reason, from: 'prefill', to: 'decode' })), 0, `flips ${reason} p→d`);
    t.equal(s.get(key('pdpilot_flips_total', { reason, from: 'decode', to: 'prefill' })), 0, `flips ${reason} d→p`);
  }
  for (const rule of HELD_RULES) t.equal(s.get(key('pdpilot_held_changes_total', { rule })), 0, `held ${rule}`);
  for (const outcome of ACTUATION_OUTCOMES) t.equal(s.get(key('pdpilot_actuations_total', { outcome })), 0, `actuations ${outcome}`);
  for (const status of DECISION_STATUSES) t.equal(s.get(key('pdpilot_decisions_total', { status })), 0, `decisions ${status}`);
  for (const w of ['w0', 'w1']) t.equal(s.get(key('pdpilot_scrape_errors_total', { worker: w })), 0, `scrape errors ${w}`);
  t.equal(s.get('pdpilot_decision_duration_seconds_count'), 0);
  t.equal(s.get('pdpilot_observed_arrival_rate'), 0);
  t.equal(s.get('pdpilot_controller_paused'), 0);
  t.equal(s.get('pdpilot_controller_advisory'), 0);
  t.equal(s.get('pdpilot_slo_ttft_seconds'), 1);
  t.equal(s.get('pdpilot_slo_tpot_seconds'), 0.1);
  t.equal(s.get('pdpilot_slo_attainment_target_ratio'), 0.9);
  t.equal(s.get('pdpilot_slo_attainment_ratio'), 1, 'nothing asked, nothing missed: idle reads 1, never NaN');
  t.equal(s.get('pdpilot_goodput_requests_per_second'), 0);
  t.equal(s.get('pdpilot_slo_window_requests'), 0);
  t.equal(s.get('pdpilot_slo_window_seconds'), 60);
});

t.test('a decision sets the desired and effective split, the forecast and the load, and counts flips by reason', async (t) => {
  const m = metrics();
  const reason = { code: 'plan-move', message: '2P/4D → 3P/3D' };
  // Typed as control/'s Decision: the structural input must accept the real record.
  const decision: Decision = {
    atSeconds: 100,
    status: 'acted',
    policy: 'pdpilot',
    inputs: { snapshotAtSeconds: 100, workers: 6, prefill: 2, decode: 4, stale: 0, busy: 0, pendingFlips: 0, load: { ...idleLoad, requests: 300 } },
    forecast: { horizonSeconds: 60, requestsPerSecond: { low: 4, mean: 6, high: 9 }, inputMean: 512, inputSecondMoment: 300000, outputMean: 128 },
    target: { prefill: 4, decode: 2 },
    effectiveTarget: { prefill: 3, decode: 3 },
    proposed: [],
    applied: [
      { change: { workerId: 'w3', from: 'decode', to: 'prefill', reason }, outcome: 'started' },
      { change: { workerId: 'w4', from: 'decode', to: 'prefill', reason }, outcome: 'refused', message: 'busy' },
    ],
    held: [{ change: { workerId: 'w5', from: 'decode', to: 'prefill', reason }, rule: 'stabilisation-window', message: '' }],
    reason,
    nextAtSeconds: 160,
  };
  m.recordDecision(decision, 0.042);
  const s = await scrape(m.registry);
  t.equal(s.get(key('pdpilot_instances', { role: 'prefill', kind: 'desired' })), 4);
  t.equal(s.get(key('pdpilot_instances', { role: 'decode', kind: 'desired' })), 2);
  t.equal(s.get(key('pdpilot_instances', { role: 'prefill', kind: 'effective' })), 3);
  t.equal(s.get(key('pdpilot_instances', { role: 'decode', kind: 'effective' })), 3);
  t.equal(s.get(key('pdpilot_instances', { role: 'prefill', kind: 'actual' })), 0, 'actual comes from the snapshot only');
  t.equal(s.get(key('pdpilot_forecast_arrival_rate', { band: 'low' })), 4);
  t.equal(s.get(key('pdpilot_forecast_arrival_rate', { band: 'mean' })), 6);
  t.equal(s.get(key('pdpilot_forecast_arrival_rate', { band: 'high' })), 9);
  t.equal(s.get('pdpilot_observed_arrival_rate'), 5, '300 requests over 60 s');
  t.equal(s.get(key('pdpilot_flips_total', { reason: 'plan-move', from: 'decode', to: 'prefill' })), 1, 'the refused flip moved nothing');
  t.equal(s.get(key('pdpilot_actuations_total', { outcome: 'started' })), 1);
  t.equal(s.get(key('pdpilot_actuations_total', { outcome: 'refused' })), 1);
  t.equal(s.get(key('pdpilot_held_changes_total', { rule: 'stabilisation-window' })), 1);
  t.equal(s.get(key('pdpilot_decisions_total', { status: 'acted' })), 1);
  t.equal(s.get('pdpilot_decision_duration_seconds_count'), 1);
  t.equal(s.get('pdpilot_decision_duration_seconds_sum'), 0.042);
  t.equal(s.get(key('pdpilot_decision_duration_seconds_bucket', { le: '0.025' })), 0);
  t.equal(s.get(key('pdpilot_decision_duration_seconds_bucket', { le: '0.05' })), 1);
});

t.test('a reconcile without a decision counts its status and keeps the last split and forecast', async (t) => {
  const m = metrics();
  m.recordForecast({ requestsPerSecond: { low: 1, mean: 2, high: 3 } });
  m.recordDecision({ status: 'not-synced', applied: [], held: [] }, 0.5);
  m.recordDecision({ status: 'paused', inputs: { load: { requests: 0, intervalSeconds: 0 } }, applied: [], held: [] }, 0.01);
  const s = await scrape(m.registry);
  t.equal(s.get(key('pdpilot_decisions_total', { status: 'not-synced' })), 1);
  t.equal(s.get(key('pdpilot_decisions_total', { status: 'paused' })), 1);
  t.equal(s.get(key('pdpilot_forecast_arrival_rate', { band: 'mean' })), 2);
  t.equal(s.get('pdpilot_observed_arrival_rate'), 0, 'a zero-length interval reads idle, not NaN');
  t.equal(s.get('pdpilot_decision_duration_seconds_count'), 2);
});

t.test('a snapshot gives actual instances, statuses and queues by role, never counting stale workers', async (t) => {
  const m = metrics();
  const snapshot: FleetSnapshot = {
    atSeconds: 100,
    workers: [
      worker('w0', 'prefill', 'ready', { queuedRequests: 3, queuedTokens: 3000, runningRequests: 1, kvUsage: 0.2 }),
      worker('w1', 'prefill', 'draining', { queuedRequests: 1, queuedTokens: 500, runningRequests: 2, kvUsage: 0.4 }),
      worker('w2', 'prefill', 'stale', { queuedRequests: 99, kvUsage: 1 }),
      worker('w3', 'decode', 'ready', { queuedRequests: 2, queuedTokens: 4096, runningRequests: 30, kvUsage: 0.9 }),
    ],
  };
  m.recordSnapshot(snapshot);
  let s = await scrape(m.registry);
  t.equal(s.get(key('pdpilot_instances', { role: 'prefill', kind: 'actual' })), 2);
  t.equal(s.get(key('pdpilot_instances', { role: 'decode', kind: 'actual' })), 1);
  t.equal(s.get(key('pdpilot_fleet_queue_requests', { role: 'prefill' })), 4);
  t.equal(s.get(key('pdpilot_fleet_queue_tokens', { role: 'prefill' })), 3500);
  t.equal(s.get(key('pdpilot_fleet_running_requests', { role: 'prefill' })), 3);
  t.ok(Math.abs((s.get(key('pdpilot_fleet_kv_usage_ratio', { role: 'prefill' })) ?? NaN) - 0.3) < 1e-12, 'mean over live prefill workers');
  t.equal(s.get(key('pdpilot_fleet_queue_requests', { role: 'decode' })), 2);
  t.equal(s.get(key('pdpilot_fleet_kv_usage_ratio', { role: 'decode' })), 0.9);
  t.equal(s.get(key('pdpilot_fleet_workers', { status: 'ready' })), 2);
  t.equal(s.get(key('pdpilot_fleet_workers', { status: 'draining' })), 1);
  t.equal(s.get(key('pdpilot_fleet_workers', { status: 'stale' })), 1);
  t.equal(s.get(key('pdpilot_fleet_workers', { status: 'switching' })), 0);

  m.recordSnapshot({ atSeconds: 110, workers: [worker('w0', 'prefill', 'ready', { kvUsage: 0.5 })] });
  s = await scrape(m.registry);
  t.equal(s.get(key('pdpilot_instances', { role: 'decode', kind: 'actual' })), 0);
  t.equal(s.get(key('pdpilot_fleet_kv_usage_ratio', { role: 'decode' })), 0, 'a role with no workers reads 0, not NaN');
  t.equal(s.get(key('pdpilot_fleet_workers', { status: 'stale' })), 0, 'statuses are recounted, not accumulated');
});

t.test('attainment and goodput over the rolling window, read at scrape time', async (t) => {
  const clock = new ManualClock(100);
  const m = metrics(clock);
  clock.set(110);
  m.recordRequestOutcome({ ttftSeconds: 0.5, tpotSeconds: 0.05 }); // met
  m.recordRequestOutcome({ ttftSeconds: 0.9, tpotSeconds: 0.1 }); // met: the bounds are inclusive
  m.recordRequestOutcome({ ttftSeconds: 1.5, tpotSeconds: 0.05 }); // TTFT missed
  clock.set(120);
  m.recordRequestOutcome({ ttftSeconds: 0.5, tpotSeconds: 0.2 }); // TPOT missed
  m.recordRequestFailure();
  let s = await scrape(m.registry);
  t.equal(s.get('pdpilot_slo_window_requests'), 5);
  t.equal(s.get('pdpilot_slo_attainment_ratio'), 2 / 5);
  t.equal(s.get('pdpilot_goodput_requests_per_second'), 2 / 20, 'over the 20 s since start while the window is not yet full');

  clock.set(171); // the requests of t=110 have left the 60 s window
  s = await scrape(m.registry);
  t.equal(s.get('pdpilot_slo_window_requests'), 2);
  t.equal(s.get('pdpilot_slo_attainment_ratio'), 0);
  t.equal(s.get('pdpilot_goodput_requests_per_second'), 0);

  clock.set(181); // those of t=120 have left too
  m.recordRequestOutcome({ ttftSeconds: 0.1, tpotSeconds: 0.01 });
  s = await scrape(m.registry);
  t.equal(s.get('pdpilot_slo_attainment_ratio'), 1);
  t.equal(s.get('pdpilot_goodput_requests_per_second'), 1 / 60, 'over the full window once it is full');

  clock.set(300);
  s = await scrape(m.registry);
  t.equal(s.get('pdpilot_slo_window_requests'), 0);
  t.equal(s.get('pdpilot_slo_attainment_ratio'), 1, 'an idle window reads 1');
});

t.test('scrape errors by worker, including workers that joined after start; controller flags', async (t) => {
  const m = metrics();
  m.recordScrapeError('w1');
  m.recordScrapeError('w1');
  m.recordScrapeError('w9');
  m.recordControllerState({ paused: true, advisory: false });
  let s = await scrape(m.registry);
  t.equal(s.get(key('pdpilot_scrape_errors_total', { worker: 'w0' })), 0);
  t.equal(s.get(key('pdpilot_scrape_errors_total', { worker: 'w1' })), 2);
  t.equal(s.get(key('pdpilot_scrape_errors_total', { worker: 'w9' })), 1);
  t.equal(s.get('pdpilot_controller_paused'), 1);
  t.equal(s.get('pdpilot_controller_advisory'), 0);
  m.recordControllerState({ paused: false, advisory: true });
  s = await scrape(m.registry);
  t.equal(s.get('pdpilot_controller_paused'), 0);
  t.equal(s.get('pdpilot_controller_advisory'), 1);
});

t.test('controller metrics share a registry with process metrics, all under the pdpilot_ prefix', async (t) => {
  const registry = new Registry();
  registerProcessMetrics(registry);
  new ControllerMetrics({ registry, workers: [], slo: SLO, clock: new ManualClock() });
  const names = (await registry.getMetricsAsJSON()).map((m) => m.name);
  t.ok(names.includes('pdpilot_process_cpu_seconds_total'));
  t.ok(names.includes('pdpilot_nodejs_eventloop_lag_seconds'));
  t.ok(names.includes('pdpilot_instances'));
  t.same(names.filter((n) => !n.startsWith('pdpilot_')), [], 'every series carries the prefix');
  t.throws(() => registerProcessMetrics(registry), 'registering twice is refused, not silently doubled');
});
