// The daemon's own metrics (its /metrics on the admin port): the split the
// controller wants and has, the fleet's queues and KV by role, SLO attainment
// and goodput as the router measured them, the forecast against the observed
// arrival rate, and what each reconcile decided and did. DESIGN.md "Metrics":
// prefix pdpilot_, base units, low-cardinality labels, and every label value
// known at start pre-set so a dashboard shows 0 rather than "no data".
//
// telemetry/ may import only domain/ and lib/ (eslint.config.js), so inputs
// are structural: a control/ Decision, a forecast/ LoadForecast and a
// domain/ FleetSnapshot all fit the shapes below without this file naming
// them. Docs: docs/metrics.md.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { FleetSnapshot } from '../domain/fleet.js';
import type { LoadSample } from '../domain/load.js';
import type { RequestOutcome } from '../domain/request.js';
import { ROLES, type Role } from '../domain/role.js';
import type { Slo } from '../domain/slo.js';
import { PDPILOT_REASONS, SAFETY_RULES } from '../domain/decision.js';
import type { Clock } from '../lib/clock.js';
import { meetsSlo } from '../lib/stats.js';
import { SlidingTimeWindow } from '../lib/time-window.js';

/**
 * Reason codes a policy's decision (and so a flip) can carry. The policies
 * keep their codes beside their logic (pdpilot's in domain/decision.ts,
 * spread in below); this list gathers them for the
 * `reason` label, and test/telemetry/reason-codes.test.ts fails when a
 * policy or the controller gains a code that is missing here.
 */
export const POLICY_REASON_CODES = [
  // colocated
  'colocated',
  // static
  'static-split',
  // reactive
  'within-thresholds',
  'prefill-queue-high',
  'prefill-queue-low',
  'decode-kv-high',
  'decode-kv-low',
  'decode-grace-period',
  'both-saturated',
  'at-minimum',
  // dynamo-sla
  'sla-replicas',
  'sla-replicas-over-pool',
  'decode-tpot-infeasible',
  // dopd
  'dopd-ratio',
  'dopd-ratio-over-pool',
  // oracle
  'oracle-best-split',
  'oracle-slo-infeasible',
  // pdpilot; its 'idle' is shared with dopd, dynamo-sla and oracle
  ...PDPILOT_REASONS,
  // an operator's manual role override, carried out by the live controller service
  'manual-override',
] as const;

/** Codes of the reconciles that made no decision (the controller's own, never on a flip). */
export const CONTROLLER_REASON_CODES = ['observe-failed', 'not-synced', 'snapshot-too-old', 'paused'] as const;

/** Every decision reason code known at start. */
export const KNOWN_REASON_CODES: readonly string[] = [...POLICY_REASON_CODES, ...CONTROLLER_REASON_CODES];

/** control/decision.ts DecisionStatus, repeated here because telemetry/ may not import control/ (a test keeps them equal). */
export const DECISION_STATUSES = ['acted', 'steady', 'held', 'advisory', 'paused', 'not-synced'] as const;

/** Why a wanted flip was held: the controller's safety rules (domain/decision.ts). */
export const HELD_RULES = SAFETY_RULES;

/** control/ports.ts ActuationOutcome values. */
export const ACTUATION_OUTCOMES = ['started', 'done', 'refused', 'failed'] as const;

/** domain/role.ts WorkerStatus values. */
export const WORKER_STATUSES = ['starting', 'ready', 'draining', 'switching', 'stale'] as const;

/**
 * `kind` of pdpilot_instances. One gauge with a kind label rather than two
 * gauges so that one query plots all three lines of a role together:
 * - desired: the policy's target;
 * - effective: the target the controller acts toward after the tolerance
 *   band, the stabilisation window and the role minimums (desired − effective
 *   is what the safety rules held back);
 * - actual: workers that reported the role in the last snapshot (stale ones excluded).
 */
export const INSTANCE_KINDS = ['desired', 'effective', 'actual'] as const;

export const FORECAST_BANDS = ['low', 'mean', 'high'] as const;

/** A reconcile's duration spans scraping every worker and starting flips over HTTP: milliseconds to tens of seconds. */
const DECISION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The parts of control/'s Decision these metrics read. */
export interface DecisionLike {
  status: string;
  target?: { prefill: number; decode: number };
  effectiveTarget?: { prefill: number; decode: number };
  forecast?: ForecastLike;
  inputs?: { load: Pick<LoadSample, 'requests' | 'intervalSeconds'> };
  applied: readonly { change: { from: Role; to: Role; reason: { code: string } }; outcome: string }[];
  held: readonly { rule: string }[];
}

