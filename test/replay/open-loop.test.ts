// The open-loop schedule on a fake clock and a fake transport: sends at
// arrival ÷ speedup, never waiting for answers; lateness recorded.
import t from 'tap';
import { ManualClock } from '../../src/lib/clock.js';
import { runOpenLoop, type Pacer, type ReplayRequest, type StreamOutcome } from '../../src/replay/index.js';

class FakePacer extends ManualClock implements Pacer {
  async sleepUntil(seconds: number): Promise<void> {
    this.set(seconds);
  }
}

const req = (index: number, arrivalSeconds: number): ReplayRequest => ({ index, arrivalSeconds, inputTokens: 10, outputTokens: 4 });

t.test('sends at start + (arrival − first) ÷ speedup, before any answer comes', async (t) => {
  const pacer = new FakePacer(100);
  const sentAt: number[] = [];
  const answers: ((o: StreamOutcome) => void)[] = [];
  const run = runOpenLoop([req(0, 50), req(1, 52), req(2, 52), req(3, 60)], {
    speedup: 2,
    pacer,
    transport: {
      send: () => {
        sentAt.push(pacer.nowSeconds());
        return new Promise((resolve) => answers.push(resolve));
      },
    },
  });
  // Every request went out though none was answered: open loop.
  await new Promise((resolve) => setImmediate(resolve));
  t.same(sentAt, [100, 101, 101, 105]);
  answers.forEach((answer, i) => answer({ reason: 'ok', tokens: 4, endSeconds: 106 + i }));
  const records = await run;
  t.same(records.map((r) => [r.request.index, r.scheduledSeconds, r.sentSeconds]), [[0, 100, 100], [1, 101, 101], [2, 101, 101], [3, 105, 105]]);
});

t.test('a late loop sends at once and records the lateness; a throwing transport is one failed request', async (t) => {
  const pacer = new FakePacer(0);
  const records = await runOpenLoop([req(0, 0), req(1, 1), req(2, 2)], {
    speedup: 1,
    pacer,
    transport: {
      send: async (r) => {
        if (r.index === 0) pacer.advance(1.5); // the client stalls past request 1's slot
        if (r.index === 2) throw new Error('bug');
        return { reason: 'ok', tokens: 4, endSeconds: pacer.nowSeconds() };
      },
    },
  });
  t.same(records.map((r) => r.sentSeconds - r.scheduledSeconds), [0, 0.5, 0]);
  t.equal(records[2]!.outcome.reason, 'client_error');
});

t.test('an empty list and a bad speedup', async (t) => {
  const transport = { send: async () => ({ reason: 'ok', tokens: 1, endSeconds: 0 }) };
  t.same(await runOpenLoop([], { speedup: 1, pacer: new FakePacer(), transport }), []);
  await t.rejects(runOpenLoop([req(0, 0)], { speedup: 0, pacer: new FakePacer(), transport }), RangeError);
});
