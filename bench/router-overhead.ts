// Router overhead benchmark (a benchmark, never a timed test):
//   npm run bench:router [-- --seconds N --workers N --rate R --rounds N --full-rate R --warmup S]
//   (defaults: 5 s windows, 10 rounds, 16 workers, 1,000 req/s)
//
// Starts `pdpilot up` (a real process) over 16 fast sim workers on loopback
// (8 prefill, 8 decode; every engine step ~0.5 ms), then drives it with wrk
// (apt-get install wrk) at a paced rate and compares two paths that do the
// same worker work, one prefill of a 32-token prompt:
//   direct: POST /v1/prefill on the prefill workers themselves, the rate split
//           evenly over them (one wrk process per worker);
//   router: POST /v1/completions with max_tokens 1 through the router, which
//           tokenises, admits, schedules, calls the prefill worker, and answers
//           in OpenAI's format. The router asks the worker not to keep the KV
//           (retainKv: false, docs/protocol.md), and so does the direct path:
//           both do the same worker work, a prefill whose KV is freed at once.
// Direct and router windows alternate for --rounds, so that whatever else the
// machine does at a given moment (this is a shared 2-core VM) falls on both
// paths alike. Added latency = router − direct at p50 and p99 of all the
// requests of each path, pooled over the rounds from wrk's latency
// distributions (1,000 quantiles per run, weighted by its requests); the
// per-round differences and their median are printed too, and swing by
// several ms from round to round on this machine. Then, for information: the full path (max_tokens 4:
// prefill, KV pull, decode) at --full-rate, the router's maximum
// throughput (max_tokens 1, 64 connections, unpaced), and the router's
// latency at --rate while the admin API runs what-if simulations back to
// back (the control plane's heaviest work, on its own thread since the
// control thread), against a plain window just before.
//
// Why wrk and why paced: autocannon's rate option lets each connection send
// its whole per-second quota back to back and then waits for the next second,
// so "1,000 req/s" was really a burst at full speed with 32 requests in
// flight, and its latencies measured queueing behind that burst (closed loop,
// p50 5–13 ms for a 0.5 ms step). bench/wrk-paced.lua spaces each
// connection's requests by exponential think times with mean
// connections ÷ rate, so arrivals are close to Poisson at the asked rate,
// and wrk itself (C, one thread) costs far less CPU than a JS load generator
// on a 2-core machine that also runs the router and 16 workers.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PDPILOT_BIN } from '../src/fleet/local-fleet.js';
import { freePorts } from '../test/cli/fixtures/daemon-process.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const SECONDS = arg('--seconds', 5);
const WORKERS = arg('--workers', 16);
const RATE = arg('--rate', 1000);
const ROUNDS = arg('--rounds', 10);
// The full path (prefill, KV pull, three decode steps, NDJSON and SSE
// streaming) costs the workers and the router several times the CPU of a
// prefill, so on 2 cores it is measured at a rate they can carry.
const FULL_RATE = arg('--full-rate', 200);
const WARMUP_SECONDS = arg('--warmup', 5);
const MODEL = 'facebook/opt-13b';
const PROMPT_TOKENS = 32;
// Paced connections in all (each path): with mean think time connections ÷ rate
// = 64 ms per connection at 1,000 req/s, a response time of a few ms costs the
// achieved rate only a few percent (wrk's delay() runs after each response).
const CONNECTIONS = 64;

const PACED_LUA = join(dirname(fileURLToPath(import.meta.url)), 'wrk-paced.lua');
try {
  execFileSync('wrk', ['--version'], { stdio: 'ignore' });
} catch (error) {
  // wrk --version exits 1 after printing; only a missing binary throws ENOENT.
  if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
    process.stderr.write('bench:router needs wrk on PATH (Debian/Ubuntu: apt-get install wrk)\n');
    process.exit(2);
  }
}

interface Run {
  requests: number;
  requestsPerSecond: number;
  non2xx: number;
  errors: number;
  /** Response-time percentiles (ms) from wrk's microsecond histogram. */
  p50: number;
  p99: number;
  p999: number;
  max: number;
  /** Latency (µs) at the midpoint of each 0.1% of the requests: 1,000 quantiles (bench/wrk-paced.lua). */
  quantiles: number[];
}

