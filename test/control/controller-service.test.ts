import t from 'tap';
import { ControllerService, type ControllerServiceDeps } from '../../src/control/controller-service.js';
import { IntervalLoadMeter } from '../../src/control/interval-load-meter.js';
import type { RoleTarget } from '../../src/domain/decision.js';
import { InputError } from '../../src/domain/errors.js';
import type { LoadSample } from '../../src/domain/load.js';
import type { Role } from '../../src/domain/role.js';
import type { Forecaster, LoadForecast } from '../../src/forecast/forecaster.js';
import { LastValueForecaster } from '../../src/forecast/forecaster.js';
import { ManualClock } from '../../src/lib/clock.js';
import { loadProfile } from '../../src/perf/profile.js';
import type { Policy, PolicyContext, PolicyDecision } from '../../src/policy/policy.js';
import { flipsToward } from '../../src/policy/split.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import type { Store } from '../../src/store/store.js';
import { FakeWallClock, FakeWorker } from './fixtures/live-fleet.js';

const profile = await loadProfile(new URL('../../profiles/opt-13b-tp1-a100.json', import.meta.url).pathname);
const slo = { ttftSeconds: 1, tpotSeconds: 0.1, attainment: 0.9 };

/** Wants `prefill` prefill workers (its one parameter). */
class TargetPolicy implements Policy {
  readonly name = 'target';
  constructor(private readonly prefill: number) {}
  decide(context: PolicyContext): PolicyDecision {
    const pool = context.snapshot.workers.filter((w) => w.status !== 'stale').length;
    const prefill = Math.min(this.prefill, pool);
    const target: RoleTarget = { prefill, decode: pool - prefill };
    const reason = { code: 'test-target', message: `want ${prefill}P` };
    return { target, changes: flipsToward(context.snapshot, target, reason), reason };
  }
}

const createPolicy = (name: string, params: Record<string, unknown>): Policy => {
  if (name !== 'target') throw new InputError('policy', `unknown policy "${name}"`);
  if (typeof params.prefill !== 'number') throw new InputError('policy target: prefill', 'must be a number');
  return new TargetPolicy(params.prefill);
};

/** Records what it was fed, to check the warm start. */
class RecordingForecaster implements Forecaster {
  readonly name = 'recording';
  seen: LoadSample[] = [];
  private inner = new LastValueForecaster();
  observe(sample: LoadSample): void {
    this.seen.push(sample);
    this.inner.observe(sample);
  }
  forecast(horizonSeconds: number): LoadForecast {
    return this.inner.forecast(horizonSeconds);
  }
}

function setup(roles: Role[], prefill: number, options: { store?: Store; workers?: FakeWorker[]; forecaster?: Forecaster; extra?: Partial<ControllerServiceDeps> } = {}) {
  const clock = new ManualClock(1000);
  const wall = new FakeWallClock();
  const store = options.store ?? new MemoryStore();
  const workers = options.workers ?? roles.map((role, i) => new FakeWorker(`w${i}`, role));
  const meter = new IntervalLoadMeter(slo, clock.nowSeconds());
  const forecaster = options.forecaster ?? new RecordingForecaster();
  const service = new ControllerService({
    clock,
    wallClock: wall,
    store,
    workers,
    load: meter,
    policy: { name: 'target', params: { prefill } },
    createPolicy,
    forecaster,
    profile,
    slo,
    intervalSeconds: 30,
    safety: { cooldownSeconds: 0, maxSnapshotAgeSeconds: 30 },
    drainTimeoutSeconds: 60,
    ...options.extra,
  });
  const step = (seconds = 30) => {
    clock.advance(seconds);
    wall.ms += seconds * 1000;
  };
  return { clock, wall, store, workers, meter, service, forecaster, step };
}

t.test('a flip is persisted pending before the worker is touched, then verified and marked done', async (t) => {
  const s = setup(['prefill', 'decode', 'decode'], 2);
  await s.service.start();
  const w = s.workers[1] as FakeWorker;
  let seenAtSwitch: string[] = [];
  w.onSwitch = async () => {
    seenAtSwitch = (await s.store.pendingFlips()).map((f) => `${f.change.workerId}:${f.state}`);
  };
  s.step();
  const decision = await s.service.tick();
  t.equal(decision.status, 'acted');
  t.same(decision.applied.map((a) => [a.change.workerId, a.outcome]), [['w1', 'started']]);
  await s.service.idle();
  t.same(seenAtSwitch, ['w1:draining'], 'the flip was on disk (pending, then draining) before the switch call');
  const [flip] = await s.store.flips({ workerId: 'w1' });
  t.equal(flip?.state, 'done');
  t.same(flip?.transitions.map((x) => x.state), ['pending', 'draining', 'switching', 'done']);
  t.equal(w.reading.role, 'prefill');
  const stored = await s.store.decisions();
  t.equal(stored.items[0]?.status, 'acted');
  t.equal(stored.items[0]?.reason.code, 'test-target');
  t.equal(stored.items[0]?.target?.prefill, 2);
});

