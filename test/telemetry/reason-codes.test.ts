// The label lists of src/telemetry/controller-metrics.ts repeat values that
// live in control/ and policy/ (telemetry/ may not import them). These tests
// keep the copies honest: a new reason code, safety rule or decision status
// that is missing from telemetry would otherwise appear on dashboards only
// after it first happens, instead of as a pre-set 0.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import type { DecisionStatus } from '../../src/control/decision.js';
import type { ActuationOutcome } from '../../src/control/ports.js';
import type { SafetyRule } from '../../src/domain/decision.js';
import type { WorkerStatus } from '../../src/domain/role.js';
import { PDPILOT_REASONS } from '../../src/domain/decision.js';
import {
  ACTUATION_OUTCOMES,
  CONTROLLER_REASON_CODES,
  DECISION_STATUSES,
  HELD_RULES,
  KNOWN_REASON_CODES,
  POLICY_REASON_CODES,
  WORKER_STATUSES,
} from '../../src/telemetry/controller-metrics.js';

/**
 * String literals that a source file assigns as a reason code: on a line
 * that sets `code` (`code: 'x'`, `code = c ? 'x' : 'y'`, `const code: T = …`),
 * every quoted literal after it; and the code argument of the controller's
 * `noDecision(now, status, code, …)`. Comment lines are skipped.
 */
function reasonCodeLiterals(source: string): string[] {
  const codes: string[] = [];
  for (const line of source.split('\n')) {
    const trimmed = line.trim();
    if (trimmed.startsWith('//') || trimmed.startsWith('*') || trimmed.startsWith('/*')) continue;
    const assignment = /\bcode\b\s*(?::[^=,'"]*=|:|=)(?!=)(.*)$/.exec(line);
    if (assignment) {
      // Stop at the next property so that `code: 'x', message: 'y'` yields x only.
      const value = (assignment[1] as string).split(/,\s*[a-zA-Z]+:/)[0] as string;
      for (const m of value.matchAll(/'([a-z][a-z0-9-]*)'/g)) codes.push(m[1] as string);
    }
    for (const m of line.matchAll(/noDecision\([^,]+,\s*'[^']*',\s*'([^']+)'/g)) codes.push(m[1] as string);
  }
  return codes;
}

function sourcesUnder(dir: string): { path: string; text: string }[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => {
      const path = join(e.parentPath, e.name);
      return { path, text: readFileSync(path, 'utf8') };
    });
}

t.test('the extractor finds codes in each form the sources use, and nothing else', async (t) => {
  t.same(reasonCodeLiterals("      reason: { code: 'colocated', message: 'every instance serves both phases' },"), ['colocated']);
  t.same(reasonCodeLiterals("      code: best > 0 ? 'oracle-best-split' : 'oracle-slo-infeasible',"), ['oracle-best-split', 'oracle-slo-infeasible']);
  t.same(reasonCodeLiterals("      code = decodeMayShrink ? 'prefill-queue-high' : 'decode-grace-period';"), ['prefill-queue-high', 'decode-grace-period']);
  t.same(reasonCodeLiterals("    const code: PdpilotReason = pressure ? 'reactive-prefill-pressure' : 'reactive-decode-pressure';"), [
    'reactive-prefill-pressure',
    'reactive-decode-pressure',
  ]);
  t.same(reasonCodeLiterals("        code: 'plan-move' satisfies PdpilotReason,"), ['plan-move']);
  t.same(reasonCodeLiterals("      return this.finish(this.noDecision(now, 'not-synced', 'observe-failed', `observing`));"), ['observe-failed']);
  t.same(reasonCodeLiterals("   * `code` is a stable identifier: 'not-a-code'"), [], 'comments are skipped');
  t.same(reasonCodeLiterals("    if (reason.code === 'idle') return;"), [], 'comparisons are not assignments');
});

t.test('every reason code in src/policy/ and src/control/ is known to telemetry', async (t) => {
  const known = new Set(KNOWN_REASON_CODES);
  const found = new Map<string, string>();
  for (const { path, text } of [...sourcesUnder('src/policy'), ...sourcesUnder('src/control')]) {
    for (const code of reasonCodeLiterals(text)) found.set(code, path);
  }
  for (const code of PDPILOT_REASONS) found.set(code, 'src/domain/decision.ts PDPILOT_REASONS');
  // Guards against an extractor that silently stops matching: the sources hold well over twenty codes.
  t.ok(found.size >= 20, `found ${found.size} codes`);
  for (const [code, path] of found) t.ok(known.has(code), `${code} (${path}) is in POLICY_REASON_CODES or CONTROLLER_REASON_CODES`);
  t.equal(new Set(KNOWN_REASON_CODES).size, KNOWN_REASON_CODES.length, 'no code listed twice');
  const controllerCodes = new Set<string>(CONTROLLER_REASON_CODES);
  t.same(POLICY_REASON_CODES.filter((c) => controllerCodes.has(c)), [], 'policy and controller codes are disjoint');
});

t.test('held rules, decision statuses, actuation outcomes and worker statuses cover control/ and domain/', async (t) => {
  // Exhaustive records: adding a value to the union without listing it here fails the typecheck.
  const rules: Record<SafetyRule, true> = {
    advisory: true,
    'stale-worker': true,
    'manual-override': true,
    'worker-busy': true,
    cooldown: true,
    'reversal-within-cooldown': true,
    'min-instances': true,
    'max-flips-per-interval': true,
    'tolerance-band': true,
    'stabilisation-window': true,
  };
  t.same([...HELD_RULES].sort(), Object.keys(rules).sort(), 'the held-change metric pre-sets every safety rule');
  const statuses: Record<DecisionStatus, true> = { acted: true, steady: true, held: true, advisory: true, paused: true, 'not-synced': true };
  t.same([...DECISION_STATUSES].sort(), Object.keys(statuses).sort());
  const outcomes: Record<ActuationOutcome, true> = { started: true, done: true, refused: true, failed: true };
  t.same([...ACTUATION_OUTCOMES].sort(), Object.keys(outcomes).sort());
  const workerStatuses: Record<WorkerStatus, true> = { starting: true, ready: true, draining: true, switching: true, stale: true };
  t.same([...WORKER_STATUSES].sort(), Object.keys(workerStatuses).sort());
});
