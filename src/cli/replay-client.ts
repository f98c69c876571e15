// The concrete side of `pdpilot replay`: an HTTP transport that streams
// completions from an OpenAI-compatible server (pdpilot's router, docs/router-api.md)
// and times them on the wall clock, and the pacer that waits on real timers.
// The schedule and the report are in src/replay/, free of both.
import { Pool, request, errors as undiciErrors } from 'undici';
import { SystemClock, type Clock } from '../lib/clock.js';
import {
  CompletionStreamTracker,
  errorCode,
  SseDecoder,
  type Pacer,
  type ReplayRequest,
  type ReplayTransport,
  type StreamOutcome,
} from '../replay/index.js';

/** The wall clock, waiting with setTimeout (about 1 ms resolution; the report shows the lateness it causes). */
export class TimerPacer extends SystemClock implements Pacer {
  sleepUntil(seconds: number): Promise<void> {
    const ms = (seconds - this.nowSeconds()) * 1000;
    return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
  }
}

/** Where the API lives: `origin` (scheme, host, port) and the path `prefix` before `/v1` ('' or e.g. '/serving'). */
export interface ApiBase {
  origin: string;
  prefix: string;
  /** origin + prefix, as shown to the user. */
  href: string;
}

/**
 * The base of the API: the URL without trailing slashes and without a
 * trailing `/v1`, so `http://host:8000` and `http://host:8000/v1` (the
 * openai client's baseURL) mean the same server. Undefined for a URL that
 * is not http(s).
 */
export function apiBase(url: string): ApiBase | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return undefined;
  const prefix = parsed.pathname.replace(/\/+$/, '').replace(/\/v1$/, '');
  return { origin: parsed.origin, prefix, href: parsed.origin + prefix };
}

/** GET {base}/v1/models → the first model's id; throws an Error naming the URL when the server cannot say. */
export async function fetchModelId(base: ApiBase, timeoutSeconds: number): Promise<string> {
  const url = `${base.href}/v1/models`;
  let status: number;
  let text: string;
  try {
    const response = await request(url, { signal: AbortSignal.timeout(timeoutSeconds * 1000) });
    status = response.statusCode;
    text = await response.body.text();
  } catch (error) {
    const reason = error instanceof Error && error.name === 'TimeoutError' ? `no answer within ${timeoutSeconds} s` : ((error as { code?: string }).code ?? (error as Error).message);
    throw new Error(`cannot reach ${url}: ${reason}`, { cause: error });
  }
  if (status !== 200) throw new Error(`${url} answered ${status}: ${text.slice(0, 200).replace(/\s+/g, ' ')}`);
  let id: unknown;
  try {
    id = (JSON.parse(text) as { data?: { id?: unknown }[] }).data?.[0]?.id;
  } catch {
    // answered with something that is not JSON: reported below
  }
  if (typeof id !== 'string' || id === '') throw new Error(`${url} lists no model (expected {"data": [{"id": …}]})`);
  return id;
}

export interface HttpReplayTransportOptions {
  model: string;
  /** Bound on one request from send to the end of its stream, seconds; beyond it the request is a `timeout` failure. */
  timeoutSeconds: number;
  clock?: Clock;
}

/**
 * Sends each trace request as a streamed completion with the trace-replay
 * extensions (`prompt_tokens`, `ignore_eos`) and measures it. One undici
 * Pool with no connection limit: an open loop must never queue in the
 * client, so each in-flight request has its own connection.
 */
export class HttpReplayTransport implements ReplayTransport {
  private readonly pool: Pool;
  private readonly path: string;
  private readonly clock: Clock;

  constructor(
    base: ApiBase,
    private readonly options: HttpReplayTransportOptions,
  ) {
    this.clock = options.clock ?? new SystemClock();
    this.path = `${base.prefix}/v1/completions`;
    this.pool = new Pool(base.origin, {
      connections: null,
      pipelining: 1,
      // The router sends its headers with the first token, so a long queue is a long wait for headers;
      // the per-request signal bounds the whole request instead.
      headersTimeout: 0,
      bodyTimeout: 0,
      keepAliveTimeout: 30_000,
    });
  }

  async send(request: ReplayRequest): Promise<StreamOutcome> {
    const body = JSON.stringify({
      model: this.options.model,
      prompt: '',
      prompt_tokens: request.inputTokens,
      max_tokens: request.outputTokens,
      ignore_eos: true,
      stream: true,
      stream_options: { include_usage: true },
    });
    const tracker = new CompletionStreamTracker();
    try {
      const response = await this.pool.request({
        method: 'POST',
        path: this.path,
        headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
        body,
        signal: AbortSignal.timeout(this.options.timeoutSeconds * 1000),
      });
      if (response.statusCode !== 200) {
        const text = await response.body.text();
        return { reason: httpFailure(response.statusCode, text), tokens: 0, endSeconds: this.clock.nowSeconds() };
      }
      const decoder = new SseDecoder();
      response.body.setEncoding('utf8');
      let open = true;
      for await (const chunk of response.body as AsyncIterable<string>) {
        const now = this.clock.nowSeconds();
        for (const event of decoder.push(chunk)) open = tracker.onEvent(event, now) && open;
        if (!open) break;
      }
      return tracker.outcome(this.clock.nowSeconds());
    } catch (error) {
      const outcome = tracker.outcome(this.clock.nowSeconds());
      return { ...outcome, reason: transportFailure(error) };
    }
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}

/** An HTTP error's reason: its OpenAI `code`, else `http_<status>`. */
function httpFailure(status: number, text: string): string {
  try {
    const code = errorCode((JSON.parse(text) as { error?: unknown }).error);
    if (code !== undefined) return code;
  } catch {
    // not an OpenAI error body
  }
  return `http_${status}`;
}

function transportFailure(error: unknown): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError' || error instanceof undiciErrors.RequestAbortedError)) return 'timeout';
  const code = (error as { code?: string }).code;
  if (code === 'ECONNREFUSED') return 'connection_refused';
  if (code === 'ECONNRESET' || code === 'EPIPE' || error instanceof undiciErrors.SocketError) return 'connection_reset';
  return 'transport_error';
}