/** The part of forecast/'s LoadForecast these metrics read. */
export interface ForecastLike {
  requestsPerSecond: { low: number; mean: number; high: number };
}

export interface ControllerMetricsOptions {
  /** Where to register; a fresh registry by default. */
  registry?: Registry;
  /** Worker ids known at start, to pre-set their scrape-error series. */
  workers: readonly string[];
  /** The SLO attainment is judged against, also exported so dashboards draw it. */
  slo: Slo;
  /** Clock of the request outcomes' timestamps; the attainment window is read on it at scrape time. */
  clock: Clock;
  /** Width of the rolling attainment window, seconds (default 60). */
  attainmentWindowSeconds?: number;
}

export class ControllerMetrics {
  readonly registry: Registry;
  private readonly instances: Gauge<'role' | 'kind'>;
  private readonly workersByStatus: Gauge<'status'>;
  private readonly queueRequests: Gauge<'role'>;
  private readonly queueTokens: Gauge<'role'>;
  private readonly runningRequests: Gauge<'role'>;
  private readonly kvUsage: Gauge<'role'>;
  private readonly forecastRate: Gauge<'band'>;
  private readonly observedRate: Gauge;
  private readonly flips: Counter<'reason' | 'from' | 'to'>;
  private readonly held: Counter<'rule'>;
  private readonly actuations: Counter<'outcome'>;
  private readonly decisions: Counter<'status'>;
  private readonly decisionDuration: Histogram;
  private readonly scrapeErrors: Counter<'worker'>;
  private readonly paused: Gauge;
  private readonly advisory: Gauge;
  /** 1 per finished request that met both SLOs, 0 per miss, timestamped on the clock. */
  private readonly outcomes: SlidingTimeWindow;
  private readonly startedAtSeconds: number;

