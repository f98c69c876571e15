// WorkerClient over HTTP for pdpilot's native worker (docs/protocol.md).
// One undici Pool per worker keeps connections open between requests: the
// router adds two worker round trips to every request, and a TCP handshake on
// each would cost more than the router's whole latency budget.
import { Pool, errors as undiciErrors } from 'undici';
import type { Dispatcher } from 'undici';
import { isRole, type Role } from '../domain/role.js';
import { failureKindOf, WorkerCallError } from './worker-call-error.js';
import type {
  CallOptions,
  DecodeCall,
  DecodedToken,
  PrefillCall,
  PrefillResult,
  RoleSwitchResult,
  WorkerClient,
  WorkerHealth,
  WorkerState,
} from './worker-client.js';

export interface NativeWorkerClientOptions {
  /** Worker id; default the base URL. */
  id?: string;
  /** Most open connections to this worker (concurrent requests beyond it queue in the pool). Default 256. */
  connections?: number;
  /** Bound on opening a connection, seconds. Default 2. */
  connectTimeoutSeconds?: number;
  /** Bound on state, health and metrics calls, seconds. Default 2. */
  controlTimeoutSeconds?: number;
  /**
   * Longest silence tolerated on a prefill or decode call (no headers, or no
   * bytes between two tokens), seconds. It catches a worker that hangs with
   * the connection open; the caller's signal bounds the whole request. Default 60.
   */
  stallTimeoutSeconds?: number;
}

const JSON_HEADERS = { 'content-type': 'application/json' };
const STATUSES = new Set(['starting', 'ready', 'draining', 'switching']);

export class NativeWorkerClient implements WorkerClient {
  readonly id: string;
  private readonly pool: Pool;
  private readonly controlMs: number;
  private readonly stallMs: number;

  constructor(
    readonly url: string,
    options: NativeWorkerClientOptions = {},
  ) {
    this.url = url.replace(/\/+$/, '');
    this.id = options.id ?? this.url;
    this.controlMs = (options.controlTimeoutSeconds ?? 2) * 1000;
    this.stallMs = (options.stallTimeoutSeconds ?? 60) * 1000;
    this.pool = new Pool(this.url, {
      connections: options.connections ?? 256,
      connect: { timeout: (options.connectTimeoutSeconds ?? 2) * 1000 },
      keepAliveTimeout: 30_000,
      // Workers answer one request per connection at a time; pipelining would let a slow decode block a prefill behind it.
      pipelining: 1,
    });
  }

  async state(options?: CallOptions): Promise<WorkerState> {
    const s = (await this.json('GET', '/v1/state', undefined, this.controlMs, options)) as RawState;
    if (!isRole(s.role) || !STATUSES.has(s.status)) {
      throw new WorkerCallError('failed', this.id, `/v1/state: unexpected role "${s.role}" or status "${s.status}"`, 'bad_state', 200);
    }
    return {
      workerId: s.worker,
      role: s.role,
      status: s.status as WorkerState['status'],
      backend: s.backend,
      model: s.model,
      queuedRequests: s.queue.requests,
      queuedTokens: s.queue.tokens,
      runningRequests: s.running,
      kvUsedTokens: s.kv.usedTokens,
      kvTotalTokens: s.kv.totalTokens,
      kvUsage: s.kv.usage,
      heldKvHandles: s.heldKvHandles,
      vocabSize: s.vocabSize,
      contextTokens: s.contextTokens,
    };
  }

  async prefill(call: PrefillCall, options?: CallOptions): Promise<PrefillResult> {
    const body = {
      ...(call.requestId ? { requestId: call.requestId } : {}),
      promptTokens: call.promptTokens,
      ...(call.retainKv === false ? { retainKv: false } : {}),
    };
    const r = (await this.json('POST', '/v1/prefill', body, this.stallMs, options)) as RawPrefill;
    return {
      firstToken: r.firstToken,
      kvUrl: r.kvUrl ?? '',
      promptTokens: r.promptTokens,
      kvBytes: r.kvBytes,
      queueSeconds: r.timing.queueSeconds,
      prefillSeconds: r.timing.prefillSeconds,
    };
  }

