// The cpu backend against the test's own float64 Llama (fixtures/llama-ref.ts)
// on the same safetensors weights: logits at every position, through prefill
// and through paged decode steps, within 1e-4 of the row's scale; then greedy
// generation by a real worker process equals the reference's greedy tokens.
import t from 'tap';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadNative } from '../../src/worker/native.js';
import { argmax, makeWeights, referenceLogits, writeSafetensors, type Shape } from './fixtures/llama-ref.js';
import { post, spawnWorker } from './fixtures/workers.js';

const shape: Shape = { layers: 2, hidden: 64, heads: 4, kvHeads: 2, ffn: 96, vocab: 97, maxContext: 64 };
const tokens = [3, 14, 15, 92, 65, 35, 89, 79, 32, 38, 46, 26, 43];

/** Worst |native − reference| over each row's max |reference| (a relative error that near-zero logits cannot inflate). */
function worstRelative(native: Float32Array, ref: Float64Array[], vocab: number): number {
  let worst = 0;
  ref.forEach((row, i) => {
    const scale = Math.max(...row.map(Math.abs));
    for (let j = 0; j < vocab; j++) worst = Math.max(worst, Math.abs(native[i * vocab + j]! - row[j]!) / scale);
  });
  return worst;
}

for (const dtype of ['F32', 'BF16'] as const) {
  t.test(`cpu logits match the float64 reference (${dtype} safetensors, prefill 5 + 8 decode steps, block size 4)`, async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'pdpilot-cpu-'));
    const path = join(dir, `model-${dtype}.safetensors`);
    const w = makeWeights(shape, dtype === 'F32' ? 7 : 11, dtype);
    await writeSafetensors(path, w, dtype);
    const native = loadNative().cpuLogits({ backend: 'cpu', shape, weights: path, blockSize: 4, threads: 2 }, Int32Array.from(tokens), 5);
    const ref = referenceLogits(shape, w, tokens);
    t.equal(native.length, tokens.length * shape.vocab, 'one row of logits per position');
    const worst = worstRelative(native, ref, shape.vocab);
    t.ok(worst < 1e-4, `worst relative error ${worst.toExponential(2)} < 1e-4`);
    // The same comparison must fail when the model differs: the check has teeth.
    const other = referenceLogits(shape, makeWeights(shape, 99, dtype), tokens);
    t.ok(worstRelative(native, other, shape.vocab) > 1e-2, 'a different model is far off');
  });
}

t.test('a malformed weights file is refused with a reason, not a crash', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pdpilot-cpu-'));
  const path = join(dir, 'bad.safetensors');
  const w = makeWeights({ ...shape, hidden: 32, heads: 2, kvHeads: 1 }, 1, 'F32');
  await writeSafetensors(path, w, 'F32');
  t.throws(() => loadNative().cpuLogits({ backend: 'cpu', shape, weights: path }, Int32Array.from([1]), 1), /shape \[97,32\], the model shape needs \[97,64\]/);
  t.throws(() => loadNative().cpuLogits({ backend: 'cpu', shape, weights: join(dir, 'missing') }, Int32Array.from([1]), 1), /cannot open/);
});

t.test('a cpu worker process generates the reference greedy tokens', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pdpilot-cpu-'));
  const path = join(dir, 'model.safetensors');
  const w = makeWeights(shape, 7, 'F32');
  await writeSafetensors(path, w, 'F32');
  const worker = await spawnWorker([
    '--role', 'prefill', '--backend', 'cpu', '--weights', path, '--block-size', '4',
    '--model-shape', 'layers=2,hidden=64,heads=4,kvHeads=2,ffn=96,vocab=97,context=64',
  ]);
  t.teardown(() => worker.stop());
  const prompt = tokens.slice(0, 6);
  const res = await post(`${worker.url}/v1/generate`, { promptTokens: prompt, maxTokens: 8, stream: false });
  t.equal(res.status, 200, res.text);
  // Reference greedy decoding, one full forward per step.
  const seq = [...prompt];
  const expected: number[] = [];
  for (let i = 0; i < 8; i++) {
    const logits = referenceLogits(shape, w, seq);
    const next = argmax(logits[logits.length - 1]!);
    expected.push(next);
    seq.push(next);
  }
  t.same(res.json.tokens, expected, 'greedy tokens equal the reference');
});
