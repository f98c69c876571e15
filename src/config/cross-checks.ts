// Rules that involve more than one key, checked after the schema: fleet size
// against the per-role floors, ports that would collide, keys that only mean
// something in the other fleet mode, and so on. No I/O here (files are
// checked in file-checks.ts), so every rule is a plain function of the config.
//
// The schema may already have found faults; a rule reads only keys the schema
// accepted (`valid`, `typed`), so that one bad value gives one error, not a
// cascade, while the rules about the other keys still run and every fault is
// reported in a single pass.
import nodeCron from 'node-cron';
import { JOB_OFF, SIMULATION_ONLY_POLICIES, type PdpilotConfig } from './schema.js';
import type { KeyProblem } from './schema-errors.js';

export interface CheckInput {
  /** The config after defaults; it has its static type only where `valid` or `typed` says so. */
  config: PdpilotConfig;
  /** True when, for every path, neither the key nor any key inside or above it failed the schema. */
  valid: (...paths: string[]) => boolean;
  /** True when the key and every key above it passed the schema (keys inside it may not): safe to iterate an array. */
  typed: (path: string) => boolean;
  /** True when the file itself sets `path` (rather than a default filling it in). */
  given: (path: string) => boolean;
}

export interface CheckResult {
  problems: KeyProblem[];
  /** Not wrong, but probably not what was meant: the config loads and the daemon says so. */
  warnings: KeyProblem[];
}

/** A literal token or one read from the environment must be at least this long: shorter ones can be guessed. */
export const MIN_TOKEN_LENGTH = 16;

/** Keys that mean something only for a local fleet; a static fleet ignores them. */
const LOCAL_ONLY_IGNORED = ['fleet.backend', 'fleet.host', 'fleet.basePort', 'fleet.restart'];

