import t from 'tap';
import { StaticPolicy } from '../../src/policy/static.js';
import { ColocatedPolicy, isColocated } from '../../src/policy/colocated.js';
import { context } from './fixtures/helpers.js';

t.test('static holds the given split, flipping the least busy workers toward it', async (t) => {
  const policy = new StaticPolicy({ prefill: 3, decode: 5 });
  const d = policy.decide(context(1, 7, {}, (_role, i) => ({ runningRequests: i === 1 ? 9 : 0 })));
  t.same(d.target, { prefill: 3, decode: 5 });
  t.same(d.changes.map((c) => `${c.workerId}:${c.from}->${c.to}`), ['w2:decode->prefill', 'w3:decode->prefill'], 'w1 is busy, so w2 and w3 go');
  t.equal(d.reason.code, 'static-split');
  t.equal(d.reason.detail?.scaled, false);
  t.same(policy.decide(context(3, 5)).changes, [], 'at the split: no flips');
});

t.test('static scales its ratio to a pool of another size, keeping one of each role', async (t) => {
  const even = new StaticPolicy({ prefill: 1, decode: 1 });
  t.same(even.decide(context(1, 9)).target, { prefill: 5, decode: 5 });
  const lopsided = new StaticPolicy({ prefill: 1, decode: 20 });
  const d = lopsided.decide(context(2, 2));
  t.same(d.target, { prefill: 1, decode: 3 }, '4 × 1/21 rounds to 0, clamped to 1');
  t.equal(d.reason.detail?.scaled, true);
});

t.test('colocated never flips and is recognisable', async (t) => {
  const policy = new ColocatedPolicy();
  const d = policy.decide(context(2, 2));
  t.same(d.changes, []);
  t.equal(d.reason.code, 'colocated');
  t.ok(isColocated(policy));
  t.notOk(isColocated(new StaticPolicy({ prefill: 1, decode: 1 })));
});
