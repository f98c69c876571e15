import { Option, type Command } from 'commander';
import { InputError } from '../../domain/errors.js';
import type { Slo } from '../../domain/slo.js';
import { replaySummary, runOpenLoop, type ReplayRequest, type ReplaySummary } from '../../replay/index.js';
import { openTrace, TRACE_FORMATS, type TraceFormat } from '../../trace/index.js';
import { apiBase, fetchModelId, HttpReplayTransport, TimerPacer } from '../replay-client.js';
import { action, writeJson } from '../run.js';
import { DEFAULT_SIM_SLO, positiveInteger, positiveNumber } from './sim.js';

interface ReplayFlags {
  trace: string;
  url: string;
  speedup: string;
  limit?: string;
  sloTtft?: string;
  sloTpot?: string;
  timeoutSeconds: string;
  format?: TraceFormat;
  lenient?: boolean;
  json?: string;
}

/** `pdpilot replay --json`: the measurements (src/replay/report.ts) with what was replayed against what. */
export interface ReplayJson extends ReplaySummary {
  url: string;
  trace: string;
  model: string;
  speedup: number;
  slo: { ttft_s: number; tpot_s: number };
}

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description(
      'open-loop replay of a trace against a running router (pdpilot up): each request sent at its arrival ÷ speedup ' +
        'with its recorded lengths; reports TTFT, TPOT, SLO attainment, failures and send lateness',
    )
    .requiredOption('--trace <file>', 'trace file (Azure or BurstGPT CSV, Mooncake or pdpilot JSONL; detected from content)')
    .requiredOption('--url <url>', 'base URL of the router, e.g. http://127.0.0.1:8000 (a trailing /v1 is accepted)')
    .option('--speedup <k>', 'send arrivals k× faster than recorded', '1')
    .option('--limit <n>', 'replay only the first n requests')
    .option('--slo-ttft <seconds>', `TTFT SLO (default ${DEFAULT_SIM_SLO.ttftSeconds})`)
    .option('--slo-tpot <seconds>', `TPOT SLO (default ${DEFAULT_SIM_SLO.tpotSeconds})`)
    .option('--timeout-seconds <s>', 'give up on a request after this long (counted as failed: timeout)', '600')
    .addOption(new Option('--format <format>', 'read the trace as this format instead of detecting it').choices(TRACE_FORMATS))
    .option('--lenient', 'skip bad trace rows and count them instead of stopping at the first')
    .option('--json <file>', 'also write the report JSON to a file ("-": to stdout, instead of the summary)')
    .action(action((flags: ReplayFlags) => replayCommand(flags)));
}

async function replayCommand(flags: ReplayFlags): Promise<void> {
  // Flags, then the trace, then the server: bad input exits 2 before anything is sent.
  const base = apiBase(flags.url);
  if (!base) throw new InputError('--url', `expected an http(s) URL, got ${JSON.stringify(flags.url)}`);
  const speedup = positiveNumber('--speedup', flags.speedup);
  const limit = flags.limit === undefined ? Infinity : positiveInteger('--limit', flags.limit);
  const timeoutSeconds = positiveNumber('--timeout-seconds', flags.timeoutSeconds);
  const slo: Pick<Slo, 'ttftSeconds' | 'tpotSeconds'> = {
    ttftSeconds: flags.sloTtft === undefined ? DEFAULT_SIM_SLO.ttftSeconds : positiveNumber('--slo-ttft', flags.sloTtft),
    tpotSeconds: flags.sloTpot === undefined ? DEFAULT_SIM_SLO.tpotSeconds : positiveNumber('--slo-tpot', flags.sloTpot),
  };
  const { requests, skippedRows } = await readRequests(flags, limit);
  if (requests.length === 0) throw new InputError(flags.trace, 'the trace has no requests');

  const model = await fetchModelId(base, Math.min(timeoutSeconds, 10));
  const url = base.href;
  const last = requests[requests.length - 1] as ReplayRequest;
  process.stderr.write(
    `replaying ${requests.length} requests over ${(last.arrivalSeconds / speedup).toFixed(1)} s against ${url} (model ${model})\n`,
  );
  const transport = new HttpReplayTransport(base, { model, timeoutSeconds });
  let records;
  try {
    records = await runOpenLoop(requests, { speedup, pacer: new TimerPacer(), transport });
  } finally {
    await transport.close();
  }
  const json: ReplayJson = {
    url,
    trace: flags.trace,
    model,
    speedup,
    slo: { ttft_s: slo.ttftSeconds, tpot_s: slo.tpotSeconds },
    ...replaySummary(records, slo),
  };
  if (flags.json !== undefined) await writeJson(json, flags.json);
  if (flags.json !== '-') process.stdout.write(summaryText(json, skippedRows));
}

/** The first `limit` requests of the trace, lengths raised to the router's minimum of 1; failed rows (BurstGPT) left out, as in the stats. */
async function readRequests(flags: ReplayFlags, limit: number): Promise<{ requests: ReplayRequest[]; skippedRows: number | undefined }> {
  const file = await openTrace(flags.trace, { format: flags.format, lenient: flags.lenient });
  const requests: ReplayRequest[] = [];
  for await (const row of file) {
    if (requests.length >= limit) break;
    if (row.failed) continue;
    requests.push({
      index: requests.length,
      arrivalSeconds: row.arrivalSeconds,
      inputTokens: Math.max(1, row.inputTokens),
      outputTokens: Math.max(1, row.outputTokens),
    });
  }
  // Arrivals are re-based to the first row read; the replay is re-based to the first request kept.
  return { requests, skippedRows: flags.lenient ? file.skippedRows : undefined };
}

function summaryText(json: ReplayJson, skippedRows: number | undefined): string {
  const ms = (s: number) => `${(s * 1000).toFixed(1)} ms`;
  const failed = Object.entries(json.failed).map(([reason, n]) => `${reason} ${n}`).join(', ');
  return (
    `replay       ${json.trace} → ${json.url} (model ${json.model}, speedup ${json.speedup})\n` +
    `requests     ${json.requests}: ${json.completed} completed, ${json.requests - json.completed} failed${failed ? ` (${failed})` : ''}\n` +
    (skippedRows !== undefined ? `skipped rows ${skippedRows}\n` : '') +
    `sent         over ${json.span_s.toFixed(1)} s at ${json.achieved_rps.toFixed(2)} req/s; lateness p50 ${ms(json.send_lateness_p50_s)} p99 ${ms(json.send_lateness_p99_s)} max ${ms(json.send_lateness_max_s)}\n` +
    `duration     ${json.duration_s.toFixed(1)} s to the last answer\n` +
    `attainment   ${(json.attainment * 100).toFixed(2)}% (TTFT ≤ ${json.slo.ttft_s} s and TPOT ≤ ${json.slo.tpot_s} s; failures count as misses)\n` +
    `TTFT         mean ${ms(json.ttft_mean_s)}  p50 ${ms(json.ttft_p50_s)}  p90 ${ms(json.ttft_p90_s)}  p99 ${ms(json.ttft_p99_s)}\n` +
    `TPOT         mean ${ms(json.tpot_mean_s)}  p50 ${ms(json.tpot_p50_s)}  p90 ${ms(json.tpot_p90_s)}  p99 ${ms(json.tpot_p99_s)}\n` +
    `tokens       ${json.output_tokens} received of ${json.requested_output_tokens} asked` +
    `${json.token_mismatches > 0 ? `; ${json.token_mismatches} completed requests with a count ≠ max_tokens or ≠ usage` : ''}\n`
  );
}