export function crossChecks({ config, valid, typed, given }: CheckInput): CheckResult {
  const problems: KeyProblem[] = [];
  const warnings: KeyProblem[] = [];
  const problem = (path: string, reason: string) => problems.push({ path, reason });
  const { fleet, controller, router, admin } = config;

  // Fleet shape per mode.
  if (valid('fleet.mode')) {
    if (fleet.mode === 'static') {
      for (const key of ['fleet.workers', 'fleet.initialPrefill']) {
        if (given(key)) problem(key, 'applies only when fleet.mode is "local" (a static fleet has one worker per fleet.urls entry)');
      }
      for (const key of LOCAL_ONLY_IGNORED) {
        if (given(key)) warnings.push({ path: key, reason: 'ignored: applies only when fleet.mode is "local"' });
      }
      if (typed('fleet.urls')) problems.push(...staticWorkerProblems(config, valid));
    } else if (given('fleet.urls')) {
      problem('fleet.urls', 'applies only when fleet.mode is "static"');
    }
  }

  const size = fleetSize(config, valid, typed);
  if (size !== undefined && valid('controller.minPerRole')) {
    const floor = controller.minPerRole.prefill + controller.minPerRole.decode;
    if (floor > size) {
      problem(
        'controller.minPerRole',
        `needs ${floor} workers (prefill ${controller.minPerRole.prefill} + decode ${controller.minPerRole.decode}) but the fleet has ${size}`,
      );
    } else if (fleet.mode === 'local' && fleet.initialPrefill !== undefined && valid('fleet.initialPrefill')) {
      const prefill = fleet.initialPrefill;
      if (prefill > fleet.workers) problem('fleet.initialPrefill', `must be ≤ fleet.workers (${fleet.workers}) (got ${prefill})`);
      else if (prefill < controller.minPerRole.prefill) problem('fleet.initialPrefill', `must be ≥ controller.minPerRole.prefill (${controller.minPerRole.prefill}) (got ${prefill})`);
      else if (fleet.workers - prefill < controller.minPerRole.decode) {
        problem('fleet.initialPrefill', `leaves ${fleet.workers - prefill} decode workers, fewer than controller.minPerRole.decode (${controller.minPerRole.decode})`);
      }
    }
  }
  if (size !== undefined && valid('controller.gpuBudget') && controller.gpuBudget !== undefined && controller.gpuBudget < size) {
    problem('controller.gpuBudget', `must be ≥ the fleet size (${size}) (got ${controller.gpuBudget})`);
  }

  if (valid('fleet.restart.backoffBaseSeconds', 'fleet.restart.backoffMaxSeconds') && fleet.restart.backoffMaxSeconds < fleet.restart.backoffBaseSeconds) {
    problem('fleet.restart.backoffMaxSeconds', `must be ≥ fleet.restart.backoffBaseSeconds (${fleet.restart.backoffBaseSeconds}) (got ${fleet.restart.backoffMaxSeconds})`);
  }

  problems.push(...portProblems(config, valid, typed));

  // Router limits: a request needs at least one prompt token besides its output.
  if (valid('router.maxTokens', 'router.contextTokens') && router.maxTokens >= router.contextTokens) {
    problem('router.maxTokens', `must be < router.contextTokens (${router.contextTokens}) so that a prompt still fits (got ${router.maxTokens})`);
  }
  if (valid('router.localPrefillMaxTokens', 'router.contextTokens') && router.localPrefillMaxTokens >= router.contextTokens) {
    problem('router.localPrefillMaxTokens', `must be < router.contextTokens (${router.contextTokens}) (got ${router.localPrefillMaxTokens})`);
  }
  if (valid('router.scorers')) {
    const { lengthAware, queue, kv, batch } = router.scorers;
    if (lengthAware + queue === 0) problem('router.scorers', 'lengthAware and queue are both 0: nothing ranks prefill workers');
    if (kv + batch === 0) problem('router.scorers', 'kv and batch are both 0: nothing ranks decode workers');
  }

  if (valid('policy.name', 'policy.file')) {
    const { name, file } = config.policy;
    if (name !== undefined && file !== undefined) problem('policy', 'give policy.name or policy.file, not both');
    if (name !== undefined && SIMULATION_ONLY_POLICIES.includes(name)) {
      problem('policy.name', `"${name}" runs only in the simulator (pdpilot sim / bench), not in the daemon`);
    }
  }

  if (typed('admin.tokens')) problems.push(...tokenProblems(config, valid));
  if (valid('admin.host') && typed('admin.tokens') && !isLoopback(admin.host) && admin.tokens.length === 0) {
    warnings.push({ path: 'admin.host', reason: `binds ${admin.host}, beyond loopback, and admin.tokens is empty` });
  }

  if (valid('store.retention.compactAfterHours', 'store.retention.historyDays')) {
    const retention = config.store.retention;
    if (retention.compactAfterHours >= retention.historyDays * 24) {
      problem(
      'store.retention.compactAfterHours',
        `must be < store.retention.historyDays × 24 (${retention.historyDays * 24}): history would be deleted before it is compacted (got ${retention.compactAfterHours})`,
      );
    }
  }

  for (const job of ['refit', 'compaction', 'dailySummary'] as const) {
    if (!valid(`jobs.${job}`) || config.jobs[job] === JOB_OFF) continue;
    const verdict = nodeCron.validateDetailed(config.jobs[job]);
    if (!verdict.valid) problem(`jobs.${job}`, `invalid cron expression: ${verdict.errors.map((e) => e.message).join('; ')}`);
  }
  if (valid('jobs.timezone') && config.jobs.timezone !== undefined && !isTimeZone(config.jobs.timezone)) {
    problem('jobs.timezone', `unknown time zone "${config.jobs.timezone}"`);
  }

  return { problems, warnings };
}

/** Workers in the fleet at start, or undefined when the keys that decide it are invalid. */
function fleetSize(config: PdpilotConfig, valid: CheckInput['valid'], typed: CheckInput['typed']): number | undefined {
  if (!valid('fleet.mode')) return undefined;
  if (config.fleet.mode === 'local') return valid('fleet.workers') ? config.fleet.workers : undefined;
  return typed('fleet.urls') && config.fleet.urls.length > 0 ? config.fleet.urls.length : undefined;
}

function staticWorkerProblems(config: PdpilotConfig, valid: CheckInput['valid']): KeyProblem[] {
  const problems: KeyProblem[] = [];
  if (config.fleet.urls.length === 0) return [{ path: 'fleet.urls', reason: 'a static fleet needs at least one worker' }];
  const firstIndexOf = new Map<string, number>();
  config.fleet.urls.forEach((worker, i) => {
    if (!valid(`fleet.urls.${i}`)) return;
    const url = parseHttpUrl(worker.url);
    if (typeof url === 'string') {
      problems.push({ path: `fleet.urls.${i}.url`, reason: url });
    } else {
      const earlier = firstIndexOf.get(url.href);
      if (earlier !== undefined) problems.push({ path: `fleet.urls.${i}.url`, reason: `duplicate of fleet.urls.${earlier}.url` });
      else firstIndexOf.set(url.href, i);
    }
    // vLLM's and SGLang's metrics do not say which phase an instance serves.
    if (worker.kind !== 'native' && worker.role === undefined) problems.push({ path: `fleet.urls.${i}.role`, reason: `required for a ${worker.kind} worker` });
  });
  return problems;
}

