// The flip executor's listener (how the router learns of a flip before the
// worker is asked to drain): `started` after the flip is persisted and
// before the worker is touched, `finished` once per `started` with the
// final state, also when the switch fails; refused flips tell nobody.
import t from 'tap';
import { FlipExecutor } from '../../src/control/flip-executor.js';
import type { RoleChange } from '../../src/domain/decision.js';
import { ManualClock } from '../../src/lib/clock.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { FakeWallClock, FakeWorker } from './fixtures/live-fleet.js';

const change = (workerId: string): RoleChange => ({ workerId, from: 'prefill', to: 'decode', reason: { code: 'decode-kv-high', message: 'test' } });

function setup() {
  const store = new MemoryStore();
  const worker = new FakeWorker('w0', 'prefill');
  const events: string[] = [];
  const executor = new FlipExecutor({
    store,
    clock: new ManualClock(),
    wallClock: new FakeWallClock(),
    workers: [worker],
    drainTimeoutSeconds: 5,
    onFlip: {
      started: (c) => events.push(`started ${c.workerId} ${worker.switches.length} switches`),
      finished: (c, state) => events.push(`finished ${c.workerId} ${state}`),
    },
  });
  return { store, worker, events, executor };
}

t.test('started before the worker is asked to drain (and after the flip is persisted); finished with done', async (t) => {
  const { store, worker, events, executor } = setup();
  worker.onSwitch = async () => {
    events.push(`switch asked; flips stored: ${(await store.pendingFlips()).length}`);
  };
  worker.holdNextSwitch();
  t.match(await executor.start(change('w0')), { outcome: 'started' });
  t.same(events, ['started w0 0 switches'], 'told before any switch call');
  await new Promise((r) => setImmediate(r));
  worker.release();
  await executor.idle();
  t.same(events, ['started w0 0 switches', 'switch asked; flips stored: 1', 'finished w0 done']);
});

t.test('finished also when the switch fails, so a listener never holds the worker out for good', async (t) => {
  const { worker, events, executor } = setup();
  worker.refuse = 'engine refused';
  await executor.start(change('w0'));
  await executor.idle();
  t.same(events, ['started w0 0 switches', 'finished w0 failed']);
});

t.test('a refused flip (re-validation failed) tells nobody', async (t) => {
  const { worker, events, executor } = setup();
  worker.reading = { ...worker.reading, role: 'decode' };
  t.match(await executor.start(change('w0')), { outcome: 'refused' });
  t.same(events, []);
});
