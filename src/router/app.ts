// The OpenAI-compatible front door (docs/router-api.md). buildRouterApp()
// wires the routes to the request runner without listening, so tests and the
// daemon choose where it listens.
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import type { Clock } from '../lib/clock.js';
import { isWorkerFailure } from '../fleet/worker-call-error.js';
import type { Admission } from './admission.js';
import { RouterError } from './errors.js';
import type { FleetView } from './fleet-view.js';
import type { Outcome, RouterMetrics } from './metrics.js';
import { ChatBody, ChatReply, CompletionBody, CompletionReply, ErrorReply, ModelsReply } from './openai-schemas.js';
import type { Generation, GenerationResult, RequestRunner } from './request-runner.js';
import type { Tokenizer } from './tokenizer.js';

export interface RouterSettings {
  /** The one model name served. */
  model: string;
  /** Largest max_tokens accepted. */
  maxTokens: number;
  /** Prompt plus max_tokens may not exceed this (nor the workers' own context). */
  contextTokens: number;
  requestTimeoutSeconds: number;
}

/**
 * Told about every admitted request: when it is admitted, with its prompt
 * length and the output length it asked for, and how it ended. The daemon
 * feeds the controller's interval load meter and SLO metrics from it, so
 * the controller plans on the load the front door actually saw.
 */
export interface RequestListener {
  admitted(request: { inputTokens: number; outputTokens: number }): void;
  /** Served with tokens; TPOT is 0 for a single-token output (domain RequestOutcome). */
  served(outcome: { ttftSeconds: number; tpotSeconds: number }): void;
  /** Admitted but not served: failed or timed out (a client that went away is neither). */
  failed(): void;
}

export interface RouterDeps {
  settings: RouterSettings;
  fleet: FleetView;
  runner: RequestRunner;
  admission: Admission;
  tokenizer: Tokenizer;
  metrics: RouterMetrics;
  clock: Clock;
  listener?: RequestListener;
  logger?: boolean;
}

type Endpoint = 'completion' | 'chat';

/** What the handler acts on, after validation. */
interface Parsed {
  promptIds: number[];
  maxTokens: number;
  stream: boolean;
  includeUsage: boolean;
  ignoreEos: boolean;
  returnTokenIds: boolean;
}

// OpenAI's default for /v1/completions; chat defaults to "as much as fits".
const COMPLETION_DEFAULT_MAX_TOKENS = 16;

/**
 * Prompt ids for a length-only request (`prompt_tokens`): a fixed
 * deterministic sequence, so a replayed trace sends the same prompt every
 * run, and the ids are the router's to resend when it resumes a request.
 */
function syntheticPrompt(length: number, vocabularySize: number): number[] {
  const ids = new Array<number>(length);
  for (let i = 0; i < length; i++) ids[i] = (i * 7919 + 13) % vocabularySize;
  return ids;
}

const OUTCOME_BY_CODE: Partial<Record<string, Outcome>> = {
  queue_full: 'rejected_busy',
  no_worker_ready: 'no_worker',
  shutting_down: 'no_worker',
  upstream_failed: 'failed',
  internal_error: 'failed',
  timeout: 'timeout',
};