  constructor(private readonly options: ControllerMetricsOptions) {
    this.registry = options.registry ?? new Registry();
    const registers = [this.registry];
    this.outcomes = new SlidingTimeWindow(options.attainmentWindowSeconds ?? 60);
    this.startedAtSeconds = options.clock.nowSeconds();

    this.instances = new Gauge({
      name: 'pdpilot_instances',
      help: 'Instances per role: desired (the policy target), effective (after the safety rules), actual (reported by the fleet, stale workers excluded).',
      labelNames: ['role', 'kind'],
      registers,
    });
    this.workersByStatus = new Gauge({
      name: 'pdpilot_fleet_workers',
      help: 'Workers in the last fleet snapshot by status (stale: could not be scraped).',
      labelNames: ['status'],
      registers,
    });
    this.queueRequests = new Gauge({
      name: 'pdpilot_fleet_queue_requests',
      help: 'Requests waiting on the workers of a role, summed over the last snapshot (stale workers excluded).',
      labelNames: ['role'],
      registers,
    });
    this.queueTokens = new Gauge({
      name: 'pdpilot_fleet_queue_tokens',
      help: 'Tokens waiting on the workers of a role (prompt tokens for prefill, context tokens for decode), summed.',
      labelNames: ['role'],
      registers,
    });
    this.runningRequests = new Gauge({
      name: 'pdpilot_fleet_running_requests',
      help: 'Requests being prefilled or in a decode batch on the workers of a role, summed.',
      labelNames: ['role'],
      registers,
    });
    this.kvUsage = new Gauge({
      name: 'pdpilot_fleet_kv_usage_ratio',
      help: 'Mean fraction (0-1) of KV capacity in use over the workers of a role (0 when the role has none).',
      labelNames: ['role'],
      registers,
    });
    const slo = options.slo;
    new Gauge({ name: 'pdpilot_slo_ttft_seconds', help: 'The TTFT SLO, seconds.', registers }).set(slo.ttftSeconds);
    new Gauge({ name: 'pdpilot_slo_tpot_seconds', help: 'The TPOT SLO, seconds.', registers }).set(slo.tpotSeconds);
    new Gauge({ name: 'pdpilot_slo_attainment_target_ratio', help: 'Fraction (0-1) of requests that must meet both SLOs.', registers }).set(slo.attainment);
    // The window's gauges are computed at scrape time, so they age out even when no request finishes.
    this.windowGauge(
      'pdpilot_slo_attainment_ratio',
      'Fraction (0-1) of requests finished in the rolling window that met both the TTFT and the TPOT SLO (failed requests count as misses); 1 when none finished.',
      (w) => (w.finished > 0 ? w.met / w.finished : 1),
    );
    this.windowGauge(
      'pdpilot_goodput_requests_per_second',
      'Requests per second that met both SLOs, over the rolling window (over the time since start while that is shorter).',
      (w) => (w.spanSeconds > 0 ? w.met / w.spanSeconds : 0),
    );
    this.windowGauge(
      'pdpilot_slo_window_requests',
      'Requests finished in the rolling attainment window (tells an idle window, attainment 1, from a good one).',
      (w) => w.finished,
    );
    new Gauge({ name: 'pdpilot_slo_window_seconds', help: 'Width of the rolling attainment window, seconds.', registers }).set(this.outcomes.windowSeconds);
    this.forecastRate = new Gauge({
      name: 'pdpilot_forecast_arrival_rate',
      help: 'Forecast arrival rate for the next controller interval, requests per second, with its band (low, mean, high).',
      labelNames: ['band'],
      registers,
    });
    this.observedRate = new Gauge({
      name: 'pdpilot_observed_arrival_rate',
      help: 'Arrival rate measured over the controller interval that just ended, requests per second.',
      registers,
    });
    this.flips = new Counter({
      name: 'pdpilot_flips_total',
      help: 'Role flips the controller started, by the reason code of the decision and the direction.',
      labelNames: ['reason', 'from', 'to'],
      registers,
    });
    this.held = new Counter({
      name: 'pdpilot_held_changes_total',
      help: 'Flips a policy wanted that a safety rule held back, by rule.',
      labelNames: ['rule'],
      registers,
    });
    this.actuations = new Counter({
      name: 'pdpilot_actuations_total',
      help: 'Flips handed to the actuator, by its answer (started, done, refused, failed).',
      labelNames: ['outcome'],
      registers,
    });
    this.decisions = new Counter({
      name: 'pdpilot_decisions_total',
      help: 'Reconciles, by decision status.',
      labelNames: ['status'],
      registers,
    });
    this.decisionDuration = new Histogram({
      name: 'pdpilot_decision_duration_seconds',
      help: 'Wall time of one reconcile: observe, forecast, plan, start flips, record.',
      buckets: DECISION_BUCKETS,
      registers,
    });
    this.scrapeErrors = new Counter({
      name: 'pdpilot_scrape_errors_total',
      help: 'Failed reads of a worker\'s state by the controller.',
      labelNames: ['worker'],
      registers,
    });
    this.paused = new Gauge({ name: 'pdpilot_controller_paused', help: '1 while the controller is paused (observes only).', registers });
    this.advisory = new Gauge({ name: 'pdpilot_controller_advisory', help: '1 while the controller is in advisory mode (decides and records, never acts).', registers });

    for (const role of ROLES) {
      for (const kind of INSTANCE_KINDS) this.instances.set({ role, kind }, 0);
      this.queueRequests.set({ role }, 0);
      this.queueTokens.set({ role }, 0);
      this.runningRequests.set({ role }, 0);
      this.kvUsage.set({ role }, 0);
    }
    for (const status of WORKER_STATUSES) this.workersByStatus.set({ status }, 0);
    for (const band of FORECAST_BANDS) this.forecastRate.set({ band }, 0);
    this.observedRate.set(0);
    for (const reason of POLICY_REASON_CODES) {
      this.flips.inc({ reason, from: 'prefill', to: 'decode' }, 0);
      this.flips.inc({ reason, from: 'decode', to: 'prefill' }, 0);
    }
    for (const rule of HELD_RULES) this.held.inc({ rule }, 0);
    for (const outcome of ACTUATION_OUTCOMES) this.actuations.inc({ outcome }, 0);
    for (const status of DECISION_STATUSES) this.decisions.inc({ status }, 0);
    for (const worker of options.workers) this.scrapeErrors.inc({ worker }, 0);
    this.paused.set(0);
    this.advisory.set(0);
  }

  /**
   * One reconcile's decision and how long it took. Also records its forecast
   * and the interval load it saw, when it has them (paused and not-synced
   * reconciles carry no forecast; the gauges then keep their last values).
   */
  recordDecision(decision: DecisionLike, durationSeconds: number): void {
    this.decisions.inc({ status: decision.status });
    this.decisionDuration.observe(durationSeconds);
    if (decision.target) this.setInstances('desired', decision.target);
    if (decision.effectiveTarget) this.setInstances('effective', decision.effectiveTarget);
    if (decision.forecast) this.recordForecast(decision.forecast);
    if (decision.inputs) this.recordLoad(decision.inputs.load);
    for (const { change, outcome } of decision.applied) {
      this.actuations.inc({ outcome });
      // Refused and failed flips moved nothing; they show in pdpilot_actuations_total only.
      if (outcome === 'started' || outcome === 'done') this.flips.inc({ reason: change.reason.code, from: change.from, to: change.to });
    }
    for (const { rule } of decision.held) this.held.inc({ rule });
  }

