import { RowError } from './trace-format.js';

/**
 * Token counts must be non-negative integers that fit the Int32Array of a
 * CompactTrace. Strict on purpose: "12.5", "0x10" or "" in a token column
 * mean the file is not what we think it is.
 */
const MAX_TOKENS = 2 ** 31 - 1;

export function tokenCountFromText(text: string, column: string): number {
  const trimmed = text.trim();
  if (/^-\d+$/.test(trimmed)) throw new RowError(`${column}: negative token count ${trimmed}`);
  if (!/^\d+$/.test(trimmed)) throw new RowError(`${column}: expected a non-negative integer, got ${JSON.stringify(text)}`);
  return checkedTokens(Number(trimmed), column);
}

export function tokenCountFromJson(value: unknown, key: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new RowError(`"${key}": expected a non-negative integer, got ${JSON.stringify(value) ?? 'nothing'}`);
  }
  if (value < 0) throw new RowError(`"${key}": negative token count ${value}`);
  return checkedTokens(value, `"${key}"`);
}

function checkedTokens(tokens: number, column: string): number {
  if (tokens > MAX_TOKENS) throw new RowError(`${column}: ${tokens} tokens is more than ${MAX_TOKENS}`);
  return tokens;
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A finite decimal number written as text (a CSV seconds column). */
export function secondsFromText(text: string, column: string): number {
  const trimmed = text.trim();
  if (!DECIMAL.test(trimmed)) throw new RowError(`${column}: expected a number of seconds, got ${JSON.stringify(text)}`);
  return Number(trimmed);
}

/** A finite JSON number (a JSONL time field). */
export function finiteFromJson(value: unknown, key: string, unit: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new RowError(`"${key}": expected a number of ${unit}, got ${JSON.stringify(value) ?? 'nothing'}`);
  }
  return value;
}

/**
 * Splits a CSV line on commas. The formats we read never quote fields, so a
 * quoted comma shows up as a wrong column count — an error naming the line —
 * rather than being silently misread.
 */
export function csvFields<Columns extends readonly string[]>(line: string, expected: Columns): { [K in keyof Columns]: string } {
  const fields = line.split(',');
  if (fields.length !== expected.length) {
    throw new RowError(`expected ${expected.length} columns (${expected.join(',')}), got ${fields.length}`);
  }
  // Checked just above: one field per expected column.
  return fields as { [K in keyof Columns]: string };
}

/** Parses one JSONL line into an object, or says why not. */
export function jsonObject(line: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new RowError(`invalid JSON: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RowError(`expected a JSON object, got ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}`);
  }
  return value as Record<string, unknown>;
}

/** The fields of `row` other than `known`, or undefined when there are none (keeps `extra` off plain rows). */
export function extraFields(row: Record<string, unknown>, known: readonly string[]): Record<string, unknown> | undefined {
  let extra: Record<string, unknown> | undefined;
  for (const key of Object.keys(row)) {
    if (known.includes(key)) continue;
    extra ??= {};
    extra[key] = row[key];
  }
  return extra;
}

/** Header names compare case- and space-insensitively: "Log Type" and "log type " are the same column. */
export function headerMatches(line: string, columns: readonly string[]): boolean {
  const names = line.split(',').map((name) => name.trim().toLowerCase());
  return names.length === columns.length && names.every((name, i) => name === columns[i]?.toLowerCase());
}

/** True when the line is a JSON object carrying every one of `keys`. */
export function firstObjectHas(line: string, keys: readonly string[]): boolean {
  if (!line.trimStart().startsWith('{')) return false;
  try {
    const row = jsonObject(line);
    return keys.every((key) => key in row);
  } catch {
    return false;
  }
}
