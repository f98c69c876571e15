// What only the file-backed store can get wrong: restarts, refusing files it
// must not overwrite, and never leaving a partial file behind.
import t from 'tap';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../../src/domain/errors.js';
import { emptyDocument } from '../../src/store/document.js';
import { formatStoreDocument, LowdbStore, parseStoreDocument, StoreFile } from '../../src/store/lowdb-store.js';
import { change, decision, historyAt, iso } from './fixtures/store-fixtures.js';

t.test('a missing file starts an empty store, creating its folder and writing the empty document at once', async (t) => {
  const path = join(t.testdir(), 'a', 'b', 'store.json');
  const store = await LowdbStore.open(path);
  t.ok(existsSync(path));
  t.same(JSON.parse(await readFile(path, 'utf8')), emptyDocument());
  t.same((await store.decisions()).items, []);
  await store.close();
});

t.test('restart: a new instance on the same file finds decisions, history, flags and unfinished flips', async (t) => {
  const path = join(t.testdir(), 'store.json');
  const first = await LowdbStore.open(path);
  for (let i = 0; i < 5; i++) await first.appendDecision(decision(i * 60));
  for (let i = 0; i < 5; i++) await first.appendHistory(historyAt(i * 60, 10 + i, { ttftP90Seconds: 0.5, attainment: 0.95 }));
  const draining = await first.createFlip({ change: change('w1'), decisionId: 5, atIso: iso(300) });
  await first.advanceFlip(draining.id, 'draining', iso(301));
  const finished = await first.createFlip({ change: change('w2'), atIso: iso(302) });
  await first.advanceFlip(finished.id, 'failed', iso(303), 'worker refused');
  const pending = await first.createFlip({ change: change('w3', 'prefill'), atIso: iso(304) });
  await first.setFlags({ paused: true });
  const before = { decisions: await first.decisions(), history: await first.history(), flips: await first.flips() };
  // No close(): a killed daemon does not get to close; every awaited write is already on disk.

  const second = await LowdbStore.open(path);
  t.same(await second.decisions(), before.decisions);
  t.same(await second.history(), before.history);
  t.same(await second.flips(), before.flips);
  t.same((await second.pendingFlips()).map((f) => [f.id, f.state]), [[draining.id, 'draining'], [pending.id, 'pending']]);
  t.equal((await second.flags()).paused, true);
  t.equal((await second.appendDecision(decision(999))).id, 6, 'ids continue after a restart');
  const resumed = await second.advanceFlip(draining.id, 'switching', iso(400));
  t.equal(resumed.state, 'switching', 'an interrupted flip resumes where it was');
  await second.advanceFlip(pending.id, 'rolled-back', iso(400), 'not started before the restart');
  t.same((await second.pendingFlips()).map((f) => f.id), [draining.id]);
  await second.close();
  await first.close();
});

/** A test that writes `content` as the store file, expects open to refuse it, and checks the file is untouched. */
function refusalTest(name: string, content: string, expected: { where?: RegExp; message: RegExp }) {
  t.test(name, async (t) => {
    const path = join(t.testdir(), 'store.json');
    await writeFile(path, content);
    const error: unknown = await LowdbStore.open(path).then(
      () => undefined,
      (e: unknown) => e,
    );
    t.type(error, InputError);
    const inputError = error as InputError;
    if (expected.where) t.match(inputError.where, expected.where);
    t.match(inputError.message, expected.message);
    t.ok(inputError.message.startsWith(path), 'names the file');
    t.equal(await readFile(path, 'utf8'), content, 'the file is byte-identical');
    t.notOk(existsSync(join(t.testdirName, '.store.json.tmp')), 'and nothing was written beside it');
  });
}

const emptyText = formatStoreDocument(emptyDocument());
// Line 5 of the empty document is `"history": []`; the stray brace is its 13th character.
refusalTest('invalid JSON is refused with its line and column, and the file is left byte-identical', emptyText.replace('"history": []', '"history": [}'), {
  where: /store\.json:5:13$/,
  message: /not valid JSON: expected a value, found '}'; refusing to open it; the file is left as it is/,
});
refusalTest('a truncated file is refused where its unterminated string starts, and left alone', emptyText.slice(0, emptyText.indexOf('"flips"') + 5), {
  where: /store\.json:6:1$/,
  message: /not valid JSON: unterminated string/,
});
const badTime = emptyDocument() as unknown as { decisions: unknown[] };
badTime.decisions.push({ ...decision(0), id: 1, atIso: 'not a time' });
refusalTest('a schema violation is refused naming the key path', JSON.stringify(badTime, null, 2), {
  where: /store\.json: decisions\.0\.atIso$/,
  message: /not a valid pdpilot store/,
});
refusalTest('a file from a newer pdpilot is refused and never overwritten', JSON.stringify({ ...emptyDocument(), schemaVersion: 2, somethingNew: [1, 2, 3] }), {
  message: /written by a newer pdpilot \(schemaVersion 2 > 1\)/,
});
refusalTest('a file that is not a store at all is refused', '[1, 2, 3]\n', { message: /not a pdpilot store/ });

