import { Option, type Command } from 'commander';
import { openTrace, TRACE_FORMATS, traceStats, type TraceFormat, type TraceStats, type TokenStats } from '../../trace/index.js';
import { action, writeJson } from '../run.js';

interface StatsFlags {
  json?: boolean;
  format?: TraceFormat;
  lenient?: boolean;
  includeFailed?: boolean;
}

export function registerTrace(program: Command): void {
  const trace = program.command('trace').description('trace tools: read, summarise');
  trace
    .command('stats')
    .description('summarise a trace: request count, span, mean and peak rate, input/output token percentiles')
    .argument('<file>', 'trace file (Azure or BurstGPT CSV, Mooncake or pdpilot JSONL; detected from content)')
    .option('--json', 'print the stats JSON of DESIGN.md instead of a table')
    .addOption(new Option('--format <format>', 'read the file as this format instead of detecting it').choices(TRACE_FORMATS))
    .option('--lenient', 'skip bad rows and count them instead of stopping at the first')
    .option('--include-failed', 'count failed requests (BurstGPT rows with 0 response tokens) in the stats')
    .action(action((file: string, flags: StatsFlags) => traceStatsCommand(file, flags)));
}

async function traceStatsCommand(path: string, flags: StatsFlags): Promise<void> {
  const file = await openTrace(path, { format: flags.format, lenient: flags.lenient });
  const stats = await traceStats(file, { includeFailed: flags.includeFailed });
  const { failed_rows: failedRows, ...figures } = stats;
  // Key order as in DESIGN.md; the optional counts only where they say something.
  const report: Record<string, unknown> = { path, format: file.format, ...figures };
  if (flags.lenient) report.skipped_rows = file.skippedRows;
  if (failedRows > 0) report.failed_rows = failedRows;
  if (flags.json) {
    await writeJson(report);
    return;
  }
  process.stdout.write(statsTable(path, file.format, stats, flags));
  if (flags.lenient) {
    const first = file.firstSkipped ? ` (first: ${file.firstSkipped.message})` : '';
    process.stdout.write(`skipped rows   ${file.skippedRows}${first}\n`);
  }
  if (failedRows > 0) {
    const how = flags.includeFailed ? 'included above' : 'excluded above; --include-failed counts them';
    process.stdout.write(`failed rows    ${failedRows} (${how})\n`);
  }
}

function statsTable(path: string, format: TraceFormat, stats: TraceStats, flags: StatsFlags): string {
  const tokens = (label: string, s: TokenStats) =>
    `${label.padEnd(15)}${[s.mean, s.p50, s.p90, s.p99, s.max].map((v) => tokenFigure(v).padStart(10)).join('')}\n`;
  return (
    `trace          ${path} (${format}${flags.format ? ', as given' : ', detected'})\n` +
    `requests       ${stats.requests}\n` +
    `span           ${stats.span_s.toFixed(1)} s\n` +
    `mean rate      ${stats.mean_rps.toFixed(3)} req/s\n` +
    `peak rate      ${stats.peak_1min_rps.toFixed(2)} req/s (busiest fixed 1-minute bin)\n` +
    `${'tokens'.padEnd(15)}${['mean', 'p50', 'p90', 'p99', 'max'].map((h) => h.padStart(10)).join('')}\n` +
    tokens('input', stats.input) +
    tokens('output', stats.output)
  );
}

/** One decimal, without a trailing zero: token counts read 1020, interpolated ones 2734.5. */
function tokenFigure(value: number): string {
  return String(Number(value.toFixed(1)));
}
