import { extraFields, finiteFromJson, firstObjectHas, jsonObject, tokenCountFromJson } from './fields.js';
import type { ParsedRow, TraceFormatSpec } from './trace-format.js';

/**
 * Mooncake (kvcache-ai/Mooncake) JSON Lines:
 * `{"timestamp": ms, "input_length": n, "output_length": n, "hash_ids": [...]}`.
 * hash_ids (prefix-cache block ids) and any other field go to extra.
 */
const KNOWN = ['timestamp', 'input_length', 'output_length'] as const;

function parseMooncakeRow(line: string): ParsedRow {
  const row = jsonObject(line);
  const arrivalUnits = finiteFromJson(row.timestamp, 'timestamp', 'milliseconds');
  const inputTokens = tokenCountFromJson(row.input_length, 'input_length');
  const outputTokens = tokenCountFromJson(row.output_length, 'output_length');
  const extra = extraFields(row, KNOWN);
  return extra ? { arrivalUnits, inputTokens, outputTokens, extra } : { arrivalUnits, inputTokens, outputTokens };
}

export const mooncakeFormat: TraceFormatSpec = {
  name: 'mooncake',
  detect: (firstLine) => firstObjectHas(firstLine, KNOWN),
  createParser: () => ({ unitsPerSecond: 1000, parse: parseMooncakeRow }),
};
