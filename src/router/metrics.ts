// The router's metrics (DESIGN.md "Metrics": prefix pdpilot_, base units,
// low-cardinality labels, every known label value pre-set). TTFT and TPOT are
// measured here because the router sees what the client sees: queueing, both
// worker hops and the KV pull included.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export const OUTCOMES = ['ok', 'client_error', 'rejected_busy', 'no_worker', 'failed', 'timeout', 'cancelled'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** Why the router sent part of a request to another worker. */
export const RETRY_REASONS = ['prefill_failed', 'prefill_handed_back', 'decode_lost', 'decode_handed_back', 'kv_lost'] as const;
export type RetryReason = (typeof RETRY_REASONS)[number];

// Buckets: TTFT SLOs sit between 0.1 s and a few seconds; TPOT SLOs between 10 and 200 ms.
const TTFT_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const TPOT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1];
// The router's own time per request: tens of microseconds when all is well, milliseconds when its event loop stalls.
const OVERHEAD_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1];

export class RouterMetrics {
  readonly registry: Registry;
  private readonly ttft: Histogram<'role' | 'policy'>;
  private readonly tpot: Histogram<'role' | 'policy'>;
  private readonly requests: Counter<'outcome'>;
  private readonly retries: Counter<'reason'>;
  private readonly tokens: Counter<'kind'>;
  private readonly overhead: Histogram;
  readonly queueDepth: Gauge;
  readonly inFlight: Gauge<'role'>;

  /**
   * `policy` labels every latency sample with the policy that shaped the
   * fleet it ran on, so runs under different policies compare on one
   * dashboard. TTFT carries role="prefill" and TPOT role="decode": the phase
   * whose workers set each figure, the same label the workers' own histograms use.
   */
  constructor(
    private readonly policy: string,
    registry?: Registry,
  ) {
    this.registry = registry ?? new Registry();
    const registers = [this.registry];
    this.ttft = new Histogram({
      name: 'pdpilot_router_ttft_seconds',
      help: 'Time to first token seen by the client: arrival at the router to the first token sent, seconds.',
      labelNames: ['role', 'policy'],
      buckets: TTFT_BUCKETS,
      registers,
    });
    this.tpot = new Histogram({
      name: 'pdpilot_router_tpot_seconds',
      help: 'Time per output token after the first, seen by the client, seconds (requests with at least two tokens).',
      labelNames: ['role', 'policy'],
      buckets: TPOT_BUCKETS,
      registers,
    });
    this.requests = new Counter({
      name: 'pdpilot_router_requests_total',
      help: 'Requests answered by the router, by outcome.',
      labelNames: ['outcome'],
      registers,
    });
    this.retries = new Counter({
      name: 'pdpilot_router_retries_total',
      help: 'Phases of a request re-run on another worker, by reason.',
      labelNames: ['reason'],
      registers,
    });
    this.tokens = new Counter({
      name: 'pdpilot_router_tokens_total',
      help: 'Tokens through the router: prompt tokens admitted and output tokens sent.',
      labelNames: ['kind'],
      registers,
    });
    this.overhead = new Histogram({
      name: 'pdpilot_router_overhead_seconds',
      help: 'Time a served request spent in the router itself: from its handler start (body parsed and validated) to its response finished, less the time spent waiting on workers, seconds.',
      buckets: OVERHEAD_BUCKETS,
      registers,
    });
    this.queueDepth = new Gauge({
      name: 'pdpilot_router_queue_depth',
      help: 'Requests admitted and waiting for their first token (bounded by router.maxQueue).',
      registers,
    });
    this.inFlight = new Gauge({
      name: 'pdpilot_router_in_flight_requests',
      help: 'Requests the router is carrying, by the phase they are in.',
      labelNames: ['role'],
      registers,
    });
    for (const outcome of OUTCOMES) this.requests.labels(outcome).inc(0);
    for (const reason of RETRY_REASONS) this.retries.labels(reason).inc(0);
    for (const kind of ['prompt', 'output']) this.tokens.labels(kind).inc(0);
    for (const role of ['prefill', 'decode']) this.inFlight.labels(role).set(0);
    // Children resolved once: labels(...) hashes its arguments on every call, and these run several times per request.
    this.ttftChild = this.ttft.labels('prefill', policy);
    this.tpotChild = this.tpot.labels('decode', policy);
    this.requestChildren = Object.fromEntries(OUTCOMES.map((o) => [o, this.requests.labels(o)])) as Record<Outcome, Counter.Internal>;
    this.tokenChildren = { prompt: this.tokens.labels('prompt'), output: this.tokens.labels('output') };
    this.inFlightPrefill = this.inFlight.labels('prefill');
    this.inFlightDecode = this.inFlight.labels('decode');
  }

  /** inFlight's children, for the per-request inc()/dec(). */
  readonly inFlightPrefill: Gauge.Internal<'role'>;
  readonly inFlightDecode: Gauge.Internal<'role'>;
  private readonly ttftChild: Histogram.Internal<'role' | 'policy'>;
  private readonly tpotChild: Histogram.Internal<'role' | 'policy'>;
  private readonly requestChildren: Record<Outcome, Counter.Internal>;
  private readonly tokenChildren: Record<'prompt' | 'output', Counter.Internal>;

  observeTtft(seconds: number): void {
    this.ttftChild.observe(seconds);
  }

  observeTpot(seconds: number): void {
    this.tpotChild.observe(seconds);
  }

  observeOverhead(seconds: number): void {
    this.overhead.observe(seconds);
  }

  countRequest(outcome: Outcome): void {
    this.requestChildren[outcome].inc();
  }

  countRetry(reason: RetryReason): void {
    this.retries.labels(reason).inc();
  }

  countTokens(kind: 'prompt' | 'output', n: number): void {
    this.tokenChildren[kind].inc(n);
  }
}
