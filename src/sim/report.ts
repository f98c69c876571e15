import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { Slo } from '../domain/slo.js';
import type { BenchOutcome } from './bench.js';

/** Points per CDF curve: enough to read the tail, small enough to keep the page light. */
const CDF_POINTS = 200;

/** A vega-lite spec as plain data; checked by vega-lite's compiler when rendered. */
type Spec = Record<string, unknown>;

/**
 * `pdpilot bench --report`: a self-contained HTML page (no scripts, no
 * network) with the P/D split over time against the load, the TTFT and TPOT
 * CDFs per policy, and attainment and goodput per policy. Charts are
 * vega-lite specs rendered to SVG in Node and inlined.
 */
export async function renderReport(outcome: BenchOutcome, slo: Slo): Promise<string> {
  const { json, runs } = outcome;
  const split = runs.flatMap((r) => r.timeline.map((p) => ({ policy: r.policy, t: p.atSeconds, prefill: p.prefill })));
  const load = (runs[0]?.timeline ?? []).map((p) => ({ t: p.atSeconds, rps: p.arrivalsPerSecond }));
  const cdf = (metric: 'ttft' | 'tpot') =>
    runs.flatMap((r) => {
      const sorted = metric === 'ttft' ? r.summary.ttftSortedSeconds : r.summary.tpotSortedSeconds;
      const n = sorted.length;
      const points: { policy: string; seconds: number; fraction: number }[] = [];
      for (let k = 1; k <= Math.min(CDF_POINTS, n); k++) {
        const i = Math.ceil((k / Math.min(CDF_POINTS, n)) * n) - 1;
        // Log axes cannot show 0 (single-token outputs have TPOT 0): floor at 0.1 ms.
        points.push({ policy: r.policy, seconds: Math.max(1e-4, sorted[i] as number), fraction: (i + 1) / n });
      }
      return points;
    });
  const perPolicy = json.policies.map((p) => ({ policy: p.name, attainment: p.at_scale_1.attainment, goodput: p.goodput_rps_per_gpu }));

  const charts: [string, Spec][] = [
    [
      'P/D split over time (prefill instances) against the load',
      {
        vconcat: [
          {
            width: 640,
            height: 200,
            data: { values: split },
            mark: { type: 'line', interpolate: 'step-after' },
            encoding: {
              x: { field: 't', type: 'quantitative', title: 'time (s)' },
              y: { field: 'prefill', type: 'quantitative', title: 'prefill instances' },
              color: { field: 'policy', type: 'nominal' },
            },
          },
          {
            width: 640,
            height: 120,
            data: { values: load },
            mark: { type: 'area', interpolate: 'step-after', opacity: 0.6 },
            encoding: {
              x: { field: 't', type: 'quantitative', title: 'time (s)' },
              y: { field: 'rps', type: 'quantitative', title: 'arrivals / s' },
            },
          },
        ],
      },
    ],
    ['TTFT CDF per policy', cdfSpec(cdf('ttft'), 'TTFT (s, log)', slo.ttftSeconds)],
    ['TPOT CDF per policy', cdfSpec(cdf('tpot'), 'TPOT (s, log)', slo.tpotSeconds)],
    [
      'Attainment at the trace rate, and goodput, per policy',
      {
        hconcat: [
          barSpec(perPolicy, 'attainment', 'joint attainment', slo.attainment),
          barSpec(perPolicy, 'goodput', 'goodput (req/s per GPU)'),
        ],
      },
    ],
  ];
  const sections: string[] = [];
  for (const [title, spec] of charts) sections.push(`<h2>${escapeHtml(title)}</h2>\n${await toSvg(spec)}`);
  const rows = json.policies
    .map(
      (p) =>
        `<tr><td>${escapeHtml(p.name)}</td><td>${p.goodput_rate_scale.toFixed(3)}</td><td>${p.goodput_rps_per_gpu.toFixed(3)}</td><td>${(p.at_scale_1.attainment * 100).toFixed(1)}%</td>` +
        `<td>${(p.at_scale_1.ttft_p90_s * 1000).toFixed(0)}</td><td>${(p.at_scale_1.tpot_p90_s * 1000).toFixed(1)}</td><td>${p.at_scale_1.flips}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pdpilot bench: ${escapeHtml(json.trace.path)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:1000px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child{text-align:left}</style></head>
<body>
<h1>pdpilot bench</h1>
<p>Trace <code>${escapeHtml(json.trace.path)}</code> (${json.trace.requests} requests over ${json.trace.span_s.toFixed(0)} s), ${json.gpus} GPUs, profile <code>${escapeHtml(json.profile)}</code>.
SLO: TTFT ≤ ${slo.ttftSeconds} s and TPOT ≤ ${slo.tpotSeconds} s for ${(slo.attainment * 100).toFixed(0)}% of requests.
${json.simulated_requests} requests simulated in ${json.wall_s.toFixed(1)} s.</p>
<table><tr><th>policy</th><th>goodput rate scale</th><th>req/s per GPU</th><th>attainment ×1</th><th>TTFT p90 ms</th><th>TPOT p90 ms</th><th>flips</th></tr>
${rows}
</table>
${sections.join('\n')}
</body></html>
`;
}

function cdfSpec(values: object[], title: string, sloSeconds: number): Spec {
  return {
    width: 640,
    height: 260,
    layer: [
      {
        data: { values },
        mark: { type: 'line', interpolate: 'step-after' },
        encoding: {
          x: { field: 'seconds', type: 'quantitative', scale: { type: 'log' }, title },
          y: { field: 'fraction', type: 'quantitative', title: 'fraction of requests' },
          color: { field: 'policy', type: 'nominal' },
        },
      },
      { data: { values: [{ slo: sloSeconds }] }, mark: { type: 'rule', strokeDash: [4, 4] }, encoding: { x: { field: 'slo', type: 'quantitative' } } },
    ],
  };
}

function barSpec(values: object[], field: string, title: string, target?: number): Spec {
  const bars = { mark: 'bar' as const, encoding: { x: { field: 'policy', type: 'nominal' as const, sort: null }, y: { field, type: 'quantitative' as const, title } } };
  if (target === undefined) return { width: 280, height: 220, data: { values }, ...bars };
  return {
    width: 280,
    height: 220,
    data: { values },
    layer: [bars, { mark: { type: 'rule', strokeDash: [4, 4] }, encoding: { y: { datum: target } } }],
  };
}

async function toSvg(spec: Spec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec as unknown as TopLevelSpec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);
}
