#!/usr/bin/env node
// Writes profiles/<model>-tp<T>-a100.json from DistServe's fitted A100-80GB
// coefficients (data/profiles-source/distserve, Apache-2.0, copied unchanged
// from LLMServe/DistServe simdistserve/estimators/profile_data/).
// Run: node scripts/derive-distserve-profiles.mjs   (idempotent; output is committed)
import { readFileSync, writeFileSync } from 'node:fs';

const src = new URL('../data/profiles-source/distserve/', import.meta.url);
const distserve = JSON.parse(readFileSync(new URL('profiler-a100-80g.distserve.json', src), 'utf8'));
const vllm = JSON.parse(readFileSync(new URL('profiler-a100-80g.vllm.json', src), 'utf8'));
const maxTokens = readFileSync(new URL('max_num_tokens.csv', src), 'utf8')
  .trim().split('\n').slice(1).map((l) => l.split(','))
  .map(([model, tp, pp, tokens]) => ({ model, tp: Number(tp), pp: Number(pp), tokens: Number(tokens) }));

// OPT shapes (layers, hidden) from the OPT model cards; KV bytes per token = 2 (K and V) × layers × hidden × 2 bytes (fp16).
const SHAPES = { 'facebook/opt-13b': { layers: 40, hidden: 5120, startSeconds: 60 }, 'facebook/opt-66b': { layers: 64, hidden: 9216, startSeconds: 150 } };
const PLACEMENTS = [['facebook/opt-13b', 1], ['facebook/opt-13b', 2], ['facebook/opt-13b', 4], ['facebook/opt-66b', 2], ['facebook/opt-66b', 4]];

const fit = (p) => ({
  prefillMs: p.prefill,
  decodeMs: { smallBatch: p.decoding_smallbs, largeBatch: p.decoding_largebs, thresholdBatch: p.decoding_large_small_bs_threshold },
});

for (const [model, tp] of PLACEMENTS) {
  const shape = SHAPES[model];
  const kv = maxTokens.find((r) => r.model === model && r.tp === tp && r.pp === 1);
  if (!kv) throw new Error(`no max_num_tokens row for ${model} tp${tp} pp1`);
  const name = model.split('/')[1];
  const profile = {
    schemaVersion: 1,
    model: name,
    gpu: 'a100-80gb',
    tensorParallel: tp,
    pipelineParallel: 1,
    ...fit(distserve[model][String(tp)]),
    colocated: fit(vllm[model][String(tp)]),
    kvCapacityTokens: kv.tokens,
    kvBytesPerToken: 2 * shape.layers * shape.hidden * 2,
    flipSeconds: 0.5,
    startSeconds: shape.startSeconds,
    source:
      `DistServe (Zhong et al., OSDI 2024), LLMServe/DistServe commit 82831f1604cc6b10bebd360f6c437a07790dde9f, ` +
      `simdistserve/estimators/profile_data: profiler-a100-80g.distserve.json (prefillMs, decodeMs), profiler-a100-80g.vllm.json (colocated), ` +
      `max_num_tokens.csv (kvCapacityTokens, tp=${tp} pp=1); Apache-2.0. Derived by scripts/derive-distserve-profiles.mjs.`,
    assumptions:
      `kvBytesPerToken = 2 x ${shape.layers} layers x ${shape.hidden} hidden x 2 bytes (fp16), whole model across the ${tp} GPU(s). ` +
      `flipSeconds 0.5: a role switch keeps weights resident (SGLang /pd_role_switch style), so it costs a scheduler and cache reset, not a reload; not measured. ` +
      `startSeconds ${shape.startSeconds}: weight load (${name}, fp16) from local NVMe plus engine warm-up; not measured. ` +
      `No contextTokens: the fits are used as a performance model for traces whose prompts exceed OPT's 2,048 positions; only KV capacity bounds a request.`,
  };
  const out = new URL(`../profiles/${name}-tp${tp}-a100.json`, import.meta.url);
  writeFileSync(out, `${JSON.stringify(profile, null, 2)}\n`);
  process.stdout.write(`wrote ${out.pathname}\n`);
}
