import t from 'tap';
import type { LoadSample } from '../../src/domain/load.js';
import { ControllerLoop } from '../../src/jobs/controller-loop.js';
import { scheduleJobs } from '../../src/jobs/cron-jobs.js';
import { MIN_REFIT_SAMPLES, compactAndRetain, previousUtcDay, refitForecaster, writeDailySummary } from '../../src/jobs/maintenance.js';
import { MemoryStore } from '../../src/store/memory-store.js';

const sample = (i: number, requests: number): LoadSample => ({ startSeconds: i * 30, intervalSeconds: 30, requests, inputMean: 100, inputSecondMoment: 10_000, outputMean: 50 });

t.test('refit: backtests every model on the history, keeps the best, records the figures', async (t) => {
  const store = new MemoryStore();
  t.equal(await refitForecaster({ store, samples: [sample(0, 1)], nowIso: '2026-01-05T10:00:00.000Z', current: 'holt' }), undefined, 'too little history: nothing changes');
  // A steady ramp: a trend model forecasts it better than the last value.
  const samples = Array.from({ length: 4 * MIN_REFIT_SAMPLES }, (_, i) => sample(i, 30 + 3 * i));
  const result = await refitForecaster({ store, samples, nowIso: '2026-01-05T10:00:00.000Z', current: 'last-value' });
  t.ok(result);
  if (!result) return;
  const lastValue = result.scores.find((s) => s.model === 'last-value');
  const chosen = result.scores.find((s) => s.model === result.chosen);
  t.ok(chosen && lastValue && chosen.rate.mae <= lastValue.rate.mae, `${result.chosen} beats or ties last-value`);
  t.not(result.chosen, 'last-value', 'on a ramp the trend model wins');
  t.ok(result.forecaster.forecast(30).requestsPerSecond.mean > 3, 'the new forecaster is trained on the whole history');
  const [revision] = (await store.configRevisions({ kind: 'forecaster' })).items;
  t.match(revision?.summary, new RegExp(`refit on 40 intervals: ${result.chosen}`));
  t.equal((revision?.after as { backtest: unknown[] }).backtest.length, result.scores.length);
});

t.test('daily summary: one UTC day of decisions, flips, requests and attainment', async (t) => {
  const store = new MemoryStore();
  const decision = (atIso: string, status: string) =>
    store.appendDecision({ atSeconds: 0, atIso, status, policy: 'p', advisory: false, proposed: [], applied: [], held: [], reason: { code: 'c', message: 'm' } });
  await decision('2026-01-04T23:59:59.000Z', 'acted');
  await decision('2026-01-05T00:00:00.000Z', 'acted');
  await decision('2026-01-05T12:00:00.000Z', 'steady');
  await decision('2026-01-06T00:00:00.000Z', 'held');
  const flip = await store.createFlip({ change: { workerId: 'w0', from: 'decode', to: 'prefill', reason: { code: 'c', message: 'm' } }, atIso: '2026-01-05T01:00:00.000Z' });
  await store.advanceFlip(flip.id, 'failed', '2026-01-05T01:00:05.000Z');
  await store.appendHistory({ startIso: '2026-01-05T01:00:00.000Z', load: { ...sample(0, 30) }, intervals: 1, attainment: 1, ttftP90Seconds: 0.5 });
  await store.appendHistory({ startIso: '2026-01-05T01:00:30.000Z', load: { ...sample(1, 10) }, intervals: 1, attainment: 0.5, ttftP90Seconds: 0.9, tpotP90Seconds: 0.05 });
  const summary = await writeDailySummary(store, previousUtcDay('2026-01-06T00:05:00.000Z'), '2026-01-06T00:05:00.000Z');
  t.same(summary.decisionsByStatus, { acted: 1, steady: 1 });
  t.same(summary.flipsByState, { failed: 1 });
  t.equal(summary.requests, 40);
  t.equal(summary.attainment, (30 * 1 + 10 * 0.5) / 40, 'request-weighted');
  t.equal(summary.ttftP90MaxSeconds, 0.9);
  t.same(await store.dailySummaries(), [summary]);
  await t.rejects(writeDailySummary(store, 'yesterday', '2026-01-06T00:05:00.000Z'), RangeError);
});

t.test('retention job: old history compacted and dropped through the store', async (t) => {
  const store = new MemoryStore();
  await store.appendHistory({ startIso: '2025-11-01T00:00:00.000Z', load: sample(0, 5), intervals: 1 });
  await store.appendHistory({ startIso: '2026-01-05T00:00:00.000Z', load: sample(0, 5), intervals: 1 });
  const report = await compactAndRetain(store, '2026-01-05T10:00:00.000Z', { historyMaxAgeSeconds: 30 * 86_400 });
  t.equal(report.historyDropped, 1);
  t.equal((await store.history()).length, 1);
});

t.test('cron: a bad expression refuses the whole schedule, naming the job; off jobs are not scheduled', async (t) => {
  t.throws(() => scheduleJobs([{ name: 'refit', expression: 'every hour', run: async () => 1 }], { onError: () => undefined }), /jobs.refit: "every hour" is not a cron expression/);
  const errors: string[] = [];
  let runs = 0;
  const jobs = scheduleJobs(
    [
      { name: 'refit', expression: '0 * * * *', run: async () => ++runs },
      { name: 'daily', run: async () => { throw new Error('disk full'); } },
    ],
    { timezone: 'UTC', onError: (job, e) => errors.push(`${job}: ${(e as Error).message}`) },
  );
  t.same(jobs.names, ['refit']);
  t.equal(await jobs.runNow('refit'), 1);
  await t.rejects(jobs.runNow('daily'), /disk full/);
  t.same(errors, ['daily: disk full']);
  await jobs.stop();
});

t.test('controller loop: reconciles at the requested time, keeps going after a failure, stops cleanly', async (t) => {
  const calls: number[] = [];
  let fail = true;
  const loop = new ControllerLoop({
    clock: { nowSeconds: () => performance.now() / 1000 },
    intervalSeconds: 0.02,
    tick: async () => {
      calls.push(performance.now());
      if (fail) {
        fail = false;
        throw new Error('policy blew up');
      }
      return { nextAtSeconds: performance.now() / 1000 + 0.02 };
    },
    onError: (e) => t.equal((e as Error).message, 'policy blew up'),
  });
  loop.start();
  await new Promise((r) => setTimeout(r, 200));
  await loop.stop();
  const n = calls.length;
  t.ok(n >= 3, `ran ${n} times, past the failure`);
  await new Promise((r) => setTimeout(r, 60));
  t.equal(calls.length, n, 'no reconcile after stop');
});
