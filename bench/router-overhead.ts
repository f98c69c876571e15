// Router overhead benchmark (a benchmark, never a timed test):
//   npm run bench:router [-- --seconds N --workers N --rate R --rounds N --full-rate R --warmup S]
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
// Added latency = router − direct at p50 and p99, pooled from wrk's
// microsecond histograms. Then, for information: the full path (max_tokens 4:
// prefill, KV pull, decode) at --full-rate, and the router's maximum
// throughput (max_tokens 1, 64 connections, unpaced).
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
const SECONDS = arg('--seconds', 10);
const WORKERS = arg('--workers', 16);
const RATE = arg('--rate', 1000);
const ROUNDS = arg('--rounds', 3);
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
      const r = JSON.parse(line) as Record<'requests' | 'duration_us' | 'non2xx' | 'errors' | 'p50_us' | 'p99_us' | 'p999_us', number>;
      resolve({
        requests: r.requests,
        requestsPerSecond: r.requests / (r.duration_us / 1e6),
        non2xx: r.non2xx,
        errors: r.errors,
        p50: r.p50_us / 1000,
        p99: r.p99_us / 1000,
        p999: r.p999_us / 1000,
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
// Workers on basePort … basePort + WORKERS − 1, the router on the next one.
const basePort = await freePorts(WORKERS + 1);
const routerPort = basePort + WORKERS;
const prefillWorkers = Math.floor(WORKERS / 2);
const configPath = join(dir, 'config.json');
writeFileSync(
  configPath,
  JSON.stringify({
    fleet: { mode: 'local', backend: 'sim', profile, workers: WORKERS, initialPrefill: prefillWorkers, host: '127.0.0.1', basePort },
    router: { host: '127.0.0.1', port: routerPort, model: MODEL, maxQueue: 4096, maxTokens: 64, contextTokens: 8192 },
    store: { path: join(dir, 'state.json') },
    admin: { tokens: [] },
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
  for (let round = 1; round <= ROUNDS; round++) {
    const d = await load(direct, SECONDS);
    const r = await load(viaRouter(1, RATE), SECONDS);
    process.stdout.write(line(`round ${round} direct  (/v1/prefill on the workers)`, d));
    process.stdout.write(line(`round ${round} router  (/v1/completions, max_tokens 1)`, r));
    added.push({ p50: r.p50 - d.p50, p99: r.p99 - d.p99 });
    process.stdout.write(`round ${round} added by the router: p50 ${fmt(r.p50 - d.p50)}  p99 ${fmt(r.p99 - d.p99)}\n`);
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? Number.NaN;
  process.stdout.write(`added by the router, median of ${ROUNDS} rounds: p50 ${fmt(median(added.map((a) => a.p50)))}  p99 ${fmt(median(added.map((a) => a.p99)))}\n`);
  // The full path opens connections of its own (router → decode workers, decode → prefill workers for KV pulls).
  await load(viaRouter(4, FULL_RATE), WARMUP_SECONDS);
  process.stdout.write(line(`router full path at ${FULL_RATE} req/s (max_tokens 4: prefill, KV pull, decode)`, await load(viaRouter(4, FULL_RATE), SECONDS)));
  process.stdout.write(line(`router max throughput (max_tokens 1, ${CONNECTIONS} connections, unpaced)`, await load(viaRouter(1), SECONDS)));
} finally {
  daemon.kill('SIGTERM');
  await exited;
}