  /** The fleet as last observed: actual instances, statuses, queues and KV usage by role. */
  recordSnapshot(snapshot: FleetSnapshot): void {
    for (const status of WORKER_STATUSES) this.workersByStatus.set({ status }, snapshot.workers.filter((w) => w.status === status).length);
    for (const role of ROLES) {
      // A stale worker's figures are placeholders (the observer zeroes them), never measurements.
      const live = snapshot.workers.filter((w) => w.role === role && w.status !== 'stale');
      this.instances.set({ role, kind: 'actual' }, live.length);
      this.queueRequests.set({ role }, sum(live, (w) => w.queuedRequests));
      this.queueTokens.set({ role }, sum(live, (w) => w.queuedTokens));
      this.runningRequests.set({ role }, sum(live, (w) => w.runningRequests));
      this.kvUsage.set({ role }, live.length > 0 ? sum(live, (w) => w.kvUsage) / live.length : 0);
    }
  }

  recordForecast(forecast: ForecastLike): void {
    for (const band of FORECAST_BANDS) this.forecastRate.set({ band }, forecast.requestsPerSecond[band]);
  }

  /** The load of the interval that just ended; a zero-length interval reads as idle, never NaN. */
  recordLoad(load: Pick<LoadSample, 'requests' | 'intervalSeconds'>): void {
    this.observedRate.set(load.intervalSeconds > 0 ? load.requests / load.intervalSeconds : 0);
  }

  /** A request the router finished with tokens, judged against both SLOs at the clock's now. */
  recordRequestOutcome(outcome: RequestOutcome): void {
    this.outcomes.add(this.options.clock.nowSeconds(), meetsSlo(outcome, this.options.slo) ? 1 : 0);
  }

  /** A request the router admitted but could not serve (failed, timed out, no worker): a miss of both SLOs. */
  recordRequestFailure(): void {
    this.outcomes.add(this.options.clock.nowSeconds(), 0);
  }

  recordScrapeError(worker: string): void {
    this.scrapeErrors.inc({ worker });
  }

  recordControllerState(state: { paused: boolean; advisory: boolean }): void {
    this.paused.set(state.paused ? 1 : 0);
    this.advisory.set(state.advisory ? 1 : 0);
  }

  private setInstances(kind: 'desired' | 'effective', target: { prefill: number; decode: number }): void {
    for (const role of ROLES) this.instances.set({ role, kind }, target[role]);
  }

  private windowGauge(name: string, help: string, value: (window: WindowFigures) => number): void {
    const gauge: Gauge = new Gauge({ name, help, registers: [this.registry], collect: () => gauge.set(value(this.window())) });
  }

  private window(): WindowFigures {
    const now = this.options.clock.nowSeconds();
    return {
      finished: this.outcomes.countAt(now),
      met: this.outcomes.sumAt(now),
      spanSeconds: Math.min(this.outcomes.windowSeconds, now - this.startedAtSeconds),
    };
  }
}

/**
 * prom-client's default process and Node.js metrics (CPU, memory, event loop
 * lag, GC, handles) with the pdpilot_ prefix of DESIGN.md, e.g.
 * pdpilot_process_cpu_seconds_total, pdpilot_nodejs_eventloop_lag_seconds.
 * The nodejs_ ones (event loop, heap, GC, handles) describe the thread that
 * registers them: `pdpilot up` registers them once on its control thread
 * (the daemon's registry) and once, as pdpilot_router_…, on the router's.
 * Call once per registry (a second call registers duplicates and throws).
 */
export function registerProcessMetrics(registry: Registry, prefix = 'pdpilot_'): void {
  collectDefaultMetrics({ register: registry, prefix });
}

interface WindowFigures {
  /** Requests finished in the window. */
  finished: number;
  /** Of those, the ones that met both SLOs. */
  met: number;
  /** Seconds the window covers: its width, or the time since start while that is shorter. */
  spanSeconds: number;
}

function sum<T>(items: readonly T[], value: (item: T) => number): number {
  let s = 0;
  for (const item of items) s += value(item);
  return s;
}
