// docs/metrics.md must list exactly the metrics pdpilot exports: a metric
// added without a line in the docs, or a line left after a rename, fails.
import { readFileSync } from 'node:fs';
import type { Registry } from 'prom-client';
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
      if (/^pdpilot_(router_)?(process|nodejs)_/.test(metric.name)) continue;
      exported.set(metric.name, String(metric.type));
    }
  }
  t.ok(exported.size > 30, `${exported.size} metrics exported`);
  for (const [name, type] of exported) t.equal(documented.get(name), type, `${name} documented as a ${type}`);
  t.same([...documented.keys()].filter((name) => !exported.has(name)), [], 'documented but not exported');
});

t.test("the process metrics the docs name as examples are exported, the router's by the router", async (t) => {
  const [daemon, router] = exportedRegistries();
  const namesOf = async (registry: Registry) => new Set((await registry.getMetricsAsJSON()).map((m) => m.name));
  const daemonNames = await namesOf(daemon!.registry);
  const routerNames = await namesOf(router!.registry);
  const examples = [...docs.matchAll(/`(pdpilot_(?:router_)?(?:process|nodejs)_[a-z0-9_]+)`/g)].map((m) => m[1] as string);
  t.ok(examples.filter((n) => !n.startsWith('pdpilot_router_')).length >= 3);
  t.ok(examples.some((n) => n.startsWith('pdpilot_router_nodejs_')), 'the router thread\'s own are named too');
  for (const name of examples) t.ok((name.startsWith('pdpilot_router_') ? routerNames : daemonNames).has(name), name);
});
