import t from 'tap';
import { ReactivePolicy } from '../../src/policy/reactive.js';
import { createPolicy } from '../../src/policy/registry.js';
import { context } from './fixtures/helpers.js';

const params = { prefillQueueScaleUp: 5, prefillQueueScaleDown: 0.2, decodeKvScaleUp: 0.9, decodeKvScaleDown: 0.5, newDecodeGraceIntervals: 3 };

t.test('adds one prefill instance when the queue per prefill instance crosses its threshold, and not before', async (t) => {
  const cases: { queue: number; kv: number; prefill: number; code: string }[] = [
    { queue: 5, kv: 0.7, prefill: 2, code: 'within-thresholds' },
    { queue: 5.5, kv: 0.7, prefill: 3, code: 'prefill-queue-high' },
    { queue: 40, kv: 0.7, prefill: 3, code: 'prefill-queue-high' },
    { queue: 5.5, kv: 0.95, prefill: 2, code: 'both-saturated' },
    { queue: 1, kv: 0.91, prefill: 1, code: 'decode-kv-high' },
    { queue: 0.1, kv: 0.7, prefill: 1, code: 'prefill-queue-low' },
    { queue: 1, kv: 0.3, prefill: 3, code: 'decode-kv-low' },
    { queue: 0.1, kv: 0.3, prefill: 2, code: 'within-thresholds' },
  ];
  for (const c of cases) {
    const policy = new ReactivePolicy(params);
    // Two prefill instances whose queues average c.queue; four decode at c.kv.
    const d = policy.decide(context(2, 4, {}, (role, i) => (role === 'prefill' ? { queuedRequests: i === 0 ? c.queue * 2 : 0 } : { kvUsage: c.kv })));
    t.equal(d.target.prefill, c.prefill, `queue ${c.queue}, kv ${c.kv}: ${c.prefill}P`);
    t.equal(d.reason.code, c.code);
    t.equal(Math.abs(d.changes.length), Math.abs(c.prefill - 2), 'one flip at most');
    t.equal(d.reason.detail?.queuePerPrefill, c.queue);
  }
});

t.test('no decode shrink for 3 intervals after decode grew', async (t) => {
  const policy = createPolicy('reactive') as ReactivePolicy;
  const busyPrefill = (decode: number) => context(8 - decode, decode, {}, (role) => (role === 'prefill' ? { queuedRequests: 10 } : { kvUsage: 0.7 }));
  t.equal(policy.decide(busyPrefill(4)).reason.code, 'prefill-queue-high', 'before any decode growth, decode gives an instance');
  // Decode grew from 4 to 5 (a flip finished): for the next 3 decisions decode keeps its instances.
  const seen = [5, 5, 5, 5].map((decode) => policy.decide(busyPrefill(decode)));
  t.same(seen.map((d) => d.reason.code), ['decode-grace-period', 'decode-grace-period', 'decode-grace-period', 'prefill-queue-high']);
  t.same(seen.map((d) => d.changes.length), [0, 0, 0, 1]);
});

t.test('never takes a role below one instance', async (t) => {
  const policy = new ReactivePolicy(params);
  const d = policy.decide(context(1, 1, {}, (role) => (role === 'prefill' ? { queuedRequests: 50 } : { kvUsage: 0.1 })));
  t.same(d.target, { prefill: 1, decode: 1 });
  t.equal(d.reason.code, 'at-minimum');
  t.same(d.changes, []);
});