t.test('re-validation: a worker that changed since the snapshot is refused and nothing is persisted', async (t) => {
  const s = setup(['prefill', 'decode'], 1);
  await s.service.start();
  const w = s.workers[1] as FakeWorker;
  const result = await s.service.executor.start({ workerId: 'w1', from: 'prefill', to: 'decode', reason: { code: 'x', message: 'x' } });
  t.equal(result.outcome, 'refused');
  t.match(result.message, /plan expected ready as prefill/);
  t.same(await s.store.flips(), []);
  t.same(w.switches, []);
});

t.test('a refused switch ends failed with the worker message', async (t) => {
  const s = setup(['prefill', 'decode', 'decode'], 2);
  await s.service.start();
  (s.workers[1] as FakeWorker).refuse = 'engine unhealthy';
  s.step();
  await s.service.tick();
  await s.service.idle();
  const [flip] = await s.store.flips({ workerId: 'w1' });
  t.equal(flip?.state, 'failed');
  t.match(flip?.transitions.at(-1)?.message, /engine unhealthy/);
});

t.test('a worker never read makes the view unsynced: no decision; a worker that stops answering is stale, never moved', async (t) => {
  const s = setup(['prefill', 'decode', 'decode'], 2);
  // Unreachable from the start: the first reading (at start) and the first tick never see it.
  (s.workers[1] as FakeWorker).unreachable = true;
  await s.service.start();
  s.step();
  const first = await s.service.tick();
  t.equal(first.status, 'not-synced');
  (s.workers[1] as FakeWorker).unreachable = false;
  s.step();
  t.equal((await s.service.tick()).status, 'acted');
  await s.service.idle();
  // Now w1 is prefill; want 3 prefill: w2 is the candidate, but unreachable.
  await s.service.setPolicy({ name: 'target', params: { prefill: 3 } }, 'test');
  (s.workers[2] as FakeWorker).unreachable = true;
  s.step();
  const held = await s.service.tick();
  t.same(held.applied, []);
  t.equal(s.service.fleet().find((w) => w.snapshot.id === 'w2')?.snapshot.status, 'stale');
  t.match(s.service.fleet().find((w) => w.snapshot.id === 'w2')?.error, /unreachable/);
});

t.test('the fleet view is read at start, before the first reconcile, without closing an interval or deciding', async (t) => {
  const s = setup(['prefill', 'decode', 'decode'], 2);
  (s.workers[2] as FakeWorker).reading.queuedRequests = 4;
  await s.service.start();
  t.same(
    s.service.fleet().map((w) => [w.snapshot.id, w.snapshot.role, w.snapshot.status]),
    [
      ['w0', 'prefill', 'ready'],
      ['w1', 'decode', 'ready'],
      ['w2', 'decode', 'ready'],
    ],
  );
  t.equal(s.service.fleet()[2]?.snapshot.queuedRequests, 4);
  t.equal(s.service.observer.last, undefined, 'no observation (and so no interval) yet');
  t.same((await s.store.decisions()).items, [], 'nothing decided');
  t.same((await s.store.history()).length, 0, 'no load recorded');
  // A worker unreachable at start is simply absent from the view, as at a tick.
  const u = setup(['prefill', 'decode'], 1);
  (u.workers[0] as FakeWorker).unreachable = true;
  await u.service.start();
  t.same(
    u.service.fleet().map((w) => w.snapshot.id),
    ['w1'],
  );
});

t.test('advisory: decided and recorded, never acted; survives a restart on the same store', async (t) => {
  const s = setup(['prefill', 'decode', 'decode'], 2);
  await s.service.start();
  await s.service.setAdvisory(true, 'ops');
  s.step();
  const d = await s.service.tick();
  t.equal(d.status, 'advisory');
  t.same((s.workers[1] as FakeWorker).switches, []);
  t.equal((await s.store.decisions()).items[0]?.advisory, true);
  const again = setup(['prefill', 'decode', 'decode'], 2, { store: s.store, workers: s.workers });
  await again.service.start();
  t.equal(again.service.status().advisory, true);
  again.step();
  t.equal((await again.service.tick()).status, 'advisory');
  const revisions = await s.store.configRevisions({ kind: 'flags' });
  t.equal(revisions.items[0]?.actor, 'ops');
});

t.test('pause: observed only; resume decides again', async (t) => {
  const s = setup(['prefill', 'decode', 'decode'], 2);
  await s.service.start();
  await s.service.setPaused(true, 'ops');
  s.step();
  t.equal((await s.service.tick()).status, 'paused');
  await s.service.setPaused(false, 'ops');
  s.step();
  t.equal((await s.service.tick()).status, 'acted');
});

