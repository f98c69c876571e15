import t from 'tap';
import { readdir, writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProfile, parseProfile } from '../../src/perf/profile.js';
import { decodeStepMs, kvTransferSeconds, prefillBatchMs } from '../../src/perf/latency.js';
import { InputError, InputErrors } from '../../src/domain/errors.js';

const profilesDir = new URL('../../profiles/', import.meta.url);

t.test('every shipped profile validates and names its source', async (t) => {
  const files = (await readdir(profilesDir)).filter((f) => f.endsWith('.json'));
  t.ok(files.length >= 5, 'OPT-13B TP1/2/4 and OPT-66B TP2/4 at least');
  for (const f of files) {
    const p = await loadProfile(new URL(f, profilesDir).pathname);
    t.match(f, new RegExp(`^${p.model}-tp${p.tensorParallel}(-pp${p.pipelineParallel})?-`), `${f} is named as DESIGN.md says`);
    t.ok(p.source.length > 20, `${f} names its source`);
  }
});

t.test('profile time functions reproduce DistServe\'s example figures (OPT-13B TP1)', async (t) => {
  const p = await loadProfile(new URL('opt-13b-tp1-a100.json', profilesDir).pathname);
  // profiles-source/distserve/README.md: one 1,000-token prompt ≈ 127 ms.
  t.equal(Math.round(prefillBatchMs(p, [1000])), 127);
  // 32 requests with 1,000 tokens of context each ≈ 41 ms per decode step.
  t.equal(Math.round(decodeStepMs(p, 32, 32 * 1000)), 41);
  t.equal(p.kvCapacityTokens, 66144, 'KV capacity from max_num_tokens.csv (tp1 pp1)');
  t.equal(p.kvBytesPerToken, 2 * 40 * 5120 * 2, 'KV bytes per token from the OPT-13B shape');
});

t.test('decode switches to the large-batch fit at the threshold', async (t) => {
  const p = await loadProfile(new URL('opt-13b-tp1-a100.json', profilesDir).pathname);
  const [a, b, c] = p.decodeMs.largeBatch;
  t.equal(decodeStepMs(p, 95, 95 * 100), a + b * (95 * 100 + 95) + c * 95);
  const [sa, sb, sc] = p.decodeMs.smallBatch;
  t.equal(decodeStepMs(p, 94, 94 * 100), sa + sb * (94 * 100 + 94) + sc * 94);
  t.equal(decodeStepMs(p, 0, 0), 0, 'an empty batch takes no time');
});

t.test('pipeline parallelism: prefill T/pp + pp, decode T/pp', async (t) => {
  const base = await loadProfile(new URL('opt-13b-tp1-a100.json', profilesDir).pathname);
  const pp2 = { ...base, pipelineParallel: 2 };
  t.equal(prefillBatchMs(pp2, [500, 700]), prefillBatchMs(base, [500, 700]) / 2 + 2);
  t.equal(decodeStepMs(pp2, 10, 5000), decodeStepMs(base, 10, 5000) / 2);
});

t.test('KV transfer time is bytes over bandwidth', async (t) => {
  const p = await loadProfile(new URL('opt-13b-tp1-a100.json', profilesDir).pathname);
  t.equal(kvTransferSeconds(p, 1000, 819_200_000), 1);
  t.throws(() => kvTransferSeconds(p, 1, 0), RangeError);
});

t.test('bad profiles are refused naming the file and key', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pdpilot-profile-'));
  const path = join(dir, 'bad.json');
  await writeFile(path, JSON.stringify({ schemaVersion: 1, model: 'x' }));
  await t.rejects(loadProfile(path), InputErrors);
  try {
    await loadProfile(path);
  } catch (e) {
    const lines = (e as InputErrors).errors.map((x) => x.message);
    t.ok(lines.every((l) => l.startsWith(`${path}: `)), 'every line names the file');
    t.ok(lines.some((l) => l.includes(': prefillMs')), 'the missing key is named');
  }
  await writeFile(path, '{ not json');
  await t.rejects(loadProfile(path), { message: new RegExp(`^${path}: invalid JSON`) });
  await t.rejects(loadProfile(join(dir, 'missing.json')), { message: /missing\.json: cannot read profile: ENOENT/ });
  const good = JSON.parse(JSON.stringify(await loadProfile(new URL('opt-13b-tp1-a100.json', profilesDir).pathname)));
  good.kvCapacityTokens = -3;
  t.throws(() => parseProfile(good, 'p.json'), InputError);
  t.throws(() => parseProfile(good, 'p.json'), { message: /^p\.json: kvCapacityTokens: / });
});
