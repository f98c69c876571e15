import t from 'tap';
import { sampleFromRequests } from '../../src/domain/load.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { compactHistory, mergeHistory } from '../../src/store/retention.js';
import type { LoadHistoryRecord } from '../../src/store/store.js';
import { change, decision, historyAt, iso, T0_MS } from './fixtures/store-fixtures.js';

/** A history record built from explicit requests, as the controller would, so merged moments can be checked against the union. */
function recordOf(seconds: number, requests: { inputTokens: number; outputTokens: number }[], extra: Partial<LoadHistoryRecord> = {}): LoadHistoryRecord {
  return { startIso: iso(seconds), load: sampleFromRequests(seconds, 60, requests), intervals: 1, ...extra };
}

t.test('merging sums counts and gives the moments of the union of the requests, exactly', async (t) => {
  // Lengths chosen so every product and mean is a dyadic rational: the arithmetic is exact in doubles.
  const a = [{ inputTokens: 256, outputTokens: 64 }, { inputTokens: 768, outputTokens: 192 }];
  const b = [{ inputTokens: 1024, outputTokens: 32 }];
  const c = [{ inputTokens: 128, outputTokens: 16 }, { inputTokens: 128, outputTokens: 16 }, { inputTokens: 512, outputTokens: 96 }, { inputTokens: 2048, outputTokens: 512 }];
  const merged = mergeHistory([
    recordOf(0, a, { ttftP90Seconds: 0.25, attainment: 1 }),
    recordOf(60, [], { ttftP90Seconds: 0.1 }),
    recordOf(120, b, { ttftP90Seconds: 0.75, tpotP90Seconds: 0.05, attainment: 0 }),
    recordOf(180, c, { attainment: 0.75 }),
  ]);
  const union = sampleFromRequests(0, 240, [...a, ...b, ...c]);
  t.equal(merged.load.requests, 7);
  t.equal(merged.load.inputMean, union.inputMean);
  t.equal(merged.load.inputSecondMoment, union.inputSecondMoment);
  t.equal(merged.load.outputMean, union.outputMean);
  t.equal(merged.load.intervalSeconds, 240, 'covered seconds add, so requests/intervalSeconds is the mean rate');
  t.equal(merged.load.startSeconds, 0);
  t.equal(merged.startIso, iso(0));
  t.equal(merged.intervals, 4);
  t.equal(merged.ttftP90Seconds, 0.75, 'p90: the max of the parts, an upper bound');
  t.equal(merged.tpotP90Seconds, 0.05);
  // (2·1 + 1·0 + 4·0.75) / 7 met both SLOs
  t.equal(merged.attainment, 5 / 7);
});

t.test('merging is associative: merging merged records again gives the same moments', async (t) => {
  let seed = 7;
  const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const records = Array.from({ length: 40 }, (_, i) =>
    recordOf(i * 60, Array.from({ length: Math.floor(random() * 30) }, () => ({ inputTokens: 1 + Math.floor(random() * 8000), outputTokens: 1 + Math.floor(random() * 1000) }))),
  );
  const flat = mergeHistory(records);
  const nested = mergeHistory([mergeHistory(records.slice(0, 13)), mergeHistory(records.slice(13, 14)), mergeHistory(records.slice(14))]);
  t.equal(nested.load.requests, flat.load.requests);
  for (const key of ['inputMean', 'inputSecondMoment', 'outputMean'] as const) {
    t.ok(Math.abs(nested.load[key] - flat.load[key]) <= 1e-12 * flat.load[key], `${key}: ${nested.load[key]} vs ${flat.load[key]}`);
  }
});

t.test('an all-idle merge is idle, never NaN; attainment of nothing measured stays unknown', async (t) => {
  const merged = mergeHistory([historyAt(0, 0, { attainment: 1 }), historyAt(60, 0)]);
  t.same(merged.load, { startSeconds: 0, intervalSeconds: 120, requests: 0, inputMean: 0, inputSecondMoment: 0, outputMean: 0 });
  t.notOk('attainment' in merged);
  t.notOk('ttftP90Seconds' in merged);
  t.throws(() => mergeHistory([]), RangeError);
});

