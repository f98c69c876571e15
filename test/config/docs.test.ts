// docs/config.md must not drift from the schema, and the shipped example must
// stay valid and on the default ports of DESIGN.md.
import t from 'tap';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { configKeys, renderReference } from '../../src/config/reference.js';
import { loadConfig } from '../../src/config/load.js';
import { InputError, InputErrors } from '../../src/domain/errors.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const docsPath = `${root}docs/config.md`;
const examplePath = `${root}config.example.json`;
const PROFILE = 'profiles/opt-13b-tp1-a100.json';

t.test('docs/config.md documents every key of the schema', async (t) => {
  const docs = await readFile(docsPath, 'utf8');
  const missing = configKeys()
    .map((k) => k.path)
    .filter((path) => !docs.includes(`\`${path}\``));
  t.same(missing, [], 'keys missing from docs/config.md');
});

t.test("docs/config.md's reference section is the current rendering of the schema", async (t) => {
  const docs = await readFile(docsPath, 'utf8');
  const match = /<!-- reference:start -->\n([\s\S]*)<!-- reference:end -->/.exec(docs);
  t.ok(match, 'the reference markers are present');
  t.equal(match?.[1], renderReference(), 'regenerate with: npm run build && node bin/pdpilot.js config reference');
});

t.test('config.example.json is valid and uses the default ports of DESIGN.md', async (t) => {
  const { config } = await loadConfig(examplePath, { checkFiles: false, env: { PDPILOT_ADMIN_TOKEN: 'an-operator-token-for-tests' } });
  t.same([config.router.host, config.router.port], ['127.0.0.1', 8000], 'router');
  t.same([config.admin.host, config.admin.port], ['127.0.0.1', 9400], 'admin API and /metrics');
  t.same([config.fleet.host, config.fleet.basePort], ['127.0.0.1', 8100], 'local workers');
  t.same([config.fleet.mode, config.fleet.backend, config.fleet.workers, config.fleet.initialPrefill], ['local', 'sim', 4, 2]);
  t.equal(config.fleet.profile, `${root}${PROFILE}`);
  t.equal(config.policy.name, 'pdpilot');
  t.same(config.admin.tokens.map((e) => [e.name, e.scope, e.token]), [['operator', 'admin', 'an-operator-token-for-tests']], 'token read from the environment');
});

const profilePresent = existsSync(`${root}${PROFILE}`);

// The profiles are shipped by another part of issue 2. Until the file lands in
// this checkout the full check is skipped, visibly, and the missing profile
// must be the example's only fault.
t.test('config.example.json: the shipped profile is its only missing file', { skip: profilePresent && `${PROFILE} is present` }, async (t) => {
  await t.rejects(loadConfig(examplePath, { env: {} }), new InputErrors([new InputError(`${examplePath}: fleet.profile`, `file not found: ${PROFILE}`)]));
});

t.test('config.example.json loads with its referenced files', { skip: !profilePresent && `${PROFILE} is not in this checkout yet` }, async (t) => {
  const { warnings } = await loadConfig(examplePath, { env: {} });
  t.same(warnings.map((w) => w.message), ['PDPILOT_ADMIN_TOKEN is not set: token "operator" is disabled']);
});
