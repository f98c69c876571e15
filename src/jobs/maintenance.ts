import { poolSamples, type LoadSample } from '../domain/load.js';
import { backtest, type ModelScore } from '../forecast/backtest.js';
import { createForecaster, FORECASTER_NAMES } from '../forecast/create-forecaster.js';
import type { Forecaster } from '../forecast/forecaster.js';
import type { DailySummaryRecord, RetentionPolicy, RetentionReport, Store } from '../store/store.js';

// The services behind the cron jobs. Each is a plain function of the store
// and the times it is given, so it is tested directly; the schedule only
// calls it (src/jobs/cron-jobs.ts).

export interface RefitResult {
  /** The model now serving forecasts. */
  chosen: string;
  samples: number;
  /** One-step-ahead backtest scores of every candidate over the stored history. */
  scores: ModelScore[];
  forecaster: Forecaster;
}

/** Fewest nominal intervals worth a backtest; with less, the current forecaster is kept. */
export const MIN_REFIT_SAMPLES = 10;

/**
 * Forecaster refit and backtest: walks every model forward over the stored
 * history (`samples`: history already on the controller's clock and
 * nominal intervals), picks the lowest rate MAE (ties: the order of
 * FORECASTER_NAMES, simplest first), builds it afresh on the whole history
 * and records the backtest figures as a config revision (kind `forecaster`):
 * the refit changes what the controller forecasts with, so it belongs in
 * the same audit trail as a policy change. Undefined when the history is too
 * short to score (fewer than MIN_REFIT_SAMPLES).
 */
export async function refitForecaster(input: { store: Store; samples: readonly LoadSample[]; nowIso: string; current: string }): Promise<RefitResult | undefined> {
  const { samples } = input;
  if (samples.length < MIN_REFIT_SAMPLES) return undefined;
  const [scores] = backtest(samples, FORECASTER_NAMES.map((name) => () => createForecaster(name)));
  const models = scores?.models ?? [];
  const best = models.reduce<ModelScore | undefined>((a, m) => (a === undefined || m.rate.mae < a.rate.mae ? m : a), undefined);
  if (!best) return undefined;
  const forecaster = createForecaster(best.model);
  for (const s of samples) forecaster.observe(s);
  await input.store.appendConfigRevision({
    atIso: input.nowIso,
    actor: 'system',
    kind: 'forecaster',
    summary: `refit on ${samples.length} intervals: ${best.model} (rate MAE ${best.rate.mae.toFixed(3)} req/s)${best.model === input.current ? '' : `, replacing ${input.current}`}`,
    before: { model: input.current },
    after: { model: best.model, samples: samples.length, backtest: models.map((m) => ({ model: m.model, rateMae: m.rate.mae, rateRmse: m.rate.rmse, bandCoverage: m.rate.bandCoverage, inputMeanMae: m.inputMean.mae, outputMeanMae: m.outputMean.mae })) },
  });
  return { chosen: best.model, samples: samples.length, scores: models, forecaster };
}

/** History compaction and retention: the store does the arithmetic (docs/store.md); this is the job's call. */
export function compactAndRetain(store: Store, nowIso: string, policy?: Partial<RetentionPolicy>): Promise<RetentionReport> {
  return store.applyRetention(nowIso, policy);
}

/**
 * The daily summary of UTC day `day` (YYYY-MM-DD): decisions by status,
 * flips finished that day by final state, requests, request-weighted
 * attainment and the worst interval p90s. Written (or rewritten) in the store.
 */
export async function writeDailySummary(store: Store, day: string, nowIso: string): Promise<DailySummaryRecord> {
  const fromIso = `${day}T00:00:00.000Z`;
  const toIso = new Date(Date.parse(fromIso) + 86_400_000).toISOString();
  if (Number.isNaN(Date.parse(fromIso))) throw new RangeError(`day must be YYYY-MM-DD, got ${JSON.stringify(day)}`);
  const decisionsByStatus: Record<string, number> = {};
  let cursor: string | undefined;
  do {
    const page = await store.decisions({ fromIso, toIso, limit: 1000, ...(cursor ? { cursor } : {}) });
    for (const d of page.items) decisionsByStatus[d.status] = (decisionsByStatus[d.status] ?? 0) + 1;
    cursor = page.nextCursor;
  } while (cursor);
  const flipsByState: Record<string, number> = {};
  for (const f of await store.flips({ states: ['done', 'failed', 'rolled-back'], limit: 1000 })) {
    if (f.updatedIso >= fromIso && f.updatedIso < toIso) flipsByState[f.state] = (flipsByState[f.state] ?? 0) + 1;
  }
  const history = await store.history({ fromIso, toIso });
  const requests = history.length > 0 ? poolSamples(history.map((h) => h.load)).requests : 0;
  let attained = 0;
  let measured = 0;
  let ttftMax: number | undefined;
  let tpotMax: number | undefined;
  for (const h of history) {
    if (h.attainment !== undefined) {
      attained += h.attainment * h.load.requests;
      measured += h.load.requests;
    }
    if (h.ttftP90Seconds !== undefined) ttftMax = Math.max(ttftMax ?? 0, h.ttftP90Seconds);
    if (h.tpotP90Seconds !== undefined) tpotMax = Math.max(tpotMax ?? 0, h.tpotP90Seconds);
  }
  const summary: DailySummaryRecord = {
    day,
    generatedIso: nowIso,
    decisionsByStatus,
    flipsByState,
    requests,
    ...(measured > 0 ? { attainment: attained / measured } : {}),
    ...(ttftMax === undefined ? {} : { ttftP90MaxSeconds: ttftMax }),
    ...(tpotMax === undefined ? {} : { tpotP90MaxSeconds: tpotMax }),
  };
  await store.putDailySummary(summary);
  return summary;
}

/** The UTC day before the instant `nowIso` (the daily job, run just after midnight, summarises yesterday). */
export function previousUtcDay(nowIso: string): string {
  return new Date(Date.parse(nowIso) - 86_400_000).toISOString().slice(0, 10);
}
