// Prefill on worker process A, KV pulled over HTTP by worker process B, decode
// on B: the tokens equal the same request run start to finish on one worker.
// Then every kind of bad input, each answered with its status while the
// workers keep serving.
import t from 'tap';
import { ndjson, post, spawnWorker, testProfile, type SpawnedWorker } from './fixtures/workers.js';

const CPU = ['--backend', 'cpu', '--model-shape', 'layers=2,hidden=128,heads=8,kvHeads=2,ffn=256,vocab=512,context=256', '--block-size', '8', '--seed', '42', '--kv-capacity-tokens', '1024'];

async function disaggregated(a: SpawnedWorker, b: SpawnedWorker, body: Record<string, unknown>, maxTokens: number) {
  const pre = await post(`${a.url}/v1/prefill`, body);
  if (pre.status !== 200) throw new Error(`prefill: ${pre.status} ${pre.text}`);
  const dec = await post(`${b.url}/v1/decode`, {
    kvUrl: pre.json.kvUrl,
    firstToken: pre.json.firstToken,
    promptTokens: pre.json.promptTokens,
    maxTokens,
  });
  if (dec.status !== 200) throw new Error(`decode: ${dec.status} ${dec.text}`);
  const lines = ndjson(dec.text);
  const last = lines[lines.length - 1];
  return { pre: pre.json, lines, last, tokens: [pre.json.firstToken, ...lines.filter((l) => l.type === 'token').map((l) => l.token)] };
}

for (const backend of ['cpu', 'sim'] as const) {
  t.test(`${backend}: disaggregated generation is token-identical to single-worker generation`, async (t) => {
    const args = backend === 'cpu' ? CPU : ['--backend', 'sim', '--profile', await testProfile()];
    const a = await spawnWorker(['--role', 'prefill', ...args]);
    const b = await spawnWorker(['--role', 'decode', ...args]);
    t.teardown(async () => {
      await a.stop();
      await b.stop();
    });
    const prompts = [
      { promptTokens: [5, 17, 300, 42, 7, 7, 99, 128, 1, 2, 3] },
      { promptLength: 37 }, // spans several KV blocks
      { promptTokens: [511] },
    ];
    for (const body of prompts) {
      const maxTokens = 12;
      const d = await disaggregated(a, b, body, maxTokens);
      t.equal(d.last.type, 'done', 'the stream ends with done');
      t.same(d.lines.filter((l) => l.type === 'token').map((l) => l.index), Array.from({ length: maxTokens - 1 }, (_, i) => i + 1), 'decode streams indexes 1..maxTokens-1');
      const single = await post(`${a.url}/v1/generate`, { ...body, maxTokens, stream: false });
      t.equal(single.status, 200, single.text);
      t.same(d.tokens, single.json.tokens, `same ${maxTokens} tokens for ${JSON.stringify(body).slice(0, 40)}`);
      t.equal(new Set(d.tokens).size > 1, true, 'the tokens are not a constant');
    }
    // maxTokens 1: nothing left to decode after the prefill's token, but the
    // pull still spends the handle and a streaming caller still gets its done line.
    const one = await disaggregated(a, b, { promptLength: 9 }, 1);
    t.same(one.lines.map((l) => l.type), ['done'], 'maxTokens 1 streams only the done line');
    t.equal(one.last.tokens, 0);
    // The KV handle was spent by the pull, and both caches are empty again.
    for (const w of [a, b]) {
      const state = (await (await fetch(`${w.url}/v1/state`)).json()) as { kv: { usedBlocks: number } };
      t.equal(state.kv.usedBlocks, 0, `${w === a ? 'prefill' : 'decode'} worker holds no KV blocks afterwards`);
    }
  });
}

t.test('bad input gets its status and the worker keeps serving', async (t) => {
  const a = await spawnWorker(['--role', 'prefill', ...CPU]);
  const b = await spawnWorker(['--role', 'decode', ...CPU]);
  t.teardown(async () => {
    await a.stop();
    await b.stop();
  });
  const cases: [string, string, unknown, number, string][] = [
    ['malformed JSON', `${a.url}/v1/prefill`, '{"promptTokens": [1,', 400, 'bad_request'],
    ['wrong type', `${a.url}/v1/prefill`, { promptTokens: 'abc' }, 400, 'bad_request'],
    ['unknown key', `${a.url}/v1/prefill`, { promptTokens: [1], extra: 1 }, 400, 'bad_request'],
    ['neither prompt form', `${a.url}/v1/prefill`, {}, 400, 'bad_request'],
    ['both prompt forms', `${a.url}/v1/prefill`, { promptTokens: [1], promptLength: 3 }, 400, 'bad_request'],
    ['negative token id', `${a.url}/v1/prefill`, { promptTokens: [-1] }, 400, 'bad_request'],
    ['prompt over the context', `${a.url}/v1/prefill`, { promptLength: 257 }, 413, 'too_long'],
    ['prompt + output over the context', `${b.url}/v1/decode`, { kvUrl: `${a.url}/v1/kv/x`, firstToken: 1, promptTokens: 200, maxTokens: 100 }, 413, 'too_long'],
    ['decode on a prefill worker', `${a.url}/v1/decode`, { kvUrl: `${a.url}/v1/kv/x`, firstToken: 1, promptTokens: 3, maxTokens: 3 }, 409, 'wrong_role'],
    ['unknown KV handle in a decode', `${b.url}/v1/decode`, { kvUrl: `${a.url}/v1/kv/nope`, firstToken: 1, promptTokens: 3, maxTokens: 3 }, 404, 'kv_not_found'],
    ['KV url nobody serves', `${b.url}/v1/decode`, { kvUrl: 'http://127.0.0.1:1/v1/kv/x', firstToken: 1, promptTokens: 3, maxTokens: 3 }, 502, 'kv_unreachable'],
    ['bad role', `${a.url}/v1/role`, { role: 'both' }, 400, 'bad_request'],
  ];
  for (const [name, url, body, status, code] of cases) {
    const res = await post(url, body);
    t.equal(res.status, status, `${name} → ${status}`);
    t.equal(res.json?.error?.code, code, `${name}: code ${code}`);
    t.ok(typeof res.json?.error?.message === 'string' && res.json.error.message.length > 0, `${name}: says why`);
  }
  const missing = await fetch(`${a.url}/v1/kv/0123456789abcdef`);
  t.equal(missing.status, 404, 'GET of an unknown KV handle → 404');
  // A KV whose token count disagrees with the request is refused, and the prefill's blocks are still freed.
  const pre = await post(`${a.url}/v1/prefill`, { promptLength: 10 });
  const wrong = await post(`${b.url}/v1/decode`, { kvUrl: pre.json.kvUrl, firstToken: pre.json.firstToken, promptTokens: 11, maxTokens: 3 });
  t.equal(wrong.status, 400, 'KV of another length → 400');
  t.equal(wrong.json.error.code, 'kv_mismatch');
  // Still serving, end to end.
  const d = await disaggregated(a, b, { promptLength: 20 }, 5);
  t.equal(d.tokens.length, 5, 'a good request still completes after all of that');
  const health = await fetch(`${a.url}/healthz`);
  t.equal(health.status, 200);
});
