// The local fleet watches its worker processes: a worker that dies on its own
// is started again on the same port after a backoff, in the role it last had,
// and one that keeps dying within the window is left down and reported.
import t from 'tap';
import { LocalFleet, type SupervisionEvent } from '../../src/fleet/local-fleet.js';
import { writeFastProfile } from '../router/fixtures/fleet.js';

const profile = writeFastProfile();

async function until<T>(what: string, timeoutMs: number, probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function roleAt(url: string): Promise<string | undefined> {
  try {
    const response = await fetch(`${url}/v1/state`);
    return response.ok ? ((await response.json()) as { role: string }).role : undefined;
  } catch {
    return undefined; // not listening (yet)
  }
}

t.test('a crashed worker comes back on its port in its latest role; repeated crashes are given up', async (t) => {
  const events: SupervisionEvent[] = [];
  const fleet = new LocalFleet([{ role: 'prefill', backend: 'sim', host: '127.0.0.1', port: 0, profile, workerId: 'w0' }], {
    restart: { backoffBaseSeconds: 0.2, backoffMaxSeconds: 1, maxCrashes: 3, crashWindowSeconds: 600 },
    onEvent: (event) => events.push(event),
  });
  t.teardown(() => fleet.stop());
  const [first] = await fleet.start();
  const url = first!.url;
  t.equal(await roleAt(url), 'prefill');

  // The controller flipped it to decode (the worker itself is not asked here: only the fleet's record).
  fleet.noteRole('w0', 'decode');
  first!.process.kill('SIGKILL');
  const restarted = await until('the restart', 30_000, () => events.find((e) => e.kind === 'restarted'));
  t.match(events[0], { kind: 'crashed', workerId: 'w0', exit: 'SIGKILL', crashesInWindow: 1, restartInSeconds: 0.2 });
  t.match(restarted, { kind: 'restarted', workerId: 'w0', role: 'decode', url });
  t.not(fleet.workers[0]!.process.pid, first!.process.pid, 'a new process');
  t.equal(await roleAt(url), 'decode', 'same URL, latest role');

  // Second crash: the backoff doubles.
  fleet.workers[0]!.process.kill('SIGKILL');
  await until('the second restart', 30_000, () => (events.filter((e) => e.kind === 'restarted').length === 2 ? true : undefined));
  t.match(events.filter((e) => e.kind === 'crashed')[1], { crashesInWindow: 2, restartInSeconds: 0.4 });

  // Third crash within the window: left down, not restarted.
  const third = fleet.workers[0]!.process;
  third.kill('SIGKILL');
  const gaveUp = await until('giving up', 30_000, () => events.find((e) => e.kind === 'given-up'));
  t.match(gaveUp, { kind: 'given-up', workerId: 'w0', crashesInWindow: 3 });
  t.ok(fleet.down.has('w0'));
  await new Promise((r) => setTimeout(r, 1000));
  t.equal(events.filter((e) => e.kind === 'restarted').length, 2, 'no restart after giving up');
  t.equal(await roleAt(url), undefined, 'nothing listens there any more');
});

t.test('a worker stopped by the fleet is not restarted', async (t) => {
  const events: SupervisionEvent[] = [];
  const fleet = new LocalFleet([{ role: 'decode', backend: 'sim', host: '127.0.0.1', port: 0, profile, workerId: 'w1' }], {
    restart: { backoffBaseSeconds: 0.05, backoffMaxSeconds: 0.05, maxCrashes: 5, crashWindowSeconds: 600 },
    onEvent: (event) => events.push(event),
  });
  await fleet.start();
  await fleet.stop();
  await new Promise((r) => setTimeout(r, 500));
  t.same(events, [], 'a requested stop is not a crash');
});
