// The host of the daemon's control thread (src/cli/control-thread.ts), with
// real worker threads running a stand-in entry: request reports reach the
// thread in batches, start-up failures reject start() with the exit-code
// class they had, and a thread that dies is started again while reports for
// the dead one are dropped. The real entry runs in every `pdpilot up` test
// (test/cli/up-e2e.test.ts flips a worker through it).
import { Writable } from 'node:stream';
import { pino } from 'pino';
import t from 'tap';
import { ControlThread, type ControlThreadInit } from '../../src/cli/control-thread.js';
import { UsageError } from '../../src/domain/errors.js';

const ENTRY = new URL('./fixtures/control-thread-stand-in.mjs', import.meta.url);

function capturedLog() {
  const lines: { msg: string; [key: string]: unknown }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(JSON.parse(chunk.toString()) as { msg: string });
      callback();
    },
  });
  return { log: pino({ level: 'info' }, stream), lines };
}

/** Only the stand-in reads its init: what it is to do. */
const init = (behaviour: string) => ({ behaviour }) as unknown as ControlThreadInit;

const until = async (test: () => boolean, what: string, ms = 10_000) => {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

t.test('reports made in one turn reach the thread as one batch; stop ends the thread', async (t) => {
  const batches: string[] = [];
  const { log } = capturedLog();
  const thread = await ControlThread.start(init('echo'), { log, entry: ENTRY, onFlipStarted: (w) => batches.push(w), onFlipFinished: () => undefined });
  thread.admitted({ inputTokens: 100, outputTokens: 20 });
  thread.served({ ttftSeconds: 0.25, tpotSeconds: 0.05 });
  thread.admitted({ inputTokens: 7, outputTokens: 1 });
  thread.failed();
  thread.failed();
  await until(() => batches.length > 0, 'the batch');
  t.same(JSON.parse(batches[0]!), { arrivals: [100, 20, 7, 1], outcomes: [0.25, 0.05], failures: 2 });
  // Nothing else was reported, so nothing else is sent.
  await new Promise((r) => setTimeout(r, 100));
  t.equal(batches.length, 1);

  // stop() sends what is still buffered first: the thread sees it before `stop`.
  thread.served({ ttftSeconds: 1, tpotSeconds: 0 });
  await thread.stop();
  t.equal(batches.length, 2);
  t.same(JSON.parse(batches[1]!), { arrivals: [], outcomes: [1, 0], failures: 0 });
  // Reports after the stop go nowhere and throw nothing.
  thread.admitted({ inputTokens: 1, outputTokens: 1 });
});

t.test('a start-up failure rejects start(): bad input keeps its message and exit code 2, a crash is a runtime error', async (t) => {
  const { log } = capturedLog();
  const hooks = { log, entry: ENTRY, onFlipStarted: () => undefined, onFlipFinished: () => undefined };
  const badStore = await ControlThread.start(init('bad-store'), hooks).then(
    () => undefined,
    (error: unknown) => error,
  );
  t.ok(badStore instanceof UsageError, 'an input problem (exit code 2)');
  t.equal((badStore as Error).message, 'state.json:3:1: not valid JSON');
  await t.rejects(ControlThread.start(init('throw-at-start'), hooks), /boom/);
});

t.test('a control thread that dies is started again; reports for the dead one are dropped', async (t) => {
  const { log, lines } = capturedLog();
  const thread = await ControlThread.start(init('crash-on-report'), { log, entry: ENTRY, restartDelaySeconds: 0.3, onFlipStarted: () => undefined, onFlipFinished: () => undefined });
  const restarts = () => lines.filter((l) => l.msg === 'the control thread is running again').length;
  const exits = () => lines.filter((l) => l.msg.startsWith('the control thread exited'));

  thread.admitted({ inputTokens: 1, outputTokens: 1 });
  await until(() => exits().length === 1, 'the crash');
  t.ok(lines.some((l) => l.msg === 'the control thread failed' && JSON.stringify(l.err).includes('control plane bug')), 'the crash is logged with its error');
  t.equal(exits()[0]!.restartInSeconds, 0.3);
  // Reported while no thread runs: it belongs to the dead thread's interval, so the new thread never sees it
  // (this stand-in would crash on it).
  thread.served({ ttftSeconds: 0.1, tpotSeconds: 0.01 });
  await until(() => restarts() === 1, 'the restart');
  await new Promise((r) => setTimeout(r, 300));
  t.equal(exits().length, 1, 'the restarted thread got no report');

  // It dies again on the next report. The delay doubles only while restarts keep failing: it is 0.3 s again.
  thread.admitted({ inputTokens: 1, outputTokens: 1 });
  await until(() => restarts() === 2, 'the second restart');
  t.same(
    exits().map((l) => l.restartInSeconds),
    [0.3, 0.3],
  );
  await thread.stop();
  // No restart after a stop.
  await new Promise((r) => setTimeout(r, 500));
  t.equal(restarts(), 2);
  t.equal(exits().length, 2);
});
