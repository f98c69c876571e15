// NativeWorkerClient against real worker processes: state, prefill → decode
// across two workers, KV release, role switch, health, metrics, and how each
// failure is classified (the router's retry decisions hang on it).
import t from 'tap';
import { LocalFleet } from '../../src/fleet/local-fleet.js';
import { NativeWorkerClient } from '../../src/fleet/native-worker-client.js';
import { isWorkerFailure } from '../../src/fleet/worker-call-error.js';
import type { DecodedToken } from '../../src/fleet/worker-client.js';
import { writeFastProfile } from '../router/fixtures/fleet.js';

const profile = writeFastProfile();
const fleet = new LocalFleet([
  { role: 'prefill', backend: 'sim', host: '127.0.0.1', port: 0, profile },
  { role: 'decode', backend: 'sim', host: '127.0.0.1', port: 0, profile },
]);
await fleet.start();
const [p, d] = fleet.workers.map((w) => new NativeWorkerClient(w.url)) as [NativeWorkerClient, NativeWorkerClient];
t.teardown(async () => {
  await p.close();
  await d.close();
  await fleet.stop();
});

async function collect(iterable: AsyncIterable<DecodedToken>): Promise<DecodedToken[]> {
  const out: DecodedToken[] = [];
  for await (const t of iterable) out.push(t);
  return out;
}

t.test('state reports role, status and KV capacity', async (t) => {
  const s = await p.state();
  t.equal(s.role, 'prefill');
  t.equal(s.status, 'ready');
  t.equal(s.backend, 'sim');
  t.equal(s.kvTotalTokens, 200_000);
  t.equal(s.contextTokens, 8192);
  t.same(await d.health(), { live: true, ready: true });
});

t.test('prefill on one worker, decode on the other pulls the KV and streams indices 1..n-1', async (t) => {
  const pf = await p.prefill({ promptTokens: [5, 6, 7, 8] });
  t.equal(pf.promptTokens, 4);
  t.match(pf.kvUrl, new RegExp(`^${p.url}/v1/kv/`));
  const tokens = await collect(d.decode({ kvUrl: pf.kvUrl, firstToken: pf.firstToken, promptTokens: 4, maxTokens: 6 }));
  t.same(tokens.map((x) => x.index), [1, 2, 3, 4, 5]);
  // The KV handle is spent by the pull: a second decode of it fails as kv_not_found, a retryable failure.
  const again = collect(d.decode({ kvUrl: pf.kvUrl, firstToken: pf.firstToken, promptTokens: 4, maxTokens: 3 }));
  await t.rejects(again, { kind: 'failed', code: 'kv_not_found', status: 404 });
});

t.test('releaseKv frees an unpulled handle', async (t) => {
  const pf = await p.prefill({ promptTokens: [1, 2, 3] });
  t.equal((await p.state()).heldKvHandles, 1);
  await p.releaseKv(pf.kvUrl);
  t.equal((await p.state()).heldKvHandles, 0);
  await p.releaseKv(pf.kvUrl); // already gone: not an error
});

t.test('retainKv: false frees the KV at once: no handle, no kvUrl, nothing held', async (t) => {
  const before = await p.state();
  const pf = await p.prefill({ promptTokens: [4, 5, 6], retainKv: false });
  t.equal(pf.promptTokens, 3);
  t.equal(pf.kvUrl, '', 'no kvUrl to pull or release');
  const after = await p.state();
  t.equal(after.heldKvHandles, before.heldKvHandles, 'no handle held');
  t.equal(after.kvUsedTokens, before.kvUsedTokens, 'the blocks are free again');
  // The same prompt retained gives the same first token (the option changes only what happens to the KV).
  const kept = await p.prefill({ promptTokens: [4, 5, 6] });
  t.equal(kept.firstToken, pf.firstToken);
  await p.releaseKv(kept.kvUrl);
});

t.test('failures are classified for the caller', async (t) => {
  // The decode worker refuses a prefill: wrong role is a hand-back (retry elsewhere), not the request's fault.
  await t.rejects(d.prefill({ promptTokens: [1] }), { kind: 'handed-back', code: 'wrong_role', status: 409 });
  // Longer than the context: the request's own fault, retrying elsewhere cannot help.
  await t.rejects(p.prefill({ promptTokens: Array.from({ length: 9000 }, () => 1) }), { kind: 'rejected', code: 'too_long', status: 413 });
  // Nobody listening.
  const gone = new NativeWorkerClient('http://127.0.0.1:1');
  const error = await gone.state().catch((e: unknown) => e);
  t.ok(isWorkerFailure(error));
  t.equal((error as { kind: string }).kind, 'unreachable');
  t.same(await gone.health(), { live: false, ready: false });
  await gone.close();
  // The caller's signal.
  const controller = new AbortController();
  const pending = p.prefill({ promptTokens: [1, 2] }, { signal: controller.signal });
  controller.abort();
  t.match(await pending.catch((e: unknown) => e), { kind: 'aborted' });
});

t.test('switchRole drains and flips; metrics text is Prometheus', async (t) => {
  const r = await d.switchRole('prefill');
  t.equal(r.changed, true);
  t.equal(r.previousRole, 'decode');
  t.equal((await d.state()).role, 'prefill');
  const back = await d.switchRole('decode');
  t.equal(back.role, 'decode');
  t.match(await d.metricsText(), /^# HELP pdpilot_/m);
});
