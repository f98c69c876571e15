// Turns TypeBox's validation errors into what a person editing the file needs:
// the dotted key path (array indices included, `admin.tokens.0.scope`) and a
// short reason in plain words. TypeBox's own messages ("Expected union value")
// name neither the allowed values nor what was found.
import { Value } from '@sinclair/typebox/value';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import type { SchemaNode } from './schema.js';
import type { TSchema } from '@sinclair/typebox';

/** One fault at a key: `path` is dotted ('' for the document itself). */
export interface KeyProblem {
  path: string;
  reason: string;
}

/** Every schema violation of `value`, at most one per key path (the first TypeBox reports). */
export function schemaProblems(schema: TSchema, value: unknown): KeyProblem[] {
  const seen = new Set<string>();
  const problems: KeyProblem[] = [];
  for (const error of Value.Errors(schema, value)) {
    const path = dottedPath(error.path);
    // A missing required key is reported twice by TypeBox (required, then the type of `undefined`); keep the first.
    if (seen.has(path)) continue;
    seen.add(path);
    problems.push({ path, reason: reasonFor(error) });
  }
  return problems;
}

/** JSON pointer (`/admin/tokens/0/scope`) to dotted key path (`admin.tokens.0.scope`). */
export function dottedPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map(unescapeSegment)
    .join('.');
}

function unescapeSegment(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function shown(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : typeof value === 'number' || typeof value === 'boolean' ? String(value) : describeValue(value);
}

function reasonFor(error: ValueError): string {
  const schema = error.schema as SchemaNode;
  const got = error.value;
  switch (error.type) {
    case ValueErrorType.ObjectAdditionalProperties: {
      const key = unescapeSegment(error.path.split('/').pop() ?? '');
      const suggestion = closestKey(key, Object.keys(schema.properties ?? {}));
      return suggestion ? `unknown key (did you mean "${suggestion}"?)` : 'unknown key';
    }
    case ValueErrorType.ObjectRequiredProperty:
      return 'missing required key';
    case ValueErrorType.Integer:
      return typeof got === 'number' ? `expected integer, got ${got}` : `expected integer, got ${describeValue(got)}`;
    case ValueErrorType.Number:
    case ValueErrorType.String:
    case ValueErrorType.Boolean:
    case ValueErrorType.Array:
      return `expected ${ValueErrorType[error.type].toLowerCase()}, got ${describeValue(got)}`;
    case ValueErrorType.Object:
      return `expected object, got ${describeValue(got)}`;
    case ValueErrorType.NumberMinimum:
    case ValueErrorType.IntegerMinimum:
      return `must be ≥ ${schema.minimum} (got ${shown(got)})`;
    case ValueErrorType.NumberMaximum:
    case ValueErrorType.IntegerMaximum:
      return `must be ≤ ${schema.maximum} (got ${shown(got)})`;
    case ValueErrorType.NumberExclusiveMinimum:
    case ValueErrorType.IntegerExclusiveMinimum:
      return `must be > ${schema.exclusiveMinimum} (got ${shown(got)})`;
    case ValueErrorType.NumberExclusiveMaximum:
    case ValueErrorType.IntegerExclusiveMaximum:
      return `must be < ${schema.exclusiveMaximum} (got ${shown(got)})`;
    case ValueErrorType.StringMinLength:
      return schema.minLength === 1 ? 'must not be empty' : `must be at least ${schema.minLength} characters`;
    case ValueErrorType.Union: {
      const allowed = (schema.anyOf ?? []).map((variant) => variant.const);
      if (allowed.length > 0 && allowed.every((v) => typeof v === 'string')) {
        return `expected one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}; got ${shown(got)}`;
      }
      return `does not match any allowed form (got ${shown(got)})`;
    }
    default:
      // The schema uses no other constraint; keep TypeBox's wording should one be added.
      return error.message.charAt(0).toLowerCase() + error.message.slice(1);
  }
}

/**
 * The known key a misspelt one most likely meant: the same letters ignoring
 * case, a known key it begins (`tpot` for `tpotSeconds`: the unit suffix is
 * the usual omission), or one within a small edit distance.
 */
export function closestKey(unknown: string, known: readonly string[]): string | undefined {
  const lower = unknown.toLowerCase();
  const exact = known.find((candidate) => candidate.toLowerCase() === lower);
  if (exact !== undefined) return exact;
  const extended = known.filter((candidate) => candidate.toLowerCase().startsWith(lower));
  if (lower.length >= 3 && extended.length === 1) return extended[0];
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      bestDistance = distance;
      best = candidate;
    }
  }
  // Allow about one typo per four letters, so short keys ("url" vs "uri") still match but "foo" does not match "port".
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(unknown.length / 4)) ? best : undefined;
}

/** Edit distance counting a swap of two neighbouring letters as one edit (optimal string alignment): "prot" is one from "port". */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [Array.from({ length: b.length + 1 }, (_, j) => j)];
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, row[j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      row.push(best);
    }
    rows.push(row);
  }
  return rows[a.length]![b.length]!;
}
