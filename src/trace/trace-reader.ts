import { createReadStream } from 'node:fs';
import { createInterface, type Interface } from 'node:readline';
import { InputError } from '../domain/errors.js';
import type { TraceRequest } from '../domain/request.js';
import { azureFormat } from './azure-format.js';
import { burstGptFormat } from './burstgpt-format.js';
import { mooncakeFormat } from './mooncake-format.js';
import { pdpilotFormat } from './pdpilot-format.js';
import { RowError, type ParsedRow, type TraceFormat, type TraceFormatSpec } from './trace-format.js';

const SPECS: Record<TraceFormat, TraceFormatSpec> = {
  azure: azureFormat,
  burstgpt: burstGptFormat,
  mooncake: mooncakeFormat,
  pdpilot: pdpilotFormat,
};

export interface OpenTraceOptions {
  /** Skip detection and read the file as this format. */
  format?: TraceFormat;
  /** Skip bad rows and count them instead of failing on the first one. */
  lenient?: boolean;
}

/**
 * Opens a trace file: detects its format from the first non-blank line
 * (unless `options.format` says it) and returns a TraceFile to stream. Only
 * the first line is read here; rows are read as they are iterated.
 */
export async function openTrace(path: string, options: OpenTraceOptions = {}): Promise<TraceFile> {
  const format = options.format ?? (await detectFormat(path));
  return new TraceFile(path, format, options.lenient ?? false);
}

/** The format of a trace file, from its first non-blank line; InputError naming the file when none matches. */
export async function detectFormat(path: string): Promise<TraceFormat> {
  const firstLine = await readFirstLine(path);
  if (firstLine === undefined) throw new InputError(path, 'empty file: no header and no rows, so no format to detect');
  const spec = Object.values(SPECS).find((candidate) => candidate.detect(firstLine));
  if (spec) return spec.name;
  const shown = firstLine.length > 80 ? `${firstLine.slice(0, 80)}…` : firstLine;
  throw new InputError(
    path,
    `unknown trace format: first line ${JSON.stringify(shown)} is neither an Azure or BurstGPT CSV header ` +
      'nor a Mooncake or pdpilot JSON object; give the format explicitly (--format)',
  );
}

/**
 * A trace file, streamed: each iteration opens the file, reads it line by
 * line and yields TraceRequests with arrivals re-based to the first good
 * row, so memory stays bounded however long the trace. Iterating again
 * reads the file again (the bench and the simulator may replay it).
 *
 * Invariant: yielded arrivals never decrease. A row that goes back in time
 * is a bad row, like one that does not parse, because the simulator and the
 * merge in superposeTraces rely on the order.
 */
export class TraceFile implements AsyncIterable<TraceRequest> {
  /** Rows skipped as bad by the latest iteration (lenient mode only; otherwise the first bad row throws). */
  skippedRows = 0;
  /** The first skipped row's error, to show the user what kind of rows were dropped. */
  firstSkipped: InputError | undefined;

  constructor(
    readonly path: string,
    readonly format: TraceFormat,
    readonly lenient: boolean,
  ) {}

  async *[Symbol.asyncIterator](): AsyncIterator<TraceRequest> {
    this.skippedRows = 0;
    this.firstSkipped = undefined;
    const spec = SPECS[this.format];
    const parser = spec.createParser();
    let expectHeader = spec.headerColumns !== undefined;
    let firstUnits: number | undefined;
    let previousUnits = -Infinity;
    let lineNumber = 0;
    const stream = openLines(this.path);
    try {
      for await (const raw of stream.lines) {
        lineNumber++;
        const line = lineNumber === 1 ? stripBom(raw) : raw;
        if (line.trim() === '') continue;
        if (expectHeader) {
          this.checkHeader(spec, line, lineNumber);
          expectHeader = false;
          continue;
        }
        let row: ParsedRow;
        try {
          row = parser.parse(line);
          if (row.arrivalUnits < previousUnits) {
            const backSeconds = (previousUnits - row.arrivalUnits) / parser.unitsPerSecond;
            throw new RowError(`arrival goes back ${backSeconds} s from the previous row; rows must be sorted by arrival time`);
          }
        } catch (error) {
          if (!(error instanceof RowError)) throw error;
          const problem = new InputError(`${this.path}:${lineNumber}`, error.message);
          if (!this.lenient) throw problem;
          this.skippedRows++;
          this.firstSkipped ??= problem;
          continue;
        }
        previousUnits = row.arrivalUnits;
        firstUnits ??= row.arrivalUnits;
        // Difference in the format's own unit first (exact for integer clocks), then scale to seconds.
        const request: TraceRequest = {
          arrivalSeconds: (row.arrivalUnits - firstUnits) / parser.unitsPerSecond,
          inputTokens: row.inputTokens,
          outputTokens: row.outputTokens,
        };
        if (row.failed) request.failed = true;
        if (row.extra) request.extra = row.extra;
        yield request;
      }
    } catch (error) {
      throw asFileError(this.path, error);
    } finally {
      stream.close();
    }
  }

  /** With --format the header is not checked by detection; it must at least have the format's columns. */
  private checkHeader(spec: TraceFormatSpec, line: string, lineNumber: number): void {
    const columns = spec.headerColumns ?? [];
    const count = line.split(',').length;
    if (count !== columns.length) {
      throw new InputError(
        `${this.path}:${lineNumber}`,
        `header has ${count} columns; the ${spec.name} format has ${columns.length} (${columns.join(',')})`,
      );
    }
  }
}

interface LineStream {
  lines: Interface;
  /** Closes the file too: readline's close() leaves its input open, which leaks a descriptor when a consumer stops early. */
  close(): void;
}

function openLines(path: string): LineStream {
  const input = createReadStream(path, { encoding: 'utf8' });
  // crlfDelay: Infinity reads \r\n as one line break (files written on Windows).
  const lines = createInterface({ input, crlfDelay: Infinity });
  return {
    lines,
    close() {
      lines.close();
      input.destroy();
    },
  };
}

async function readFirstLine(path: string): Promise<string | undefined> {
  const stream = openLines(path);
  try {
    let first = true;
    for await (const raw of stream.lines) {
      const line = first ? stripBom(raw) : raw;
      first = false;
      if (line.trim() !== '') return line;
    }
    return undefined;
  } catch (error) {
    throw asFileError(path, error);
  } finally {
    stream.close();
  }
}

function stripBom(line: string): string {
  return line.charCodeAt(0) === 0xfeff ? line.slice(1) : line;
}

const FILE_PROBLEMS: Record<string, string> = {
  ENOENT: 'no such file',
  EISDIR: 'is a directory, not a trace file',
  EACCES: 'permission denied',
};

/** A missing or unreadable file is bad input (exit 2), not a runtime failure. */
function asFileError(path: string, error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === undefined || !(code in FILE_PROBLEMS)) return error;
  return new InputError(path, `cannot read trace: ${FILE_PROBLEMS[code]}`);
}