  async *decode(call: DecodeCall, options?: CallOptions): AsyncIterable<DecodedToken> {
    const body = {
      ...(call.requestId ? { requestId: call.requestId } : {}),
      kvUrl: call.kvUrl,
      firstToken: call.firstToken,
      promptTokens: call.promptTokens,
      maxTokens: call.maxTokens,
      stream: true,
    };
    const res = await this.send('POST', '/v1/decode', body, this.stallMs, options);
    if (res.statusCode !== 200) throw await this.replyError(res, '/v1/decode');
    let done = false;
    let pending = '';
    try {
      for await (const chunk of res.body) {
        pending += (chunk as Buffer).toString('utf8');
        let nl: number;
        while ((nl = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, nl);
          pending = pending.slice(nl + 1);
          if (line.length === 0) continue;
          const event = JSON.parse(line) as RawDecodeEvent;
          if (event.type === 'token') {
            yield { index: event.index, token: event.token };
          } else if (event.type === 'done') {
            done = true;
            return;
          } else {
            const e = event.error;
            throw new WorkerCallError(failureKindOf(e.code, e.retryable), this.id, `/v1/decode after ${event.tokensSent} tokens: ${e.message}`, e.code, 200);
          }
        }
      }
    } catch (error) {
      throw this.transportError(error, '/v1/decode', options);
    } finally {
      // Stopping early (the caller broke out, or an error): close the stream so the worker cancels the request.
      if (!done) res.body.destroy();
    }
    throw new WorkerCallError('unreachable', this.id, '/v1/decode: the stream ended before the worker said done');
  }

  async releaseKv(kvUrl: string, options?: CallOptions): Promise<void> {
    const path = new URL(kvUrl).pathname;
    const res = await this.send('GET', path, undefined, this.controlMs, options);
    // 404: already pulled or expired, which is what we wanted anyway.
    await res.body.dump();
  }

  async switchRole(role: Role, drainTimeoutSeconds?: number, options?: CallOptions): Promise<RoleSwitchResult> {
    const body = { role, ...(drainTimeoutSeconds !== undefined ? { drainTimeoutSeconds } : {}) };
    // The call lasts as long as the drain; the caller's signal bounds it.
    const r = (await this.json('POST', '/v1/role', body, 0, options)) as RoleSwitchResult;
    return r;
  }

  async metricsText(options?: CallOptions): Promise<string> {
    const res = await this.send('GET', '/metrics', undefined, this.controlMs, options);
    if (res.statusCode !== 200) throw await this.replyError(res, '/metrics');
    return res.body.text();
  }

