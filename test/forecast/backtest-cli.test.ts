// `pdpilot forecast backtest` end to end: the built CLI (dist/, built by pretest) in a child process.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { azureTrace, repoRoot } from '../trace/fixtures/trace-test-helpers.js';

function pdpilot(...args: string[]) {
  const run = spawnSync(process.execPath, [join(repoRoot, 'bin', 'pdpilot.js'), ...args], { encoding: 'utf8' });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

t.test('--json on the code trace: every model, four quantities, one and five steps ahead', async (t) => {
  const path = azureTrace('code');
  const run = pdpilot('forecast', 'backtest', '--trace', path, '--horizon', '5', '--json');
  t.equal(run.code, 0, run.stderr);
  const report = JSON.parse(run.stdout);
  t.same(Object.keys(report), ['trace', 'interval_s', 'horizon_intervals', 'models', 'horizons']);
  // 3435.9 s span at 60 s: 57 full intervals (the 58th holds the last arrival and is left out); 12 idle minutes.
  t.match(report, { trace: { path, format: 'azure', intervals: 57, idle_intervals: 12 }, interval_s: 60, horizon_intervals: 5 });
  t.same(report.models, ['last-value', 'ewma', 'holt', 'holt-winters', 'regression']);
  t.same(report.horizons.map((h: { horizon_intervals: number }) => h.horizon_intervals), [1, 5]);
  const [one] = report.horizons;
  t.same(Object.keys(one), ['horizon_intervals', 'rate_rps', 'input_mean_tokens', 'input_rms_tokens', 'output_mean_tokens']);
  t.same(Object.keys(one.rate_rps[0]), ['model', 'count', 'mae', 'rmse', 'mape_pct', 'mape_count', 'band_coverage']);
  t.match(one.rate_rps[0], { model: 'last-value', count: 56, mape_count: 44 });
  t.match(one.input_mean_tokens[0], { count: 44 }, 'lengths are scored on non-idle intervals only');
  for (const row of one.rate_rps) t.ok(row.mae > 0 && row.band_coverage > 0.5 && row.band_coverage <= 1, row.model);
});

t.test('the text tables on the conv trace, a subset of models, 120 s intervals', async (t) => {
  const run = pdpilot('forecast', 'backtest', '--trace', azureTrace('conv'), '--interval', '120', '--models', 'ewma,regression');
  t.equal(run.code, 0, run.stderr);
  t.match(run.stdout, /29 full intervals of 120 s, 0 idle/);
  t.match(run.stdout, /^rate \(req\/s\), one interval ahead \(120 s\); 28 forecasts, MAPE over the 28 non-idle$/m);
  t.match(run.stdout, /^input rms \(√E\[l²\]\) \(tokens\)/m);
  t.match(run.stdout, /^ewma +[\d.]+ +[\d.]+ +[\d.]+ +[\d.]+$/m);
  t.notMatch(run.stdout, /last-value/);
});

t.test('bad flags and files exit 2 with one line naming the flag or file', async (t) => {
  const code = azureTrace('code');
  const cases: [string[], string][] = [
    [['--trace', code, '--models', 'ewma,arima'], '--models: unknown model "arima"; expected one of last-value, ewma, holt, holt-winters, regression\n'],
    [['--trace', code, '--interval', 'soon'], '--interval: expected a positive number of seconds, got "soon"\n'],
    [['--trace', code, '--horizon', '1.5'], '--horizon: expected a positive whole number of intervals, got "1.5"\n'],
    [['--trace', 'no/such.csv'], 'no/such.csv: cannot read trace: no such file\n'],
    [['--trace', code, '--interval', '4000'], `${code}: spans 0 full interval(s) of 4000 s; a backtest needs at least 2\n`],
  ];
  for (const [args, stderr] of cases) {
    const run = pdpilot('forecast', 'backtest', ...args);
    t.equal(run.code, 2, args.join(' '));
    t.equal(run.stderr, stderr);
    t.equal(run.stdout, '');
  }
  t.equal(pdpilot('forecast', 'backtest').code, 2, '--trace is required');
});
