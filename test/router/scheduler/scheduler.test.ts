import t from 'tap';
import {
  createDecodeScheduler,
  createPrefillScheduler,
  NoEligibleInstanceError,
  Scheduler,
  type PrefillView,
  type Scorer,
} from '../../../src/router/scheduler/index.js';
import { maxScorePicker } from '../../../src/router/scheduler/max-score-picker.js';

const prefillMs: [number, number, number] = [10, 0.1, 0.0001];

function view(rows: { accepting?: number; requests: number; tokens: number[]; busyUntil?: number }[]): PrefillView {
  const n = rows.length;
  const v: PrefillView = {
    count: n,
    accepting: new Uint8Array(n),
    queuedRequests: new Float64Array(n),
    queuedTokens: new Float64Array(n),
    queuedSquaredTokens: new Float64Array(n),
    runningRequests: new Float64Array(n),
    busyUntilSeconds: new Float64Array(n),
  };
  rows.forEach((r, i) => {
    v.accepting[i] = r.accepting ?? 1;
    v.queuedRequests[i] = r.requests;
    v.queuedTokens[i] = r.tokens.reduce((a, b) => a + b, 0);
    v.queuedSquaredTokens[i] = r.tokens.reduce((a, b) => a + b * b, 0);
    v.busyUntilSeconds[i] = r.busyUntil ?? 0;
  });
  return v;
}

t.test('length-aware prefers three short prompts queued over one long one; shortest-queue does the opposite', async (t) => {
  const v = view([
    { requests: 1, tokens: [8000] },
    { requests: 3, tokens: [200, 200, 200] },
  ]);
  const lengthAware = createPrefillScheduler({ router: 'length-aware', prefillMs, tokenBudget: 4096 });
  const shortest = createPrefillScheduler({ router: 'shortest-queue', prefillMs, tokenBudget: 4096 });
  t.equal(lengthAware.pick(v, { promptTokens: 500 }, 0), 1);
  t.equal(shortest.pick(v, { promptTokens: 500 }, 0), 0);
});

t.test('estimated finish counts the batch still running', async (t) => {
  const v = view([
    { requests: 0, tokens: [], busyUntil: 5 },
    { requests: 1, tokens: [1000] },
  ]);
  const s = createPrefillScheduler({ router: 'length-aware', prefillMs, tokenBudget: 4096 });
  t.equal(s.pick(v, { promptTokens: 100 }, 0), 1, 'a 1,000-token queue (≈0.2 s) beats 5 s of running batch');
  t.equal(s.pick(v, { promptTokens: 100 }, 4.99), 0, 'but not once that batch is nearly done');
});

t.test('short lane: long prompts stay out of the lane while the rest can start them soon; short prompts use it', async (t) => {
  const s = createPrefillScheduler({ router: 'length-aware', prefillMs, tokenBudget: 4096, shortLane: { longPromptTokens: 2048, laneFraction: 0.25, maxLongWaitSeconds: 2 } });
  // Instance 0 is the lane (1 of 4). It is idle; the others hold a little work.
  const v = view([{ requests: 0, tokens: [] }, { requests: 1, tokens: [1000] }, { requests: 1, tokens: [1000] }, { requests: 1, tokens: [1000] }]);
  t.equal(s.pick(v, { promptTokens: 6000 }, 0), 1, 'a long prompt goes to the least-loaded non-lane instance');
  t.equal(s.pick(v, { promptTokens: 300 }, 0), 0, 'a short prompt takes the idle lane');
  // Aging: every non-lane instance would make the long prompt wait more than 2 s: the lane opens.
  const jammed = view([{ requests: 0, tokens: [] }, { requests: 4, tokens: [8000, 8000, 8000, 8000] }, { requests: 4, tokens: [8000, 8000, 8000, 8000] }, { requests: 4, tokens: [8000, 8000, 8000, 8000] }]);
  t.equal(s.pick(jammed, { promptTokens: 6000 }, 0), 0, 'no starvation of long prompts');
});

t.test('nothing accepting: a typed error saying why', async (t) => {
  const s = createPrefillScheduler({ router: 'shortest-queue', prefillMs, tokenBudget: 4096 });
  const err = t.throws(() => s.pick(view([{ accepting: 0, requests: 0, tokens: [] }]), { promptTokens: 10 }, 0)) as unknown;
  t.ok(err instanceof NoEligibleInstanceError);
  t.equal((err as NoEligibleInstanceError).reason, 'none-accepting');
});

t.test('scores are clamped to [0, 1] and NaN counts as 0, so a broken scorer cannot dominate', async (t) => {
  const wild: Scorer<PrefillView> = {
    name: 'wild',
    score(_v, _r, _now, _e, out) {
      out[0] = 50;
      out[1] = Number.NaN;
      out[2] = 0.9;
    },
  };
  const fair: Scorer<PrefillView> = {
    name: 'fair',
    score(_v, _r, _now, _e, out) {
      out[0] = 0;
      out[1] = 1;
      out[2] = 0.9;
    },
  };
  const s = new Scheduler('prefill', [], [{ scorer: wild, weight: 1 }, { scorer: fair, weight: 1 }], maxScorePicker);
  // Clamped totals: 1 + 0, 0 + 1, 0.9 + 0.9 → instance 2.
  t.equal(s.pick(view([{ requests: 0, tokens: [] }, { requests: 0, tokens: [] }, { requests: 0, tokens: [] }]), { promptTokens: 1 }, 0), 2);
  t.throws(() => new Scheduler('prefill', [], [{ scorer: fair, weight: -1 }], maxScorePicker), RangeError);
});

t.test('decode choice weighs free KV and batch load', async (t) => {
  const s = createDecodeScheduler();
  const v = {
    count: 3,
    accepting: Uint8Array.from([1, 1, 0]),
    freeKvTokens: Float64Array.from([1000, 9000, 10000]),
    kvCapacityTokens: Float64Array.from([10000, 10000, 10000]),
    loadRequests: Float64Array.from([2, 2, 0]),
  };
  t.equal(s.pick(v, { promptTokens: 100 }, 0), 1, 'more free KV at equal load; the non-accepting instance is never chosen');
  v.loadRequests[1] = 40;
  t.equal(s.pick(v, { promptTokens: 100 }, 0), 0, 'a much larger batch outweighs some free KV');
});