/**
 * Percentile (ms) of several runs pooled: each run's 1,000 quantiles stand
 * for a thousandth of its requests each, so a run counts by its requests.
 * Resolution: 0.1% of a run's requests (ten points above the p99).
 */
function pooledPercentile(runs: readonly Run[], p: number): number {
  const points = runs.flatMap((run) => run.quantiles.map((us) => ({ us, weight: run.requests / run.quantiles.length })));
  points.sort((a, b) => a.us - b.us);
  const total = points.reduce((sum, x) => sum + x.weight, 0);
  let seen = 0;
  for (const x of points) {
    seen += x.weight;
    if (seen >= (p / 100) * total) return x.us / 1000;
  }
  return Number.NaN;
}

interface Target {
  url: string;
  body: unknown;
  /** Requests per second over all connections; absent = as fast as the connections go. */
  rate?: number;
  connections: number;
  /** One wrk thread per port on the URL's host (bench/wrk-paced.lua); absent = `threads` threads at the URL. */
  ports?: number[];
  threads?: number;
}

/** One wrk process against the target; bench/wrk-paced.lua prints the result as one JSON line. */
function load(target: Target, seconds: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const threads = target.ports?.length ?? target.threads ?? 1;
    const args = [`-t${threads}`, `-c${target.connections}`, `-d${seconds}s`, '--timeout', '10s', '-s', PACED_LUA, target.url, '--', String(target.rate ?? 0), String(target.connections), JSON.stringify(target.body)];
    const env = { ...process.env, WRK_PORTS: target.ports?.join(',') ?? '' };
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'inherit'], env });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (code !== 0 || !line) return reject(new Error(`wrk exited ${code} without a result:\n${out}`));
      const r = JSON.parse(line) as Record<'requests' | 'duration_us' | 'non2xx' | 'errors' | 'p50_us' | 'p99_us' | 'p999_us' | 'max_us', number> & { quantiles: number[] };
      resolve({
        requests: r.requests,
        requestsPerSecond: r.requests / (r.duration_us / 1e6),
        non2xx: r.non2xx,
        errors: r.errors,
        p50: r.p50_us / 1000,
        p99: r.p99_us / 1000,
        p999: r.p999_us / 1000,
        max: r.max_us / 1000,
        quantiles: r.quantiles,
      });
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'pdpilot-bench-'));
const profile = join(dir, 'fast-profile.json');
writeFileSync(
  profile,
  JSON.stringify({
    schemaVersion: 1,
    model: 'opt-13b',
    gpu: 'bench',
    tensorParallel: 1,
    pipelineParallel: 1,
    prefillMs: [0.5, 0.0001, 0],
    decodeMs: { smallBatch: [0.5, 0, 0], largeBatch: [0.5, 0, 0], thresholdBatch: 95 },
    kvCapacityTokens: 4_000_000,
    kvBytesPerToken: 1000,
    contextTokens: 8192,
    flipSeconds: 0,
    startSeconds: 0,
    source: 'bench/router-overhead.ts: a fast synthetic profile',
  }),
);
// Workers on basePort … basePort + WORKERS − 1, the router on the next port, the admin API on the one after.
const basePort = await freePorts(WORKERS + 2);
const routerPort = basePort + WORKERS;
const adminPort = routerPort + 1;
const READ_TOKEN = 'bench-read-token-0123456789';
const prefillWorkers = Math.floor(WORKERS / 2);
const configPath = join(dir, 'config.json');
writeFileSync(
  configPath,
  JSON.stringify({
    fleet: { mode: 'local', backend: 'sim', profile, workers: WORKERS, initialPrefill: prefillWorkers, host: '127.0.0.1', basePort },
    router: { host: '127.0.0.1', port: routerPort, model: MODEL, maxQueue: 4096, maxTokens: 64, contextTokens: 8192 },
    store: { path: join(dir, 'state.json') },
    admin: { port: adminPort, tokens: [{ name: 'bench', token: READ_TOKEN, scope: 'read' }] },
    telemetry: { logLevel: 'warn' },
  }),
);

