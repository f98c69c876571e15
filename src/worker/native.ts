// Loads the native engine (native-worker/, built by `npm ci` through node-gyp)
// and types its surface. The addon is a thin layer over include/pdw.h.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Status codes of include/pdw.h. */
export const PdwStatus = {
  ok: 0,
  invalid: 1,
  tooLong: 2,
  notFound: 3,
  exists: 4,
  backend: 5,
  stopped: 6,
  cancelled: 100,
} as const;

export const PdwEvent = { firstToken: 1, token: 2, done: 3, error: 4, step: 5 } as const;

export interface NativeEvent {
  type: number;
  code: number;
  id: number;
  token: number;
  index: number;
  batch: number;
  tokens: number;
  seconds: number;
  message?: string;
}

export interface NativeModelShape {
  layers: number;
  hidden: number;
  heads: number;
  kvHeads: number;
  ffn: number;
  vocab: number;
  maxContext: number;
  ropeTheta?: number;
  normEps?: number;
}

/** Mirrors pdw_config; keys left out keep pdw_config_default's values. */
export interface NativeConfig {
  backend: 'sim' | 'cpu' | 'cuda';
  blockSize?: number;
  kvCapacityTokens?: number;
  prefillTokenBudget?: number;
  maxBatch?: number;
  latency?: {
    prefill: readonly number[];
    decodeSmall: readonly number[];
    decodeLarge: readonly number[];
    thresholdBatch: number;
    pipelineParallel: number;
  };
  simVocab?: number;
  simContextTokens?: number;
  simKvBytesPerToken?: number;
  shape?: NativeModelShape;
  weights?: string;
  seed?: number;
  threads?: number;
}

export interface NativeStats {
  queuedPrefill: number;
  queuedDecode: number;
  queuedPrefillTokens: number;
  queuedDecodeTokens: number;
  running: number;
  held: number;
  kvUsedBlocks: number;
  kvTotalBlocks: number;
  blockSize: number;
  kvUsedTokens: number;
  vocab: number;
  contextTokens: number;
  kvBytesPerToken: number;
  steps: number;
}

export interface NativeEngine {
  submitPrefill(id: number, tokens: Int32Array): number;
  submitGenerate(id: number, tokens: Int32Array, maxNew: number): number;
  submitDecode(id: number, firstToken: number, context: number, maxNew: number, kv: Uint8Array): number;
  /** kind 1 = prefill (lens = prompt lengths), 2 = decode (lens = contexts); answers with a STEP event carrying `id`. */
  submitProbe(id: number, kind: number, lens: Int32Array): number;
  cancel(id: number): number;
  /** Exports the held KV and frees its blocks; rejects with an Error whose `code` is a PdwStatus. */
  kvTake(id: number): Promise<Buffer>;
  kvRelease(id: number): number;
  stats(): NativeStats;
  /** '' when the KV bookkeeping invariants hold, else what broke. */
  checkKv(): string;
  /** Keep Node's event loop alive while events are awaited / let it go. */
  ref(): void;
  unref(): void;
  close(): void;
}

export interface NativeModule {
  Engine: new (config: NativeConfig, onEvents: (events: NativeEvent[]) => void) => NativeEngine;
  /** Test/reference helper: logits (n, vocab) of a fresh cpu model, prefill tokens[0:split] then one decode step per token. */
  cpuLogits(config: NativeConfig, tokens: Int32Array, split: number): Float32Array;
  statusName(code: number): string;
}

/** Path of the built addon (native-worker/build/Release). */
export function addonPath(): string {
  return fileURLToPath(new URL('../../native-worker/build/Release/pdpilot_worker.node', import.meta.url));
}

let cached: NativeModule | undefined;

export function loadNative(): NativeModule {
  if (cached) return cached;
  const path = addonPath();
  if (!existsSync(path)) {
    throw new Error(`native worker addon missing at ${path}; run \`npm ci\` (or \`npm run install\`) to build it`);
  }
  const require = createRequire(import.meta.url);
  cached = require(path) as NativeModule;
  return cached;
}
