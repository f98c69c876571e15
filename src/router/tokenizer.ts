// Prompt token counting and output detokenisation with gpt-tokenizer (pure
// JS, its BPE tables bundled, so it works offline). The encoding follows the
// served model: OPT and GPT-2 models use GPT-2's byte-level BPE, which is
// r50k_base (so counts match the model's own tokenizer, less OPT's one BOS
// token); anything else gets cl100k_base, the encoding of the OpenAI models
// whose API the router speaks — a close, not exact, count for other BPE
// vocabularies (docs/router-api.md).
import * as cl100k from 'gpt-tokenizer/encoding/cl100k_base';
import * as r50k from 'gpt-tokenizer/encoding/r50k_base';

export type EncodingName = 'r50k_base' | 'cl100k_base';

interface Encoding {
  encode(text: string, options?: { allowedSpecial?: Set<string>; disallowedSpecial?: Set<string> }): number[];
  decode(tokens: Iterable<number>): string;
  vocabularySize: number;
}

const ENCODINGS: Record<EncodingName, Encoding> = { r50k_base: r50k, cl100k_base: cl100k };

/** The encoding of a model name: GPT-2 BPE for OPT and GPT-2 families, cl100k_base otherwise. */
export function encodingForModel(model: string): EncodingName {
  return /(^|[/_-])(opt|gpt2|gpt-2)([/_-]|$)/i.test(model) ? 'r50k_base' : 'cl100k_base';
}

export interface ChatMessage {
  role: string;
  content: string;
}

export class Tokenizer {
  private readonly encoding: Encoding;
  /** Id the model ends text with (`<|endoftext|>`); generation stops there unless `ignore_eos`. */
  readonly eosToken: number;
  readonly vocabularySize: number;
  // Output tokens repeat a lot; caching their text keeps detokenisation off the hot path.
  private readonly pieces = new Map<number, string>();

  constructor(readonly encodingName: EncodingName) {
    this.encoding = ENCODINGS[encodingName];
    this.vocabularySize = this.encoding.vocabularySize;
    const eos = this.encoding.encode('<|endoftext|>', { allowedSpecial: new Set(['<|endoftext|>']) });
    if (eos.length !== 1) throw new Error(`${encodingName}: <|endoftext|> is not one token`);
    this.eosToken = eos[0] as number;
  }

  /** User text → ids; special-token text is encoded as plain text, never as the special token (no injected EOS). */
  encode(text: string): number[] {
    return this.encoding.encode(text, { disallowedSpecial: new Set() });
  }

  /**
   * Text of one output token. Ids outside the vocabulary (a worker whose
   * model has a larger one) have no text here and come back empty; byte
   * pieces that are half of a UTF-8 character come back as U+FFFD.
   */
  piece(token: number): string {
    let text = this.pieces.get(token);
    if (text === undefined) {
      text = token >= 0 && token < this.vocabularySize && token !== this.eosToken ? this.encoding.decode([token]) : '';
      if (this.pieces.size < 100_000) this.pieces.set(token, text);
    }
    return text;
  }

  /**
   * The prompt a chat becomes. OPT has no chat template, so messages are laid
   * out as `role: content` lines with a trailing `assistant:` cue, the plain
   * layout base models complete sensibly; the count is of exactly this text.
   */
  chatPrompt(messages: readonly ChatMessage[]): string {
    return `${messages.map((m) => `${m.role}: ${m.content}`).join('\n')}\nassistant:`;
  }
}
