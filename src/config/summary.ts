// The few lines `pdpilot config check` prints for a valid config: enough to
// see at a glance what `pdpilot up` would start, never a secret.
import type { PdpilotConfig } from './schema.js';
import { displayPath } from './file-checks.js';

export function summarizeConfig(config: PdpilotConfig): string[] {
  const { fleet, slo, policy, controller, router, admin, store } = config;
  const rows: [string, string][] = [
    ['fleet', fleetLine(config)],
    ['profile', displayPath(fleet.profile)],
    ['slo', `TTFT ≤ ${slo.ttftSeconds} s and TPOT ≤ ${slo.tpotSeconds} s for ${percent(slo.attainment)} of requests`],
    ['policy', policy.file !== undefined ? `from ${displayPath(policy.file)}` : `${policy.name}`],
    [
      'controller',
      `every ${controller.intervalSeconds} s${controller.advisory ? ', advisory (decides, does not flip)' : ''}, ` +
        `at least ${controller.minPerRole.prefill} prefill and ${controller.minPerRole.decode} decode` +
        (controller.gpuBudget !== undefined ? `, up to ${controller.gpuBudget} GPUs` : ''),
    ],
    ['router', `${httpUrl(router.host, router.port)} serving ${router.model}`],
    ['admin', `${httpUrl(admin.host, admin.port)} (API and /metrics), ${tokenLine(config)}`],
    ['store', displayPath(store.path)],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, text]) => `  ${label.padEnd(width)}  ${text}`);
}

function fleetLine({ fleet }: PdpilotConfig): string {
  if (fleet.mode === 'local') {
    const prefill = fleet.initialPrefill ?? 0;
    const ports = fleet.workers === 1 ? `${fleet.basePort}` : `${fleet.basePort}–${fleet.basePort + fleet.workers - 1}`;
    return `local, ${fleet.workers} ${fleet.backend} workers on ${hostForUrl(fleet.host)}:${ports}, starting ${prefill} prefill / ${fleet.workers - prefill} decode`;
  }
  const count = (role: string | undefined) => fleet.urls.filter((w) => w.role === role).length;
  const reported = count(undefined);
  return (
    `static, ${fleet.urls.length} workers, ${count('prefill')} prefill / ${count('decode')} decode` +
    (reported > 0 ? ` / ${reported} as they report` : '')
  );
}

function tokenLine({ admin }: PdpilotConfig): string {
  if (admin.tokens.length === 0) return 'no tokens (state changes refused)';
  const adminScoped = admin.tokens.filter((t) => t.scope === 'admin').length;
  const plural = admin.tokens.length === 1 ? 'token' : 'tokens';
  return `${admin.tokens.length} ${plural} (${adminScoped} admin, ${admin.tokens.length - adminScoped} read)`;
}

function percent(fraction: number): string {
  return `${Number((fraction * 100).toFixed(2))}%`;
}

function httpUrl(host: string, port: number): string {
  return `http://${hostForUrl(host)}:${port}`;
}

/** IPv6 literals need brackets in a URL. */
function hostForUrl(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
