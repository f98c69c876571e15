import t from 'tap';
import { InputError } from '../../src/domain/errors.js';
import { lineAndColumn, locateJsonError, parseJsonText } from '../../src/config/json-text.js';

function faultOf(text: string): string {
  try {
    parseJsonText(text, 'c.json');
  } catch (error) {
    if (error instanceof InputError) return error.message;
    throw error;
  }
  return 'no error';
}

t.test('valid JSON parses, with or without a byte-order mark', async (t) => {
  t.same(parseJsonText('{"a": [1, 2.5e3, -0, "x\\u00e9\\n", true, null]}', 'c.json'), { a: [1, 2500, -0, 'x\u00e9\n', true, null] });
  t.same(parseJsonText('\ufeff{"a": 1}', 'c.json'), { a: 1 });
});

t.test('a syntax error names the file, the line and the reason', async (t) => {
  const cases: [string, string, string][] = [
    ['trailing comma in an object', '{\n  "fleet": {\n    "workers": 4,\n  }\n}\n', 'c.json:4: invalid JSON: trailing comma before } (column 3)'],
    ['trailing comma in an array', '{\n  "a": [1,\n  ]\n}', 'c.json:3: invalid JSON: trailing comma before ] (column 3)'],
    ['missing comma between keys', '{\n  "a": 1\n  "b": 2\n}', 'c.json:3: invalid JSON: expected \',\' or \'}\', found \'"\' (column 3)'],
    ['a comment', '{\n  // workers\n  "a": 1\n}', 'c.json:2: invalid JSON: comments are not allowed in JSON (column 3)'],
    ['single quotes', "{\n  'a': 1\n}", 'c.json:2: invalid JSON: expected a double-quoted key, found \'\'\' (column 3)'],
    ['a bare word', '{\n  "a": tru\n}', 'c.json:2: invalid JSON: expected a value, found \'t\' (column 8)'],
    ['unterminated string', '{\n  "a": "abc\n}', 'c.json:2: invalid JSON: unterminated string (a line break inside a string must be written \\n) (column 12)'],
    ['truncated file', '{\n  "a": {\n    "b": 1\n', 'c.json:4: invalid JSON: expected \',\' or \'}\', found the end of the file (column 1)'],
    ['empty file', '', 'c.json:1: invalid JSON: the file is empty (column 1)'],
    ['two documents', '{}\n{}', 'c.json:2: invalid JSON: unexpected \'{\' after the end of the document (column 1)'],
    ['bad escape', '{"a": "\\x"}', 'c.json:1: invalid JSON: invalid escape \\x (column 8)'],
    ['leading plus', '{"a": +1}', 'c.json:1: invalid JSON: expected a value, found \'+\' (column 7)'],
    ['CRLF line endings', '{\r\n  "a": 1,\r\n}', 'c.json:3: invalid JSON: trailing comma before } (column 1)'],
  ];
  for (const [name, text, expected] of cases) t.equal(faultOf(text), expected, name);
});

t.test('the scanner agrees with JSON.parse on what is valid', async (t) => {
  const samples = [
    '0', '-1.5e-3', '1.', '.5', '01', '"\\u12"', '"\\u1234"', '[]', '[,]', '{"a":1}', '{"a" 1}', '{1: 2}', 'nul', 'null',
    '[1, [2, [3, {"x": []}]]]', '"tab\there"', '{"a": "b",}', ' \n\t {} \r\n', '[1 2]', '"\\/"', '-', '-0.0E+1',
  ];
  for (const text of samples) {
    let parses = true;
    try {
      JSON.parse(text);
    } catch {
      parses = false;
    }
    t.equal(locateJsonError(text) === undefined, parses, JSON.stringify(text));
  }
});

t.test('lineAndColumn counts from 1', async (t) => {
  t.same(lineAndColumn('ab\ncd', 0), { line: 1, column: 1 });
  t.same(lineAndColumn('ab\ncd', 4), { line: 2, column: 2 });
  t.same(lineAndColumn('ab\n', 3), { line: 2, column: 1 });
});
