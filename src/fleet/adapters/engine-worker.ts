import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkerReading } from '../../domain/fleet.js';
import type { Role, WorkerId } from '../../domain/role.js';
import { EngineMetricsReader, type EngineKind } from './engine-metrics.js';


export interface EngineWorkerOptions {
  engine: EngineKind;
  /** Base URL of the engine's HTTP server. */
  url: string;
  /** The role the engine was launched in (config `fleet.urls[].role`): vLLM cannot tell it. */
  role: Role;
  id?: WorkerId;
  /** Bound on one scrape or control call, seconds. */
  timeoutSeconds?: number;
  /** How often the drain before an SGLang switch polls the queue, seconds. */
  drainPollSeconds?: number;
}

/**
 * A vLLM or SGLang server as the live controller sees it (control's
 * `ObservedWorker`, matched structurally). State comes from its Prometheus
 * /metrics; neither engine reports a queue in tokens, so `queuedTokens` is
 * 0 (policies size from the router's measured load, not from this field).
 *
 * Role switch:
 * - SGLang (`--enable-pd-role-switch`): `POST /pd_role_switch` with
 *   `{"new_role": "prefill"|"decode"}` answers `{success, message, old_role,
 *   new_role}` and refuses a worker that is not idle ("not idle"), so the
 *   drain is done here first: wait until its queue and batch are empty
 *   (the router stops sending it work once the controller's view shows it
 *   draining), within the drain timeout.
 * - vLLM has no role switch; a flip of a vLLM worker fails with a reason.
 */
export class EngineObservedWorker {
  readonly id: WorkerId;
  private readonly url: string;
  private readonly reader: EngineMetricsReader;
  /** The drain polls with its own reader so that it does not consume the latency window of `read`. */
  private readonly drainReader: EngineMetricsReader;
  private readonly timeoutMs: number;
  private role: Role;
  private switching: 'draining' | 'switching' | undefined;

  constructor(private readonly options: EngineWorkerOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.id = options.id ?? this.url;
    this.role = options.role;
    this.reader = new EngineMetricsReader(options.engine);
    this.drainReader = new EngineMetricsReader(options.engine);
    this.timeoutMs = (options.timeoutSeconds ?? 2) * 1000;
  }

  async read(): Promise<WorkerReading> {
    const metrics = this.reader.read(await this.text('GET', '/metrics'));
    return {
      role: this.role,
      status: this.switching ?? 'ready',
      queuedRequests: metrics.queuedRequests,
      queuedTokens: 0,
      runningRequests: metrics.runningRequests,
      kvUsage: metrics.kvUsage,
      ...(metrics.ttftP90Seconds === undefined ? {} : { ttftP90Seconds: metrics.ttftP90Seconds }),
      ...(metrics.tpotP90Seconds === undefined ? {} : { tpotP90Seconds: metrics.tpotP90Seconds }),
    };
  }

  async switchRole(role: Role, drainTimeoutSeconds: number): Promise<void> {
    if (this.options.engine === 'vllm') throw new Error(`${this.id} is a vLLM server; vLLM has no role switch`);
    if (role === this.role) return;
    this.switching = 'draining';
    try {
      await this.drain(drainTimeoutSeconds);
      this.switching = 'switching';
      // The engine tears down and rebuilds its disaggregation state in this call; give it the drain budget, not a scrape's.
      const body = await this.text('POST', '/pd_role_switch', JSON.stringify({ new_role: role }), true, Math.max(this.timeoutMs, drainTimeoutSeconds * 1000));
      let reply: { success?: unknown; message?: unknown; new_role?: unknown };
      try {
        reply = JSON.parse(body) as typeof reply;
      } catch {
        throw new Error(`${this.id} /pd_role_switch answered with non-JSON: ${body.slice(0, 200)}`);
      }
      if (reply.success !== true) throw new Error(`${this.id} refused the switch to ${role}: ${String(reply.message ?? 'no message')}`);
      if (reply.new_role !== role) throw new Error(`${this.id} switched to ${String(reply.new_role)}, not ${role}`);
      this.role = role;
    } finally {
      this.switching = undefined;
    }
  }

  private async drain(timeoutSeconds: number): Promise<void> {
    const pollMs = (this.options.drainPollSeconds ?? 0.5) * 1000;
    const deadline = Date.now() + timeoutSeconds * 1000;
    for (;;) {
      const m = this.drainReader.read(await this.text('GET', '/metrics'));
      if (m.queuedRequests === 0 && m.runningRequests === 0) return;
      if (Date.now() >= deadline) throw new Error(`${this.id} still has ${m.runningRequests} running and ${m.queuedRequests} queued after the ${timeoutSeconds} s drain timeout`);
      await sleep(pollMs);
    }
  }

  /** One HTTP call; with `anyStatus` a non-2xx answer's body is returned (SGLang answers a refused switch with 400 and its JSON reason). */
  private async text(method: 'GET' | 'POST', path: string, body?: string, anyStatus = false, timeoutMs = this.timeoutMs): Promise<string> {
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, {
        method,
        signal: AbortSignal.timeout(timeoutMs),
        ...(body === undefined ? {} : { body, headers: { 'content-type': 'application/json' } }),
      });
    } catch (error) {
      throw new Error(`${method} ${this.id}${path}: ${(error as Error).message}`, { cause: error });
    }
    const text = await res.text();
    if (!res.ok && !anyStatus) throw new Error(`${method} ${this.id}${path}: HTTP ${res.status}`);
    return text;
  }
}
