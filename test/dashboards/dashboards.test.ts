// Every shipped Grafana dashboard must import cleanly and query only metrics
// that pdpilot exports: a renamed metric would otherwise leave a panel
// silently empty. The exported names come from instantiating the real
// registries (worker, router, daemon with its process metrics), never from a
// hand-kept list.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { exportedRegistries, seriesNames } from '../telemetry/fixtures/exported-registries.js';

const DASHBOARDS = 'dashboards';

// PromQL words that look like identifiers but are not metrics.
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool', 'and', 'or', 'unless', 'inf', 'nan']);

/**
 * Metric names a PromQL expression (with Grafana variables) reads. Enough of
 * PromQL for dashboards: strings, label matchers, range and subquery
 * brackets, grouping clauses, offsets and `@` modifiers are removed; numbers
 * and durations are skipped; an identifier followed by `(` is a function or
 * an aggregation; what is left is a metric name.
 */
function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ') // string literals, e.g. in label_replace
    .replace(/\{[^}]*\}/g, ' ') // label matchers (may hold $variables)
    .replace(/\[[^\]]*\]/g, ' ') // [5m], [$__rate_interval], [1h:5m]
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ') // grouping label lists
    .replace(/\boffset\s+-?\S+/g, ' ')
    .replace(/@\s*\S+/g, ' ')
    .replace(/\$\{[^}]*\}|\$[a-zA-Z_]\w*/g, ' ');
  const names: string[] = [];
  const token = /(\d+(?:\.\d+)?(?:e[+-]?\d+)?[a-z]*)|([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\()?/g;
  for (const m of stripped.matchAll(token)) {
    const [, number, identifier, call] = m;
    if (number !== undefined || identifier === undefined || call !== undefined) continue;
    if (!KEYWORDS.has(identifier.toLowerCase())) names.push(identifier);
  }
  return names;
}

/** Metric names in `label_values(metric, label)` (label_values(label) alone names none) and `query_result(expr)` of a variable. */
function variableMetricNames(query: string): string[] {
  const labelValues = /^\s*label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?:\{[^}]*\})?\s*,/.exec(query);
  if (labelValues) return [labelValues[1] as string];
  const queryResult = /^\s*query_result\((.*)\)\s*$/.exec(query);
  return queryResult ? metricNames(queryResult[1] as string) : [];
}

async function exportedSeries(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const { registry } of exportedRegistries()) for (const name of await seriesNames(registry)) names.add(name);
  return names;
}

interface Query {
  where: string;
  expr: string;
  variable?: boolean;
}

type Json = Record<string, unknown>;

/** Every query of a dashboard: panel targets (rows' nested panels too), annotation queries, query variables. */
function queriesOf(dashboard: Json): Query[] {
  const queries: Query[] = [];
  const visit = (panels: unknown) => {
    for (const panel of (panels as Json[] | undefined) ?? []) {
      for (const target of (panel.targets as Json[] | undefined) ?? []) {
        queries.push({ where: `panel "${panel.title}" ${target.refId}`, expr: String(target.expr) });
      }
      visit(panel.panels);
    }
  };
  visit(dashboard.panels);
  for (const annotation of ((dashboard.annotations as Json | undefined)?.list as Json[] | undefined) ?? []) {
    if (typeof annotation.expr === 'string') queries.push({ where: `annotation "${annotation.name}"`, expr: annotation.expr });
  }
  for (const variable of ((dashboard.templating as Json | undefined)?.list as Json[] | undefined) ?? []) {
    if (variable.type !== 'query') continue;
    const query = typeof variable.query === 'string' ? variable.query : String((variable.query as Json).query);
    queries.push({ where: `variable "${variable.name}"`, expr: query, variable: true });
  }
  return queries;
}

function unexported(query: Query, exported: ReadonlySet<string>): string[] {
  const names = query.variable ? variableMetricNames(query.expr) : metricNames(query.expr);
  return names.filter((n) => !exported.has(n));
}

const files = readdirSync(DASHBOARDS).filter((f) => f.endsWith('.json')).sort();

t.test('the metric extractor reads PromQL as the dashboards write it', async (t) => {
  t.same(metricNames('histogram_quantile(0.9, sum by (le, policy) (rate(pdpilot_router_ttft_seconds_bucket[$__rate_interval])))'), ['pdpilot_router_ttft_seconds_bucket']);
  t.same(metricNames('max(pdpilot_forecast_arrival_rate{band="mean"} offset $horizon)'), ['pdpilot_forecast_arrival_rate']);
  t.same(metricNames('sum by (worker, kind) (rate(a_sum{worker=~"$worker"}[1m])) / sum without (role) (rate(a_count[${interval}]))'), ['a_sum', 'a_count']);
  t.same(metricNames('max(x) / on (job) group_left (role) y > 0.5 and z unless 1e3'), ['x', 'y', 'z']);
  t.same(metricNames('label_replace(up_metric, "dst", "$1", "src", "(.*)")'), ['up_metric']);
  t.same(metricNames('max_over_time(q[1h:5m] @ end())'), ['q']);
  t.same(metricNames('changes(pdpilot_worker_role{worker=~"$worker", role="prefill"}[2m]) > bool 0'), ['pdpilot_worker_role']);
  t.same(variableMetricNames('label_values(pdpilot_worker_role{role="decode"}, worker)'), ['pdpilot_worker_role']);
  t.same(variableMetricNames('label_values(worker)'), []);
});

