// Failure handling with real worker processes: a decode worker killed
// mid-stream, a dead prefill worker, workers flipped (drained) while requests
// flow, saturation (429) and an incomplete fleet (503).
import t from 'tap';
import OpenAI from 'openai';
import { MODEL, startTestFleet, writeFastProfile } from './fixtures/fleet.js';

type StreamChoice = OpenAI.CompletionChoice & { token_ids?: number[] };

async function streamIds(client: OpenAI, body: Record<string, unknown>, onToken?: (count: number) => Promise<void> | void): Promise<number[]> {
  const stream = await client.completions.create({ model: MODEL, stream: true, ignore_eos: true, return_token_ids: true, ...body } as unknown as OpenAI.CompletionCreateParamsStreaming);
  const ids: number[] = [];
  for await (const chunk of stream) {
    const c = chunk.choices[0] as StreamChoice | undefined;
    if (!c?.token_ids) continue;
    ids.push(...c.token_ids);
    await onToken?.(ids.length);
  }
  return ids;
}

function metricValue(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : Number.NaN;
}

t.test('a decode worker killed mid-stream: the stream goes on with no token repeated or missing', async (t) => {
  // The cpu backend (a real small Llama, greedy): a prefill over prompt + emitted tokens predicts exactly the token
  // the lost decode would have produced next, so the resumed stream can be compared token for token.
  const f = await startTestFleet({ roles: ['prefill', 'decode', 'decode'], backend: 'cpu', extraArgs: ['--threads', '1'] });
  t.teardown(() => f.close());
  const client = new OpenAI({ baseURL: `${f.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const body = { prompt: 'The quick brown fox jumps over the lazy dog, and then', max_tokens: 400 };

  const reference = await streamIds(client, body);
  t.equal(reference.length, 400);

  let killedAt = -1;
  let killedPid: number | undefined;
  const resumed = await streamIds(client, body, async (count) => {
    if (count !== 40) return;
    // Which decode worker carries the stream? The one with a request running.
    for (let i = 1; i < f.clients.length; i++) {
      const s = await f.clients[i]!.state();
      if (s.runningRequests + s.queuedRequests > 0) {
        killedPid = f.fleet.workers[i]!.process.pid;
        f.fleet.workers[i]!.process.kill('SIGKILL');
        killedAt = count;
        return;
      }
    }
  });
  t.equal(killedAt, 40, 'a decode worker was killed after 40 tokens');
  t.ok(killedPid, 'the killed worker had a pid');
  t.equal(resumed.length, 400, 'every token arrived');
  t.same(resumed, reference, 'the token sequence equals the uninterrupted run');
  const metrics = await (await fetch(`${f.url}/metrics`)).text();
  t.ok(metricValue(metrics, 'pdpilot_router_retries_total{reason="decode_lost"}') >= 1, 'the router counted the resumption');
});

t.test('a dead prefill worker: the prefill is retried once on another worker', async (t) => {
  // Polling once an hour: the router learns of the death only by calling the dead worker.
  const f = await startTestFleet({ roles: ['prefill', 'prefill', 'decode'], router: { pollIntervalSeconds: 3600 } });
  t.teardown(() => f.close());
  const client = new OpenAI({ baseURL: `${f.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  // Both prefill workers idle: ties go to the lowest index, so the first request meets worker 0.
  const dead = f.fleet.workers[0]!.process;
  const exited = new Promise((resolve) => dead.once('exit', resolve));
  dead.kill('SIGKILL');
  await exited;
  const results = await Promise.all(
    Array.from({ length: 5 }, (_, i) => client.completions.create({ model: MODEL, prompt: `hello ${i}`, max_tokens: 5, ignore_eos: true } as OpenAI.CompletionCreateParamsNonStreaming)),
  );
  for (const r of results) t.equal(r.usage!.completion_tokens, 5);
  const metrics = await (await fetch(`${f.url}/metrics`)).text();
  t.ok(metricValue(metrics, 'pdpilot_router_retries_total{reason="prefill_failed"}') >= 1, 'at least one prefill was retried');
  t.equal(metricValue(metrics, 'pdpilot_router_requests_total{outcome="ok"}'), 5);
});

t.test('workers flipped (drained) while requests flow: none lost', async (t) => {
  const f = await startTestFleet({ roles: ['prefill', 'prefill', 'decode', 'decode'], profile: writeFastProfile(2) });
  t.teardown(() => f.close());
  const client = new OpenAI({ baseURL: `${f.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const total = 48;
  const maxTokens = 60;
  let started = 0;
  const counts: number[] = [];
  const worker = async () => {
    while (started < total) {
      const i = started++;
      const ids = await streamIds(client, { prompt: `request number ${i}`, max_tokens: maxTokens });
      counts.push(ids.length);
    }
  };
  const load = Promise.all(Array.from({ length: 8 }, worker));
  // Mid-load, flip one decode worker to prefill and one prefill worker to decode, with a drain bound so short that
  // requests already streaming are handed back mid-stream too.
  await new Promise((r) => setTimeout(r, 300));
  const [toPrefill, toDecode] = await Promise.all([f.clients[2]!.switchRole('prefill', 0.05), f.clients[0]!.switchRole('decode', 0.05)]);
  await load;
  t.equal(toPrefill.changed, true);
  t.equal(toDecode.changed, true);
  t.equal(counts.length, total, 'every request finished');
  t.ok(counts.every((n) => n === maxTokens), 'every request got all its tokens');
  const states = await Promise.all(f.clients.map((c) => c.state()));
  t.same(states.map((s) => s.role), ['decode', 'prefill', 'prefill', 'decode']);
  const metrics = await (await fetch(`${f.url}/metrics`)).text();
  const handedBack =
    metricValue(metrics, 'pdpilot_router_retries_total{reason="prefill_handed_back"}') + metricValue(metrics, 'pdpilot_router_retries_total{reason="decode_handed_back"}');
  t.ok(handedBack >= 1, `requests were handed back and re-routed (${handedBack})`);
  t.equal(metricValue(metrics, 'pdpilot_router_requests_total{outcome="ok"}'), total);
});

t.test('saturation: past router.maxQueue, 429 with Retry-After; the admitted requests complete', async (t) => {
  const f = await startTestFleet({ roles: ['prefill', 'decode'], profile: writeFastProfile(50), router: { maxQueue: 2 } });
  t.teardown(() => f.close());
  const statuses = await Promise.all(
    Array.from({ length: 8 }, async (_, i) => {
      const res = await fetch(`${f.url}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: MODEL, prompt: `busy ${i}`, max_tokens: 2 }),
      });
      const json = (await res.json()) as { error?: { code: string; type: string } };
      if (res.status === 429) {
        t.equal(res.headers.get('retry-after'), '1');
        t.equal(json.error?.code, 'queue_full');
        t.equal(json.error?.type, 'rate_limit_error');
      }
      return res.status;
    }),
  );
  t.equal(statuses.filter((s) => s === 200).length, 2, 'two admitted');
  t.equal(statuses.filter((s) => s === 429).length, 6, 'the rest refused');
  const client = new OpenAI({ baseURL: `${f.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const r = await client.completions.create({ model: MODEL, prompt: 'after the burst', max_tokens: 2 });
  t.equal(r.usage!.completion_tokens, 2, 'served again once the queue drained');
});

t.test('no decode worker ready: 503 with Retry-After', async (t) => {
  const f = await startTestFleet({ roles: ['prefill'] });
  t.teardown(() => f.close());
  const res = await fetch(`${f.url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: MODEL, prompt: 'x', max_tokens: 2 }),
  });
  t.equal(res.status, 503);
  t.equal(res.headers.get('retry-after'), '1');
  t.equal(((await res.json()) as { error: { code: string } }).error.code, 'no_worker_ready');
  const ready = await fetch(`${f.url}/readyz`);
  t.equal(ready.status, 503);
});
