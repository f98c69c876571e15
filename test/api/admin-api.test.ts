import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { buildApp } from '../../src/api/app.js';
import { ControllerService } from '../../src/control/controller-service.js';
import { IntervalLoadMeter } from '../../src/control/interval-load-meter.js';
import { createForecaster } from '../../src/forecast/create-forecaster.js';
import { ManualClock } from '../../src/lib/clock.js';
import { loadProfile } from '../../src/perf/profile.js';
import { createPolicy } from '../../src/policy/registry.js';
import { LowdbStore } from '../../src/store/lowdb-store.js';
import type { Store } from '../../src/store/store.js';
import { FakeWallClock, FakeWorker } from '../control/fixtures/live-fleet.js';

const profile = await loadProfile(new URL('../../profiles/opt-13b-tp1-a100.json', import.meta.url).pathname);
const slo = { ttftSeconds: 1, tpotSeconds: 0.1, attainment: 0.9 };
const ADMIN = 'admin-token-0123456789';
const READ = 'read-token-0123456789ab';
const tokens = [
  { name: 'ops', token: ADMIN, scope: 'admin' as const },
  { name: 'viewer', token: READ, scope: 'read' as const },
];
const auth = (token: string) => ({ authorization: `Bearer ${token}` });

async function setup(t: { teardown: (fn: () => Promise<void>) => void }, path?: string) {
  const dir = path ? undefined : await mkdtemp(join(tmpdir(), 'pdpilot-api-'));
  const file = path ?? join(dir as string, 'state.json');
  const store: Store = await LowdbStore.open(file);
  const clock = new ManualClock(100);
  const wall = new FakeWallClock();
  const workers = [new FakeWorker('w0', 'prefill'), new FakeWorker('w1', 'decode'), new FakeWorker('w2', 'decode')];
  const service = new ControllerService({
    clock,
    wallClock: wall,
    store,
    workers,
    load: new IntervalLoadMeter(slo, clock.nowSeconds()),
    policy: { name: 'static', params: { prefill: 1, decode: 2 } },
    createPolicy: (name, params) => createPolicy(name, params),
    forecaster: createForecaster('holt'),
    profile,
    slo,
    intervalSeconds: 30,
    drainTimeoutSeconds: 60,
  });
  await service.start();
  const app = await buildApp({ service, store, tokens, wallClock: wall, profile, slo, createSimPolicy: (name, params) => createPolicy(name, params) });
  t.teardown(async () => {
    await app.close();
    await store.close().catch(() => undefined);
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  const tick = async () => {
    clock.advance(30);
    wall.ms += 30_000;
    return service.tick();
  };
  return { app, store, service, clock, wall, workers, file, tick };
}

t.test('auth: no token 401, unknown token 401, read token on a mutation 403, read token reads', async (t) => {
  const { app, store } = await setup(t);
  const none = await app.inject({ method: 'POST', url: '/api/v1/pause' });
  t.equal(none.statusCode, 401);
  t.equal(none.json().error.code, 'unauthorized');
  t.equal((await app.inject({ method: 'GET', url: '/api/v1/status', headers: auth('nope-nope-nope-nope') })).statusCode, 401);
  const forbidden = await app.inject({ method: 'POST', url: '/api/v1/pause', headers: auth(READ) });
  t.equal(forbidden.statusCode, 403);
  t.equal(forbidden.json().error.code, 'forbidden');
  t.equal((await store.flags()).paused, false, 'a refused mutation changes nothing');
  // Bad input without a token is a 401, not a 400: the input rules are not shown to strangers.
  t.equal((await app.inject({ method: 'PUT', url: '/api/v1/advisory', payload: { enabled: 'yes' } })).statusCode, 401);
  const status = await app.inject({ method: 'GET', url: '/api/v1/status', headers: auth(READ) });
  t.equal(status.statusCode, 200);
  t.same(status.json().policy, { name: 'static', params: { prefill: 1, decode: 2 } });
});

t.test('status, fleet and per-worker state after a reconcile', async (t) => {
  const { app, tick, workers } = await setup(t);
  await tick();
  (workers[2] as FakeWorker).unreachable = true;
  await tick();
  const fleet = (await app.inject({ url: '/api/v1/fleet', headers: auth(READ) })).json();
  t.same(fleet.workers.map((w: { id: string; status: string }) => [w.id, w.status]), [['w0', 'ready'], ['w1', 'ready'], ['w2', 'stale']]);
  const w2 = (await app.inject({ url: '/api/v1/fleet/w2', headers: auth(READ) })).json();
  t.match(w2.error, /unreachable/);
  const missing = await app.inject({ url: '/api/v1/fleet/w9', headers: auth(READ) });
  t.equal(missing.statusCode, 404);
  t.equal(missing.json().error.code, 'not_found');
  const status = (await app.inject({ url: '/api/v1/status', headers: auth(READ) })).json();
  t.equal(status.workers, 3);
  t.equal(status.lastDecision.status, 'steady');
});

t.test('decisions: paged newest first, filtered by status, time and applied', async (t) => {
  const { app, tick, service } = await setup(t);
  await tick();
  await service.setPolicy({ name: 'static', params: { prefill: 2, decode: 1 } }, 'test');
  await tick(); // acts: w1 → prefill
  await service.idle();
  await tick();
  const first = (await app.inject({ url: '/api/v1/decisions?limit=2', headers: auth(READ) })).json();
  t.equal(first.items.length, 2);
  t.ok(first.nextCursor);
  const rest = (await app.inject({ url: `/api/v1/decisions?limit=2&cursor=${first.nextCursor}`, headers: auth(READ) })).json();
  t.equal(rest.items.length, 1);
  t.ok(first.items[0].id > first.items[1].id && first.items[1].id > rest.items[0].id, 'newest first, no overlap');
  const acted = (await app.inject({ url: '/api/v1/decisions?applied=true', headers: auth(READ) })).json();
  t.same(acted.items.map((d: { status: string }) => d.status), ['acted']);
  t.equal(acted.items[0].applied[0].change.workerId, 'w1');
  const steady = (await app.inject({ url: '/api/v1/decisions?status=steady&since=2026-01-05T10:00:00Z', headers: auth(READ) })).json();
  t.equal(steady.items.length, 2);
  const none = (await app.inject({ url: '/api/v1/decisions?until=2026-01-05T10:00:00Z', headers: auth(READ) })).json();
  t.equal(none.items.length, 0);
  const bad = await app.inject({ url: '/api/v1/decisions?limit=0', headers: auth(READ) });
  t.equal(bad.statusCode, 400);
  t.match(bad.json().error.message, /limit/);
  t.equal((await app.inject({ url: '/api/v1/decisions?since=yesterday', headers: auth(READ) })).statusCode, 400);
  t.equal((await app.inject({ url: '/api/v1/decisions?colour=red', headers: auth(READ) })).statusCode, 400, 'unknown query keys are refused');
});

t.test('policy: get, put validated against the registry, recorded, effective next interval', async (t) => {
  const { app, store, tick } = await setup(t);
  for (const payload of [{ name: 'no-such-policy' }, { name: 'static', params: { prefill: 0 } }, { name: 'static', params: { colour: 1 } }, { name: 'static', extra: true }, { name: '../../etc/passwd.json' }]) {
    const res = await app.inject({ method: 'PUT', url: '/api/v1/policy', headers: auth(ADMIN), payload });
    t.equal(res.statusCode, 400, JSON.stringify(payload));
    t.equal(res.json().error.code, 'bad_request');
  }
  t.equal((await store.configRevisions({ kind: 'policy' })).items.length, 0, 'bad input changes nothing');
  const put = await app.inject({ method: 'PUT', url: '/api/v1/policy', headers: auth(ADMIN), payload: { name: 'static', params: { prefill: 2, decode: 1 } } });
  t.equal(put.statusCode, 200);
  t.same((await app.inject({ url: '/api/v1/policy', headers: auth(READ) })).json(), { name: 'static', params: { prefill: 2, decode: 1 } });
  const [revision] = (await store.configRevisions({ kind: 'policy' })).items;
  t.equal(revision?.actor, 'ops');
  const decision = await tick();
  t.equal(decision.target?.prefill, 2);
});

t.test('pause, resume, advisory and overrides; bad input is 400 and changes nothing', async (t) => {
  const { app, store, tick } = await setup(t);
  t.same((await app.inject({ method: 'POST', url: '/api/v1/pause', headers: auth(ADMIN) })).json(), { paused: true, advisory: false });
  t.equal((await tick()).status, 'paused');
  t.same((await app.inject({ method: 'POST', url: '/api/v1/resume', headers: auth(ADMIN) })).json(), { paused: false, advisory: false });
  t.same((await app.inject({ method: 'PUT', url: '/api/v1/advisory', headers: auth(ADMIN), payload: { enabled: true } })).json(), { paused: false, advisory: true });
  t.equal((await app.inject({ method: 'PUT', url: '/api/v1/advisory', headers: auth(ADMIN), payload: { enabled: 'yes' } })).statusCode, 400);
  t.equal((await app.inject({ method: 'PUT', url: '/api/v1/advisory', payload: '{"enabled":', headers: { ...auth(ADMIN), 'content-type': 'application/json' } })).statusCode, 400, 'malformed JSON');
  t.equal((await store.flags()).advisory, true);
  for (const payload of [{ worker: 'w1', role: 'both', expiresInSeconds: 60 }, { worker: 'w1', role: 'prefill', expiresInSeconds: -5 }, { worker: 'w1', role: 'prefill' }]) {
    t.equal((await app.inject({ method: 'POST', url: '/api/v1/overrides', headers: auth(ADMIN), payload })).statusCode, 400, JSON.stringify(payload));
  }
  t.equal((await app.inject({ method: 'POST', url: '/api/v1/overrides', headers: auth(ADMIN), payload: { worker: 'w9', role: 'prefill', expiresInSeconds: 60 } })).statusCode, 404);
  t.same((await store.flags()).overrides, [], 'refused overrides leave none');
  const ok = await app.inject({ method: 'POST', url: '/api/v1/overrides', headers: auth(ADMIN), payload: { worker: 'w1', role: 'prefill', expiresInSeconds: 600, note: 'load test' } });
  t.equal(ok.statusCode, 200);
  t.same([ok.json().workerId, ok.json().actor, ok.json().untilIso], ['w1', 'ops', '2026-01-05T10:10:30.000Z']);
  t.equal((await app.inject({ method: 'DELETE', url: '/api/v1/overrides/w1', headers: auth(ADMIN) })).statusCode, 204);
  t.equal((await app.inject({ method: 'DELETE', url: '/api/v1/overrides/w1', headers: auth(ADMIN) })).statusCode, 404);
});

t.test('flags survive a rebuilt app on the same LowdbStore file', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pdpilot-api-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'state.json');
  const first = await setup(t, file);
  await first.app.inject({ method: 'POST', url: '/api/v1/pause', headers: auth(ADMIN) });
  await first.app.inject({ method: 'POST', url: '/api/v1/overrides', headers: auth(ADMIN), payload: { worker: 'w2', role: 'prefill', expiresInSeconds: 3600 } });
  await first.app.close();
  await first.store.close();
  const second = await setup(t, file);
  const status = (await second.app.inject({ url: '/api/v1/status', headers: auth(READ) })).json();
  t.equal(status.paused, true);
  t.same(status.overrides.map((o: { workerId: string }) => o.workerId), ['w2']);
  t.equal((await second.tick()).status, 'paused');
});