const daemon = spawn(process.execPath, [PDPILOT_BIN, 'up', '--config', configPath], { stdio: ['ignore', 'inherit', 'inherit'] });
const exited = new Promise<number | null>((resolve) => daemon.once('exit', resolve));
const routerUrl = `http://127.0.0.1:${routerPort}`;
for (let i = 0; ; i++) {
  if (daemon.exitCode !== null) throw new Error('pdpilot up exited before it was ready');
  try {
    if ((await fetch(`${routerUrl}/readyz`)).ok) break;
  } catch {
    // not listening yet
  }
  if (i > 600) throw new Error('pdpilot up not ready after 60 s');
  await new Promise((r) => setTimeout(r, 100));
}

// The direct path: one wrk thread per prefill worker, together paced at RATE.
const direct: Target = {
  url: `http://127.0.0.1:${basePort}/v1/prefill`,
  body: { promptLength: PROMPT_TOKENS, retainKv: false },
  rate: RATE,
  connections: CONNECTIONS,
  ports: Array.from({ length: prefillWorkers }, (_, i) => basePort + i),
};
const viaRouter = (maxTokens: number, rate?: number): Target => ({
  url: `${routerUrl}/v1/completions`,
  body: { model: MODEL, prompt_tokens: PROMPT_TOKENS, max_tokens: maxTokens, ignore_eos: true },
  ...(rate ? { rate } : {}),
  connections: CONNECTIONS,
  // As many client threads as the direct path has (one per prefill worker):
  // with one wrk thread for all 64 connections the client's own event loop
  // queued responses, which counted against the router (p99 +3–5 ms).
  threads: prefillWorkers,
});

const fmt = (ms: number) => `${ms.toFixed(2)} ms`;

