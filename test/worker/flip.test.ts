// Live flip with real processes: requests in flight when POST /v1/role
// arrives either complete in full or are handed back with a retryable 503
// (or, once streaming, a retryable error line) — none is lost — and the
// switch itself, excluding the drain, takes under 100 ms.
import t from 'tap';
import { ndjson, post, spawnWorker, testProfile } from './fixtures/workers.js';

t.test('flipping a busy decode worker loses no request', async (t) => {
  // Decode steps of ~10 ms and at most 3 sequences per step on the decode worker: the rest queue.
  const profile = await testProfile();
  const a = await spawnWorker(['--role', 'prefill', '--backend', 'sim', '--profile', profile]);
  const b = await spawnWorker(['--role', 'decode', '--backend', 'sim', '--profile', profile, '--max-batch', '3', '--kv-capacity-tokens', '1024']);
  t.teardown(async () => {
    await a.stop();
    await b.stop();
  });
  const N = 10;
  const maxTokens = 40;
  const prefills = await Promise.all(Array.from({ length: N }, (_, i) => post(`${a.url}/v1/prefill`, { promptLength: 100 + i })));
  for (const p of prefills) t.equal(p.status, 200, 'prefill ok');
  const decodes = prefills.map((p) =>
    post(`${b.url}/v1/decode`, { kvUrl: p.json.kvUrl, firstToken: p.json.firstToken, promptTokens: p.json.promptTokens, maxTokens }),
  );
  // Flip once the first batch is decoding (its requests have streamed tokens), with the rest queued behind it.
  for (let i = 0; i < 500; i++) {
    const s = (await (await fetch(`${b.url}/v1/state`)).json()) as { running: number };
    if (s.running >= 3) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  await new Promise((r) => setTimeout(r, 50));
  const flip = post(`${b.url}/v1/role`, { role: 'prefill' });
  await new Promise((r) => setTimeout(r, 5));
  const second = await post(`${b.url}/v1/role`, { role: 'decode' });
  t.equal(second.status, 409, 'a second switch while one is in progress → 409');
  t.equal(second.json.error.code, 'switch_in_progress');
  const during = await post(`${b.url}/v1/decode`, { kvUrl: `${a.url}/v1/kv/x`, firstToken: 1, promptTokens: 3, maxTokens: 3 });
  t.equal(during.status, 503, 'new work while draining → 503');
  t.same(during.json.error, { code: 'draining', message: during.json.error.message, retryable: true }, 'retryable draining error');

  const results = await Promise.all(decodes);
  const flipped = await flip;
  t.equal(flipped.status, 200, flipped.text);
  let completed = 0;
  let handedBack = 0;
  for (const r of results) {
    if (r.status === 200) {
      const lines = ndjson(r.text);
      const last = lines[lines.length - 1];
      if (last.type === 'done') {
        t.equal(lines.filter((l) => l.type === 'token').length, maxTokens - 1, 'a completed request got every token');
        completed++;
      } else {
        t.same(last.error && { code: last.error.code, retryable: last.error.retryable }, { code: 'draining', retryable: true }, 'a stream cut by the flip ends retryable');
        handedBack++;
      }
    } else {
      t.equal(r.status, 503, `a request handed back before output gets 503 (${r.text.slice(0, 200)})`);
      t.same({ code: r.json.error.code, retryable: r.json.error.retryable }, { code: 'draining', retryable: true });
      handedBack++;
    }
  }
  t.equal(completed + handedBack, N, `every request accounted for (${completed} completed, ${handedBack} handed back)`);
  t.ok(completed >= 3, 'the requests already decoding were allowed to finish');
  t.ok(handedBack >= 1, 'queued requests were handed back rather than waited for');
  t.equal(flipped.json.handedBack, handedBack, 'the switch reports how many it handed back');
  t.equal(flipped.json.role, 'prefill');
  t.ok(flipped.json.switchSeconds < 0.1, `switch took ${(flipped.json.switchSeconds * 1000).toFixed(2)} ms (< 100 ms, drain excluded)`);
  t.ok(flipped.json.drainSeconds > 0, `drain took ${(flipped.json.drainSeconds * 1000).toFixed(1)} ms`);

  // The flipped worker now serves prefill with its cache whole; its old role is refused.
  const state = (await (await fetch(`${b.url}/v1/state`)).json()) as { role: string; status: string; kv: { usedBlocks: number } };
  t.same([state.role, state.status, state.kv.usedBlocks], ['prefill', 'ready', 0]);
  const pre = await post(`${b.url}/v1/prefill`, { promptLength: 50 });
  t.equal(pre.status, 200, 'serves prefill after the flip');
  const dec = await post(`${a.url}/v1/role`, { role: 'decode' });
  t.equal(dec.status, 200, 'and the old prefill worker flips to decode');
  const d = await post(`${a.url}/v1/decode`, { kvUrl: pre.json.kvUrl, firstToken: pre.json.firstToken, promptTokens: 50, maxTokens: 4 });
  t.equal(ndjson(d.text).at(-1).type, 'done', 'the pair works with roles swapped');
  const metrics = await (await fetch(`${b.url}/metrics`)).text();
  t.match(metrics, /pdpilot_worker_role\{role="prefill",worker="[^"]+"\} 1/, 'role gauge follows the flip');
});

t.test('a prefill worker drains held KV before switching', async (t) => {
  const profile = await testProfile();
  const a = await spawnWorker(['--role', 'prefill', '--backend', 'sim', '--profile', profile]);
  const b = await spawnWorker(['--role', 'decode', '--backend', 'sim', '--profile', profile]);
  t.teardown(async () => {
    await a.stop();
    await b.stop();
  });
  const pre = await post(`${a.url}/v1/prefill`, { promptLength: 64 });
  const flip = post(`${a.url}/v1/role`, { role: 'decode', drainTimeoutSeconds: 5 });
  await new Promise((r) => setTimeout(r, 50));
  // The decode worker can still pull the KV the draining prefill worker holds.
  const dec = await post(`${b.url}/v1/decode`, { kvUrl: pre.json.kvUrl, firstToken: pre.json.firstToken, promptTokens: 64, maxTokens: 3 });
  t.equal(dec.status, 200, 'held KV is pullable while draining');
  const f = await flip;
  t.equal(f.status, 200);
  t.equal(f.json.releasedKvHandles, 0, 'nothing had to be released: the pull emptied it');
  t.ok(f.json.drainSeconds >= 0.04, 'the drain waited for the pull');
  // With nobody pulling, the drain timeout releases held KV.
  const pre2 = await post(`${b.url}/v1/role`, { role: 'prefill' });
  t.equal(pre2.status, 200);
  await post(`${b.url}/v1/prefill`, { promptLength: 64 });
  const f2 = await post(`${b.url}/v1/role`, { role: 'decode', drainTimeoutSeconds: 0.2 });
  t.equal(f2.json.releasedKvHandles, 1, 'an unpulled handle is released at the drain timeout');
  t.ok(f2.json.switchSeconds < 0.1);
});
