import t from 'tap';
import { Controller, type ControllerDeps } from '../../src/control/controller.js';
import type { Decision } from '../../src/control/decision.js';
import type { SafetyConfig } from '../../src/control/safety.js';
import type { RoleTarget } from '../../src/domain/decision.js';
import type { Role } from '../../src/domain/role.js';
import { LastValueForecaster } from '../../src/forecast/forecaster.js';
import { ManualClock } from '../../src/lib/clock.js';
import { loadProfile } from '../../src/perf/profile.js';
import type { Policy, PolicyContext, PolicyDecision } from '../../src/policy/policy.js';
import { flipsToward } from '../../src/policy/split.js';
import { FakeFleet } from './fixtures/fake-fleet.js';

const profile = await loadProfile(new URL('../../profiles/opt-13b-tp1-a100.json', import.meta.url).pathname);
const slo = { ttftSeconds: 1, tpotSeconds: 0.1, attainment: 0.9 };

/**
 * A policy that wants whatever prefill count the test sets, and counts its
 * calls. With `propose` off it names a target only and leaves the choice of
 * workers to the controller.
 */
class TargetPolicy implements Policy {
  readonly name = 'target';
  calls = 0;
  propose = true;
  contexts: PolicyContext[] = [];
  constructor(public prefill: number) {}
  decide(context: PolicyContext): PolicyDecision {
    this.calls++;
    this.contexts.push(context);
    const pool = context.snapshot.workers.filter((w) => w.status !== 'stale').length;
    const target: RoleTarget = { prefill: this.prefill, decode: pool - this.prefill };
    const reason = { code: 'test-target', message: `want ${this.prefill}P` };
    return { target, changes: this.propose ? flipsToward(context.snapshot, target, reason) : [], reason };
  }
}

function setup(roles: Role[], prefill: number, safety: Partial<SafetyConfig> = {}, extra: Partial<ControllerDeps> = {}) {
  const clock = new ManualClock(1000);
  const fleet = new FakeFleet(clock, roles);
  const policy = new TargetPolicy(prefill);
  const recorded: Decision[] = [];
  const controller = new Controller({
    clock,
    observer: fleet,
    actuator: fleet,
    policy,
    forecaster: new LastValueForecaster(),
    profile,
    slo,
    intervalSeconds: 60,
    safety: { cooldownSeconds: 120, ...safety },
    recorder: { record: (d) => void recorded.push(d) },
    ...extra,
  });
  return { clock, fleet, policy, controller, recorded };
}

const P = 'prefill' as const;
const D = 'decode' as const;
const held = (d: Decision) => d.held.map((h) => `${h.change.workerId}:${h.rule}`);
const applied = (d: Decision) => d.applied.map((a) => `${a.change.workerId}:${a.change.from}->${a.change.to}:${a.outcome}`);

