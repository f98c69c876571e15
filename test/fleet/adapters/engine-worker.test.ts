import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { EngineObservedWorker } from '../../../src/fleet/adapters/engine-worker.js';
import { sglangPage, VLLM_V0_PAGE } from './fixtures/metrics-pages.js';

const ZERO_15 = Array.from({ length: 15 }, () => 0);

/**
 * A small SGLang server: /metrics from its queue and batch, and
 * /pd_role_switch with the engine's contract (refuses when not idle,
 * answers {success, message, old_role, new_role}, 400 on refusal).
 */
async function fakeSglang(role: 'prefill' | 'decode') {
  const state = { role, running: 0, queue: 0, switchBodies: [] as unknown[], refuse: '' };
  const server: Server = createServer((req, res) => {
    if (req.url === '/metrics') {
      res.end(sglangPage(state.queue, state.running, 0.2, ZERO_15));
      return;
    }
    if (req.url === '/pd_role_switch' && req.method === 'POST') {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const input = JSON.parse(body) as { new_role: 'prefill' | 'decode' };
        state.switchBodies.push(input);
        const refusal = state.refuse || (state.running + state.queue > 0 ? 'instance is not idle' : '');
        res.statusCode = refusal ? 400 : 200;
        const old = state.role;
        if (!refusal) state.role = input.new_role;
        res.end(JSON.stringify({ success: !refusal, message: refusal || 'ok', old_role: old, new_role: state.role }));
      });
      return;
    }
    res.statusCode = 404;
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { state, url, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

t.test('SGLang: drains to idle, then POST /pd_role_switch {new_role}; the new role is reported', async (t) => {
  const engine = await fakeSglang('prefill');
  t.teardown(engine.close);
  engine.state.running = 2;
  const worker = new EngineObservedWorker({ engine: 'sglang', url: engine.url, role: 'prefill', id: 's0', drainPollSeconds: 0.02 });
  const before = await worker.read();
  t.same([before.role, before.status, before.runningRequests], ['prefill', 'ready', 2]);
  const switching = worker.switchRole('decode', 5);
  await new Promise((r) => setTimeout(r, 60));
  t.equal((await worker.read()).status, 'draining', 'reported draining while the batch empties');
  t.same(engine.state.switchBodies, [], 'no switch call while the engine is busy');
  engine.state.running = 0;
  await switching;
  t.same(engine.state.switchBodies, [{ new_role: 'decode' }]);
  const after = await worker.read();
  t.same([after.role, after.status], ['decode', 'ready']);
});

t.test('SGLang: a refused switch rejects with the engine message; the role stays', async (t) => {
  const engine = await fakeSglang('decode');
  t.teardown(engine.close);
  engine.state.refuse = 'PD role switch is disabled; start the server with --enable-pd-role-switch';
  const worker = new EngineObservedWorker({ engine: 'sglang', url: engine.url, role: 'decode' });
  await t.rejects(worker.switchRole('prefill', 1), /refused the switch to prefill: PD role switch is disabled/);
  t.equal((await worker.read()).role, 'decode');
});

t.test('SGLang: a drain that does not finish in time rejects without calling the switch', async (t) => {
  const engine = await fakeSglang('prefill');
  t.teardown(engine.close);
  engine.state.queue = 4;
  const worker = new EngineObservedWorker({ engine: 'sglang', url: engine.url, role: 'prefill', drainPollSeconds: 0.02 });
  await t.rejects(worker.switchRole('decode', 0.1), /0 running and 4 queued after the 0.1 s drain timeout/);
  t.same(engine.state.switchBodies, []);
});

t.test('vLLM: read from metrics; no role switch', async (t) => {
  const server = createServer((_req, res) => res.end(VLLM_V0_PAGE));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const worker = new EngineObservedWorker({ engine: 'vllm', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, role: 'decode' });
  const r = await worker.read();
  t.same([r.role, r.queuedRequests, r.runningRequests, r.kvUsage, r.queuedTokens], ['decode', 2, 5, 0.734, 0]);
  await t.rejects(worker.switchRole('prefill', 1), /vLLM has no role switch/);
});

t.test('an unreachable engine rejects read (the observer marks it stale)', async (t) => {
  const worker = new EngineObservedWorker({ engine: 'vllm', url: 'http://127.0.0.1:9', role: 'decode', timeoutSeconds: 0.5 });
  await t.rejects(worker.read(), /GET http:\/\/127.0.0.1:9\/metrics/);
});