t.test('a missing or impossible schemaVersion is a fault at that key', async (t) => {
  t.throws(() => parseStoreDocument('{"decisions": []}', 'x.json'), { name: 'InputError', where: 'x.json: schemaVersion' });
  t.throws(() => parseStoreDocument('{"schemaVersion": 0}', 'x.json'), { name: 'InputError', where: 'x.json: schemaVersion' });
});

t.test('atomic writes: a concurrent reader never sees a partial file during many rapid writes', async (t) => {
  const path = join(t.testdir(), 'store.json');
  const store = await LowdbStore.open(path);
  let writing = true;
  let reads = 0;
  const reader = (async () => {
    while (writing) {
      const text = await readFile(path, 'utf8');
      JSON.parse(text); // throws, failing the test, on a torn or empty file
      reads++;
    }
  })();
  const writes = [];
  for (let i = 0; i < 300; i++) writes.push(i % 2 ? store.appendDecision(decision(i)) : store.appendHistory(historyAt(i * 60, i)));
  await Promise.all(writes);
  writing = false;
  await reader;
  t.ok(reads > 10, `the reader read the file ${reads} times while it was rewritten`);
  const final = parseStoreDocument(await readFile(path, 'utf8'), path);
  t.equal(final.decisions.length, 150);
  t.equal(final.history.length, 150);
  t.notOk(existsSync(join(t.testdirName, '.store.json.tmp')), 'the temp file was renamed away');
  await store.close();
});

t.test('the adapter writes through .<name>.tmp and renames; a temp file left by a crash is ignored and replaced', async (t) => {
  const dir = t.testdir();
  const path = join(dir, 'store.json');
  const store = await LowdbStore.open(path);
  await store.appendDecision(decision(0));
  const committed = await readFile(path, 'utf8');
  // A crash between writing the temp file and the rename leaves this behind:
  await writeFile(join(dir, '.store.json.tmp'), committed.slice(0, 40));
  const reopened = await LowdbStore.open(path);
  t.equal((await reopened.decisions()).items.length, 1, 'the committed file is what counts');
  await reopened.appendDecision(decision(1));
  t.notOk(existsSync(join(dir, '.store.json.tmp')));
  t.equal(parseStoreDocument(await readFile(path, 'utf8'), path).decisions.length, 2);
  t.equal(new StoreFile(path).tempPath, join(dir, '.store.json.tmp'));
  await store.close();
  await reopened.close();
});

t.test('a failed write rejects its caller, leaves the file and the store at the last good state, and the store recovers', async (t) => {
  const dir = t.testdir();
  const path = join(dir, 'store.json');
  const store = await LowdbStore.open(path);
  await store.appendDecision(decision(0));
  const committed = await readFile(path, 'utf8');
  // A folder where the temp file goes makes the write fail (EISDIR) even for root, which chmod would not stop.
  await mkdir(join(dir, '.store.json.tmp'));
  await t.rejects(store.appendDecision(decision(1)), /writing store .*store\.json: .*EISDIR/);
  t.equal(await readFile(path, 'utf8'), committed, 'the file is unchanged');
  t.same((await store.decisions()).items.map((d) => d.atSeconds), [1000], 'memory did not run ahead of the file');
  await rmdir(join(dir, '.store.json.tmp'));
  const next = await store.appendDecision(decision(2));
  t.equal(next.id, 2, 'the failed append took no id');
  t.same((await LowdbStore.open(path).then((s) => s.decisions())).items.map((d) => d.id), [2, 1]);
  await store.close();
});

t.test('the file holds one record per line', async (t) => {
  const path = join(t.testdir(), 'store.json');
  const store = await LowdbStore.open(path);
  for (let i = 0; i < 3; i++) await store.appendDecision(decision(i));
  const lines = (await readFile(path, 'utf8')).split('\n');
  const first = lines.indexOf('"decisions": [');
  t.ok(first > 0);
  t.same(lines.slice(first + 1, first + 4).map((l) => JSON.parse(l.replace(/,$/, '')).id), [1, 2, 3]);
  await store.close();
});

t.test('a store whose file vanished refuses to go on after a failed write rather than run ahead of the disk', async (t) => {
  const dir = t.testdir();
  const path = join(dir, 'state', 'store.json');
  const store = await LowdbStore.open(path);
  await store.appendDecision(decision(0));
  await rm(join(dir, 'state'), { recursive: true });
  await t.rejects(store.appendDecision(decision(1)), /writing store/);
  await t.rejects(store.decisions(), /unusable after a failed write: .*disappeared/);
  t.notOk(existsSync(path), 'nothing was recreated behind the operator');
  await store.close();
});