export function buildRouterApp(deps: RouterDeps): FastifyInstance {
  const { settings, fleet, runner, admission, tokenizer, metrics, clock, listener } = deps;
  const app = Fastify({
    logger: deps.logger ?? false,
    bodyLimit: 8 << 20,
    // Types are what the client sent: "16" is not a max_tokens.
    ajv: { customOptions: { coerceTypes: false } },
  });
  const idPrefix = randomBytes(4).toString('hex');
  let idCounter = 0;
  const startedAt = Math.floor(Date.now() / 1000);

  app.setErrorHandler((error: FastifyError, _request, reply) => {
    let e: RouterError;
    if (error instanceof RouterError) e = error;
    else if (error.validation) {
      const v = error.validation[0];
      const param = (v?.instancePath ?? '').replace(/^\//, '').replaceAll('/', '.') || (v?.params as { missingProperty?: string } | undefined)?.missingProperty || null;
      e = new RouterError('invalid_request', `invalid request body: ${error.message}`, param);
    } else if (error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
      e = new RouterError('invalid_json', `the body is not valid JSON (${error.message})`);
    } else if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      e = new RouterError('body_too_large', error.message);
    } else if ((error.statusCode ?? 500) < 500) {
      e = new RouterError('invalid_request', error.message);
    } else {
      app.log.error(error);
      e = new RouterError('internal_error', 'internal error');
    }
    metrics.countRequest(OUTCOME_BY_CODE[e.code] ?? 'client_error');
    if (e.retryAfterSeconds !== undefined) void reply.header('retry-after', String(e.retryAfterSeconds));
    return reply.code(e.status).send(e.toJSON());
  });

  app.setNotFoundHandler((request, reply) => {
    const e = new RouterError('route_not_found', `no route ${request.method} ${request.url}`);
    return reply.code(e.status).send(e.toJSON());
  });

  const errorReplies = { '4xx': ErrorReply, '5xx': ErrorReply };

  app.post('/v1/completions', { schema: { body: CompletionBody, response: { 200: CompletionReply, ...errorReplies } } }, (request, reply) =>
    serve('completion', request.body as CompletionBody, reply),
  );
  app.post('/v1/chat/completions', { schema: { body: ChatBody, response: { 200: ChatReply, ...errorReplies } } }, (request, reply) =>
    serve('chat', request.body as ChatBody, reply),
  );

  app.get('/v1/models', { schema: { response: { 200: ModelsReply } } }, async () => ({
    object: 'list' as const,
    data: [{ id: settings.model, object: 'model' as const, created: startedAt, owned_by: 'pdpilot' }],
  }));

  app.get('/metrics', async (_request, reply) => {
    const text = await metrics.registry.metrics();
    return reply.header('content-type', metrics.registry.contentType).send(text);
  });
  app.get('/healthz', async () => ({ ok: true }));
  app.get('/readyz', async (_request, reply) => {
    const prefill = fleet.countAccepting('prefill');
    const decode = fleet.countAccepting('decode');
    return reply.code(prefill > 0 && decode > 0 ? 200 : 503).send({ ready: prefill > 0 && decode > 0, prefill, decode });
  });

  function parse(endpoint: Endpoint, body: CompletionBody | ChatBody): Parsed {
    if (body.model !== settings.model) {
      throw new RouterError('model_not_found', `The model \`${body.model}\` does not exist; this router serves \`${settings.model}\``, 'model');
    }
    if (body.n !== undefined && body.n !== null && body.n !== 1) throw new RouterError('unsupported_parameter', 'only n = 1 is supported', 'n');
    let promptIds: number[];
    if (body.prompt_tokens !== undefined) {
      promptIds = syntheticPrompt(body.prompt_tokens, tokenizer.vocabularySize);
    } else if (endpoint === 'chat') {
      const messages = (body as ChatBody).messages.map((m) => ({
        role: m.role,
        content: typeof m.content === 'string' ? m.content : (m.content ?? []).map((p) => p.text).join(''),
      }));
      promptIds = tokenizer.encode(tokenizer.chatPrompt(messages));
    } else {
      const prompt = (body as CompletionBody).prompt;
      if (prompt === undefined) throw new RouterError('invalid_request', 'prompt is required (or the prompt_tokens extension)', 'prompt');
      if (Array.isArray(prompt) && typeof prompt[0] === 'string') {
        if (prompt.length !== 1) throw new RouterError('unsupported_parameter', 'one prompt per request: a list of several prompts is not supported', 'prompt');
        promptIds = tokenizer.encode(prompt[0] as string);
      } else {
        promptIds = typeof prompt === 'string' ? tokenizer.encode(prompt) : (prompt as number[]);
      }
    }
    if (promptIds.length === 0) throw new RouterError('invalid_request', 'the prompt is empty', 'prompt');

    const fleetContext = fleet.contextTokens();
    const context = fleetContext > 0 ? Math.min(settings.contextTokens, fleetContext) : settings.contextTokens;
    if (promptIds.length >= context) {
      throw new RouterError('context_length_exceeded', `the prompt has ${promptIds.length} tokens; this model's context is ${context} tokens, prompt and output together`, 'prompt');
    }
    const asked = endpoint === 'chat' ? ((body as ChatBody).max_completion_tokens ?? body.max_tokens) : body.max_tokens;
    const param = endpoint === 'chat' && (body as ChatBody).max_completion_tokens != null ? 'max_completion_tokens' : 'max_tokens';
    let maxTokens: number;
    if (asked === undefined || asked === null) {
      maxTokens = endpoint === 'completion' ? COMPLETION_DEFAULT_MAX_TOKENS : Math.min(settings.maxTokens, context - promptIds.length);
    } else {
      if (asked < 1) throw new RouterError('invalid_max_tokens', `${param} must be at least 1, got ${asked}`, param);
      if (asked > settings.maxTokens) throw new RouterError('invalid_max_tokens', `${param} is ${asked}; this router allows at most ${settings.maxTokens}`, param);
      maxTokens = asked;
    }
    if (promptIds.length + maxTokens > context) {
      throw new RouterError(
        'context_length_exceeded',
        `the prompt has ${promptIds.length} tokens and ${param} is ${maxTokens}: ${promptIds.length + maxTokens} exceeds this model's context of ${context} tokens`,
        param,
      );
    }
    return {
      promptIds,
      maxTokens,
      stream: body.stream === true,
      includeUsage: body.stream_options?.include_usage === true,
      ignoreEos: body.ignore_eos === true,
      returnTokenIds: body.return_token_ids === true,
    };
  }

  async function serve(endpoint: Endpoint, body: CompletionBody | ChatBody, reply: FastifyReply): Promise<unknown> {
    const arrivedAt = clock.nowSeconds();
    const p = parse(endpoint, body);
    if (fleet.countAccepting('prefill') === 0 || fleet.countAccepting('decode') === 0) {
      throw new RouterError('no_worker_ready', 'no prefill or no decode worker is ready', null, 1);
    }
    admission.admit();
    metrics.countTokens('prompt', p.promptIds.length);
    listener?.admitted({ inputTokens: p.promptIds.length, outputTokens: p.maxTokens });

    const id = `${endpoint === 'chat' ? 'chatcmpl' : 'cmpl'}-${idPrefix}${(idCounter++).toString(36)}`;
    const created = Math.floor(Date.now() / 1000);
    const abort = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      abort.abort();
    }, settings.requestTimeoutSeconds * 1000);
    const res = reply.raw;
    // The time it waited on workers, set once served (−1 until then): when the response has gone out, the rest
    // of its time in the router is the router's own.
    let workerSeconds = -1;
    res.on('close', () => {
      if (!res.writableFinished) abort.abort();
      else if (workerSeconds >= 0) metrics.observeOverhead(Math.max(0, clock.nowSeconds() - arrivedAt - workerSeconds));
    });

    const sse = p.stream ? new SseWriter(res, endpoint, id, created, settings.model, p.includeUsage, p.returnTokenIds) : undefined;
    let queued = true;
    const onToken = (token: number) => {
      if (queued) {
        queued = false;
        admission.leaveQueue();
        metrics.observeTtft(clock.nowSeconds() - arrivedAt);
        if (sse) {
          // Headers go out with the first token: until then a failure can still be a proper HTTP status.
          void reply.hijack();
          sse.open();
        }
      }
      sse?.token(token, tokenizer.piece(token));
    };
    const generation: Generation = {
      requestId: id,
      promptIds: p.promptIds,
      maxTokens: p.maxTokens,
      eosToken: p.ignoreEos ? undefined : tokenizer.eosToken,
    };

    let result: GenerationResult;
    try {
      result = await runner.run(generation, onToken, abort.signal);
    } catch (error) {
      const e = timedOut
        ? new RouterError('timeout', `the request did not finish within router.requestTimeoutSeconds (${settings.requestTimeoutSeconds} s)`)
        : error;
      if (!timedOut && isWorkerFailure(e) && e.kind === 'aborted') {
        // The client went away; nobody is left to answer.
        metrics.countRequest('cancelled');
        if (!sse?.opened) void reply.hijack();
        return reply;
      }
      listener?.failed();
      if (sse?.opened) {
        // Mid-stream: the status line is gone; OpenAI clients raise an `error` event.
        const re = e instanceof RouterError ? e : new RouterError('internal_error', 'internal error');
        metrics.countRequest(OUTCOME_BY_CODE[re.code] ?? 'failed');
        sse.fail(re);
        return reply;
      }
      throw e;
    } finally {
      clearTimeout(timer);
      if (queued) admission.leaveQueue();
      admission.finish();
    }

    workerSeconds = result.workerSeconds;
    metrics.countRequest('ok');
    metrics.countTokens('output', result.tokens.length);
    const tpotSeconds = result.tokens.length > 1 ? (result.lastTokenAtSeconds - result.firstTokenAtSeconds) / (result.tokens.length - 1) : 0;
    if (result.tokens.length > 1) metrics.observeTpot(tpotSeconds);
    listener?.served({ ttftSeconds: result.firstTokenAtSeconds - arrivedAt, tpotSeconds });
    const usage = { prompt_tokens: p.promptIds.length, completion_tokens: result.tokens.length, total_tokens: p.promptIds.length + result.tokens.length };
    if (sse) {
      sse.finish(result.finishReason, usage);
      return reply;
    }
    const text = result.tokens.map((t) => tokenizer.piece(t)).join('');
    const ids = p.returnTokenIds ? { token_ids: result.tokens } : {};
    if (endpoint === 'chat') {
      return {
        id,
        object: 'chat.completion',
        created,
        model: settings.model,
        choices: [{ index: 0, message: { role: 'assistant', content: text }, logprobs: null, finish_reason: result.finishReason, ...ids }],
        usage,
      };
    }
    return {
      id,
      object: 'text_completion',
      created,
      model: settings.model,
      choices: [{ index: 0, text, logprobs: null, finish_reason: result.finishReason, ...ids }],
      usage,
    };
  }

  return app;
}

interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/**
 * Server-sent events in OpenAI's streaming format: one chunk per token, a
 * last chunk with finish_reason, the usage chunk (choices empty) when
 * stream_options.include_usage, then `data: [DONE]`.
 */
class SseWriter {
  opened = false;
  private readonly usageField: string;

  constructor(
    private readonly res: ServerResponse,
    private readonly endpoint: Endpoint,
    private readonly id: string,
    private readonly created: number,
    private readonly model: string,
    private readonly includeUsage: boolean,
    private readonly returnTokenIds: boolean,
  ) {
    // With include_usage, OpenAI sends "usage": null on every chunk but the last.
    this.usageField = includeUsage ? ',"usage":null' : '';
  }

  open(): void {
    this.opened = true;
    this.res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
    if (this.endpoint === 'chat') this.chunk({ role: 'assistant', content: '' }, null);
  }

  token(token: number, text: string): void {
    if (this.endpoint === 'chat') this.chunk({ content: text }, null, token);
    else this.chunk(text, null, token);
  }

  finish(reason: 'length' | 'stop', usage: Usage): void {
    this.chunk(this.endpoint === 'chat' ? {} : '', reason);
    if (this.includeUsage) {
      this.write({ id: this.id, object: this.object(), created: this.created, model: this.model, choices: [], usage });
    }
    this.res.end('data: [DONE]\n\n');
  }

  fail(error: RouterError): void {
    this.write(error.toJSON());
    this.res.end();
  }

  private object(): string {
    return this.endpoint === 'chat' ? 'chat.completion.chunk' : 'text_completion';
  }

  private chunk(content: string | Record<string, string>, finishReason: string | null, token?: number): void {
    const ids = this.returnTokenIds && token !== undefined ? `,"token_ids":[${token}]` : '';
    const part = typeof content === 'string' ? `"text":${JSON.stringify(content)}` : `"delta":${JSON.stringify(content)}`;
    // Hand-built JSON: this runs once per output token, and the frame around the text never changes.
    this.res.write(
      `data: {"id":"${this.id}","object":"${this.object()}","created":${this.created},"model":${JSON.stringify(this.model)},` +
        `"choices":[{"index":0,${part},"logprobs":null,"finish_reason":${finishReason === null ? 'null' : `"${finishReason}"`}${ids}}]${this.usageField}}\n\n`,
    );
  }

  private write(value: unknown): void {
    this.res.write(`data: ${JSON.stringify(value)}\n\n`);
  }
}