t.test('forecast against actual, and the what-if simulation over the recorded history', async (t) => {
  const { app, store, wall } = await setup(t);
  t.equal((await app.inject({ method: 'POST', url: '/api/v1/simulate', headers: auth(READ), payload: { minutes: 10, policy: 'reactive' } })).statusCode, 409, 'no history yet');
  const base = wall.ms - 20 * 30_000;
  for (let i = 0; i < 20; i++) {
    await store.appendHistory({ startIso: new Date(base + i * 30_000).toISOString(), load: { startSeconds: i * 30, intervalSeconds: 30, requests: 60, inputMean: 500, inputSecondMoment: 500 * 500 + 200 * 200, outputMean: 100 }, intervals: 1 });
  }
  const forecast = (await app.inject({ url: '/api/v1/forecast?last=5', headers: auth(READ) })).json();
  t.equal(forecast.items.length, 5);
  t.equal(forecast.items[0].actualRps, 2);
  const bad = await app.inject({ method: 'POST', url: '/api/v1/simulate', headers: auth(READ), payload: { minutes: 10, policy: 'static', params: { prefill: 0 } } });
  t.equal(bad.statusCode, 400);
  const res = await app.inject({ method: 'POST', url: '/api/v1/simulate', headers: auth(READ), payload: { minutes: 20, policy: 'static', params: { prefill: 1, decode: 1 }, gpus: 2 } });
  t.equal(res.statusCode, 200, res.body);
  const body = res.json();
  t.equal(body.policy, 'static');
  t.equal(body.requests, 1200, 'round(count) requests per recorded interval');
  t.equal(body.completed + body.dropped, 1200);
  t.ok(body.attainment >= 0 && body.attainment <= 1);
  t.match(body.synthesis, /synthesised/);
});

t.test('OpenAPI document lists the routes; internal errors are hidden', async (t) => {
  const { app, store } = await setup(t);
  const doc = (await app.inject({ url: '/api/docs/json' })).json();
  for (const path of ['/api/v1/status', '/api/v1/fleet/{worker}', '/api/v1/decisions', '/api/v1/policy', '/api/v1/simulate', '/api/v1/overrides']) t.ok(doc.paths[path], path);
  await store.close();
  const res = await app.inject({ url: '/api/v1/decisions', headers: auth(READ) });
  t.equal(res.statusCode, 500);
  t.same(res.json(), { error: { code: 'internal', message: 'internal error; see the daemon log' } });
  t.equal((await app.inject({ url: '/api/v1/nothing', headers: auth(READ) })).json().error.code, 'not_found');
});
