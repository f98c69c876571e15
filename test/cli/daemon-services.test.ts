import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startDaemonServices } from '../../src/cli/daemon-services.js';
import { loadConfig } from '../../src/config/index.js';
import { loadProfile } from '../../src/perf/profile.js';
import { LowdbStore } from '../../src/store/lowdb-store.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { FakeWorker } from '../control/fixtures/live-fleet.js';

const profilePath = new URL('../../profiles/opt-13b-tp1-a100.json', import.meta.url).pathname;
const TOKEN = 'composition-token-0123';

t.test('startDaemonServices: config → store, controller loop, jobs, API; stop persists and closes', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pdpilot-daemon-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const configPath = join(dir, 'config.json');
  await writeFile(
    configPath,
    JSON.stringify({
      fleet: { mode: 'local', workers: 3, profile: profilePath },
      policy: { name: 'static', params: { prefill: 2, decode: 1 } },
      controller: { intervalSeconds: 0.1, cooldownSeconds: 0, stabilizationWindowSeconds: 0, toleranceBand: 0 },
      admin: { tokens: [{ name: 'ops', token: TOKEN, scope: 'admin' }] },
      store: { path: join(dir, 'state.json') },
      jobs: { refit: 'off', dailySummary: 'off' },
    }),
  );
  const { config } = await loadConfig(configPath);
  // Port 0: an ephemeral port for the test (the schema's 1–65535 is for operators).
  config.admin.port = 0;
  const workers = [new FakeWorker('w0', 'prefill'), new FakeWorker('w1', 'decode'), new FakeWorker('w2', 'decode')];
  const daemon = await startDaemonServices({ config, profile: await loadProfile(profilePath), workers, log: createLogger('silent') });
  t.same(daemon.jobs.names, ['compaction']);
  t.match(daemon.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  daemon.meter.recordArrival({ inputTokens: 200, outputTokens: 20 });
  // The loop decides every 0.1 s; the static 2P/1D target flips one decode worker.
  const deadline = Date.now() + 5000;
  while (workers.filter((w) => w.reading.role === 'prefill').length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  t.equal(workers.filter((w) => w.reading.role === 'prefill').length, 2, 'the controller loop flipped a worker');
  const status = await fetch(`${daemon.url}/api/v1/status`, { headers: { authorization: `Bearer ${TOKEN}` } });
  t.equal(status.status, 200);
  t.equal((await fetch(`${daemon.url}/api/v1/pause`, { method: 'POST' })).status, 401);
  // The daemon's /metrics, without a token: the flip counted by reason. The worker switches inside the
  // reconcile and the metrics are recorded when it returns, so poll for them.
  let metrics = '';
  while (!metrics.includes('pdpilot_decisions_total{status="acted"} 1') && Date.now() < deadline + 5000) {
    metrics = await (await fetch(`${daemon.url}/metrics`)).text();
    await new Promise((r) => setTimeout(r, 50));
  }
  t.match(metrics, /^pdpilot_flips_total\{reason="static-split",from="decode",to="prefill"\} 1$/m);
  t.match(metrics, /^pdpilot_decisions_total\{status="acted"\} 1$/m);
  await daemon.stop();
  const store = await LowdbStore.open(config.store.path);
  t.teardown(() => store.close());
  const decisions = await store.decisions({ applied: true });
  t.equal(decisions.items.length, 1, 'the acting decision persisted');
  t.equal(decisions.items[0]?.reason.code, 'static-split');
  t.equal((await store.flips({ states: ['done'] })).length, 1, 'the flip finished before the store closed');
  t.ok((await store.history()).some((h) => h.load.requests === 1), 'the measured interval was recorded');
});
