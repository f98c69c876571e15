import t from 'tap';
import { EventQueue } from '../../src/sim/event-queue.js';

t.test('pops in time order, ties in push order', async (t) => {
  const q = new EventQueue();
  q.push(3, 1, 30);
  q.push(1, 2, 10);
  q.push(2, 3, 20);
  q.push(1, 4, 11);
  q.push(1, 5, 12);
  const out: [number, number, number][] = [];
  while (q.pop()) out.push([q.timeSeconds, q.kind, q.target]);
  t.same(out, [
    [1, 2, 10],
    [1, 4, 11],
    [1, 5, 12],
    [2, 3, 20],
    [3, 1, 30],
  ]);
  t.equal(q.pop(), false);
});

t.test('heap order holds for many random events and is deterministic', async (t) => {
  const run = () => {
    const q = new EventQueue();
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 5000; i++) q.push(Math.floor(rand() * 100), 0, i);
    const out: number[] = [];
    let lastTime = -1;
    let lastTarget = -1;
    let ordered = true;
    while (q.pop()) {
      if (q.timeSeconds < lastTime || (q.timeSeconds === lastTime && q.target < lastTarget)) ordered = false;
      lastTime = q.timeSeconds;
      lastTarget = q.target;
      out.push(q.target);
    }
    return { out, ordered };
  };
  const a = run();
  t.ok(a.ordered, 'non-decreasing time, FIFO within a time');
  t.equal(a.out.length, 5000);
  t.same(run().out, a.out, 'same input, same order');
});

t.test('refuses NaN times', async (t) => {
  t.throws(() => new EventQueue().push(Number.NaN, 0, 0), RangeError);
});
