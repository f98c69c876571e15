import t from 'tap';
import { findJsonSyntaxFault } from '../../src/store/json-syntax.js';

t.test('valid JSON has no fault; the scanner agrees with JSON.parse on every case', async (t) => {
  const cases: [string, { line: number; column: number; message: RegExp } | undefined][] = [
    ['{"a": [1, -2.5e3, true, false, null, "x\\u00e9\\n"], "b": {}}', undefined],
    ['  []  \n', undefined],
    ['{\n  "a": 1,\n  "b" 2\n}', { line: 3, column: 7, message: /expected ":", found "2"/ }],
    ['{"a": [1, 2,]}', { line: 1, column: 13, message: /unexpected "]"/ }],
    ['{"a": 01}', { line: 1, column: 8, message: /expected "}", found "1"/ }],
    ['{"a": "tab\there"}', { line: 1, column: 11, message: /control character/ }],
    ['{"a": "\\x"}', { line: 1, column: 8, message: /invalid escape/ }],
    ['{"a": 1}\n{"b": 2}', { line: 2, column: 1, message: /after the end of the document/ }],
    ['{"a": [1,\n', { line: 2, column: 1, message: /end of the text/ }],
    ['', { line: 1, column: 1, message: /end of the text/ }],
    ["{'a': 1}", { line: 1, column: 2, message: /expected "\\""/ }],
  ];
  for (const [text, expected] of cases) {
    const fault = findJsonSyntaxFault(text);
    let parses = true;
    try {
      JSON.parse(text);
    } catch {
      parses = false;
    }
    t.equal(fault === undefined, parses, `agrees with JSON.parse on ${JSON.stringify(text)}`);
    if (expected) {
      t.match(fault, { line: expected.line, column: expected.column }, JSON.stringify(text));
      t.match(fault?.message, expected.message);
    }
  }
});