t.test('manual override: the worker is put in its role, then pinned until the override expires', async (t) => {
  const s = setup(['prefill', 'decode', 'decode'], 1);
  await s.service.start();
  s.step();
  await s.service.tick(); // first observation
  await s.service.putOverride({ workerId: 'w2', role: 'prefill', expiresInSeconds: 90 }, 'ops');
  await t.rejects(s.service.putOverride({ workerId: 'nope', role: 'prefill', expiresInSeconds: 90 }, 'ops'), InputError);
  s.step();
  await s.service.tick();
  await s.service.idle();
  t.equal((s.workers[2] as FakeWorker).reading.role, 'prefill', 'flipped to the pinned role');
  const manual = (await s.store.flips({ workerId: 'w2' }))[0];
  t.equal(manual?.change.reason.code, 'manual-override');
  t.equal(manual?.decisionId, undefined);
  // The policy wants 1 prefill; w2 is pinned, so only w0 may go, and the held change names the rule for w2.
  s.step();
  const d = await s.service.tick();
  await s.service.idle();
  t.same(d.applied.map((a) => a.change.workerId), ['w0']);
  t.equal((s.workers[2] as FakeWorker).reading.role, 'prefill');
  // After expiry the override is gone and w2 is a candidate again.
  s.step(120);
  await s.service.tick();
  t.same(s.service.status().overrides, []);
});

t.test('policy put: validated, recorded, takes effect at the next interval', async (t) => {
  const s = setup(['prefill', 'decode', 'decode'], 1);
  await s.service.start();
  t.throws(() => createPolicy('nope', {}), InputError);
  await t.rejects(s.service.setPolicy({ name: 'nope', params: {} }, 'ops'), InputError);
  t.equal((await s.store.configRevisions({ kind: 'policy' })).items.length, 0, 'a bad policy changes nothing');
  await s.service.setPolicy({ name: 'target', params: { prefill: 2 } }, 'ops');
  t.same(s.service.status().pendingPolicy, { name: 'target', params: { prefill: 2 } });
  s.step();
  const d = await s.service.tick();
  t.equal(d.target?.prefill, 2);
  t.same(s.service.status().policy.params, { prefill: 2 });
});

t.test('restart recovery follows docs/store.md', async (t) => {
  const store = new MemoryStore();
  const workers = [new FakeWorker('w0', 'prefill'), new FakeWorker('w1', 'decode'), new FakeWorker('w2', 'decode'), new FakeWorker('w3', 'decode')];
  const at = '2026-01-05T09:59:00.000Z';
  const change = (id: string, from: Role, to: Role) => ({ change: { workerId: id, from, to, reason: { code: 'x', message: 'x' } }, atIso: at });
  await store.createFlip(change('w1', 'decode', 'prefill'));
  const switched = await store.createFlip(change('w2', 'decode', 'prefill'));
  await store.advanceFlip(switched.id, 'draining', at);
  (workers[2] as FakeWorker).reading.role = 'prefill';
  const stillDraining = await store.createFlip(change('w3', 'decode', 'prefill'));
  await store.advanceFlip(stillDraining.id, 'draining', at);
  (workers[3] as FakeWorker).reading.status = 'draining';
  const s = setup([], 1, { store, workers });
  await s.service.start();
  const byWorker = Object.fromEntries(s.service.status().recovered.map((r) => [r.workerId, r.action]));
  t.same(byWorker, { w1: 'rolled-back', w2: 'done', w3: 'left' });
  t.equal((await store.flips({ workerId: 'w2' }))[0]?.state, 'done');
  t.equal((await store.flips({ workerId: 'w1' }))[0]?.transitions.at(-1)?.message, 'not started before the restart');
  // Still draining past the drain timeout (60 s here): failed.
  s.step(120);
  await s.service.tick();
  t.equal((await store.flips({ workerId: 'w3' }))[0]?.state, 'failed');
});

t.test('per-interval history is recorded and warms the forecaster after a restart', async (t) => {
  const s = setup(['prefill', 'decode'], 1);
  await s.service.start();
  for (let i = 0; i < 3; i++) {
    for (let r = 0; r <= i; r++) s.meter.recordArrival({ inputTokens: 100 * (r + 1), outputTokens: 10 });
    s.meter.recordOutcome({ ttftSeconds: 0.5, tpotSeconds: 0.05 });
    s.step();
    await s.service.tick();
  }
  const history = await s.store.history();
  t.same(history.map((h) => h.load.requests), [1, 2, 3]);
  t.equal(history[0]?.startIso, '2026-01-05T10:00:00.000Z');
  t.equal(history[0]?.attainment, 1);
  const forecaster = new RecordingForecaster();
  const again = setup(['prefill', 'decode'], 1, { store: s.store, forecaster });
  again.wall.ms = s.wall.ms + 60_000;
  await again.service.start();
  t.same(forecaster.seen.map((x) => x.requests), [1, 2, 3], 'replayed oldest first');
  // On the new run's clock the last sample started 120 s before now (90 s of history, 60 s down, minus one interval).
  t.equal(again.clock.nowSeconds() - (forecaster.seen[2]?.startSeconds ?? NaN), 90);
});
