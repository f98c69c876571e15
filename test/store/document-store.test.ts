// The Store's behaviour, run against both backends: the logic is one
// implementation (DocumentStore), so a difference here is a persistence bug.
import t from 'tap';
import { join } from 'node:path';
import { InputError } from '../../src/domain/errors.js';
import { LowdbStore } from '../../src/store/lowdb-store.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { FlipConflictError, FlipTransitionError, type Store } from '../../src/store/store.js';
import type { StoreOptions } from '../../src/store/document-store.js';
import { change, decision, historyAt, iso } from './fixtures/store-fixtures.js';

/** Each backend opens a fresh store; `dir` is a fresh test folder. */
const backends: [string, (dir: string, options?: StoreOptions) => Promise<Store>][] = [
  ['memory', async (_dir, options) => new MemoryStore(options)],
  ['lowdb', async (dir, options) => LowdbStore.open(join(dir, 'state', 'store.json'), options)],
];

for (const [backend, open] of backends) {
  t.test(`${backend}: a decision comes back equal, with an id, and later edits of the input do not reach it`, async (t) => {
    const store = await open(t.testdir());
    const input = decision(0);
    const stored = await store.appendDecision(input);
    t.equal(stored.id, 1);
    t.same({ ...stored, id: undefined }, { ...input, id: undefined });
    input.reason.code = 'changed-after';
    stored.reason.code = 'changed-returned-copy';
    const again = await store.decision(1);
    t.equal(again?.reason.code, 'ttft-pressure');
    t.equal(await store.decision(2), undefined);
    await store.close();
  });

  t.test(`${backend}: records JSON cannot hold faithfully are refused before they are stored`, async (t) => {
    const store = await open(t.testdir());
    const bad = decision(0);
    bad.forecast!.inputMean = NaN;
    await t.rejects(store.appendDecision(bad), { name: 'RangeError', message: /invalid decision: \/forecast\/inputMean/ });
    await t.rejects(store.appendDecision({ ...decision(1), atIso: '2026-03-01 00:00' }), /\/atIso/);
    await t.rejects(store.appendHistory({ ...historyAt(0, 3), attainment: 1.5 }), /\/attainment/);
    t.same((await store.decisions()).items, [], 'nothing was stored');
    t.equal((await store.appendDecision(decision(2))).id, 1, 'refused records took no id');
    await store.close();
  });

  t.test(`${backend}: decisions page newest first with a cursor, and filter by time, reason, status, applied and held`, async (t) => {
    const store = await open(t.testdir());
    const statuses = ['acted', 'held', 'steady', 'advisory'] as const;
    for (let i = 0; i < 20; i++) {
      await store.appendDecision(decision(i * 60, statuses[i % 4], i % 5 === 0 ? 'kv-pressure' : 'ttft-pressure'));
    }
    const first = await store.decisions({ limit: 8 });
    t.same(first.items.map((d) => d.id), [20, 19, 18, 17, 16, 15, 14, 13]);
    const second = await store.decisions({ limit: 8, cursor: first.nextCursor });
    t.same(second.items.map((d) => d.id), [12, 11, 10, 9, 8, 7, 6, 5]);
    const last = await store.decisions({ limit: 8, cursor: second.nextCursor });
    t.same(last.items.map((d) => d.id), [4, 3, 2, 1]);
    t.equal(last.nextCursor, undefined, 'no cursor after the last page');
    const exact = await store.decisions({ limit: 4, cursor: second.nextCursor });
    t.equal(exact.nextCursor, undefined, 'a page that ends exactly at the last match has no cursor');

    const window = await store.decisions({ fromIso: iso(5 * 60), toIso: iso(10 * 60) });
    t.same(window.items.map((d) => d.id), [10, 9, 8, 7, 6], 'from inclusive, to exclusive');
    const kv = await store.decisions({ reasonCodes: ['kv-pressure'] });
    t.same(kv.items.map((d) => d.id), [16, 11, 6, 1]);
    const applied = await store.decisions({ applied: true });
    t.same(applied.items.map((d) => d.id), [17, 13, 9, 5, 1]);
    const notApplied = await store.decisions({ applied: false, statuses: ['steady'] });
    t.same(notApplied.items.map((d) => d.id), [19, 15, 11, 7, 3]);
    const held = await store.decisions({ held: true, limit: 3 });
    t.same(held.items.map((d) => d.id), [20, 18, 16], 'held covers safety-rule and advisory holds');
    const heldNext = await store.decisions({ held: true, limit: 3, cursor: held.nextCursor });
    t.same(heldNext.items.map((d) => d.id), [14, 12, 10], 'the cursor pages within the filter');

    await t.rejects(store.decisions({ limit: 0 }), InputError);
    await t.rejects(store.decisions({ limit: 1001 }), { name: 'InputError', where: 'limit' });
    await t.rejects(store.decisions({ cursor: 'abc' }), { name: 'InputError', where: 'cursor' });
    await t.rejects(store.decisions({ fromIso: 'yesterday' }), { name: 'InputError', where: 'fromIso' });
    await store.close();
  });

  t.test(`${backend}: concurrent appends all land, in call order, with distinct ids`, async (t) => {
    const store = await open(t.testdir());
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) => (i % 3 === 2 ? store.appendHistory(historyAt(i * 60, i)).then(() => i) : store.appendDecision(decision(i)).then((d) => d.id))),
    );
    t.equal(results.length, 60);
    const page = await store.decisions({ limit: 1000 });
    t.equal(page.items.length, 40);
    t.same(page.items.map((d) => d.id), Array.from({ length: 40 }, (_, i) => 40 - i));
    t.same(page.items.map((d) => d.atSeconds).reverse(), Array.from({ length: 60 }, (_, i) => i).filter((i) => i % 3 !== 2).map((i) => 1000 + i));
    t.equal((await store.history()).length, 20);
    await store.close();
  });

  t.test(`${backend}: flips go pending → draining → switching → done; illegal steps and second flips are refused`, async (t) => {
    const store = await open(t.testdir());
    const d = await store.appendDecision(decision(0));
    const flip = await store.createFlip({ change: change('w1'), decisionId: d.id, atIso: iso(1) });
    t.equal(flip.state, 'pending');
    t.same(await store.pendingFlips(), [flip]);
    await t.rejects(store.createFlip({ change: change('w1', 'prefill'), atIso: iso(2) }), FlipConflictError, 'one flip at a time per worker');
    await t.rejects(store.advanceFlip(flip.id, 'switching', iso(2)), FlipTransitionError, 'no skipping the drain');
    await store.advanceFlip(flip.id, 'draining', iso(2));
    await store.advanceFlip(flip.id, 'switching', iso(30), 'drained 4 requests');
    const done = await store.advanceFlip(flip.id, 'done', iso(35));
    t.same(done.transitions.map((s) => s.state), ['pending', 'draining', 'switching', 'done']);
    t.equal(done.transitions[2]?.message, 'drained 4 requests');
    t.equal(done.createdIso, iso(1));
    t.equal(done.updatedIso, iso(35));
    await t.rejects(store.advanceFlip(flip.id, 'rolled-back', iso(36)), FlipTransitionError, 'done is final');
    await t.rejects(store.advanceFlip(99, 'draining', iso(36)), /flip 99 not found/);
    t.same(await store.pendingFlips(), []);

    const next = await store.createFlip({ change: change('w1', 'prefill'), atIso: iso(40) });
    const other = await store.createFlip({ change: change('w2'), atIso: iso(41) });
    await store.advanceFlip(other.id, 'rolled-back', iso(42), 'worker vanished');
    t.same((await store.pendingFlips()).map((f) => f.id), [next.id]);
    t.same((await store.flips({ workerId: 'w1' })).map((f) => f.id), [next.id, flip.id], 'newest first');
    t.same((await store.flips({ states: ['rolled-back', 'done'] })).map((f) => f.id), [other.id, flip.id]);
    await t.rejects(store.createFlip({ change: { ...change('w3'), to: 'decode' }, atIso: iso(43) }), /from and to are both decode/);
    await store.close();
  });

  t.test(`${backend}: flags, overrides with expiry, config revisions, daily summaries`, async (t) => {
    const store = await open(t.testdir());
    t.same(await store.flags(), { paused: false, advisory: false, overrides: [] });
    t.same(await store.setFlags({ advisory: true }), { paused: false, advisory: true, overrides: [] });
    await t.rejects(store.setFlags({ paused: 'yes' as unknown as boolean }), RangeError);
    await store.putOverride({ workerId: 'w1', role: 'prefill', untilIso: iso(600), setIso: iso(0), actor: 'ops' });
    await store.putOverride({ workerId: 'w2', role: 'decode', untilIso: iso(60), setIso: iso(0), actor: 'ops' });
    await store.putOverride({ workerId: 'w1', role: 'decode', untilIso: iso(900), setIso: iso(10), actor: 'ops', note: 'replaces' });
    t.same((await store.flags()).overrides.map((o) => [o.workerId, o.role]), [['w2', 'decode'], ['w1', 'decode']], 'one per worker; a new one replaces');
    t.same((await store.flags(iso(60))).overrides.map((o) => o.workerId), ['w1'], 'expired at its untilIso');
    t.equal(await store.removeOverride('w1'), true);
    t.equal(await store.removeOverride('w1'), false);

    for (let i = 0; i < 5; i++) {
      await store.appendConfigRevision({ atIso: iso(i), actor: 'admin', kind: i % 2 ? 'policy' : 'safety', summary: `change ${i}`, before: { n: i }, after: { n: i + 1 } });
    }
    const policy = await store.configRevisions({ kind: 'policy' });
    t.same(policy.items.map((r) => [r.id, r.after]), [[4, { n: 4 }], [2, { n: 2 }]]);
    const paged = await store.configRevisions({ limit: 2 });
    t.same(paged.items.map((r) => r.id), [5, 4]);
    t.same((await store.configRevisions({ limit: 2, cursor: paged.nextCursor })).items.map((r) => r.id), [3, 2]);

    const summary = (day: string, requests: number) => ({ day, generatedIso: iso(0), decisionsByStatus: { acted: 3 }, flipsByState: { done: 2 }, requests });
    await store.putDailySummary(summary('2026-03-02', 10));
    await store.putDailySummary(summary('2026-03-01', 5));
    await store.putDailySummary(summary('2026-03-02', 12));
    t.same((await store.dailySummaries()).map((s) => [s.day, s.requests]), [['2026-03-01', 5], ['2026-03-02', 12]], 'upsert by day, in day order');
    t.same((await store.dailySummaries({ fromDay: '2026-03-02' })).map((s) => s.day), ['2026-03-02']);
    await store.close();
  });

  t.test(`${backend}: hard caps drop the oldest on append, never an unfinished flip`, async (t) => {
    const store = await open(t.testdir(), { limits: { maxDecisions: 5, maxHistory: 4, maxFlips: 3 } });
    for (let i = 0; i < 12; i++) await store.appendDecision(decision(i));
    t.same((await store.decisions()).items.map((d) => d.id), [12, 11, 10, 9, 8]);
    for (let i = 0; i < 9; i++) await store.appendHistory(historyAt(i * 60, i));
    t.same((await store.history()).map((h) => h.load.requests), [5, 6, 7, 8]);

    const stuck = await store.createFlip({ change: change('w0'), atIso: iso(0) });
    for (let i = 1; i <= 5; i++) {
      const f = await store.createFlip({ change: change(`w${i}`), atIso: iso(i) });
      await store.advanceFlip(f.id, 'failed', iso(i), 'refused');
    }
    const kept = await store.flips({ limit: 10 });
    t.same(kept.map((f) => f.id), [6, 5, stuck.id], 'the oldest (unfinished) flip outlives newer finished ones');
    await store.close();
  });

  t.test(`${backend}: history is kept in start order and queried by range and last N`, async (t) => {
    const store = await open(t.testdir());
    await store.appendHistory(historyAt(0, 1));
    await store.appendHistory(historyAt(120, 3));
    await store.appendHistory(historyAt(60, 2));
    t.same((await store.history()).map((h) => h.load.requests), [1, 2, 3]);
    t.same((await store.history({ last: 2 })).map((h) => h.load.requests), [2, 3]);
    t.same((await store.history({ fromIso: iso(60), toIso: iso(120) })).map((h) => h.load.requests), [2]);
    t.same(await store.history({ last: 0 }), []);
    await t.rejects(store.history({ last: -1 }), { name: 'InputError', where: 'last' });
    await store.close();
  });

  t.test(`${backend}: a closed store refuses calls`, async (t) => {
    const store = await open(t.testdir());
    const pending = store.appendDecision(decision(0));
    await store.close();
    t.equal((await pending).id, 1, 'a write queued before close completes');
    await t.rejects(store.decisions(), /closed/);
  });
}
