// The router's OpenAI-compatible API, driven by the official openai client
// against real sim worker processes: both endpoints, streaming and not,
// usage, include_usage, the extensions, and every bad-input case.
import t from 'tap';
import OpenAI from 'openai';
import { MODEL, startTestFleet, type TestFleet } from './fixtures/fleet.js';

let f: TestFleet;
let client: OpenAI;

t.before(async () => {
  f = await startTestFleet({ roles: ['prefill', 'decode', 'decode'] });
  client = new OpenAI({ baseURL: `${f.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
t.teardown(async () => {
  await f.close();
});

t.test('GET /v1/models lists the served model', async (t) => {
  const models = await client.models.list();
  t.same(models.data.map((m) => m.id), [MODEL]);
});

t.test('completion, not streamed: text, finish_reason, usage from the tokenizer', async (t) => {
  const prompt = 'The capital of France is';
  const r = await client.completions.create({ model: MODEL, prompt, max_tokens: 12, ignore_eos: true } as OpenAI.CompletionCreateParamsNonStreaming);
  t.equal(r.object, 'text_completion');
  t.equal(r.choices.length, 1);
  t.equal(r.choices[0]!.finish_reason, 'length');
  t.type(r.choices[0]!.text, 'string');
  t.ok(r.choices[0]!.text.length > 0, 'some text');
  // r50k_base (GPT-2 BPE, which OPT uses): "The capital of France is" is 5 tokens.
  t.same(r.usage, { prompt_tokens: 5, completion_tokens: 12, total_tokens: 17 });
});

t.test('the same request gives the same tokens (the sim backend is deterministic), streamed or not', async (t) => {
  const body = { model: MODEL, prompt: 'Once upon a time', max_tokens: 20, ignore_eos: true, return_token_ids: true };
  const a = (await client.completions.create(body as OpenAI.CompletionCreateParamsNonStreaming)) as OpenAI.Completion & {
    choices: { token_ids: number[] }[];
  };
  const ids = a.choices[0]!.token_ids;
  t.equal(ids.length, 20);
  const stream = await client.completions.create({ ...body, stream: true } as OpenAI.CompletionCreateParamsStreaming);
  const streamed: number[] = [];
  let text = '';
  let finish: string | null = null;
  for await (const chunk of stream) {
    const c = chunk.choices[0] as (OpenAI.CompletionChoice & { token_ids?: number[] }) | undefined;
    if (!c) continue;
    text += c.text;
    if (c.token_ids) streamed.push(...c.token_ids);
    if (c.finish_reason) finish = c.finish_reason;
  }
  t.same(streamed, ids, 'same token ids');
  t.equal(text, a.choices[0]!.text, 'same text');
  t.equal(finish, 'length');
});

t.test('completion streamed with include_usage: usage chunk last, [DONE] consumed by the client', async (t) => {
  const stream = await client.completions.create({
    model: MODEL,
    prompt: 'Hello',
    max_tokens: 8,
    stream: true,
    stream_options: { include_usage: true },
    ignore_eos: true,
  } as OpenAI.CompletionCreateParamsStreaming);
  const chunks: OpenAI.Completion[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  const last = chunks.at(-1)!;
  t.same(last.choices, []);
  t.same(last.usage, { prompt_tokens: 1, completion_tokens: 8, total_tokens: 9 });
  t.equal(chunks.filter((c) => c.choices.length === 1 && c.choices[0]!.finish_reason === null).length, 8, 'one chunk per token');
});

t.test('chat completion, not streamed and streamed', async (t) => {
  const messages: OpenAI.ChatCompletionMessageParam[] = [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: 'Say hi.' },
  ];
  const r = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 6, ignore_eos: true } as OpenAI.ChatCompletionCreateParamsNonStreaming);
  t.equal(r.object, 'chat.completion');
  t.equal(r.choices[0]!.message.role, 'assistant');
  t.equal(r.choices[0]!.finish_reason, 'length');
  t.equal(r.usage!.completion_tokens, 6);
  t.ok(r.usage!.prompt_tokens > 5);

  const stream = await client.chat.completions.create({
    model: MODEL,
    messages,
    max_tokens: 6,
    stream: true,
    stream_options: { include_usage: true },
    ignore_eos: true,
  } as OpenAI.ChatCompletionCreateParamsStreaming);
  let content = '';
  let role: string | undefined;
  let usage: OpenAI.CompletionUsage | null | undefined;
  for await (const chunk of stream) {
    const c = chunk.choices[0];
    if (c?.delta.role) role = c.delta.role;
    if (c?.delta.content) content += c.delta.content;
    if (chunk.usage) usage = chunk.usage;
  }
  t.equal(role, 'assistant');
  t.equal(content, r.choices[0]!.message.content, 'streamed content equals the non-streamed');
  t.same(usage, r.usage);
});

t.test('prompt_tokens extension: an explicit length replaces the text', async (t) => {
  const r = await client.completions.create({ model: MODEL, prompt: '', prompt_tokens: 300, max_tokens: 4, ignore_eos: true } as OpenAI.CompletionCreateParamsNonStreaming);
  t.same(r.usage, { prompt_tokens: 300, completion_tokens: 4, total_tokens: 304 });
});

t.test('bad input gets OpenAI-shaped 4xx errors', async (t) => {
  const expectError = async (body: Record<string, unknown>, status: number, code: string, param?: string) => {
    const res = await fetch(`${f.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const json = (await res.json()) as { error: { message: string; type: string; param: string | null; code: string } };
    t.equal(res.status, status, `${code}: status`);
    t.equal(json.error.code, code);
    t.equal(json.error.type, 'invalid_request_error');
    t.type(json.error.message, 'string');
    if (param) t.equal(json.error.param, param);
  };
  await expectError({ model: 'gpt-4', prompt: 'x' }, 404, 'model_not_found', 'model');
  await expectError({ model: MODEL, prompt: 'x', max_tokens: 0 }, 400, 'invalid_max_tokens', 'max_tokens');
  await expectError({ model: MODEL, prompt: 'x', max_tokens: -3 }, 400, 'invalid_max_tokens', 'max_tokens');
  await expectError({ model: MODEL, prompt: 'x', max_tokens: 1025 }, 400, 'invalid_max_tokens', 'max_tokens');
  await expectError({ model: MODEL, prompt: 'x', max_tokens: '16' }, 400, 'invalid_request', 'max_tokens');
  await expectError({ model: MODEL, prompt_tokens: 8192, max_tokens: 1 }, 413, 'context_length_exceeded', 'prompt');
  await expectError({ model: MODEL, prompt_tokens: 8000, max_tokens: 500 }, 413, 'context_length_exceeded', 'max_tokens');
  await expectError({ model: MODEL, prompt: 'x', n: 2 }, 400, 'unsupported_parameter', 'n');
  await expectError({ prompt: 'x' }, 400, 'invalid_request', 'model');

  const res = await fetch(`${f.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model": "facebook/opt-13b", "prompt": ' });
  t.equal(res.status, 400);
  t.equal(((await res.json()) as { error: { code: string } }).error.code, 'invalid_json');

  // Through the openai client: its typed errors carry the status and code.
  await t.rejects(client.completions.create({ model: MODEL, prompt: 'x', max_tokens: 0 }), { status: 400, code: 'invalid_max_tokens' });
  await t.rejects(client.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }), { status: 404, code: 'model_not_found' });
});

t.test('bad requests do not disturb requests in flight', async (t) => {
  const good = Array.from({ length: 6 }, (_, i) =>
    client.completions.create({ model: MODEL, prompt: `request ${i}`, max_tokens: 30, ignore_eos: true } as OpenAI.CompletionCreateParamsNonStreaming),
  );
  const bad = Array.from({ length: 6 }, () =>
    fetch(`${f.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' }).then((r) => r.status),
  );
  const [goods, bads] = await Promise.all([Promise.all(good), Promise.all(bad)]);
  t.same(bads, [400, 400, 400, 400, 400, 400]);
  for (const r of goods) t.equal(r.usage!.completion_tokens, 30);
});

t.test('metrics: TTFT and TPOT histograms and outcomes are exported', async (t) => {
  const text = await (await fetch(`${f.url}/metrics`)).text();
  t.match(text, /pdpilot_router_ttft_seconds_count\{role="prefill",policy="static"\} [1-9]/);
  t.match(text, /pdpilot_router_tpot_seconds_count\{role="decode",policy="static"\} [1-9]/);
  t.match(text, /pdpilot_router_requests_total\{outcome="ok"\} [1-9]/);
  t.match(text, /pdpilot_router_requests_total\{outcome="client_error"\} [1-9]/);
  t.match(text, /pdpilot_router_queue_depth 0/);
});

t.test("metrics: the router's own time excludes the time spent waiting on workers", async (t) => {
  const overhead = async () => {
    const text = await (await fetch(`${f.url}/metrics`)).text();
    const count = Number(/^pdpilot_router_overhead_seconds_count (\S+)$/m.exec(text)?.[1]);
    const sum = Number(/^pdpilot_router_overhead_seconds_sum (\S+)$/m.exec(text)?.[1]);
    return { count, sum };
  };
  const before = await overhead();
  // 40 decode steps of about 1 ms each: the request spends most of its time in the workers.
  const started = performance.now();
  const stream = await client.completions.create({ model: MODEL, prompt: 'a long answer', max_tokens: 40, stream: true, ignore_eos: true } as OpenAI.CompletionCreateParamsStreaming);
  let chunks = 0;
  for await (const chunk of stream) if (chunk.choices[0]?.text !== undefined) chunks++;
  await client.completions.create({ model: MODEL, prompt: 'short', max_tokens: 40, ignore_eos: true } as OpenAI.CompletionCreateParamsNonStreaming);
  const wallSeconds = (performance.now() - started) / 1000;
  t.ok(chunks >= 40);
  // A refused request is not served: it adds no sample.
  await client.completions.create({ model: MODEL, prompt: 'x', max_tokens: 0 }).catch(() => undefined);
  const after = await overhead();
  t.equal(after.count - before.count, 2, 'one sample per served request');
  const own = after.sum - before.sum;
  t.ok(own > 0, `the router's own time is counted (${(own * 1000).toFixed(2)} ms)`);
  t.ok(own < wallSeconds / 2, `and is a small part of the ${(wallSeconds * 1000).toFixed(0)} ms the requests took (${(own * 1000).toFixed(2)} ms)`);
});
