import { idleSample } from '../../src/domain/load.js';
import type { WorkerSnapshot } from '../../src/domain/fleet.js';
import type { Role } from '../../src/domain/role.js';
import type { LoadForecast } from '../../src/forecast/forecaster.js';
import { loadProfile } from '../../src/perf/profile.js';
import type { PolicyContext } from '../../src/policy/policy.js';

export const profile = await loadProfile(new URL('../../profiles/opt-13b-tp1-a100.json', import.meta.url).pathname);
export const slo = { ttftSeconds: 1, tpotSeconds: 0.1, attainment: 0.9 };

export function workers(roles: Role[], patch: (role: Role, i: number) => Partial<WorkerSnapshot> = () => ({})): WorkerSnapshot[] {
  return roles.map((role, i) => ({ id: `w${i}`, role, status: 'ready', queuedRequests: 0, queuedTokens: 0, runningRequests: 0, kvUsage: 0, ...patch(role, i) }));
}

export function forecastOf(rps: number, inputMean: number, outputMean: number, inputSecondMoment = inputMean * inputMean): LoadForecast {
  return { horizonSeconds: 60, requestsPerSecond: { mean: rps, low: rps, high: rps }, inputMean, inputSecondMoment, outputMean };
}

/** A small hand-built context: `prefill` P and `decode` D ready workers, idle load unless told. */
export function context(prefill: number, decode: number, over: Partial<PolicyContext> = {}, patch?: (role: Role, i: number) => Partial<WorkerSnapshot>): PolicyContext {
  const roles: Role[] = [...Array<Role>(prefill).fill('prefill'), ...Array<Role>(decode).fill('decode')];
  return {
    nowSeconds: 600,
    intervalSeconds: 60,
    snapshot: { atSeconds: 600, workers: workers(roles, patch) },
    history: [idleSample(540, 60)],
    forecast: forecastOf(0, 0, 0),
    profile,
    slo,
    ...over,
  };
}