t.test('a planted query on a metric nobody exports is caught', async (t) => {
  const exported = await exportedSeries();
  t.same(unexported({ where: 'planted', expr: 'sum(rate(pdpilot_router_ttft_seconds_bucket[5m])) / sum(rate(pdpilot_nope_total[5m]))' }, exported), ['pdpilot_nope_total']);
  t.same(unexported({ where: 'planted', expr: 'rate(pdpilot_router_ttft_seconds[5m])' }, exported), ['pdpilot_router_ttft_seconds'], 'a bare histogram name is no series');
  t.same(unexported({ where: 'planted', expr: 'label_values(pdpilot_worker_gone, worker)', variable: true }, exported), ['pdpilot_worker_gone']);
});

t.test('both dashboards ship', async (t) => {
  t.same(files, ['pdpilot-fleet-overview.json', 'pdpilot-worker-detail.json']);
});

for (const file of files) {
  t.test(`${file} is an importable Grafana dashboard`, async (t) => {
    const dashboard = JSON.parse(readFileSync(join(DASHBOARDS, file), 'utf8')) as Json;
    t.equal(dashboard.uid, file.replace(/\.json$/, ''), 'uid matches the file name');
    t.match(dashboard.title, /^pdpilot — /);
    t.ok(typeof dashboard.schemaVersion === 'number' && dashboard.schemaVersion >= 36, 'schemaVersion');
    t.match(dashboard.time, { from: String, to: String });
    t.match(dashboard.refresh, /^\d+[smh]$/);
    t.match(dashboard.__inputs, [{ name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus' }]);
    const variables = (dashboard.templating as Json).list as Json[];
    t.match(variables.find((v) => v.name === 'datasource'), { type: 'datasource', query: 'prometheus' }, 'a Prometheus datasource variable');

    const panels = dashboard.panels as Json[];
    const ids = new Set<unknown>();
    const occupied = new Set<string>();
    for (const panel of panels) {
      t.notOk(ids.has(panel.id), `panel id ${panel.id} is unique`);
      ids.add(panel.id);
      const grid = panel.gridPos as { x: number; y: number; w: number; h: number };
      t.ok(grid.x >= 0 && grid.w > 0 && grid.x + grid.w <= 24 && grid.h > 0, `"${panel.title}" fits the 24-column grid`);
      const overlaps: string[] = [];
      for (let x = grid.x; x < grid.x + grid.w; x++) {
        for (let y = grid.y; y < grid.y + grid.h; y++) {
          if (occupied.has(`${x},${y}`)) overlaps.push(`${x},${y}`);
          occupied.add(`${x},${y}`);
        }
      }
      t.same(overlaps, [], `"${panel.title}" overlaps no other panel`);
      if (panel.type === 'row') continue;
      t.ok(typeof panel.title === 'string' && panel.title !== '', 'panel has a title');
      t.match(panel.datasource, { type: 'prometheus', uid: '${datasource}' }, `"${panel.title}" uses the datasource variable`);
      const targets = panel.targets as Json[];
      t.ok(Array.isArray(targets) && targets.length > 0, `"${panel.title}" has targets`);
      const refIds = targets.map((x) => x.refId);
      t.equal(new Set(refIds).size, refIds.length, `"${panel.title}" refIds are unique`);
      for (const target of targets) {
        t.match(target.datasource, { uid: '${datasource}' }, `"${panel.title}" ${target.refId} uses the datasource variable`);
        t.ok(typeof target.expr === 'string' && target.expr !== '', `"${panel.title}" ${target.refId} has an expression`);
      }
    }
    for (const annotation of ((dashboard.annotations as Json).list as Json[]).filter((a) => a.builtIn !== 1)) {
      t.match(annotation.datasource, { uid: '${datasource}' }, `annotation "${annotation.name}" uses the datasource variable`);
    }
  });

  t.test(`${file} queries only metrics that pdpilot exports`, async (t) => {
    const exported = await exportedSeries();
    const queries = queriesOf(JSON.parse(readFileSync(join(DASHBOARDS, file), 'utf8')) as Json);
    t.ok(queries.length > 5, `${queries.length} queries`);
    for (const query of queries) {
      const names = query.variable ? variableMetricNames(query.expr) : metricNames(query.expr);
      t.ok(names.length > 0, `${query.where} reads at least one metric: ${query.expr}`);
      t.same(unexported(query, exported), [], `${query.where}: ${query.expr}`);
    }
  });
}