  async health(options?: CallOptions): Promise<WorkerHealth> {
    try {
      const res = await this.send('GET', '/readyz', undefined, this.controlMs, options);
      await res.body.dump();
      return { live: true, ready: res.statusCode === 200 };
    } catch (error) {
      if (error instanceof WorkerCallError && (error.kind === 'unreachable' || error.kind === 'timeout')) return { live: false, ready: false };
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  /**
   * One JSON request → the parsed 200 body, or the WorkerCallError of the
   * reply or the transport. Built on pool.dispatch with a handler that
   * collects the bytes: request() would wrap every reply in a Readable stream
   * and an AsyncResource, which was a large share of the router's CPU per
   * request (every request makes at least one of these calls).
   */
  private json(method: 'GET' | 'POST', path: string, body: unknown, timeoutMs: number, options?: CallOptions): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const signal = options?.signal;
      if (signal?.aborted) {
        reject(this.transportError(new Error('aborted'), path, options));
        return;
      }
      let status = 0;
      let chunks: Buffer[] = [];
      let onAbort: (() => void) | undefined;
      const settle = () => {
        if (onAbort) signal!.removeEventListener('abort', onAbort);
        onAbort = undefined;
      };
      const handler: Dispatcher.DispatchHandlers = {
        onConnect: (abort) => {
          if (!signal) return;
          if (signal.aborted) abort(new Error('aborted'));
          else {
            onAbort = () => abort(new Error('aborted'));
            signal.addEventListener('abort', onAbort, { once: true });
          }
        },
        onHeaders: (statusCode) => {
          status = statusCode;
          return true;
        },
        onData: (chunk) => {
          chunks.push(chunk);
          return true;
        },
        onComplete: () => {
          settle();
          const text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
          chunks = [];
          if (status !== 200) {
            reject(this.errorOfReply(status, text, path));
            return;
          }
          try {
            resolve(JSON.parse(text));
          } catch (error) {
            reject(this.transportError(error, path, options));
          }
        },
        onError: (error) => {
          settle();
          reject(this.transportError(error, path, options));
        },
      };
      try {
        this.pool.dispatch(
          {
            method,
            path,
            ...(body !== undefined ? { body: JSON.stringify(body), headers: JSON_HEADERS } : {}),
            headersTimeout: timeoutMs,
            bodyTimeout: timeoutMs,
          },
          handler,
        );
      } catch (error) {
        settle();
        reject(this.transportError(error, path, options));
      }
    });
  }

  private async send(
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    timeoutMs: number,
    options?: CallOptions,
  ): Promise<Dispatcher.ResponseData> {
    try {
      return await this.pool.request({
        method,
        path,
        ...(body !== undefined ? { body: JSON.stringify(body), headers: JSON_HEADERS } : {}),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        ...(options?.signal ? { signal: options.signal } : {}),
      });
    } catch (error) {
      throw this.transportError(error, path, options);
    }
  }

  /** A non-200 reply → WorkerCallError with the worker's own code when it sent the protocol's error body. */
  private async replyError(res: Dispatcher.ResponseData, path: string): Promise<WorkerCallError> {
    let text = '';
    try {
      text = await res.body.text();
    } catch {
      // The body broke off: the status alone decides.
    }
    return this.errorOfReply(res.statusCode, text, path);
  }

  private errorOfReply(statusCode: number, text: string, path: string): WorkerCallError {
    let code = '';
    let message = `answered ${statusCode}`;
    let retryable = statusCode >= 500;
    try {
      const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; retryable?: unknown } };
      if (parsed.error && typeof parsed.error.code === 'string') {
        code = parsed.error.code;
        if (typeof parsed.error.message === 'string') message = parsed.error.message;
        if (typeof parsed.error.retryable === 'boolean') retryable = parsed.error.retryable;
      }
    } catch {
      // Not the protocol's error body (a proxy, a crash page): the status alone decides.
    }
    const kind = code ? failureKindOf(code, retryable) : statusCode >= 500 ? 'failed' : 'rejected';
    return new WorkerCallError(kind, this.id, `${path}: ${message}`, code || kind, statusCode);
  }

  private transportError(error: unknown, path: string, options?: CallOptions): Error {
    if (error instanceof WorkerCallError) return error;
    if (options?.signal?.aborted) return new WorkerCallError('aborted', this.id, `${path}: aborted by the caller`);
    if (
      error instanceof undiciErrors.HeadersTimeoutError ||
      error instanceof undiciErrors.BodyTimeoutError ||
      error instanceof undiciErrors.ConnectTimeoutError
    ) {
      return new WorkerCallError('timeout', this.id, `${path}: ${(error as Error).message}`);
    }
    if (error instanceof SyntaxError) return new WorkerCallError('failed', this.id, `${path}: malformed reply: ${error.message}`, 'bad_reply', 200);
    // Connection refused or reset, socket closed mid-reply: the process is gone or going.
    return new WorkerCallError('unreachable', this.id, `${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

interface RawState {
  worker: string;
  role: string;
  status: string;
  backend: string;
  model: string;
  queue: { requests: number; tokens: number };
  running: number;
  heldKvHandles: number;
  kv: { usedTokens: number; totalTokens: number; usage: number };
  vocabSize: number;
  contextTokens: number;
}

interface RawPrefill {
  firstToken: number;
  kvUrl?: string;
  promptTokens: number;
  kvBytes: number;
  timing: { queueSeconds: number; prefillSeconds: number };
}

type RawDecodeEvent =
  | { type: 'token'; index: number; token: number }
  | { type: 'done' }
  | { type: 'error'; tokensSent: number; error: { code: string; message: string; retryable: boolean } };
