import type { Role, WorkerId } from '../../domain/role.js';
import type { WorkerClient } from '../worker-client.js';
import type { WorkerReading } from '../../domain/fleet.js';

/** Slack on top of the drain timeout for the switch call itself: the worker answers once the drain and the switch are over. */
const SWITCH_SLACK_SECONDS = 30;

/**
 * A pdpilot native worker as the live controller sees it (control's
 * `ObservedWorker`, matched structurally: fleet/ may not import control/).
 * The worker protocol reports role and status itself (GET /v1/state) and
 * drains and switches in one call (POST /v1/role).
 */
export class NativeObservedWorker {
  readonly id: WorkerId;

  constructor(private readonly client: WorkerClient) {
    this.id = client.id;
  }

  async read(): Promise<WorkerReading> {
    const s = await this.client.state();
    return {
      role: s.role,
      status: s.status,
      queuedRequests: s.queuedRequests,
      queuedTokens: s.queuedTokens,
      runningRequests: s.runningRequests,
      kvUsage: s.kvUsage,
    };
  }

  async switchRole(role: Role, drainTimeoutSeconds: number): Promise<void> {
    const result = await this.client.switchRole(role, drainTimeoutSeconds, { signal: AbortSignal.timeout((drainTimeoutSeconds + SWITCH_SLACK_SECONDS) * 1000) });
    if (result.role !== role) throw new Error(`${this.id} answered the switch to ${role} with role ${result.role}`);
  }
}
