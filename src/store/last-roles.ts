// The role each worker was left in by its flips, for a daemon that restarts
// its local fleet: workers come back in the split the controller had chosen,
// not in the configured initial one (which the controller would then undo
// again, one flip per interval, at a cost to the SLOs each time).
import type { Role, WorkerId } from '../domain/role.js';
import type { FlipRecord } from './store.js';

/**
 * Per worker, the role its latest flip left it in: the new role when that
 * flip is done, else the role it was flipped from (rolled back, failed, or
 * unfinished: the flip started from that role, and restart recovery reads
 * the worker afresh and settles the flip). Workers with no recorded flip are
 * absent (retention may have dropped old flips; they keep the configured role).
 */
export function rolesAfterFlips(flips: readonly Pick<FlipRecord, 'id' | 'change' | 'state'>[]): Map<WorkerId, Role> {
  const latest = new Map<WorkerId, Pick<FlipRecord, 'id' | 'change' | 'state'>>();
  for (const flip of flips) {
    const seen = latest.get(flip.change.workerId);
    if (!seen || flip.id > seen.id) latest.set(flip.change.workerId, flip);
  }
  return new Map([...latest].map(([worker, flip]) => [worker, flip.state === 'done' ? flip.change.to : flip.change.from]));
}