t.test('compaction merges by epoch-aligned bucket before the cutoff and keeps newer records as they are', async (t) => {
  // T0 is midnight, so 300 s buckets start at 0, 300, 600 … seconds after it.
  const history = Array.from({ length: 12 }, (_, i) => historyAt(i * 60, i + 1));
  const cutoffMs = T0_MS + 540 * 1000;
  const compacted = compactHistory(history, cutoffMs, 300);
  t.same(compacted.map((h) => [h.startIso, h.intervals, h.load.requests]), [
    [iso(0), 5, 1 + 2 + 3 + 4 + 5],
    [iso(300), 4, 6 + 7 + 8 + 9],
    [iso(540), 1, 10],
    [iso(600), 1, 11],
    [iso(660), 1, 12],
  ]);
  // The straddling bucket is finished on a later run, and the result equals merging it in one go.
  const later = compactHistory(compacted, T0_MS + 720 * 1000, 300);
  t.same(later.map((h) => [h.startIso, h.intervals, h.load.requests]), [
    [iso(0), 5, 15],
    [iso(300), 5, 40],
    [iso(600), 2, 23],
  ]);
  t.same(later[1], mergeHistory(history.slice(5, 10)));
  t.same(compactHistory(later, T0_MS + 720 * 1000, 300), later, 'idempotent');
});

t.test('applyRetention: drops by age, compacts history, keeps unfinished flips, expires overrides', async (t) => {
  const store = new MemoryStore();
  const day = 86_400;
  for (const seconds of [0, day, 8 * day]) await store.appendDecision(decision(seconds));
  for (let i = 0; i < 24; i++) await store.appendHistory(historyAt(8 * day + i * 60, 2));
  const old = await store.createFlip({ change: change('w1'), atIso: iso(0) });
  await store.advanceFlip(old.id, 'draining', iso(60));
  await store.advanceFlip(old.id, 'switching', iso(90));
  await store.advanceFlip(old.id, 'done', iso(100));
  const stuck = await store.createFlip({ change: change('w2'), atIso: iso(0) });
  await store.putOverride({ workerId: 'w3', role: 'decode', untilIso: iso(8 * day), setIso: iso(0), actor: 'ops' });
  await store.putOverride({ workerId: 'w4', role: 'decode', untilIso: iso(9 * day), setIso: iso(0), actor: 'ops' });
  await store.appendConfigRevision({ atIso: iso(0), actor: 'admin', kind: 'policy', summary: 'kept a year' });

  const now = iso(8 * day + 24 * 60 + 6 * 3600);
  const report = await store.applyRetention(now, { decisionsMaxAgeSeconds: 7 * day + 7 * 3600, flipsMaxAgeSeconds: 3 * day });
  t.same(report, {
    decisionsDropped: 1,
    historyDropped: 0,
    historyMerged: 24 - 5,
    flipsDropped: 1,
    configRevisionsDropped: 0,
    dailySummariesDropped: 0,
    overridesExpired: 1,
  });
  t.same((await store.decisions()).items.map((d) => d.atIso), [iso(8 * day), iso(day)]);
  const history = await store.history();
  t.same(history.map((h) => h.intervals), [5, 5, 5, 5, 4], '24 one-minute records older than 6 h → 5-minute buckets');
  t.equal(history.reduce((n, h) => n + h.load.requests, 0), 48, 'no request lost');
  t.same((await store.pendingFlips()).map((f) => f.id), [stuck.id], 'an unfinished flip survives any age');
  t.same((await store.flags()).overrides.map((o) => o.workerId), ['w4']);
  t.equal((await store.configRevisions()).items.length, 1);

  const again = await store.applyRetention(now);
  t.equal(again.historyMerged, 0, 'a second run changes nothing');
  await t.rejects(store.applyRetention(now, { historyBucketSeconds: 0 }), /historyBucketSeconds must be a positive number/);
  await t.rejects(store.applyRetention('soon'), { name: 'InputError', where: 'nowIso' });
});

t.test('store options are checked', async (t) => {
  t.throws(() => new MemoryStore({ limits: { maxDecisions: 0 } }), /maxDecisions must be a positive integer/);
  t.throws(() => new MemoryStore({ retention: { historyMaxAgeSeconds: -1 } }), /historyMaxAgeSeconds/);
});
