// Worker options → native engine config. One place decides how a profile,
// a model shape string and the CLI flags become a pdw_config.
import { InputError, UsageError } from '../domain/errors.js';
import type { Role } from '../domain/role.js';
import type { Profile } from '../perf/profile.js';
import type { NativeConfig, NativeModelShape } from './native.js';

export type BackendName = 'sim' | 'cpu' | 'cuda';
export const BACKENDS: readonly BackendName[] = ['sim', 'cpu', 'cuda'];

/** Default cpu model: a small Llama (2 layers, hidden 256, 8 heads over 4 KV heads) that runs fast on two cores. */
export const DEFAULT_SHAPE: NativeModelShape = {
  layers: 2,
  hidden: 256,
  heads: 8,
  kvHeads: 4,
  ffn: 688,
  vocab: 1024,
  maxContext: 1024,
};

const SHAPE_KEYS: Record<string, keyof NativeModelShape> = {
  layers: 'layers',
  hidden: 'hidden',
  heads: 'heads',
  kvheads: 'kvHeads',
  'kv-heads': 'kvHeads',
  ffn: 'ffn',
  vocab: 'vocab',
  context: 'maxContext',
  maxcontext: 'maxContext',
  'max-context': 'maxContext',
  ropetheta: 'ropeTheta',
  'rope-theta': 'ropeTheta',
};

/** Parses `layers=2,hidden=256,heads=8,kvHeads=4,ffn=688,vocab=1024,context=1024` over the defaults. */
export function parseModelShape(text: string | undefined, where = '--model-shape'): NativeModelShape {
  const shape: NativeModelShape = { ...DEFAULT_SHAPE };
  if (!text) return shape;
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [k, v] = part.split('=');
    const key = SHAPE_KEYS[(k ?? '').toLowerCase()];
    const value = Number(v);
    if (!key) throw new InputError(where, `unknown key "${k}" (layers, hidden, heads, kvHeads, ffn, vocab, context, ropeTheta)`);
    if (!Number.isFinite(value) || value <= 0 || (key !== 'ropeTheta' && !Number.isInteger(value))) {
      throw new InputError(where, `${k} must be a positive ${key === 'ropeTheta' ? 'number' : 'integer'}, got "${v}"`);
    }
    shape[key] = value;
  }
  if (shape.hidden % shape.heads !== 0 || (shape.hidden / shape.heads) % 2 !== 0) {
    throw new InputError(where, 'hidden must be a multiple of heads with an even head dimension');
  }
  if (shape.heads % shape.kvHeads !== 0) throw new InputError(where, 'heads must be a multiple of kvHeads');
  return shape;
}

export interface WorkerOptions {
  role: Role;
  backend: BackendName;
  /** Required for sim (its step times); for cpu only names the model in /v1/state. */
  profile?: Profile;
  shape: NativeModelShape;
  weights?: string;
  seed: number;
  threads: number;
  blockSize: number;
  /** Tokens of KV the worker holds; sim defaults to the profile's kvCapacityTokens. */
  kvCapacityTokens?: number;
  prefillTokenBudget: number;
  maxBatch: number;
  /** KV pull bandwidth charged on decode, bytes/s; 0 = no charge beyond the real transfer. */
  kvBandwidthBytesPerSecond: number;
  /** Seconds an unpulled KV handle is kept before its blocks are freed. */
  kvTtlSeconds: number;
  /** Default bound on a role switch's drain before in-flight work is handed back. */
  drainTimeoutSeconds: number;
  workerId: string;
}

export function nativeConfig(o: WorkerOptions): NativeConfig {
  if (o.backend === 'sim') {
    const p = o.profile;
    if (!p) throw new UsageError('--backend sim needs --profile FILE (its step times come from the profile)');
    return {
      backend: 'sim',
      blockSize: o.blockSize,
      kvCapacityTokens: o.kvCapacityTokens ?? p.kvCapacityTokens,
      prefillTokenBudget: o.prefillTokenBudget,
      maxBatch: o.maxBatch,
      latency: {
        prefill: p.prefillMs,
        decodeSmall: p.decodeMs.smallBatch,
        decodeLarge: p.decodeMs.largeBatch,
        thresholdBatch: p.decodeMs.thresholdBatch,
        pipelineParallel: p.pipelineParallel,
      },
      simVocab: 32000,
      // A profile without contextTokens is bounded by KV capacity only.
      simContextTokens: p.contextTokens ?? o.kvCapacityTokens ?? p.kvCapacityTokens,
      simKvBytesPerToken: p.kvBytesPerToken,
    };
  }
  return {
    backend: o.backend,
    blockSize: o.blockSize,
    kvCapacityTokens: o.kvCapacityTokens ?? 8 * o.shape.maxContext,
    prefillTokenBudget: o.prefillTokenBudget,
    maxBatch: o.maxBatch,
    shape: o.shape,
    ...(o.weights ? { weights: o.weights } : {}),
    seed: o.seed,
    threads: o.threads,
  };
}
