// HTTP face of one worker (docs/protocol.md). buildWorkerApp() wires routes to
// a WorkerHost without listening, so tests drive it with inject() or listen
// on an ephemeral port themselves.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Agent, request as undiciRequest } from 'undici';
import { EngineError, readKvHeader } from './engine.js';
import { WorkerError } from './errors.js';
import type { WorkerHost, Tracked } from './host.js';
import { PdwStatus } from './native.js';
import {
  CompletionReply,
  DecodeBody,
  ErrorBody,
  GenerateBody,
  KvParams,
  PrefillBody,
  PrefillReply,
  RoleBody,
  RoleReply,
  StateReply,
} from './schemas.js';

export interface WorkerAppOptions {
  host: WorkerHost;
  /** Base URL other workers reach this one at (goes into kvUrl), e.g. http://127.0.0.1:8100. */
  advertiseUrl: () => string;
  logger?: boolean;
}

const now = () => performance.now() / 1000;
const sleep = (seconds: number) => new Promise((r) => setTimeout(r, seconds * 1000));

/** Prompt ids for the engine: given ids folded into the vocabulary, or a deterministic synthetic prompt. */
export function promptIds(body: { promptTokens?: number[]; promptLength?: number }, vocab: number): Int32Array {
  if (body.promptTokens && body.promptLength !== undefined) {
    throw new WorkerError('bad_request', 'give promptTokens or promptLength, not both');
  }
  if (body.promptTokens) return Int32Array.from(body.promptTokens, (t) => t % vocab);
  if (body.promptLength !== undefined) return Int32Array.from({ length: body.promptLength }, (_, i) => (i * 7919 + 13) % vocab);
  throw new WorkerError('bad_request', 'body needs promptTokens (ids) or promptLength (count)');
}

function engineFailure(error: unknown, what: string): WorkerError {
  if (error instanceof WorkerError) return error;
  if (error instanceof EngineError) {
    if (error.status === PdwStatus.tooLong) return new WorkerError('too_long', `${what}: ${error.message}`);
    if (error.status === PdwStatus.invalid) return new WorkerError('bad_request', `${what}: ${error.message}`);
    return new WorkerError('engine_error', `${what}: ${error.message}`);
  }
  return new WorkerError('engine_error', `${what}: ${error instanceof Error ? error.message : String(error)}`);
}

/**
 * Output of one request as the route sees it: tokens as they come, then done
 * or an error. Handed-back requests end with the retryable `draining` error.
 */
class TokenFeed {
  tokens: { index: number; token: number }[] = [];
  private listeners: (() => void)[] = [];
  ended = false;
  error: WorkerError | undefined;
  firstTokenAt: number | undefined;
  lastTokenAt: number | undefined;

  push(index: number, token: number): void {
    const t = now();
    this.firstTokenAt ??= t;
    this.lastTokenAt = t;
    this.tokens.push({ index, token });
    this.wake();
  }
  end(error?: WorkerError): void {
    this.ended = true;
    this.error = error;
    this.wake();
  }
  private wake(): void {
    const l = this.listeners;
    this.listeners = [];
    for (const f of l) f();
  }
  next(): Promise<void> {
    return new Promise((r) => this.listeners.push(r));
  }
}

