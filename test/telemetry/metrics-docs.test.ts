// docs/metrics.md must list exactly the metrics pdpilot exports: a metric
// added without a line in the docs, or a line left after a rename, fails.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { exportedRegistries } from './fixtures/exported-registries.js';

const docs = readFileSync('docs/metrics.md', 'utf8');

/** Metric names in the first column of the docs' tables: `| \`pdpilot_…\` | type | …`. */
function documentedMetrics(markdown: string): Map<string, string> {
  const rows = new Map<string, string>();
  for (const m of markdown.matchAll(/^\| `(pdpilot_[a-z0-9_]+)` \| (gauge|counter|histogram|summary) \|/gm)) rows.set(m[1] as string, m[2] as string);
  return rows;
}

t.test('every exported metric is documented with its type, and every documented one is exported', async (t) => {
  const documented = documentedMetrics(docs);
  const exported = new Map<string, string>();
  for (const { registry } of exportedRegistries()) {
    for (const metric of await registry.getMetricsAsJSON()) {
      // Process metrics are prom-client's own; the docs describe them as a family.
      if (/^pdpilot_(process|nodejs)_/.test(metric.name)) continue;
      exported.set(metric.name, String(metric.type));
    }
  }
  t.ok(exported.size > 30, `${exported.size} metrics exported`);
  for (const [name, type] of exported) t.equal(documented.get(name), type, `${name} documented as a ${type}`);
  t.same([...documented.keys()].filter((name) => !exported.has(name)), [], 'documented but not exported');
});

t.test('the process metrics the docs name as examples are exported', async (t) => {
  const names = new Set((await exportedRegistries()[0]!.registry.getMetricsAsJSON()).map((m) => m.name));
  const examples = [...docs.matchAll(/`(pdpilot_(?:process|nodejs)_[a-z0-9_]+)`/g)].map((m) => m[1] as string);
  t.ok(examples.length >= 3);
  for (const name of examples) t.ok(names.has(name), name);
});
