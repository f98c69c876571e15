// `pdpilot up` end to end, as a real process with real worker processes:
// a fleet started deliberately wrong for its load (3 prefill, 1 decode)
// takes a decode-heavy burst through the router with the official openai
// client; the controller must flip a prefill worker to decode, record why,
// and show it in the admin API and in /metrics, while every request
// completes. Then the daemon is stopped (SIGTERM) and killed (SIGKILL: its
// workers must then stop by themselves), and each restart on the same store
// file must still have the decisions, the load history and a forecaster
// warmed from it.
//
// Policy: `reactive`, because it acts on the fleet's state in the interval
// it is in (mean decode KV usage against a threshold), so a burst of long
// outputs flips within a couple of 1 s intervals whatever the arrival
// history. Its thresholds are set so that only that one signal can fire:
// decode grows when KV usage > 0.15; a prefill queue never counts as high
// (scale-up 1e6), nothing ever counts as low (scale-down 0), so no flip
// back can race the assertions.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import t from 'tap';
import { DaemonProcess, alive, freePorts, reapOrphans, sample, until } from './fixtures/daemon-process.js';

// Three daemon starts of four worker processes each: about 30 s on an idle 2-core machine, and well over
// a minute when the suite runs beside it; the deadlines below bound each wait, this bounds the whole file.
t.setTimeout(300_000);

const MODEL = 'facebook/opt-13b';
const ADMIN = 'e2e-admin-token-0123456789';
const READ = 'e2e-read-token-0123456789';
const OUTPUT_TOKENS = 150;
/** Concurrent client loops during the burst. */
const CLIENTS = 24;

interface Decision {
  id: number;
  atIso: string;
  status: string;
  reason: { code: string; message: string };
  applied: { change: { workerId: string; from: string; to: string; reason: { code: string } }; outcome: string }[];
  forecast?: { outputMean: number; requestsPerSecond: { mean: number } };
}