/** The router's pdpilot_router_overhead_seconds buckets (cumulative counts by upper bound, seconds). */
async function overheadBuckets(): Promise<Map<number, number>> {
  const text = await (await fetch(`${routerUrl}/metrics`)).text();
  const buckets = new Map<number, number>();
  for (const m of text.matchAll(/^pdpilot_router_overhead_seconds_bucket\{le="([^"]+)"\} (\d+)$/gm)) buckets.set(m[1] === '+Inf' ? Infinity : Number(m[1]), Number(m[2]));
  return buckets;
}

/** Upper bound (ms) of the bucket that holds the p-th percentile of the counts added between two scrapes. */
function bucketPercentile(before: Map<number, number>, after: Map<number, number>, p: number): { boundMs: number; count: number } {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const total = (after.get(Infinity) ?? 0) - (before.get(Infinity) ?? 0);
  for (const le of bounds) if ((after.get(le) ?? 0) - (before.get(le) ?? 0) >= (p / 100) * total) return { boundMs: le * 1000, count: total };
  return { boundMs: Number.NaN, count: total };
}
try {
  process.stdout.write(`router overhead: ${WORKERS} sim workers (${prefillWorkers} prefill), ${RATE} req/s, ${SECONDS} s per run, ${PROMPT_TOKENS}-token prompts\n`);
  // Warm-up: connections, JIT, the tokenizer tables (the first measured
  // round ran visibly slower after a 2 s warm-up).
  await load(viaRouter(1, RATE), WARMUP_SECONDS);
  await load(direct, WARMUP_SECONDS);

  const line = (name: string, run: Run) =>
    `${name}: p50 ${fmt(run.p50)}  p99 ${fmt(run.p99)}  p99.9 ${fmt(run.p999)}  ${run.requests} requests at ${run.requestsPerSecond.toFixed(0)} req/s, ${run.non2xx} non-2xx, ${run.errors} errors\n`;
  // Direct and router runs alternate, so a change in the machine's background
  // load hits both paths alike; the median over rounds is the figure.
  const added: { p50: number; p99: number }[] = [];
  const directRuns: Run[] = [];
  const routerRuns: Run[] = [];
  const ownBefore = await overheadBuckets();
  for (let round = 1; round <= ROUNDS; round++) {
    const d = await load(direct, SECONDS);
    const r = await load(viaRouter(1, RATE), SECONDS);
    directRuns.push(d);
    routerRuns.push(r);
    process.stdout.write(line(`round ${round} direct  (/v1/prefill on the workers)`, d));
    process.stdout.write(line(`round ${round} router  (/v1/completions, max_tokens 1)`, r));
    added.push({ p50: r.p50 - d.p50, p99: r.p99 - d.p99 });
    process.stdout.write(`round ${round} added by the router: p50 ${fmt(r.p50 - d.p50)}  p99 ${fmt(r.p99 - d.p99)}\n`);
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? Number.NaN;
  process.stdout.write(`added by the router, median of the ${ROUNDS} rounds' differences: p50 ${fmt(median(added.map((a) => a.p50)))}  p99 ${fmt(median(added.map((a) => a.p99)))}\n`);
  const pooled = (runs: Run[]) => ({ p50: pooledPercentile(runs, 50), p99: pooledPercentile(runs, 99), p999: pooledPercentile(runs, 99.9), requests: runs.reduce((n, run) => n + run.requests, 0) });
  const pd = pooled(directRuns);
  const pr = pooled(routerRuns);
  const pooledLine = (name: string, x: ReturnType<typeof pooled>) => `pooled ${name}: p50 ${fmt(x.p50)}  p99 ${fmt(x.p99)}  p99.9 ${fmt(x.p999)}  over ${x.requests} requests\n`;
  process.stdout.write(pooledLine('direct', pd) + pooledLine('router', pr));
  process.stdout.write(`added by the router, all ${ROUNDS} rounds pooled: p50 ${fmt(pr.p50 - pd.p50)}  p99 ${fmt(pr.p99 - pd.p99)}  p99.9 ${fmt(pr.p999 - pd.p999)}\n`);
  // The part of that which is the router's own code (handler to response, less the wait on workers), from its
  // own histogram; the rest is the extra process hop: two more socket wake-ups, and the router's turn on a CPU.
  const ownAfter = await overheadBuckets();
  const own = (p: number) => bucketPercentile(ownBefore, ownAfter, p);
  process.stdout.write(
    `router's own time (pdpilot_router_overhead_seconds, bucket bounds): p50 ≤ ${fmt(own(50).boundMs)}  p99 ≤ ${fmt(own(99).boundMs)}  p99.9 ≤ ${fmt(own(99.9).boundMs)}  over ${own(50).count} requests\n`,
  );
  // The full path opens connections of its own (router → decode workers, decode → prefill workers for KV pulls).
  await load(viaRouter(4, FULL_RATE), WARMUP_SECONDS);
  process.stdout.write(line(`router full path at ${FULL_RATE} req/s (max_tokens 4: prefill, KV pull, decode)`, await load(viaRouter(4, FULL_RATE), SECONDS)));
  process.stdout.write(line(`router max throughput (max_tokens 1, ${CONNECTIONS} connections, unpaced)`, await load(viaRouter(1), SECONDS)));

  // The control plane's heavy work must not stall requests: a what-if simulation asked for on the admin API
  // replays the recorded load (by now a few minutes at RATE) in the simulator, hundreds of ms of CPU each.
  // They run back to back while the router carries RATE, and the router's latency is compared with a plain window.
  const plain = await load(viaRouter(1, RATE), SECONDS);
  const whatIfMs: number[] = [];
  const busy = load(viaRouter(1, RATE), SECONDS);
  let running = true;
  void busy.finally(() => (running = false));
  while (running) {
    const started = performance.now();
    const res = await fetch(`http://127.0.0.1:${adminPort}/api/v1/simulate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${READ_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ minutes: 60, policy: 'pdpilot' }),
    });
    await res.text();
    if (!res.ok) throw new Error(`what-if answered ${res.status}`);
    whatIfMs.push(performance.now() - started);
  }
  const during = await busy;
  process.stdout.write(line(`router at ${RATE} req/s, plain window`, plain));
  process.stdout.write(
    line(`router at ${RATE} req/s while ${whatIfMs.length} what-ifs ran back to back (median ${median(whatIfMs).toFixed(0)} ms each)`, during) +
      `  max: plain ${fmt(plain.max)}, during what-ifs ${fmt(during.max)}\n`,
  );
} finally {
  daemon.kill('SIGTERM');
  await exited;
}
