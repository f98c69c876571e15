import { extraFields, finiteFromJson, firstObjectHas, jsonObject, tokenCountFromJson } from './fields.js';
import { RowError, type ParsedRow, type TraceFormatSpec } from './trace-format.js';

/**
 * pdpilot's own JSON Lines (DESIGN.md): `{"t": arrival_seconds, "input":
 * tokens, "output": tokens}`. An optional boolean `failed` maps to
 * TraceRequest.failed, so a BurstGPT trace keeps its failures when
 * rewritten in this format; every other field goes to extra.
 */
const KNOWN = ['t', 'input', 'output'] as const;

function parsePdpilotRow(line: string): ParsedRow {
  const row = jsonObject(line);
  const arrivalUnits = finiteFromJson(row.t, 't', 'seconds');
  const inputTokens = tokenCountFromJson(row.input, 'input');
  const outputTokens = tokenCountFromJson(row.output, 'output');
  if (row.failed !== undefined && typeof row.failed !== 'boolean') {
    throw new RowError(`"failed": expected true or false, got ${JSON.stringify(row.failed)}`);
  }
  const parsed: ParsedRow = { arrivalUnits, inputTokens, outputTokens };
  if (row.failed === true) parsed.failed = true;
  const extra = extraFields(row, [...KNOWN, 'failed']);
  if (extra) parsed.extra = extra;
  return parsed;
}

export const pdpilotFormat: TraceFormatSpec = {
  name: 'pdpilot',
  detect: (firstLine) => firstObjectHas(firstLine, KNOWN),
  createParser: () => ({ unitsPerSecond: 1, parse: parsePdpilotRow }),
};