t.test('one reconcile: the policy target against the safety rules (table)', async (t) => {
  const cases: {
    name: string;
    roles: Role[];
    prefill: number;
    safety?: Partial<SafetyConfig>;
    /** The policy names the target only; the controller picks the workers. */
    targetOnly?: boolean;
    prepare?: (fleet: FakeFleet, now: number) => void;
    status: Decision['status'];
    applied: string[];
    held: string[];
  }[] = [
    { name: 'target met: steady, nothing applied', roles: [P, P, D, D], prefill: 2, status: 'steady', applied: [], held: [] },
    {
      name: 'least in-flight work first, ties by id',
      roles: [P, D, D, D],
      prefill: 2,
      prepare: (f) => {
        f.set('w1', { runningRequests: 5 });
        f.set('w2', { queuedRequests: 1 });
      },
      status: 'acted',
      applied: ['w3:decode->prefill:started'],
      held: [],
    },
    {
      name: 'at most maxFlipsPerInterval flips; the rest held',
      roles: [P, D, D, D, D],
      prefill: 3,
      status: 'acted',
      applied: ['w1:decode->prefill:started'],
      held: ['w2:max-flips-per-interval'],
    },
    {
      name: 'a larger budget moves several at once',
      roles: [P, D, D, D, D],
      prefill: 3,
      safety: { maxFlipsPerInterval: 4 },
      status: 'acted',
      applied: ['w1:decode->prefill:started', 'w2:decode->prefill:started'],
      held: [],
    },
    {
      name: 'never below the minimum of a role',
      roles: [P, D, D],
      prefill: 3,
      safety: { maxFlipsPerInterval: 5, minDecodeInstances: 1 },
      status: 'acted',
      applied: ['w1:decode->prefill:started'],
      held: ['w2:min-instances'],
    },
    {
      name: 'a raised minimum holds the only flip',
      roles: [P, P, D, D],
      prefill: 3,
      safety: { minDecodeInstances: 2 },
      status: 'held',
      applied: [],
      held: ['w2:min-instances'],
    },
    {
      name: 'a stale worker is neither counted nor flipped',
      roles: [P, D, D, D],
      prefill: 2,
      targetOnly: true,
      prepare: (f) => f.set('w1', { status: 'stale' }),
      status: 'acted',
      applied: ['w2:decode->prefill:started'],
      held: ['w1:stale-worker'],
    },
    {
      name: 'a draining worker is not flipped again',
      roles: [P, D, D, D],
      prefill: 2,
      targetOnly: true,
      prepare: (f) => {
        f.set('w1', { status: 'draining' });
        f.set('w2', { status: 'switching' });
      },
      status: 'acted',
      applied: ['w3:decode->prefill:started'],
      held: ['w1:worker-busy', 'w2:worker-busy'],
    },
    {
      name: 'a worker in its cooldown is passed over',
      roles: [P, D, D],
      prefill: 2,
      prepare: (f, now) => f.set('w1', { lastFlipAtSeconds: now - 119 }),
      status: 'acted',
      applied: ['w2:decode->prefill:started'],
      held: ['w1:cooldown'],
    },
    {
      name: 'the cooldown ends',
      roles: [P, D, D],
      prefill: 2,
      prepare: (f, now) => f.set('w1', { lastFlipAtSeconds: now - 120 }),
      status: 'acted',
      applied: ['w1:decode->prefill:started'],
      held: [],
    },
    {
      name: 'every candidate held: status held',
      roles: [P, D, D],
      prefill: 2,
      prepare: (f) => {
        f.set('w1', { status: 'draining' });
        f.set('w2', { status: 'stale' });
      },
      status: 'held',
      applied: [],
      held: ['w1:worker-busy', 'w2:stale-worker'],
    },
    {
      name: 'tolerance band: a one-instance move is ignored',
      roles: [P, D, D, D],
      prefill: 2,
      safety: { toleranceInstances: 1 },
      status: 'held',
      applied: [],
      held: ['w1:tolerance-band'],
    },
    {
      name: 'tolerance band: a larger move goes ahead',
      roles: [P, D, D, D, D],
      prefill: 3,
      safety: { toleranceInstances: 1 },
      status: 'acted',
      applied: ['w1:decode->prefill:started'],
      held: ['w2:max-flips-per-interval'],
    },
    {
      name: 'shrinking prefill picks a prefill worker',
      roles: [P, P, P, D],
      prefill: 1,
      prepare: (f) => f.set('w0', { queuedRequests: 3 }),
      status: 'acted',
      applied: ['w1:prefill->decode:started'],
      held: ['w2:max-flips-per-interval'],
    },
  ];
  t.ok(cases.length >= 14);
  for (const c of cases) {
    const { controller, fleet, clock, policy } = setup(c.roles, c.prefill, c.safety);
    policy.propose = !c.targetOnly;
    c.prepare?.(fleet, clock.nowSeconds());
    const d = await controller.reconcileOnce();
    t.equal(d.status, c.status, `${c.name}: status`);
    t.same(applied(d), c.applied, `${c.name}: applied`);
    t.same(held(d), c.held, `${c.name}: held`);
  }
});

t.test('level-triggered: a flip in progress counts toward its new role', async (t) => {
  const { controller, fleet, clock } = setup([P, D, D, D], 2);
  t.same(applied(await controller.reconcileOnce()), ['w1:decode->prefill:started']);
  clock.advance(60);
  const second = await controller.reconcileOnce();
  t.equal(second.status, 'steady', 'the draining worker already counts as prefill');
  t.equal(second.inputs?.pendingFlips, 1);
  t.equal(fleet.applied.length, 1, 'no second flip was started');
  fleet.finishFlips();
  clock.advance(60);
  const third = await controller.reconcileOnce();
  t.equal(third.status, 'steady');
  t.equal(third.inputs?.pendingFlips, 0, 'the finished flip is forgotten');
  t.equal(fleet.count('prefill'), 2);
});

t.test('no flip is undone within its cooldown', async (t) => {
  const { controller, fleet, clock, policy } = setup([P, D, D, D], 2, { cooldownSeconds: 300 });
  await controller.reconcileOnce();
  fleet.finishFlips();
  clock.advance(60);
  policy.prefill = 1;
  const undo = await controller.reconcileOnce();
  t.equal(undo.status, 'held');
  t.same(held(undo), ['w0:reversal-within-cooldown'], 'the untouched prefill worker would still undo the decode→prefill flip');
  clock.advance(240);
  const later = await controller.reconcileOnce();
  t.equal(later.status, 'acted', 'after the cooldown the move goes ahead');
  t.same(applied(later), ['w0:prefill->decode:started']);
});