t.test('pdpilot up: burst → flip recorded and visible, nothing lost; state survives SIGTERM and SIGKILL restarts', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pdpilot-up-e2e-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // Steps of 10 ms: a 150-token answer holds its KV on the decode worker for about 1.5 s, so the burst keeps
  // KV usage up across several controller intervals; prefill is a couple of ms, so prefill never queues.
  const profilePath = join(dir, 'profile.json');
  writeFileSync(
    profilePath,
    JSON.stringify({
      schemaVersion: 1,
      model: 'opt-13b',
      gpu: 'test',
      tensorParallel: 1,
      pipelineParallel: 1,
      prefillMs: [2, 0.0005, 0],
      decodeMs: { smallBatch: [10, 0, 0], largeBatch: [10, 0, 0], thresholdBatch: 95 },
      kvCapacityTokens: 8000,
      kvBytesPerToken: 1000,
      contextTokens: 4096,
      flipSeconds: 0,
      startSeconds: 0,
      source: 'test fixture: fast steps, a small KV cache',
    }),
  );
  const basePort = await freePorts(4);
  const routerPort = await freePorts(1, [basePort, basePort + 1, basePort + 2, basePort + 3]);
  const adminPort = await freePorts(1, [basePort, basePort + 1, basePort + 2, basePort + 3, routerPort]);
  const configPath = join(dir, 'config.json');
  writeFileSync(
    configPath,
    JSON.stringify({
      fleet: { mode: 'local', backend: 'sim', profile: profilePath, workers: 4, initialPrefill: 3, host: '127.0.0.1', basePort },
      slo: { ttftSeconds: 1, tpotSeconds: 0.1, attainment: 0.9 },
      policy: { name: 'reactive', params: { decodeKvScaleUp: 0.15, decodeKvScaleDown: 0, prefillQueueScaleUp: 1e6, prefillQueueScaleDown: 0 } },
      controller: { intervalSeconds: 1, cooldownSeconds: 0, stabilizationWindowSeconds: 0, toleranceBand: 0, maxFlipsPerInterval: 1, staleAfterSeconds: 10, drainTimeoutSeconds: 20 },
      router: { host: '127.0.0.1', port: routerPort, model: MODEL, maxTokens: 512, contextTokens: 4096, requestTimeoutSeconds: 60 },
      admin: {
        host: '127.0.0.1',
        port: adminPort,
        tokens: [
          { name: 'e2e-admin', tokenEnv: 'PDPILOT_ADMIN_TOKEN', scope: 'admin' },
          { name: 'e2e-read', tokenEnv: 'E2E_READ_TOKEN', scope: 'read' },
        ],
      },
      store: { path: join(dir, 'state.json') },
      jobs: { refit: 'off', compaction: 'off', dailySummary: 'off' },
      telemetry: { logLevel: 'info' },
    }),
  );
  const env = { PDPILOT_ADMIN_TOKEN: ADMIN, E2E_READ_TOKEN: READ };
  const admin = `http://127.0.0.1:${adminPort}`;
  const api = async (path: string, init: RequestInit & { token?: string } = {}) => {
    const headers: Record<string, string> = { ...(init.body ? { 'content-type': 'application/json' } : {}) };
    if (init.token) headers.authorization = `Bearer ${init.token}`;
    const res = await fetch(`${admin}${path}`, { ...init, headers });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const decisions = async (query = '') => (await api(`/api/v1/decisions?limit=1000${query}`, { token: READ })).body.items as Decision[];
  const daemons: DaemonProcess[] = [];
  t.teardown(async () => {
    for (const d of daemons) if (d.running) d.kill('SIGKILL');
    await reapOrphans(daemons.flatMap((d) => d.workerPids()));
  });
  const start = async () => {
    const d = new DaemonProcess(configPath, env);
    daemons.push(d);
    await d.waitForLog((l) => l.msg.startsWith('controller running'), 60_000);
    return d;
  };

  // ---- first run: the burst and the flip --------------------------------------------------------------
  const first = await start();
  t.same(
    first.logs.filter((l) => l.msg === 'worker ready').map((l) => [l.worker, l.role]),
    [
      ['w0', 'prefill'],
      ['w1', 'prefill'],
      ['w2', 'prefill'],
      ['w3', 'decode'],
    ],
    'the fleet starts 3P/1D',
  );

  const client = new OpenAI({ baseURL: `http://127.0.0.1:${routerPort}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 60_000 });
  const results: { ok: boolean; detail: string }[] = [];
  let issuing = true;
  const one = async (i: number, n: number): Promise<{ ok: boolean; detail: string }> => {
    const prompt = `request ${i}.${n}: tell me a long story about disaggregated serving`;
    if (i % 2 === 0) {
      const r = await client.completions.create({ model: MODEL, prompt, max_tokens: OUTPUT_TOKENS, ignore_eos: true } as OpenAI.CompletionCreateParamsNonStreaming);
      const c = r.choices[0];
      return { ok: r.usage?.completion_tokens === OUTPUT_TOKENS && c?.finish_reason === 'length', detail: `completion ${r.usage?.completion_tokens} ${c?.finish_reason}` };
    }
    const stream = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: prompt }],
      max_tokens: OUTPUT_TOKENS,
      stream: true,
      stream_options: { include_usage: true },
      ignore_eos: true,
    } as OpenAI.ChatCompletionCreateParamsStreaming);
    let finish: string | null = null;
    let tokens: number | undefined;
    for await (const chunk of stream) {
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) tokens = chunk.usage.completion_tokens;
    }
    return { ok: tokens === OUTPUT_TOKENS && finish === 'length', detail: `chat stream ${tokens} ${finish}` };
  };
  const loop = async (i: number) => {
    for (let n = 0; issuing; n++) {
      results.push(await one(i, n).catch((error: unknown) => ({ ok: false, detail: String(error) })));
    }
  };
  const burst = Array.from({ length: CLIENTS }, (_, i) => loop(i));
  // The burst runs until the controller has flipped and the flip has finished, and one more interval with
  // the new split, so requests are in flight throughout the flip.
  const flipped = await until('an applied flip of a prefill worker to decode', 40_000, async () => {
    const applied = await decisions('&applied=true');
    return applied.length > 0 ? applied : undefined;
  });
  const flip = flipped.at(-1)!.applied[0]!;
  const fleetAfter = await until(`${flip.change.workerId} ready as decode in the fleet view`, 20_000, async () => {
    const fleet = (await api('/api/v1/fleet', { token: READ })).body.workers as { id: string; role: string; status: string }[];
    return fleet.find((w) => w.id === flip.change.workerId && w.role === 'decode' && w.status === 'ready') ? fleet : undefined;
  });
  await new Promise((r) => setTimeout(r, 1000));
  issuing = false;
  await Promise.all(burst);

  const failed = results.filter((r) => !r.ok);
  t.ok(results.length >= CLIENTS, `the burst sent ${results.length} requests`);
  t.same(failed, [], 'every request completed with all its tokens');
  t.match(flip, { change: { from: 'prefill', to: 'decode', reason: { code: 'decode-kv-high' } }, outcome: 'started' }, 'the flip: prefill → decode for decode KV pressure');
  const acting = flipped.at(-1)!;
  t.equal(acting.status, 'acted');
  t.equal(acting.reason.code, 'decode-kv-high', 'the decision records its reason code');
  t.match(acting.reason.message, /decode KV/);
  t.ok(fleetAfter.filter((w) => w.role === 'decode').length >= 2, 'the fleet view shows at least 2 decode workers');
  t.ok(first.logs.some((l) => l.msg === 'flip' && l.worker === flip.change.workerId), 'the daemon logged the flip');

  // Metrics: the daemon's on the admin port, the router's on its own port (only there: scraped as separate jobs).
  const daemonMetrics = await (await fetch(`${admin}/metrics`)).text();
  const routerMetrics = await (await fetch(`http://127.0.0.1:${routerPort}/metrics`)).text();
  t.ok((sample(daemonMetrics, 'pdpilot_flips_total', { reason: 'decode-kv-high', from: 'prefill', to: 'decode' }) ?? 0) >= 1, 'pdpilot_flips_total counted the flip by reason');
  t.ok((sample(daemonMetrics, 'pdpilot_instances', { role: 'decode', kind: 'actual' }) ?? 0) >= 2, 'actual decode instances moved to ≥ 2');
  t.ok((sample(daemonMetrics, 'pdpilot_decisions_total', { status: 'acted' }) ?? 0) >= 1);
  t.ok((sample(daemonMetrics, 'pdpilot_slo_window_requests') ?? 0) > 0, 'the router reported request outcomes to the daemon');
  t.ok(sample(daemonMetrics, 'pdpilot_process_cpu_seconds_total') !== undefined, 'process metrics are served');
  t.equal(sample(routerMetrics, 'pdpilot_router_requests_total', { outcome: 'ok' }), results.length, 'the router counted every request as ok');
  t.equal(sample(daemonMetrics, 'pdpilot_router_requests_total', { outcome: 'ok' }), undefined, 'router series are not served twice');
  t.equal(sample(routerMetrics, 'pdpilot_router_requests_total', { outcome: 'failed' }), 0);
  // The flip executor told the router before it asked the worker to drain, so no request was sent to the draining worker to be handed back.
  t.equal(sample(routerMetrics, 'pdpilot_router_retries_total', { reason: 'prefill_handed_back' }), 0, 'no prefill was handed back by the flipping worker');

  // Auth and input: no token → 401, a read token → 403, bad input → 400 with a reason and nothing changed.
  t.equal((await api('/api/v1/pause', { method: 'POST' })).status, 401, 'mutation without a token → 401');
  t.equal((await api('/api/v1/pause', { method: 'POST', token: READ })).status, 403, 'mutation with a read token → 403');
  const badPolicy = await api('/api/v1/policy', { method: 'PUT', token: ADMIN, body: JSON.stringify({ name: 'no-such-policy', params: {} }) });
  t.equal(badPolicy.status, 400, 'an unknown policy → 400');
  t.match(badPolicy.body, { error: { message: /no-such-policy|policy/ } }, 'with a reason');
  const badOverride = await api('/api/v1/overrides', { method: 'POST', token: ADMIN, body: JSON.stringify({ worker: 'w0', role: 'sideways', expiresInSeconds: 60 }) });
  t.equal(badOverride.status, 400, 'an override to no role → 400');
  t.match(badOverride.body, { error: { message: /role/ } }, 'naming the field');
  const status = (await api('/api/v1/status', { token: READ })).body as { policy: { name: string }; pendingPolicy?: unknown; overrides: unknown[]; paused: boolean };
  t.equal(status.policy.name, 'reactive', 'the policy did not change');
  t.notOk(status.pendingPolicy, 'no policy is pending');
  t.same(status.overrides, [], 'no override was recorded');
  t.match((await api('/api/v1/pause', { method: 'POST', token: ADMIN })).body, { paused: true }, 'pause with the admin token');
  t.match((await api('/api/v1/resume', { method: 'POST', token: ADMIN })).body, { paused: false }, 'resume');

  // ---- SIGTERM: exits 0 with its workers stopped; the restart has the decisions, history and a warm forecaster,
  // and its workers come back in the roles the flips left them in, not in the configured 3P/1D.
  const before = await decisions();
  const historyBefore = ((await api('/api/v1/forecast?last=2000', { token: READ })).body.items as unknown[]).length;
  const firstPids = first.workerPids();
  first.kill('SIGTERM');
  t.equal(await first.exited, 0, 'SIGTERM: exit code 0');
  t.ok(first.logs.some((l) => l.msg === 'stopped'));
  for (const pid of firstPids) t.notOk(alive(pid), `worker pid ${pid} stopped with the daemon`);

  const second = await start();
  // (The last fleet view of the first run can be an interval old; the flips in the store are what it left.)
  const readyAs = new Map(second.logs.filter((l) => l.msg === 'worker ready').map((l) => [l.worker, l.role]));
  const restored = second.logs.filter((l) => l.msg.startsWith('restoring the role'));
  t.equal(readyAs.get(flip.change.workerId), 'decode', `${flip.change.workerId}, flipped to decode in the first run, starts as decode`);
  t.ok(restored.some((l) => l.worker === flip.change.workerId && l.role === 'decode'), 'and the daemon says so');
  for (const l of restored) t.equal(readyAs.get(l.worker), l.role, `${String(l.worker)} started as the ${String(l.role)} it was restored to`);
  const afterTerm = await decisions();
  t.same(
    afterTerm.filter((d) => d.id <= before[0]!.id).map((d) => d.id),
    before.map((d) => d.id),
    'every decision of the first run is still there after SIGTERM',
  );
  t.ok(afterTerm.some((d) => d.applied.some((a) => a.change.reason.code === 'decode-kv-high')), 'including the flip');
  const historyAfter = ((await api('/api/v1/forecast?last=2000', { token: READ })).body.items as unknown[]).length;
  t.ok(historyAfter >= historyBefore && historyBefore > 0, `load history kept (${historyBefore} intervals before, ${historyAfter} after)`);
  // No request has reached this run, so a forecast that expects 150-token outputs was learned from the stored history.
  const warm = await until('a decision of the restarted daemon with a forecast', 20_000, async () => {
    const fresh = (await decisions()).filter((d) => d.id > before[0]!.id && d.forecast);
    return fresh.at(-1);
  });
  t.equal(Math.round(warm.forecast!.outputMean), OUTPUT_TOKENS, 'the restarted forecaster is warm: it forecasts the burst’s output length');
  t.match((await api('/api/v1/fleet', { token: READ })).body, { workers: [{ id: 'w0' }, { id: 'w1' }, { id: 'w2' }, { id: 'w3' }] });

  // ---- SIGKILL: no clean stop at all; the store file must still open with everything written so far -----------
  const beforeKill = await decisions();
  const secondPids = second.workerPids();
  second.kill('SIGKILL');
  await second.exited;
  // The workers live in their own process groups, so the SIGKILL does not reach them; their IPC lifeline to
  // the daemon does: each stops itself when it closes, and frees its port for the restart.
  await until('workers of the killed daemon to exit by themselves', 30_000, async () => (secondPids.some(alive) ? undefined : true));
  t.notOk(secondPids.some(alive), 'no worker outlives a SIGKILLed daemon');
  const third = await start();
  const afterKill = await decisions();
  t.same(
    afterKill.filter((d) => d.id <= beforeKill[0]!.id).map((d) => d.id),
    beforeKill.map((d) => d.id),
    'every decision read before the SIGKILL is still there',
  );
  third.kill('SIGTERM');
  t.equal(await third.exited, 0);
});
