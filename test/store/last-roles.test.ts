import t from 'tap';
import type { FlipState } from '../../src/store/store.js';
import { rolesAfterFlips } from '../../src/store/last-roles.js';

const flip = (id: number, workerId: string, from: 'prefill' | 'decode', state: FlipState) => ({
  id,
  change: { workerId, from, to: from === 'prefill' ? ('decode' as const) : ('prefill' as const), reason: { code: 'x', message: 'x' } },
  state,
});

t.test('each worker is left in the role of its latest flip: the new one when done, the old one otherwise', async (t) => {
  const roles = rolesAfterFlips([
    flip(1, 'w0', 'prefill', 'done'),
    flip(4, 'w0', 'decode', 'done'), // flipped back later
    flip(2, 'w1', 'prefill', 'done'),
    flip(3, 'w2', 'prefill', 'rolled-back'),
    flip(5, 'w3', 'decode', 'failed'),
    flip(6, 'w1', 'decode', 'draining'), // unfinished: recovery settles it; it started from decode
  ]);
  t.same(
    [...roles].sort(),
    [
      ['w0', 'prefill'],
      ['w1', 'decode'],
      ['w2', 'prefill'],
      ['w3', 'decode'],
    ],
  );
});

t.test('the latest flip is the highest id, in whatever order the store lists them', async (t) => {
  t.same([...rolesAfterFlips([flip(9, 'w0', 'decode', 'done'), flip(2, 'w0', 'prefill', 'done')])], [['w0', 'prefill']]);
});

t.test('no flips: no worker is moved from its configured role', async (t) => {
  t.same(rolesAfterFlips([]).size, 0);
});
