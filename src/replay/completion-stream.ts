import { OK, type StreamOutcome } from './outcome.js';

/**
 * Reads the events of one streamed OpenAI completion (decoded by
 * SseDecoder) and keeps what replay measures: when each token came, how
 * many, the usage chunk's count, and how the stream ended. Pure: the caller
 * passes the time each event arrived.
 *
 * A token event is a chunk whose choice has no finish_reason (pdpilot's
 * router sends one per token and a separate last chunk with the reason and
 * empty text; the end-of-text token may have empty text too), or one with a
 * finish_reason and non-empty text (servers that put the reason on the last
 * token's chunk).
 */
export class CompletionStreamTracker {
  private tokens = 0;
  private firstTokenSeconds: number | undefined;
  private lastTokenSeconds: number | undefined;
  private usageTokens: number | undefined;
  private done = false;
  private failure: string | undefined;

  /** Takes one event's data; returns false once the stream has said all it will ([DONE] or an error). */
  onEvent(data: string, nowSeconds: number): boolean {
    if (this.done || this.failure !== undefined) return false;
    if (data === '[DONE]') {
      this.done = true;
      return false;
    }
    let chunk: unknown;
    try {
      chunk = JSON.parse(data);
    } catch {
      this.failure = 'malformed_event';
      return false;
    }
    if (!isObject(chunk)) {
      this.failure = 'malformed_event';
      return false;
    }
    if (chunk.error !== undefined) {
      // A failure after the stream began: one error event, no [DONE] (docs/router-api.md, "Errors").
      this.failure = errorCode(chunk.error) ?? 'stream_error';
      return false;
    }
    const usage = chunk.usage;
    if (isObject(usage) && typeof usage.completion_tokens === 'number') this.usageTokens = usage.completion_tokens;
    const choice = Array.isArray(chunk.choices) ? chunk.choices[0] : undefined;
    if (isObject(choice)) {
      const finished = choice.finish_reason !== null && choice.finish_reason !== undefined;
      if (!finished || textOf(choice) !== '') {
        this.tokens++;
        this.firstTokenSeconds ??= nowSeconds;
        this.lastTokenSeconds = nowSeconds;
      }
    }
    return true;
  }

  /** The outcome when the body ended (or was cut) at `endSeconds`. */
  outcome(endSeconds: number): StreamOutcome {
    let reason = this.failure ?? (this.done ? OK : 'stream_truncated');
    if (reason === OK && this.tokens === 0) reason = 'no_tokens';
    const outcome: StreamOutcome = { reason, tokens: this.tokens, endSeconds };
    if (this.usageTokens !== undefined) outcome.usageTokens = this.usageTokens;
    if (this.firstTokenSeconds !== undefined) outcome.firstTokenSeconds = this.firstTokenSeconds;
    if (this.lastTokenSeconds !== undefined) outcome.lastTokenSeconds = this.lastTokenSeconds;
    return outcome;
  }
}

/** The `code` of an OpenAI error object (`{"error": {"code": …}}`'s inner object), if it has one. */
export function errorCode(error: unknown): string | undefined {
  if (!isObject(error)) return undefined;
  const code = error.code;
  return typeof code === 'string' && code !== '' ? code : undefined;
}

function textOf(choice: Record<string, unknown>): string {
  if (typeof choice.text === 'string') return choice.text;
  const delta = choice.delta;
  return isObject(delta) && typeof delta.content === 'string' ? delta.content : '';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
