// The dependency direction of DESIGN.md is enforced by lint; these tests
// prove the rules bite (planted fixtures must fail) and that src/ is clean.
import t from 'tap';
import { ESLint } from 'eslint';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const eslint = new ESLint({ cwd: root });

async function lintAs(fixture: string, filePath: string) {
  const code = await readFile(new URL(`fixtures/lint/${fixture}`, import.meta.url), 'utf8');
  const [result] = await eslint.lintText(code, { filePath });
  return result!.messages;
}

t.test('a policy importing the admin API fails lint', async (t) => {
  const messages = await lintAs('policy-imports-api.ts', 'src/policy/planted.ts');
  const hit = messages.find((m) => m.ruleId === 'no-restricted-imports');
  t.ok(hit, 'no-restricted-imports fires');
  t.match(hit?.message, /src\/policy\/ may not import from src\/api\//);
});

t.test('the same import from cli/ (the composition root) is allowed', async (t) => {
  const messages = await lintAs('policy-imports-api.ts', 'src/cli/planted.ts');
  t.notOk(messages.some((m) => m.ruleId === 'no-restricted-imports'));
});

t.test('controller code reading the wall clock fails lint', async (t) => {
  const messages = await lintAs('control-reads-clock.ts', 'src/control/planted.ts');
  t.ok(messages.some((m) => m.ruleId === 'no-restricted-syntax' && /Clock/.test(m.message)));
  const elsewhere = await lintAs('control-reads-clock.ts', 'src/fleet/planted.ts');
  t.notOk(elsewhere.some((m) => m.ruleId === 'no-restricted-syntax'), 'fleet/ may read the clock');
});

t.test('the source tree lints clean', async (t) => {
  const results = await eslint.lintFiles(['src', 'test', 'bin']);
  const errors = results.flatMap((r) => r.messages.filter((m) => m.severity === 2).map((m) => `${r.filePath}:${m.line} ${m.ruleId}: ${m.message}`));
  t.same(errors, [], 'no lint errors');
});
