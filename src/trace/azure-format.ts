import { csvFields, headerMatches, tokenCountFromText } from './fields.js';
import { RowError, type ParsedRow, type RowParser, type TraceFormatSpec } from './trace-format.js';

/**
 * Azure LLM inference trace (Azure/AzurePublicDataset, 2023):
 * `TIMESTAMP,ContextTokens,GeneratedTokens`, timestamps such as
 * `2023-11-16 18:15:46.6805900` with 7 fractional digits and no timezone.
 */
const COLUMNS = ['TIMESTAMP', 'ContextTokens', 'GeneratedTokens'] as const;

const NANOS_PER_SECOND = 1e9;

// Date and time, 0-9 fractional digits, and an optional UTC offset (the
// 2023 files have none; we read that as UTC, the only reading that keeps
// arrivals monotonic across a daylight-saving change).
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})?$/;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export interface AzureTimestamp {
  /** Whole seconds since the Unix epoch (UTC): an integer, exact in a double. */
  epochSeconds: number;
  /** Nanoseconds within that second, 0 … 999 999 999. */
  nanos: number;
}

/**
 * Parses the timestamp by hand rather than with Date: Date keeps
 * milliseconds only, and a double of epoch seconds cannot hold 100 ns
 * (its step near 1.7e9 s is about 240 ns). Whole seconds and the fraction
 * are kept apart; the parser differences them exactly.
 */
export function parseAzureTimestamp(text: string): AzureTimestamp {
  const m = TIMESTAMP.exec(text.trim());
  if (!m) throw new RowError(`TIMESTAMP: expected YYYY-MM-DD HH:MM:SS.fffffff, got ${JSON.stringify(text)}`);
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const monthDays = month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1];
  if (monthDays === undefined || day < 1 || day > monthDays || hour > 23 || minute > 59 || second > 59) {
    throw new RowError(`TIMESTAMP: no such date or time ${JSON.stringify(text)}`);
  }
  let offsetSeconds = 0;
  const zone = m[8];
  if (zone !== undefined && zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    offsetSeconds = sign * (Number(zone.slice(1, 3)) * 3600 + Number(zone.slice(4, 6)) * 60);
  }
  const epochSeconds = Date.UTC(year, month - 1, day, hour, minute, second) / 1000 - offsetSeconds;
  const nanos = Number((m[7] ?? '').padEnd(9, '0'));
  return { epochSeconds, nanos };
}

function createAzureParser(): RowParser {
  // Arrivals are nanoseconds since the whole second of the first row: exact
  // integers for traces up to ~104 days (2^53 ns), which covers the
  // published traces (1 hour in 2023, 1 week in 2024).
  let epochSeconds: number | undefined;
  return {
    unitsPerSecond: NANOS_PER_SECOND,
    parse(line: string): ParsedRow {
      const [timestamp, context, generated] = csvFields(line, COLUMNS);
      const time = parseAzureTimestamp(timestamp);
      const inputTokens = tokenCountFromText(context, 'ContextTokens');
      const outputTokens = tokenCountFromText(generated, 'GeneratedTokens');
      epochSeconds ??= time.epochSeconds;
      return { arrivalUnits: (time.epochSeconds - epochSeconds) * NANOS_PER_SECOND + time.nanos, inputTokens, outputTokens };
    },
  };
}

export const azureFormat: TraceFormatSpec = {
  name: 'azure',
  headerColumns: COLUMNS,
  detect: (firstLine) => headerMatches(firstLine, COLUMNS),
  createParser: createAzureParser,
};