/** A parsed http(s) URL, or the reason the text is not one. */
function parseHttpUrl(text: string): URL | string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `not a URL: "${text}"`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `must be an http or https URL (got ${url.protocol})`;
  return url;
}

interface Listener {
  path: string;
  host: string;
  first: number;
  last: number;
  label: string;
}

/** Ports that would be bound twice on the same interface: router, admin API, local workers, and static workers on this machine. */
function portProblems(config: PdpilotConfig, valid: CheckInput['valid'], typed: CheckInput['typed']): KeyProblem[] {
  const problems: KeyProblem[] = [];
  const listeners: Listener[] = [];
  const { fleet, router, admin } = config;
  if (valid('router.host', 'router.port')) listeners.push({ path: 'router.port', host: router.host, first: router.port, last: router.port, label: `router.port (${router.port})` });
  if (valid('admin.host', 'admin.port')) listeners.push({ path: 'admin.port', host: admin.host, first: admin.port, last: admin.port, label: `admin.port (${admin.port})` });
  if (valid('fleet.mode', 'fleet.host', 'fleet.basePort', 'fleet.workers') && fleet.mode === 'local') {
    const last = fleet.basePort + fleet.workers - 1;
    if (last > 65535) problems.push({ path: 'fleet.basePort', reason: `${fleet.workers} workers from port ${fleet.basePort} would need ports up to ${last} (> 65535)` });
    else listeners.push({ path: 'fleet.basePort', host: fleet.host, first: fleet.basePort, last, label: `the local worker ports ${fleet.basePort}–${last}` });
  }
  if (valid('fleet.mode') && typed('fleet.urls') && fleet.mode === 'static') {
    fleet.urls.forEach((worker, i) => {
      if (!valid(`fleet.urls.${i}.url`)) return;
      const url = parseHttpUrl(worker.url);
      if (typeof url === 'string') return;
      const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
      listeners.push({ path: `fleet.urls.${i}.url`, host: url.hostname, first: port, last: port, label: `fleet.urls.${i}.url (port ${port})` });
    });
  }
  for (let i = 0; i < listeners.length; i++) {
    for (let j = i + 1; j < listeners.length; j++) {
      const a = listeners[i]!;
      const b = listeners[j]!;
      // Two static workers on one port are a duplicate URL, reported above; here only pdpilot's own listeners matter.
      if (a.path.startsWith('fleet.urls') && b.path.startsWith('fleet.urls')) continue;
      if (a.first <= b.last && b.first <= a.last && hostsOverlap(a.host, b.host)) problems.push({ path: b.path, reason: `collides with ${a.label}` });
    }
  }
  return problems;
}

function tokenProblems(config: PdpilotConfig, valid: CheckInput['valid']): KeyProblem[] {
  const problems: KeyProblem[] = [];
  const firstIndexOf = new Map<string, number>();
  config.admin.tokens.forEach((entry, i) => {
    const at = `admin.tokens.${i}`;
    if (!valid(at)) return;
    if ((entry.token === undefined) === (entry.tokenEnv === undefined)) problems.push({ path: at, reason: 'give exactly one of token and tokenEnv' });
    else if (entry.token !== undefined && entry.token.length < MIN_TOKEN_LENGTH) {
      problems.push({ path: `${at}.token`, reason: `must be at least ${MIN_TOKEN_LENGTH} characters (got ${entry.token.length})` });
    }
    const earlier = firstIndexOf.get(entry.name);
    if (earlier !== undefined) problems.push({ path: `${at}.name`, reason: `duplicate of admin.tokens.${earlier}.name ("${entry.name}")` });
    else firstIndexOf.set(entry.name, i);
  });
  return problems;
}

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]']);

function isLoopback(host: string): boolean {
  return host === 'localhost' || host.startsWith('127.') || host === '::1' || host === '[::1]';
}

/** Whether listeners on these two bind addresses can clash: the same address, a wildcard, or both loopback. */
function hostsOverlap(a: string, b: string): boolean {
  return a === b || WILDCARD_HOSTS.has(a) || WILDCARD_HOSTS.has(b) || (isLoopback(a) && isLoopback(b));
}

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}
