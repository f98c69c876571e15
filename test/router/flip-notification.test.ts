// The router's fleet view told of a flip by the controller: the worker is
// out of rotation from flipStarted on, whatever a poll says in between (it
// may still report ready in its old role until the drain request reaches
// it), and back, in the role it then reports, as soon as flipFinished has
// read it afresh — without waiting for the poll timer.
import t from 'tap';
import type { Role } from '../../src/domain/role.js';
import type { WorkerClient, WorkerState } from '../../src/fleet/worker-client.js';
import { FleetView } from '../../src/router/fleet-view.js';

/** Only what FleetView calls: id and state(). */
class StateOnlyClient {
  role: Role;
  reads = 0;
  constructor(
    readonly id: string,
    role: Role,
  ) {
    this.role = role;
  }
  async state(): Promise<WorkerState> {
    this.reads++;
    return {
      workerId: this.id,
      role: this.role,
      status: 'ready',
      backend: 'sim',
      model: 'm',
      queuedRequests: 0,
      queuedTokens: 0,
      runningRequests: 0,
      kvUsedTokens: 0,
      kvTotalTokens: 1000,
      kvUsage: 0,
      heldKvHandles: 0,
      vocabSize: 100,
      contextTokens: 100,
    };
  }
}

t.test('flipStarted takes a worker out at once; a poll does not bring it back; flipFinished re-reads it in its new role', async (t) => {
  const w0 = new StateOnlyClient('w0', 'prefill');
  const w1 = new StateOnlyClient('w1', 'decode');
  const fleet = new FleetView([w0, w1] as unknown as WorkerClient[]);
  await fleet.refresh();
  t.equal(fleet.countAccepting('prefill'), 1);

  fleet.flipStarted('w0');
  t.equal(fleet.countAccepting('prefill'), 0, 'out of rotation before any poll');
  await fleet.refresh();
  t.equal(fleet.countAccepting('prefill'), 0, 'a poll that still sees it ready as prefill does not bring it back');

  w0.role = 'decode';
  const reads = w0.reads;
  await fleet.flipFinished('w0');
  t.equal(w0.reads, reads + 1, 'flipFinished read the worker itself');
  t.equal(fleet.countAccepting('decode'), 2, 'back in rotation in its new role, no timer involved');
  t.equal(fleet.countAccepting('prefill'), 0);
});

t.test('a flip of a worker the router does not carry (an engine worker) is ignored', async (t) => {
  const fleet = new FleetView([new StateOnlyClient('w0', 'prefill')] as unknown as WorkerClient[]);
  await fleet.refresh();
  fleet.flipStarted('vllm-1');
  await fleet.flipFinished('vllm-1');
  t.equal(fleet.countAccepting('prefill'), 1);
});

t.test('the poll timer reads one worker at a time, each once per interval', async (t) => {
  let concurrent = 0;
  let most = 0;
  class SlowStateClient extends StateOnlyClient {
    override async state(): Promise<WorkerState> {
      concurrent++;
      most = Math.max(most, concurrent);
      await new Promise((r) => setTimeout(r, 2));
      concurrent--;
      return super.state();
    }
  }
  const clients = Array.from({ length: 8 }, (_, i) => new SlowStateClient(`w${i}`, i < 4 ? 'prefill' : 'decode'));
  const fleet = new FleetView(clients as unknown as WorkerClient[]);
  fleet.start(0.4); // one poll every 50 ms
  await new Promise((r) => setTimeout(r, 1000));
  fleet.stop();
  t.equal(most, 1, 'never two polls at once');
  const reads = clients.map((c) => c.reads);
  t.ok(Math.min(...reads) >= 1 && Math.max(...reads) - Math.min(...reads) <= 1, `every worker read about equally often (${reads.join(', ')})`);
  t.ok(reads.reduce((a, b) => a + b, 0) >= 8, 'each worker at least once in 1 s at a 0.4 s interval');
  t.equal(fleet.countAccepting('prefill'), 4, 'the polls fed the view');
});
