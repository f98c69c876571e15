/**
 * Finds where JSON text stops being JSON. JSON.parse says only that it
 * failed (V8's messages carry a position for some faults, not for others,
 * and quote the text with its newlines), and a refused store file must name
 * the line at fault; this scanner follows RFC 8259's grammar to the first
 * offending character. Run only on text JSON.parse has already rejected.
 */
export interface JsonSyntaxFault {
  /** 1-based line and column of the offending character (or of the end of the text). */
  line: number;
  column: number;
  message: string;
}

class Fault {
  constructor(
    readonly offset: number,
    readonly message: string,
  ) {}
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

export function findJsonSyntaxFault(text: string): JsonSyntaxFault | undefined {
  let i = 0;
  const unexpected = (): Fault => new Fault(i, i >= text.length ? 'unexpected end of the text' : `unexpected ${JSON.stringify(text[i])}`);
  const space = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i++;
  };
  const expect = (char: string) => {
    if (text[i] !== char) throw new Fault(i, i >= text.length ? `expected ${JSON.stringify(char)} before the end of the text` : `expected ${JSON.stringify(char)}, found ${JSON.stringify(text[i])}`);
    i++;
  };
  const string = () => {
    expect('"');
    while (true) {
      const c = text[i];
      if (c === undefined) throw unexpected();
      if (c === '"') {
        i++;
        return;
      }
      if (c < ' ') throw new Fault(i, 'control character inside a string');
      if (c === '\\') {
        const e = text[i + 1];
        if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) i += 6;
        else throw new Fault(i, 'invalid escape');
      } else {
        i++;
      }
    }
  };
  const value = (): void => {
    space();
    const c = text[i];
    if (c === '{') {
      i++;
      space();
      if (text[i] === '}') {
        i++;
        return;
      }
      while (true) {
        space();
        string();
        space();
        expect(':');
        value();
        space();
        if (text[i] === ',') i++;
        else return expect('}');
      }
    } else if (c === '[') {
      i++;
      space();
      if (text[i] === ']') {
        i++;
        return;
      }
      while (true) {
        value();
        space();
        if (text[i] === ',') i++;
        else return expect(']');
      }
    } else if (c === '"') {
      string();
    } else {
      for (const literal of ['true', 'false', 'null']) {
        if (text.startsWith(literal, i)) {
          i += literal.length;
          return;
        }
      }
      NUMBER.lastIndex = i;
      if (!NUMBER.test(text)) throw unexpected();
      i = NUMBER.lastIndex;
    }
  };
  try {
    value();
    space();
    if (i < text.length) throw new Fault(i, `unexpected ${JSON.stringify(text[i])} after the end of the document`);
    return undefined;
  } catch (error) {
    if (!(error instanceof Fault)) throw error;
    const before = text.slice(0, error.offset);
    const lastNewline = before.lastIndexOf('\n');
    return { line: before.split('\n').length, column: error.offset - lastNewline, message: error.message };
  }
}
