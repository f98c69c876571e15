// A small, strict reader of the Prometheus text exposition format 0.0.4
// (what vLLM and SGLang serve through prometheus_client). Written here
// rather than taken from npm: `parse-prometheus-text-format` (last release
// 2024, no types) skips lines it cannot read, and a control loop must not
// act on a half-read page. A malformed line is an error naming the line.

/** One sample: metric name (with its _bucket/_sum/_count suffix), labels, value. */
export interface PromSample {
  name: string;
  labels: Readonly<Record<string, string>>;
  value: number;
}

export interface PromFamily {
  name: string;
  type?: string;
  help?: string;
}

export interface PromPage {
  samples: PromSample[];
  /** # TYPE / # HELP by family name. */
  families: Map<string, PromFamily>;
}

export class PromParseError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`metrics line ${line}: ${message}`);
    this.name = 'PromParseError';
  }
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

export function parsePrometheusText(text: string): PromPage {
  const samples: PromSample[] = [];
  const families = new Map<string, PromFamily>();
  const lines = text.split('\n');
  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const meta = /^#\s+(HELP|TYPE)\s+([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\s+(.*))?$/.exec(line);
      // Other comments are allowed by the format and carry nothing.
      if (!meta) return;
      const [, kind, name, rest = ''] = meta as unknown as [string, string, string, string | undefined];
      const family = families.get(name) ?? { name };
      if (kind === 'TYPE') {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest.trim())) throw new PromParseError(lineNo, `unknown metric type ${JSON.stringify(rest.trim())}`);
        family.type = rest.trim();
      } else {
        family.help = rest;
      }
      families.set(name, family);
      return;
    }
    samples.push(parseSample(line, lineNo));
  });
  return { samples, families };
}

function parseSample(line: string, lineNo: number): PromSample {
  const nameMatch = NAME.exec(line);
  if (!nameMatch) throw new PromParseError(lineNo, `expected a metric name at ${JSON.stringify(line.slice(0, 40))}`);
  const name = nameMatch[0];
  let pos = name.length;
  const labels: Record<string, string> = {};
  if (line[pos] === '{') {
    pos++;
    for (;;) {
      pos = skipSpaces(line, pos);
      if (line[pos] === '}') {
        pos++;
        break;
      }
      const labelMatch = LABEL_NAME.exec(line.slice(pos));
      if (!labelMatch) throw new PromParseError(lineNo, `expected a label name in ${name} at column ${pos + 1}`);
      const label = labelMatch[0];
      pos += label.length;
      if (line[pos] !== '=' || line[pos + 1] !== '"') throw new PromParseError(lineNo, `expected ="…" after label ${label} of ${name}`);
      pos += 2;
      let value = '';
      for (;;) {
        const c = line[pos];
        if (c === undefined) throw new PromParseError(lineNo, `unterminated value of label ${label} of ${name}`);
        pos++;
        if (c === '"') break;
        if (c === '\\') {
          const e = line[pos++];
          if (e === 'n') value += '\n';
          else if (e === '\\' || e === '"') value += e;
          else throw new PromParseError(lineNo, `bad escape \\${e ?? ''} in label ${label} of ${name}`);
        } else {
          value += c;
        }
      }
      if (Object.hasOwn(labels, label)) throw new PromParseError(lineNo, `label ${label} repeated in ${name}`);
      labels[label] = value;
      pos = skipSpaces(line, pos);
      if (line[pos] === ',') pos++;
      else if (line[pos] !== '}') throw new PromParseError(lineNo, `expected , or } after label ${label} of ${name}`);
    }
  }
  const rest = line.slice(pos).trim().split(/\s+/);
  if (rest.length < 1 || rest.length > 2 || rest[0] === '') throw new PromParseError(lineNo, `expected a value (and optional timestamp) after ${name}`);
  const value = parseValue(rest[0] as string);
  if (value === undefined) throw new PromParseError(lineNo, `value ${JSON.stringify(rest[0])} of ${name} is not a number`);
  if (rest[1] !== undefined && !/^-?\d+$/.test(rest[1])) throw new PromParseError(lineNo, `timestamp ${JSON.stringify(rest[1])} of ${name} is not an integer`);
  return { name, labels, value };
}

function skipSpaces(line: string, pos: number): number {
  while (line[pos] === ' ' || line[pos] === '\t') pos++;
  return pos;
}

function parseValue(text: string): number | undefined {
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  // Number('') and Number('0x10') would accept what the format does not.
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return undefined;
  return Number(text);
}

/** Samples of one name, optionally restricted to those whose labels include `where`. */
export function samplesOf(page: PromPage, name: string, where: Readonly<Record<string, string>> = {}): PromSample[] {
  return page.samples.filter((s) => s.name === name && Object.entries(where).every(([k, v]) => s.labels[k] === v));
}

/**
 * The sum of a gauge or counter over its series (a data-parallel engine
 * reports one series per `engine`/`dp` rank); undefined when absent. NaN
 * series (an engine's "no value yet") are left out of the sum.
 */
export function sumOf(page: PromPage, name: string): number | undefined {
  const values = samplesOf(page, name).map((s) => s.value).filter((v) => !Number.isNaN(v));
  if (values.length === 0) return undefined;
  return values.reduce((a, b) => a + b, 0);
}

/** The mean of a gauge over its series (fractions such as KV usage average, they do not add); undefined when absent. */
export function meanOf(page: PromPage, name: string): number | undefined {
  const values = samplesOf(page, name).map((s) => s.value).filter((v) => !Number.isNaN(v));
  if (values.length === 0) return undefined;
  return values.reduce((a, b) => a + b, 0) / values.length;
}
