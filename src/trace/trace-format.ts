import type { TraceRequest } from '../domain/request.js';

/** The trace formats pdpilot reads (docs/traces.md). */
export const TRACE_FORMATS = ['azure', 'burstgpt', 'mooncake', 'pdpilot'] as const;
export type TraceFormat = (typeof TRACE_FORMATS)[number];

export function isTraceFormat(name: string): name is TraceFormat {
  return (TRACE_FORMATS as readonly string[]).includes(name);
}

/** A trace as the transformations take it: a file being streamed, a generator, an array, a CompactTrace. */
export type TraceIterable = Iterable<TraceRequest> | AsyncIterable<TraceRequest>;

/**
 * A row of a format, parsed but not yet re-based. Arrivals stay in the
 * format's own unit (`unitsPerSecond`) until the reader subtracts the first
 * arrival, so that integer clocks (Azure's 100 ns ticks, Mooncake's
 * milliseconds) are differenced exactly before anything is divided.
 */
export interface ParsedRow {
  arrivalUnits: number;
  inputTokens: number;
  outputTokens: number;
  failed?: boolean;
  extra?: Record<string, unknown>;
}

/** Parses the data rows of one pass over a file. May keep state across rows (Azure keeps its epoch). */
export interface RowParser {
  readonly unitsPerSecond: number;
  /** Throws RowError with a reason when the row is bad. */
  parse(line: string): ParsedRow;
}

export interface TraceFormatSpec {
  readonly name: TraceFormat;
  /** CSV formats: the column names of the header line, which the reader skips. JSONL formats have none. */
  readonly headerColumns?: readonly string[];
  /** True when the first non-blank line of a file says it is in this format. */
  detect(firstLine: string): boolean;
  createParser(): RowParser;
}

/**
 * A bad row. Parsers throw it with just the reason; the reader, which knows
 * the file and the line, turns it into an InputError (or skips the row when
 * lenient). Kept apart from other errors so a bug in a parser is never
 * mistaken for bad input.
 */
export class RowError extends Error {
  override name = 'RowError';
}
