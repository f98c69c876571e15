// Runs the C++ KV-cache accounting test binary (native-worker/tests/kv_cache_test.cpp,
// built with the standalone Makefile) and checks every one of its TAP lines.
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './fixtures/workers.js';

t.test('C++ KV cache: every block free after done, pulled, released, cancelled and failed requests', async (t) => {
  const dir = join(ROOT, 'native-worker');
  execFileSync('make', ['-C', dir, '-j2', 'build/standalone/kv-cache-test'], { stdio: 'pipe' });
  const run = spawnSync(join(dir, 'build/standalone/kv-cache-test'), { encoding: 'utf8', timeout: 60_000 });
  const lines = run.stdout.split('\n');
  const plan = lines.find((l) => /^1\.\.\d+$/.test(l));
  t.ok(plan, 'the binary printed its plan');
  const count = Number(plan?.slice(3));
  const results = lines.filter((l) => /^(not )?ok \d+ - /.test(l));
  t.equal(results.length, count, `${count} checks reported`);
  for (const line of results) t.ok(line.startsWith('ok '), line.replace(/^(not )?ok \d+ - /, ''));
  t.equal(run.status, 0, 'exit status 0');
});
