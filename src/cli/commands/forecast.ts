import { Option, type Command } from 'commander';
import { InputError } from '../../domain/errors.js';
import type { LoadSample } from '../../domain/load.js';
import {
  backtest,
  createForecaster,
  FORECASTER_NAMES,
  intervalSamples,
  type ErrorStats,
  type HorizonScores,
  type ModelScore,
} from '../../forecast/index.js';
import { openTrace, TRACE_FORMATS, type TraceFormat } from '../../trace/index.js';
import { action, writeJson } from '../run.js';

interface BacktestFlags {
  trace: string;
  interval: string;
  horizon: string;
  models: string;
  format?: TraceFormat;
  json?: boolean;
}

export function registerForecast(program: Command): void {
  const forecast = program.command('forecast').description('load forecasting: evaluate the forecasters');
  forecast
    .command('backtest')
    .description('walk-forward backtest of each forecaster on a trace cut into intervals: MAE, RMSE, MAPE and band coverage per quantity')
    .requiredOption('--trace <file>', 'trace file (Azure or BurstGPT CSV, Mooncake or pdpilot JSONL; detected from content)')
    .option('--interval <seconds>', 'interval length, seconds', '60')
    .option('--horizon <intervals>', 'also score forecasts this many intervals ahead (besides one step)', '1')
    .option('--models <names>', `comma-separated models (${FORECASTER_NAMES.join(', ')})`, FORECASTER_NAMES.join(','))
    .addOption(new Option('--format <format>', 'read the trace as this format instead of detecting it').choices(TRACE_FORMATS))
    .option('--json', 'print JSON instead of tables')
    .action(action((flags: BacktestFlags) => backtestCommand(flags)));
}

async function backtestCommand(flags: BacktestFlags): Promise<void> {
  // Flags are checked before the file is read, so a typo fails fast.
  const intervalSeconds = positiveNumber('--interval', flags.interval);
  const horizonIntervals = positiveInteger('--horizon', flags.horizon);
  const models = flags.models.split(',').map((name) => name.trim());
  for (const name of models) {
    if (!(FORECASTER_NAMES as readonly string[]).includes(name)) {
      throw new InputError('--models', `unknown model ${JSON.stringify(name)}; expected one of ${FORECASTER_NAMES.join(', ')}`);
    }
  }
  const file = await openTrace(flags.trace, { format: flags.format });
  const samples: LoadSample[] = [];
  for await (const sample of intervalSamples(file, intervalSeconds)) samples.push(sample);
  if (samples.length < 2) {
    throw new InputError(flags.trace, `spans ${samples.length} full interval(s) of ${intervalSeconds} s; a backtest needs at least 2`);
  }
  const scores = backtest(
    samples,
    models.map((name) => () => createForecaster(name)),
    { horizonIntervals },
  );
  const summary = {
    path: flags.trace,
    format: file.format,
    requests: samples.reduce((sum, s) => sum + s.requests, 0),
    intervals: samples.length,
    idle_intervals: samples.filter((s) => s.requests === 0).length,
  };
  if (flags.json) {
    await writeJson({
      trace: summary,
      interval_s: intervalSeconds,
      horizon_intervals: horizonIntervals,
      models,
      horizons: scores.map(horizonJson),
    });
    return;
  }
  process.stdout.write(
    `trace     ${summary.path} (${summary.format}): ${summary.requests} requests in ${summary.intervals} full intervals of ${intervalSeconds} s, ${summary.idle_intervals} idle\n`,
  );
  for (const horizon of scores) process.stdout.write(horizonTables(horizon, intervalSeconds));
}

/** JSON keys carry their units (DESIGN.md); the rate in requests/s, lengths in tokens. */
function horizonJson(horizon: HorizonScores) {
  const errors = (s: ErrorStats) => ({ count: s.count, mae: s.mae, rmse: s.rmse, mape_pct: s.mapePercent, mape_count: s.mapeCount });
  return {
    horizon_intervals: horizon.horizonIntervals,
    rate_rps: horizon.models.map((m) => ({ model: m.model, ...errors(m.rate), band_coverage: m.rate.bandCoverage })),
    input_mean_tokens: horizon.models.map((m) => ({ model: m.model, ...errors(m.inputMean) })),
    input_rms_tokens: horizon.models.map((m) => ({ model: m.model, ...errors(m.inputRms) })),
    output_mean_tokens: horizon.models.map((m) => ({ model: m.model, ...errors(m.outputMean) })),
  };
}

const QUANTITY_TABLES: { title: string; unit: string; pick: (m: ModelScore) => ErrorStats; digits: number }[] = [
  { title: 'rate', unit: 'req/s', pick: (m) => m.rate, digits: 3 },
  { title: 'input mean', unit: 'tokens', pick: (m) => m.inputMean, digits: 1 },
  { title: 'input rms (√E[l²])', unit: 'tokens', pick: (m) => m.inputRms, digits: 1 },
  { title: 'output mean', unit: 'tokens', pick: (m) => m.outputMean, digits: 1 },
];

function horizonTables(horizon: HorizonScores, intervalSeconds: number): string {
  const h = horizon.horizonIntervals;
  const ahead = h === 1 ? `one interval ahead (${intervalSeconds} s)` : `mean over the next ${h} intervals (${h * intervalSeconds} s)`;
  let out = '';
  for (const table of QUANTITY_TABLES) {
    const first = horizon.models[0];
    if (!first) break;
    const sample = table.pick(first);
    const scope =
      table.title === 'rate'
        ? `${sample.count} forecasts, MAPE over the ${sample.mapeCount} non-idle`
        : `${sample.count} non-idle intervals`;
    out += `\n${table.title} (${table.unit}), ${ahead}; ${scope}\n`;
    out += `${'model'.padEnd(14)}${['MAE', 'RMSE', 'MAPE %'].map((c) => c.padStart(10)).join('')}${table.title === 'rate' ? 'band cov'.padStart(10) : ''}\n`;
    for (const m of horizon.models) {
      const s = table.pick(m);
      const cells = [s.mae.toFixed(table.digits), s.rmse.toFixed(table.digits), s.mapePercent.toFixed(1)];
      if (table.title === 'rate') cells.push(m.rate.bandCoverage.toFixed(2));
      out += `${m.model.padEnd(14)}${cells.map((c) => c.padStart(10)).join('')}\n`;
    }
  }
  return out;
}

function positiveNumber(flag: string, text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !(value > 0) || !Number.isFinite(value)) throw new InputError(flag, `expected a positive number of seconds, got ${JSON.stringify(text)}`);
  return value;
}

function positiveInteger(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new InputError(flag, `expected a positive whole number of intervals, got ${JSON.stringify(text)}`);
  return value;
}
