// SSE decoding and the reading of one completion stream, on hand-cut chunks.
import t from 'tap';
import { CompletionStreamTracker, SseDecoder } from '../../src/replay/index.js';

const token = (text: string, finish: string | null = null) =>
  `data: {"id":"c","object":"text_completion","choices":[{"index":0,"text":${JSON.stringify(text)},"finish_reason":${finish === null ? 'null' : `"${finish}"`}}],"usage":null}\n\n`;
const usage = (n: number) => `data: {"id":"c","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":${n},"total_tokens":${5 + n}}}\n\n`;

t.test('events split anywhere across chunks decode the same as whole', async (t) => {
  const body = token('a') + token('b') + token('', 'length') + usage(2) + 'data: [DONE]\n\n';
  const whole = new SseDecoder().push(body);
  t.equal(whole.length, 5);
  t.equal(whole[4], '[DONE]');
  for (let size = 1; size <= 7; size++) {
    const d = new SseDecoder();
    const events: string[] = [];
    for (let i = 0; i < body.length; i += size) events.push(...d.push(body.slice(i, i + size)));
    t.same(events, whole, `chunks of ${size}`);
  }
});

t.test('CRLF and CR line ends (a CRLF split between chunks), comments, multi-line data, other fields', async (t) => {
  const d = new SseDecoder();
  const events = [...d.push(': keep-alive\r'), ...d.push('\nevent: x\r\ndata: one\r'), ...d.push('\ndata:two\r\r'), ...d.push('data: 3\r'), ...d.push('\r')];
  t.same(events, ['one\ntwo', '3']);
  t.same(d.push('data: unterminated\n'), [], 'no event before its blank line');
});

t.test('a normal stream: tokens timed, usage read, [DONE] ends it', async (t) => {
  const s = new CompletionStreamTracker();
  const d = new SseDecoder();
  let now = 10;
  for (const part of [token('a'), token('b') + token('c'), token('', 'length') + usage(3), 'data: [DONE]\n\n']) {
    now += 1;
    for (const e of d.push(part)) s.onEvent(e, now);
  }
  t.same(s.outcome(15), { reason: 'ok', tokens: 3, usageTokens: 3, firstTokenSeconds: 11, lastTokenSeconds: 12, endSeconds: 15 });
});

t.test('a last token carrying finish_reason (vLLM style) and an empty-text token (end of text) both count', async (t) => {
  const s = new CompletionStreamTracker();
  for (const e of new SseDecoder().push(token('a') + token('') + token('z', 'length') + 'data: [DONE]\n\n')) s.onEvent(e, 1);
  t.equal(s.outcome(2).tokens, 3);
});

t.test('an error event mid-stream is the failure reason, with the tokens before it', async (t) => {
  const s = new CompletionStreamTracker();
  const events = new SseDecoder().push(token('a') + 'data: {"error":{"message":"x","type":"server_error","param":null,"code":"upstream_failed"}}\n\n');
  t.same(events.map((e) => s.onEvent(e, 1)), [true, false], 'the error ends it');
  t.match(s.outcome(2), { reason: 'upstream_failed', tokens: 1 });
});

t.test('a stream cut before [DONE], a non-JSON event, and one without tokens are failures', async (t) => {
  const cut = new CompletionStreamTracker();
  cut.onEvent(token('a').slice(6, -2), 1);
  t.equal(cut.outcome(2).reason, 'stream_truncated');
  const garbage = new CompletionStreamTracker();
  garbage.onEvent('{not json', 1);
  t.equal(garbage.outcome(2).reason, 'malformed_event');
  const empty = new CompletionStreamTracker();
  empty.onEvent('[DONE]', 1);
  t.same(empty.outcome(2), { reason: 'no_tokens', tokens: 0, endSeconds: 2 });
});