export function buildWorkerApp(opts: WorkerAppOptions): FastifyInstance {
  const { host } = opts;
  const { engine, metrics } = host;
  // removeAdditional off: an unknown key is a 400, not silently dropped (a typo must not change behaviour).
  const app = Fastify({ logger: opts.logger ?? false, bodyLimit: 1 << 20, ajv: { customOptions: { removeAdditional: false } } });
  // KV pulls go over kept-alive connections to the prefill workers. undici's
  // request() rather than the global fetch: the pull sits on every decode's
  // path, and fetch's WHATWG machinery (Request, Headers, streams) cost about
  // as much CPU as the rest of the decode route.
  const kvAgent = new Agent({ keepAliveTimeout: 30_000, headersTimeout: 30_000, bodyTimeout: 30_000 });
  app.addHook('onClose', async () => kvAgent.close());
  const vocab = () => engine.limits.vocab;

  app.setErrorHandler((error: Error & { statusCode?: number; validation?: unknown }, _request, reply) => {
    if (error instanceof WorkerError) {
      if (error.code === 'draining') metrics.countRequest('handed_back');
      else if (error.status < 500) metrics.countRequest('rejected');
      else metrics.countRequest('failed');
      return reply.code(error.status).send(error.toJSON());
    }
    const status = error.statusCode ?? 500;
    if (status < 500) {
      // Malformed JSON, schema violations, wrong content type, body too large.
      metrics.countRequest('rejected');
      return reply.code(status === 413 ? 413 : 400).send({ error: { code: status === 413 ? 'too_long' : 'bad_request', message: error.message, retryable: false } });
    }
    metrics.countRequest('failed');
    app.log.error(error);
    return reply.code(500).send({ error: { code: 'engine_error', message: 'internal error', retryable: true } });
  });

  // Total tokens a request will hold in KV: refuse at the door what can never fit (413).
  function checkLength(totalTokens: number, what: string): void {
    const s = engine.limits;
    const capacity = s.kvTotalBlocks * s.blockSize;
    if (totalTokens > s.contextTokens) throw new WorkerError('too_long', `${what}: ${totalTokens} tokens exceed the model context of ${s.contextTokens}`);
    if (totalTokens > capacity) throw new WorkerError('too_long', `${what}: ${totalTokens} tokens exceed the KV capacity of ${capacity}`);
  }

  /** Cancels the engine request if the client goes away before the reply is complete. */
  function cancelOnClose(reply: FastifyReply, t: Tracked): void {
    reply.raw.on('close', () => {
      if (!reply.raw.writableFinished && t.engineId !== undefined) engine.cancel(t.engineId);
    });
  }

  /** Streams or collects a feed. Before any output an error is a status code; after it, the last NDJSON line. */
  async function respondWithFeed(
    request: FastifyRequest,
    reply: FastifyReply,
    feed: TokenFeed,
    stream: boolean,
    requestId: string,
    firstIndex: number,
    timing: () => Record<string, number>,
  ): Promise<unknown> {
    while (!feed.ended && feed.tokens.length === 0) await feed.next();
    if (feed.error && feed.tokens.length === 0) throw feed.error;
    if (!stream) {
      while (!feed.ended) await feed.next();
      if (feed.error) throw feed.error;
      return reply.send({ requestId, tokens: feed.tokens.map((t) => t.token), firstIndex, timing: timing() });
    }
    // Written straight to the socket (no PassThrough pipe): then res.end(chunk)
    // sends the last lines and the chunked-encoding terminator in one write,
    // and a stream that is complete at the first wake-up goes out, headers
    // included, in a single write.
    void reply.hijack();
    const out = reply.raw;
    out.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
    // Everything ready at one wake-up goes out as one chunk (the last token and
    // the done line usually arrive together): each socket write costs a
    // syscall and a wake-up of the reader, and on a virtualised host those,
    // not the JSON, are most of a token's cost.
    let sent = 0;
    while (true) {
      let chunk = '';
      while (sent < feed.tokens.length) {
        const t = feed.tokens[sent++]!;
        chunk += `${JSON.stringify({ type: 'token', index: t.index, token: t.token })}\n`;
      }
      if (feed.ended) {
        chunk += feed.error
          ? `${JSON.stringify({ type: 'error', tokensSent: sent, ...feed.error.toJSON() })}\n`
          : `${JSON.stringify({ type: 'done', requestId, tokens: sent, timing: timing() })}\n`;
        out.end(chunk);
        break;
      }
      if (chunk) out.write(chunk);
      await feed.next();
    }
    void request;
    return reply;
  }

  function feedHandlers(feed: TokenFeed, t: Tracked, indexOffset: number) {
    return {
      onFirstToken: (token: number) => {
        t.started = true;
        feed.push(0, token);
      },
      onToken: (token: number, index: number) => {
        t.started = true;
        feed.push(index + indexOffset, token);
      },
      onDone: () => feed.end(),
      onError: (e: EngineError) =>
        feed.end(
          t.handedBack
            ? new WorkerError('draining', 'handed back: the worker is switching roles; retry on another worker')
            : e.status === PdwStatus.cancelled
              ? new WorkerError('engine_error', 'cancelled')
              : engineFailure(e, 'engine'),
        ),
    };
  }

  app.post('/v1/prefill', { schema: { body: PrefillBody, response: { 200: PrefillReply, '4xx': ErrorBody, '5xx': ErrorBody } } }, async (request, reply) => {
    const body = request.body as PrefillBody;
    const arrived = now();
    host.admit('prefill');
    // engine.limits, not stats(): stats() is a native call that builds an object, and these figures never change.
    const stats = engine.limits;
    const tokens = promptIds(body, stats.vocab);
    checkLength(tokens.length, 'prompt');
    const t = host.track();
    try {
      cancelOnClose(reply, t);
      const first = await new Promise<{ token: number; queueSeconds: number }>((resolve, reject) => {
        try {
          t.engineId = engine.prefill(tokens, {
            onFirstToken: (token, queueSeconds) => resolve({ token, queueSeconds }),
            onError: (e) =>
              reject(t.handedBack ? new WorkerError('draining', 'handed back before prefill: the worker is switching roles; retry on another worker') : engineFailure(e, 'prefill')),
          });
        } catch (error) {
          reject(engineFailure(error, 'prefill'));
        }
      });
      const done = now();
      const kvBytes = tokens.length * stats.kvBytesPerToken;
      let kv: { kvHandle: string; kvUrl: string } | undefined;
      if (body.retainKv === false) {
        // Nobody will pull it (the first token was all the caller wanted): free it now, no handle, no later release call.
        engine.kvRelease(t.engineId!);
      } else {
        const kvHandle = host.holdKv(t.engineId!, tokens.length, kvBytes);
        kv = { kvHandle, kvUrl: `${opts.advertiseUrl()}/v1/kv/${kvHandle}` };
      }
      metrics.observeTtft(done - arrived);
      metrics.countRequest('ok');
      return reply.send({
        requestId: body.requestId ?? String(t.engineId),
        firstToken: first.token,
        ...kv,
        promptTokens: tokens.length,
        kvBytes,
        timing: { queueSeconds: first.queueSeconds, prefillSeconds: done - arrived - first.queueSeconds, ttftSeconds: done - arrived },
      });
    } finally {
      host.untrack(t);
    }
  });

  app.post('/v1/decode', { schema: { body: DecodeBody, response: { 200: CompletionReply, '4xx': ErrorBody, '5xx': ErrorBody } } }, async (request, reply) => {
    const body = request.body as DecodeBody;
    const arrived = now();
    host.admit('decode');
    if (body.firstToken >= vocab()) throw new WorkerError('bad_request', `firstToken ${body.firstToken} is outside the vocabulary (${vocab()})`);
    checkLength(body.promptTokens + body.maxTokens - 1, 'prompt + output');
    const t = host.track();
    try {
      cancelOnClose(reply, t);
      // Pull the KV from the prefill worker (its memory is the queue: pull-based, as in DistServe).
      let blob: Buffer;
      try {
        const res = await undiciRequest(body.kvUrl, { dispatcher: kvAgent });
        if (res.statusCode !== 200) {
          await res.body.dump();
          if (res.statusCode === 404) throw new WorkerError('kv_not_found', `KV at ${body.kvUrl} not found (pulled already, expired, or never issued)`);
          throw new WorkerError('kv_unreachable', `KV pull from ${body.kvUrl} answered ${res.statusCode}`);
        }
        blob = Buffer.from(await res.body.arrayBuffer());
      } catch (error) {
        if (error instanceof WorkerError) throw error;
        throw new WorkerError('kv_unreachable', `KV pull from ${body.kvUrl} failed: ${(error as Error).message}`);
      }
      const header = readKvHeader(blob);
      if (!header) throw new WorkerError('kv_mismatch', 'pulled KV is not a PDKV blob');
      if (header.tokens !== body.promptTokens) throw new WorkerError('kv_mismatch', `pulled KV holds ${header.tokens} tokens, the request says ${body.promptTokens}`);
      // Charge the link: a transfer of accountedBytes takes at least bytes ÷ bandwidth (sim moves only a header).
      const bw = host.options.kvBandwidthBytesPerSecond;
      const pulledAt = now();
      if (bw > 0) {
        const owed = header.accountedBytes / bw - (pulledAt - arrived);
        if (owed > 0) await sleep(owed);
      }
      metrics.countKvBytes('in', header.accountedBytes);
      const kvReady = now();
      if (t.handedBack) throw new WorkerError('draining', 'handed back before decode: the worker is switching roles; retry on another worker');
      const feed = new TokenFeed();
      const requestId = body.requestId ?? `d${Date.now().toString(36)}`;
      const maxNew = body.maxTokens - 1;
      if (maxNew === 0) {
        feed.end();
      } else {
        try {
          t.engineId = engine.decode(body.firstToken, body.promptTokens, maxNew, blob, feedHandlers(feed, t, 1));
        } catch (error) {
          throw engineFailure(error, 'decode');
        }
      }
      const timing = () => {
        const produced = feed.tokens.length;
        const tpot = produced > 0 && feed.lastTokenAt ? (feed.lastTokenAt - kvReady) / produced : 0;
        return { kvTransferSeconds: kvReady - arrived, totalSeconds: now() - arrived, tpotSeconds: tpot };
      };
      const finished = (async () => {
        while (!feed.ended) await feed.next();
        if (!feed.error) {
          metrics.countRequest('ok');
          if (feed.tokens.length > 0) metrics.observeTpot(timing().tpotSeconds);
        } else if (feed.error.code === 'draining') metrics.countRequest('handed_back');
      })();
      // maxTokens 1: nothing to decode, but a streaming caller still gets its done line.
      const result = await respondWithFeed(request, reply, feed, body.stream !== false, requestId, 1, timing);
      await finished;
      return result;
    } finally {
      host.untrack(t);
    }
  });

  app.post('/v1/generate', { schema: { body: GenerateBody, response: { 200: CompletionReply, '4xx': ErrorBody, '5xx': ErrorBody } } }, async (request, reply) => {
    const body = request.body as GenerateBody;
    const arrived = now();
    host.admit('any');
    const tokens = promptIds(body, vocab());
    checkLength(tokens.length + body.maxTokens - 1, 'prompt + output');
    const t = host.track();
    try {
      cancelOnClose(reply, t);
      const feed = new TokenFeed();
      try {
        t.engineId = engine.generate(tokens, body.maxTokens, feedHandlers(feed, t, 0));
      } catch (error) {
        throw engineFailure(error, 'generate');
      }
      const requestId = body.requestId ?? String(t.engineId);
      const timing = () => ({
        ttftSeconds: (feed.firstTokenAt ?? now()) - arrived,
        tpotSeconds: feed.tokens.length > 1 && feed.lastTokenAt && feed.firstTokenAt ? (feed.lastTokenAt - feed.firstTokenAt) / (feed.tokens.length - 1) : 0,
        totalSeconds: now() - arrived,
      });
      const result = await respondWithFeed(request, reply, feed, body.stream !== false, requestId, 0, timing);
      while (!feed.ended) await feed.next();
      if (!feed.error) metrics.countRequest('ok');
      return result;
    } finally {
      host.untrack(t);
    }
  });

  app.get('/v1/kv/:handle', { schema: { params: KvParams, response: { '4xx': ErrorBody } } }, async (request, reply) => {
    const { handle } = request.params as { handle: string };
    const kv = await host.takeKv(handle);
    return reply
      .header('content-type', 'application/octet-stream')
      .header('x-pdpilot-kv-tokens', String(kv.tokens))
      .header('x-pdpilot-kv-accounted-bytes', String(kv.accountedBytes))
      .send(kv.blob);
  });

  app.post('/v1/role', { schema: { body: RoleBody, response: { 200: RoleReply, '4xx': ErrorBody, '5xx': ErrorBody } } }, async (request) => {
    const body = request.body as RoleBody;
    return host.switchRole(body.role, body.drainTimeoutSeconds);
  });

  app.get('/v1/state', { schema: { response: { 200: StateReply } } }, async () => {
    const s = engine.stats();
    const total = s.kvTotalBlocks * s.blockSize;
    const o = host.options;
    return {
      worker: o.workerId,
      role: host.role,
      status: host.status,
      backend: o.backend,
      model: o.profile?.model ?? (o.backend === 'cpu' || o.backend === 'cuda' ? `llama-l${o.shape.layers}-h${o.shape.hidden}` : 'unknown'),
      // Both queues count: a generate (colocated) request waits in the prefill queue whatever the role.
      queue: { requests: s.queuedPrefill + s.queuedDecode, tokens: s.queuedPrefillTokens + s.queuedDecodeTokens },
      running: s.running,
      heldKvHandles: host.heldHandles,
      kv: {
        usedBlocks: s.kvUsedBlocks,
        totalBlocks: s.kvTotalBlocks,
        blockSize: s.blockSize,
        usedTokens: s.kvUsedTokens,
        totalTokens: total,
        bytesPerToken: s.kvBytesPerToken,
        usage: s.kvTotalBlocks > 0 ? s.kvUsedBlocks / s.kvTotalBlocks : 0,
      },
      vocabSize: s.vocab,
      contextTokens: s.contextTokens,
      ...(host.lastSwitch ? { lastSwitch: host.lastSwitch } : {}),
    };
  });

  app.get('/metrics', async (_request, reply) => {
    const text = await metrics.registry.metrics();
    return reply.header('content-type', metrics.registry.contentType).send(text);
  });
  app.get('/healthz', async () => ({ ok: true }));
  app.get('/readyz', async (_request, reply) => {
    if (host.status === 'ready') return { ready: true, role: host.role };
    return reply.code(503).send({ ready: false, status: host.status });
  });

  engine.onStep = (step) => metrics.observeStep(step.kind, step.seconds, step.kind === 'prefill' ? step.tokens : step.batch);
  return app;
}