t.test('a refused flip is not pending and the next interval tries again', async (t) => {
  const { controller, fleet, clock } = setup([P, D, D], 2);
  fleet.refuse.add('w1');
  const d = await controller.reconcileOnce();
  t.same(applied(d), ['w1:decode->prefill:refused']);
  fleet.refuse.clear();
  clock.advance(60);
  t.same(applied(await controller.reconcileOnce()), ['w1:decode->prefill:started']);
});

t.test('no decision without a synced, fresh observation; the forecaster still learns', async (t) => {
  const { controller, fleet, clock, policy, recorded } = setup([P, D, D], 2);
  fleet.load = { startSeconds: 940, intervalSeconds: 60, requests: 120, inputMean: 500, inputSecondMoment: 300000, outputMean: 100 };
  fleet.synced = false;
  const unsynced = await controller.reconcileOnce();
  t.equal(unsynced.status, 'not-synced');
  t.equal(unsynced.reason.code, 'not-synced');
  t.equal(policy.calls, 0, 'the policy is not asked');
  t.equal(fleet.applied.length, 0);

  fleet.synced = true;
  fleet.failObserve = 'connection refused';
  clock.advance(60);
  const failed = await controller.reconcileOnce();
  t.equal(failed.reason.code, 'observe-failed');
  t.match(failed.reason.message, /observing the fleet: connection refused/);

  fleet.failObserve = undefined;
  clock.advance(60);
  const stale = new Controller({
    clock,
    observer: { observe: async () => ({ ...(await fleet.observe()), snapshot: { atSeconds: clock.nowSeconds() - 31, workers: fleet.workers } }) },
    actuator: fleet,
    policy,
    forecaster: new LastValueForecaster(),
    profile,
    slo,
    intervalSeconds: 60,
  });
  const tooOld = await stale.reconcileOnce();
  t.equal(tooOld.status, 'not-synced');
  t.equal(tooOld.reason.code, 'snapshot-too-old');

  const acted = await controller.reconcileOnce();
  t.equal(acted.status, 'acted');
  t.equal(policy.contexts[0]?.forecast.requestsPerSecond.mean, 2, 'the forecast came from the load the controller fed');
  t.equal(policy.contexts[0]?.history.length, 2, 'both synced-or-not loads were kept as history');
  t.equal(recorded.length, 3, 'every decision of this controller was recorded');
});

t.test('advisory mode decides and records but never acts; pause observes only', async (t) => {
  const { controller, fleet, clock, policy } = setup([P, D, D], 2, {}, { advisory: true });
  const advisory = await controller.reconcileOnce();
  t.equal(advisory.status, 'advisory');
  t.same(held(advisory), ['w1:advisory']);
  t.equal(fleet.applied.length, 0);
  controller.setAdvisory(false);
  controller.setPaused(true);
  clock.advance(60);
  const paused = await controller.reconcileOnce();
  t.equal(paused.status, 'paused');
  t.equal(policy.calls, 1, 'paused: the policy is not asked');
  t.equal(paused.inputs?.prefill, 1);
  controller.setPaused(false);
  clock.advance(60);
  t.equal((await controller.reconcileOnce()).status, 'acted');
});

t.test('stabilisation window: act toward the recommendation closest to the current split', async (t) => {
  const { controller, clock, policy } = setup([P, P, D, D, D, D], 2, { stabilisationWindowSeconds: 300, maxFlipsPerInterval: 4 });
  t.equal((await controller.reconcileOnce()).status, 'steady');
  clock.advance(60);
  policy.prefill = 4;
  const early = await controller.reconcileOnce();
  t.equal(early.status, 'held', 'the window still holds a recommendation equal to the current split');
  t.same(held(early), ['w2:stabilisation-window', 'w3:stabilisation-window']);
  t.same(early.effectiveTarget, { prefill: 2, decode: 4 });
  clock.advance(300);
  const later = await controller.reconcileOnce();
  t.equal(later.status, 'acted', 'once the old recommendation leaves the window');
  t.equal(later.applied.length, 2);
});

t.test('bad safety config is refused naming the key', async (t) => {
  t.throws(() => setup([P, D], 1, { maxFlipsPerInterval: -1 }), { message: /maxFlipsPerInterval: must be an integer ≥ 0/ });
  t.throws(() => setup([P, D], 1, { cooldownSeconds: Number.NaN }), { message: /cooldownSeconds/ });
});
