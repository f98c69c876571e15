// Parsing a JSON file so that a syntax error names its line. V8's JSON.parse
// gives a position for some errors and none for others ("Unexpected token
// '}', "..." is not valid JSON"), so when it fails a small scanner walks the
// text to find where the document stops being JSON and why. The scanner only
// runs on failure; JSON.parse stays the parser of record.
import { InputError } from '../domain/errors.js';

/** Parses `text` (the contents of `file`); throws InputError(`FILE:LINE`, `invalid JSON: …`) on a syntax error. */
export function parseJsonText(text: string, file: string): unknown {
  // A UTF-8 byte-order mark is not JSON, but editors write it; accept it silently.
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return JSON.parse(body);
  } catch (error) {
    const fault = locateJsonError(body) ?? { offset: 0, reason: (error as Error).message };
    const { line, column } = lineAndColumn(body, fault.offset);
    throw new InputError(`${file}:${line}`, `invalid JSON: ${fault.reason} (column ${column})`);
  }
}

export interface JsonFault {
  /** UTF-16 offset into the text where parsing fails. */
  offset: number;
  reason: string;
}

/** Finds the first syntax error of `text`, or undefined if it is valid JSON. */
export function locateJsonError(text: string): JsonFault | undefined {
  try {
    new JsonScanner(text).document();
    return undefined;
  } catch (error) {
    if (error instanceof JsonFaultError) return error.fault;
    // Only a nesting deep enough to overflow the stack lands here.
    return undefined;
  }
}

/** 1-based line and column of `offset`; a line ends at \n (a \r before it is part of the line ending). */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

class JsonFaultError extends Error {
  constructor(readonly fault: JsonFault) {
    super(fault.reason);
  }
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);

/** Recursive-descent recogniser for RFC 8259 JSON; it builds nothing, it only finds the first fault. */
class JsonScanner {
  private pos = 0;

  constructor(private readonly text: string) {}

  document(): void {
    this.skipWhitespace();
    if (this.pos >= this.text.length) this.fail('the file is empty');
    this.value();
    this.skipWhitespace();
    if (this.pos < this.text.length) this.fail(`unexpected ${this.describe()} after the end of the document`);
  }

  private value(): void {
    const c = this.text[this.pos];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return this.string();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
    for (const word of ['true', 'false', 'null']) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return;
      }
    }
    if (c === "'") this.fail("strings must use double quotes, not '");
    this.fail(`expected a value, found ${this.describe()}`);
  }

  private object(): void {
    this.pos++; // {
    this.skipWhitespace();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return;
    }
    for (;;) {
      this.skipWhitespace();
      if (this.text[this.pos] === '}') this.fail('trailing comma before }');
      if (this.text[this.pos] !== '"') this.fail(`expected a double-quoted key, found ${this.describe()}`);
      this.string();
      this.skipWhitespace();
      if (this.text[this.pos] !== ':') this.fail(`expected ':' after the key, found ${this.describe()}`);
      this.pos++;
      this.skipWhitespace();
      this.value();
      this.skipWhitespace();
      const c = this.text[this.pos];
      if (c === '}') {
        this.pos++;
        return;
      }
      if (c !== ',') this.fail(`expected ',' or '}', found ${this.describe()}`);
      this.pos++;
    }
  }

  private array(): void {
    this.pos++; // [
    this.skipWhitespace();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return;
    }
    for (;;) {
      this.skipWhitespace();
      if (this.text[this.pos] === ']') this.fail('trailing comma before ]');
      this.value();
      this.skipWhitespace();
      const c = this.text[this.pos];
      if (c === ']') {
        this.pos++;
        return;
      }
      if (c !== ',') this.fail(`expected ',' or ']', found ${this.describe()}`);
      this.pos++;
    }
  }

  private string(): void {
    const start = this.pos;
    this.pos++; // opening quote
    while (this.pos < this.text.length) {
      const c = this.text[this.pos]!;
      if (c === '"') {
        this.pos++;
        return;
      }
      if (c === '\\') {
        const next = this.text[this.pos + 1];
        if (next === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(this.text.slice(this.pos + 2, this.pos + 6))) this.fail('\\u must be followed by four hex digits');
          this.pos += 6;
          continue;
        }
        if (next === undefined || !ESCAPES.has(next)) this.fail(`invalid escape \\${next ?? ''}`);
        this.pos += 2;
        continue;
      }
      if (c.charCodeAt(0) < 0x20) this.fail(c === '\n' ? 'unterminated string (a line break inside a string must be written \\n)' : 'control character inside a string');
      this.pos++;
    }
    this.pos = start;
    this.fail('unterminated string');
  }

  private number(): void {
    const match = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(this.text.slice(this.pos, this.pos + 400));
    if (!match) this.fail(`invalid number starting ${this.describe()}`);
    this.pos += match[0].length;
  }

  private skipWhitespace(): void {
    while (this.pos < this.text.length && WHITESPACE.has(this.text[this.pos]!)) this.pos++;
    // Comments are, after trailing commas, the commonest mistake in hand-written JSON config.
    if (this.text.startsWith('//', this.pos) || this.text.startsWith('/*', this.pos)) this.fail('comments are not allowed in JSON');
  }

  private describe(): string {
    if (this.pos >= this.text.length) return 'the end of the file';
    const c = this.text[this.pos]!;
    return c === '\n' || c === '\r' ? 'a line break' : `'${c}'`;
  }

  private fail(reason: string): never {
    throw new JsonFaultError({ offset: this.pos, reason });
  }
}
