// data/traces must stay byte-identical to the published Azure files: the
// reference figures (and the licence terms) are about those exact bytes.
import t from 'tap';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { azureTrace, repoRoot } from './fixtures/trace-test-helpers.js';

t.test('the shipped CSVs match the sha256 and byte counts of data/traces/README.md', async (t) => {
  const readme = await readFile(join(repoRoot, 'data', 'traces', 'README.md'), 'utf8');
  // Table rows: | `AzureLLMInferenceTrace_code.csv` | 320,117 | `54e9…` |
  const rows = [...readme.matchAll(/^\| `(AzureLLMInferenceTrace_(code|conv)\.csv)` \| ([\d,]+) \| `([0-9a-f]{64})` \|$/gm)];
  t.equal(rows.length, 2, 'the README lists both files');
  for (const [, name, which, bytes, sha256] of rows) {
    const data = await readFile(azureTrace(which as 'code' | 'conv'));
    t.equal(data.length, Number(bytes?.replaceAll(',', '')), `${name} byte count`);
    t.equal(createHash('sha256').update(data).digest('hex'), sha256, `${name} sha256`);
  }
});

t.test('the README carries the sha256 of the shared traces (the upstream files)', async (t) => {
  const readme = await readFile(join(repoRoot, 'data', 'traces', 'README.md'), 'utf8');
  t.match(readme, '54e9a6d2a4bd06ba1e060304b900abbc74cbea53de96506e60fe5bb4f2277fb6');
  t.match(readme, '2f1e5b666d4e3055fdbba98598ce2ec307767b9064e03e2fa46676dbcc7d0bf8');
  t.match(readme, /CC-BY 4\.0/);
  t.match(readme, /Splitwise/);
});
