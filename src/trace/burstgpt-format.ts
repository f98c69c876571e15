import { csvFields, headerMatches, secondsFromText, tokenCountFromText } from './fields.js';
import type { ParsedRow, TraceFormatSpec } from './trace-format.js';

/**
 * BurstGPT (HPMLL/BurstGPT): `Timestamp,Model,Request tokens,Response
 * tokens,Total tokens,Log Type`, Timestamp in seconds from the start of the
 * collection. A row with zero response tokens is a request that failed; it
 * is kept (it did load the service) and flagged, and stats leave it out
 * unless asked.
 */
const COLUMNS = ['Timestamp', 'Model', 'Request tokens', 'Response tokens', 'Total tokens', 'Log Type'] as const;

function parseBurstGptRow(line: string): ParsedRow {
  const [timestamp, model, request, response, total, logType] = csvFields(line, COLUMNS);
  const arrivalUnits = secondsFromText(timestamp, 'Timestamp');
  const inputTokens = tokenCountFromText(request, 'Request tokens');
  const outputTokens = tokenCountFromText(response, 'Response tokens');
  // Not used, but a non-numeric total means a shifted or corrupt row.
  tokenCountFromText(total, 'Total tokens');
  // Source field names, as for every format's extra.
  const extra = { Model: model.trim(), 'Log Type': logType.trim() };
  return outputTokens === 0
    ? { arrivalUnits, inputTokens, outputTokens, failed: true, extra }
    : { arrivalUnits, inputTokens, outputTokens, extra };
}

export const burstGptFormat: TraceFormatSpec = {
  name: 'burstgpt',
  headerColumns: COLUMNS,
  detect: (firstLine) => headerMatches(firstLine, COLUMNS),
  createParser: () => ({ unitsPerSecond: 1, parse: parseBurstGptRow }),
};
