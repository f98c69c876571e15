import { Option, type Command } from 'commander';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { openTrace, TRACE_FORMATS, traceStats, type TraceFormat, type TraceStats, type TokenStats } from '../../trace/index.js';
import { InputError } from '../../domain/errors.js';
import { isMixShape, MIX_SHAPES, mixedTraceLine, shiftingMix, type MixShape } from '../../trace/mix.js';
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
  trace
    .command('mix')
    .description('superpose the code and conv traces with a shifting mix (conv-heavy → code-heavy → conv-heavy), written as pdpilot JSONL with a "class" field')
    .requiredOption('--code <file>', 'the code-class trace (any readable format)')
    .requiredOption('--conv <file>', 'the conv-class trace (any readable format)')
    .addOption(new Option('--shape <shape>', 'how the code share moves over a period').choices(MIX_SHAPES).makeOptionMandatory())
    .requiredOption('--period <seconds>', 'seconds of one conv-heavy → code-heavy → conv-heavy cycle')
    .requiredOption('--out <file>', 'where to write the mixed trace (pdpilot JSONL)')
    .option('--seed <n>', 'seed of the deterministic thinning', '1')
    .option('--floor <fraction>', 'keep probability of a class at its lowest (0..1)', '0.1')
    .action(action((flags: MixFlags) => traceMixCommand(flags)));
}

interface MixFlags {
  code: string;
  conv: string;
  shape: MixShape;
  period: string;
  out: string;
  seed: string;
  floor: string;
}

async function traceMixCommand(flags: MixFlags): Promise<void> {
  const periodSeconds = Number(flags.period);
  if (flags.period.trim() === '' || !(periodSeconds > 0) || !Number.isFinite(periodSeconds)) {
    throw new InputError('--period', `expected a positive number of seconds, got ${JSON.stringify(flags.period)}`);
  }
  const seed = Number(flags.seed);
  if (flags.seed.trim() === '' || !Number.isSafeInteger(seed)) throw new InputError('--seed', `expected an integer, got ${JSON.stringify(flags.seed)}`);
  const floor = Number(flags.floor);
  if (flags.floor.trim() === '' || !(floor >= 0 && floor <= 1)) throw new InputError('--floor', `expected a fraction within 0..1, got ${JSON.stringify(flags.floor)}`);
  if (!isMixShape(flags.shape)) throw new InputError('--shape', `expected one of ${MIX_SHAPES.join(', ')}`);
  // Conv first: the mix starts and ends conv-heavy and is code-heavy mid-period.
  const mixed = shiftingMix(
    { trace: await openTrace(flags.conv), tag: 'conv' },
    { trace: await openTrace(flags.code), tag: 'code' },
    { shape: flags.shape, periodSeconds, seed, floor },
  );
  const out = createWriteStream(flags.out);
  // An unwritable --out (missing folder, permissions) is bad input, reported like an unreadable trace.
  const failed = once(out, 'error').then(([error]: Error[]) => {
    throw new InputError(flags.out, `cannot write: ${error?.message}`);
  });
  const counts = new Map<string, number>();
  const write = async () => {
    for await (const request of mixed) {
      const tag = String(request.extra?.tag);
      counts.set(tag, (counts.get(tag) ?? 0) + 1);
      if (!out.write(mixedTraceLine(request))) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
  };
  await Promise.race([write(), failed]);
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  process.stdout.write(`wrote ${total} requests (conv ${counts.get('conv') ?? 0}, code ${counts.get('code') ?? 0}) to ${flags.out}\n`);
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
