// Router overhead benchmark (a benchmark, never a timed test):
//   npm run bench:router [-- --seconds N --workers N --rate R]
//
// Starts `pdpilot up` (a real process) over 16 fast sim workers on loopback
// (8 prefill, 8 decode; every engine step ~0.5 ms), then drives it with
// autocannon at a fixed rate and compares two paths that do the same worker
// work, one prefill of a 32-token prompt:
//   direct: POST /v1/prefill on the prefill workers themselves, the rate split
//           evenly over them (one autocannon instance per worker);
//   router: POST /v1/completions with max_tokens 1 through the router, which
//           tokenises, admits, schedules, calls the prefill worker, and answers
//           in OpenAI's format. The router asks the worker not to keep the KV
//           (retainKv: false, docs/protocol.md), and so does the direct path:
//           both do the same worker work, a prefill whose KV is freed at once.
// Added latency = router − direct at p50 and p99, from every response time
// (autocannon's 'response' event, float ms) rather than its integer-ms
// histogram. Then, for information: the full path (max_tokens 4: prefill, KV
// pull, decode) at the same rate, and the router's maximum throughput
// (max_tokens 1, 64 connections, no rate limit).
// The TypeScript loader checks this file on its own, without tsconfig's includes: point it at the declarations.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="./autocannon.d.ts" />
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PDPILOT_BIN } from '../src/fleet/local-fleet.js';
import { percentileSorted } from '../src/lib/stats.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const SECONDS = arg('--seconds', 10);
const WORKERS = arg('--workers', 16);
const RATE = arg('--rate', 1000);
const MODEL = 'facebook/opt-13b';
const PROMPT_TOKENS = 32;

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

async function freePortRange(n: number): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const base = 20000 + Math.floor(Math.random() * 40000);
    let ok = true;
    for (let i = 0; i < n && ok; i++) ok = await portFree(base + i);
    if (ok) return base;
  }
  throw new Error(`no ${n} consecutive free ports`);
}

interface Run {
  latenciesMs: number[];
  non2xx: number;
  errors: number;
  requestsPerSecond: number;
}

/** Runs autocannon instances concurrently and pools their response times. */
async function load(targets: { url: string; body: unknown; rate?: number; connections: number }[], seconds: number): Promise<Run> {
  const latenciesMs: number[] = [];
  let non2xx = 0;
  let errors = 0;
  let total = 0;
  await Promise.all(
    targets.map(
      (target) =>
        new Promise<void>((resolve, reject) => {
          const instance = autocannon(
            {
              url: target.url,
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify(target.body),
              connections: target.connections,
              duration: seconds,
              ...(target.rate ? { overallRate: target.rate } : {}),
            },
            (error, result) => {
              if (error) return reject(error);
              errors += result.errors + result.timeouts;
              total += result.requests.total;
              resolve();
            },
          );
          instance.on('response', (_client, statusCode, _bytes, responseTime) => {
            if (statusCode >= 200 && statusCode < 300) latenciesMs.push(responseTime);
            else non2xx++;
          });
        }),
    ),
  );
  return { latenciesMs, non2xx, errors, requestsPerSecond: total / seconds };
}

function summary(run: Run): { p50: number; p99: number; count: number } {
  const sorted = Float64Array.from(run.latenciesMs).sort();
  return { p50: percentileSorted(sorted, 50), p99: percentileSorted(sorted, 99), count: sorted.length };
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
const basePort = await freePortRange(WORKERS);
let routerPort = await freePortRange(1);
while (routerPort >= basePort && routerPort < basePort + WORKERS) routerPort = await freePortRange(1);
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

const direct = Array.from({ length: prefillWorkers }, (_, i) => ({
  url: `http://127.0.0.1:${basePort + i}/v1/prefill`,
  body: { promptLength: PROMPT_TOKENS, retainKv: false },
  rate: RATE / prefillWorkers,
  connections: Math.max(2, Math.ceil(32 / prefillWorkers)),
}));
const viaRouter = (maxTokens: number, rate?: number, connections = 32) => [
  { url: `${routerUrl}/v1/completions`, body: { model: MODEL, prompt_tokens: PROMPT_TOKENS, max_tokens: maxTokens, ignore_eos: true }, ...(rate ? { rate } : {}), connections },
];

const fmt = (ms: number) => `${ms.toFixed(2)} ms`;
try {
  process.stdout.write(`router overhead: ${WORKERS} sim workers (${prefillWorkers} prefill), ${RATE} req/s, ${SECONDS} s per run, ${PROMPT_TOKENS}-token prompts\n`);
  // Warm-up: connections, JIT, the tokenizer tables.
  await load(viaRouter(1, RATE), 2);
  await load(direct, 2);

  const d = await load(direct, SECONDS);
  const r = await load(viaRouter(1, RATE), SECONDS);
  const ds = summary(d);
  const rs = summary(r);
  process.stdout.write(`direct  (/v1/prefill on the workers): p50 ${fmt(ds.p50)}  p99 ${fmt(ds.p99)}  ${ds.count} ok, ${d.non2xx} non-2xx, ${d.errors} errors\n`);
  process.stdout.write(`router  (/v1/completions, max_tokens 1): p50 ${fmt(rs.p50)}  p99 ${fmt(rs.p99)}  ${rs.count} ok, ${r.non2xx} non-2xx, ${r.errors} errors\n`);
  process.stdout.write(`added by the router: p50 ${fmt(rs.p50 - ds.p50)}  p99 ${fmt(rs.p99 - ds.p99)}\n`);

  const full = await load(viaRouter(4, RATE), SECONDS);
  const fs = summary(full);
  process.stdout.write(`router full path (max_tokens 4: prefill, KV pull, decode): p50 ${fmt(fs.p50)}  p99 ${fmt(fs.p99)}  ${fs.count} ok, ${full.non2xx} non-2xx\n`);

  const max = await load(viaRouter(1, undefined, 64), SECONDS);
  const ms = summary(max);
  process.stdout.write(`router max throughput (max_tokens 1, 64 connections): ${max.requestsPerSecond.toFixed(0)} req/s, p50 ${fmt(ms.p50)} p99 ${fmt(ms.p99)}, ${max.non2xx} non-2xx\n`);
} finally {
  daemon.kill('SIGTERM');
  await exited;
}
