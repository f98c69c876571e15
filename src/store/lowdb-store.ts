import { Low, type Adapter } from 'lowdb';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { InputError } from '../domain/errors.js';
import { checkDocument, emptyDocument, firstFault, type StoreDocument } from './document.js';
import { DocumentStore, type StoreOptions } from './document-store.js';
import { lineAndColumn, locateJsonError } from '../lib/json-text.js';
import { STORE_SCHEMA_VERSION } from './store.js';

/**
 * Upgrades for documents written by older builds: MIGRATIONS[v] turns a
 * version-v document into a version-(v+1) one. Version 1 is the first, so
 * there are none yet; a change to the layout bumps STORE_SCHEMA_VERSION and
 * adds its step here (docs/store.md: schemaVersion policy).
 */
const MIGRATIONS: Readonly<Record<number, (document: Record<string, unknown>) => Record<string, unknown>>> = {};

/**
 * lowdb's adapter for the store file, written here rather than taken from
 * lowdb/node: lowdb's JSONFile writes through steno, which does write a temp
 * file and rename it over the target (node_modules/steno/lib/index.js, v4),
 * but never fsyncs — after a power cut the rename can reach the disk before
 * the data and leave an empty or truncated file. This one writes
 * `.<name>.tmp`, fsyncs it, renames it over the file and fsyncs the folder,
 * so the file on disk is always one whole document, old or new.
 *
 * Reading refuses, with the file and the fault, anything this build must not
 * overwrite: invalid JSON, a schema violation, a newer schemaVersion.
 */
export class StoreFile implements Adapter<StoreDocument> {
  readonly tempPath: string;

  constructor(readonly path: string) {
    this.tempPath = join(dirname(path), `.${basename(path)}.tmp`);
  }

  async read(): Promise<StoreDocument | null> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new Error(`reading store ${this.path}: ${(error as Error).message}`, { cause: error });
    }
    return parseStoreDocument(text, this.path);
  }

  async write(document: StoreDocument): Promise<void> {
    // The temp name is fixed: writes are serialised (DocumentStore's queue),
    // and a temp file left by a crash is simply overwritten by the next write.
    const file = await open(this.tempPath, 'w');
    try {
      await file.writeFile(formatStoreDocument(document), 'utf8');
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(this.tempPath, this.path);
    await syncFolder(dirname(this.path));
  }
}

/** Makes the rename itself durable. Some platforms cannot fsync a folder (Windows: EPERM/EISDIR); there the rename is as durable as the OS makes it. */
async function syncFolder(folder: string): Promise<void> {
  let handle;
  try {
    handle = await open(folder, 'r');
    await handle.sync();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'EISDIR' && code !== 'EINVAL') throw error;
  } finally {
    await handle?.close();
  }
}

/**
 * One record per line: a fault found by JSON.parse then names a line that is
 * one record, diffs of the file stay readable, and the file is not the
 * 3–4× larger pretty-printed form that every write would have to rewrite.
 */
export function formatStoreDocument(document: StoreDocument): string {
  const fields = Object.entries(document).map(([key, value]) => {
    if (Array.isArray(value) && value.length > 0) {
      return `${JSON.stringify(key)}: [\n${value.map((item) => JSON.stringify(item)).join(',\n')}\n]`;
    }
    return `${JSON.stringify(key)}: ${JSON.stringify(value)}`;
  });
  return `{\n${fields.join(',\n')}\n}\n`;
}

const REFUSAL = 'refusing to open it; the file is left as it is';

/** Parses and checks a store file's text; migrates an older version; throws InputError naming the file and the fault. */
export function parseStoreDocument(text: string, path: string): StoreDocument {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    const fault = locateJsonError(text);
    if (fault) {
      const { line, column } = lineAndColumn(text, fault.offset);
      throw new InputError(`${path}:${line}:${column}`, `not valid JSON: ${fault.reason}; ${REFUSAL}`);
    }
    throw new InputError(path, `not valid JSON (${(error as Error).message}); ${REFUSAL}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new InputError(path, `not a pdpilot store (expected a JSON object); ${REFUSAL}`);
  }
  const version = (raw as Record<string, unknown>).schemaVersion;
  if (!Number.isInteger(version) || (version as number) < 1) {
    throw new InputError(`${path}: schemaVersion`, `missing or not a positive integer (${JSON.stringify(version)}); ${REFUSAL}`);
  }
  if ((version as number) > STORE_SCHEMA_VERSION) {
    throw new InputError(path, `written by a newer pdpilot (schemaVersion ${version} > ${STORE_SCHEMA_VERSION}); ${REFUSAL}`);
  }
  let migrated = raw as Record<string, unknown>;
  for (let v = version as number; v < STORE_SCHEMA_VERSION; v++) {
    const step = MIGRATIONS[v];
    if (!step) throw new InputError(`${path}: schemaVersion`, `no migration from schemaVersion ${v}; ${REFUSAL}`);
    migrated = { ...step(migrated), schemaVersion: v + 1 };
  }
  const fault = firstFault(checkDocument, migrated);
  if (fault) {
    const [pointer, ...reason] = fault.split(': ');
    const key = (pointer ?? '').replace(/^\//, '').replaceAll('/', '.') || '(root)';
    throw new InputError(`${path}: ${key}`, `${reason.join(': ')}; the file is not a valid pdpilot store; ${REFUSAL}`);
  }
  return migrated as StoreDocument;
}

/**
 * The daemon's Store: one JSON document on disk (docs/store.md), held by
 * lowdb's `Low` through the durable StoreFile adapter above; queries,
 * retention and the write queue are DocumentStore's.
 */
export class LowdbStore extends DocumentStore {
  private constructor(document: StoreDocument, low: Low<StoreDocument>, path: string, options: StoreOptions) {
    super(
      document,
      {
        save: async (doc) => {
          low.data = doc;
          await low.write();
        },
        reload: async () => {
          // Not low.read(): it keeps the in-memory data when the file is gone, which would let memory run ahead of disk.
          const persisted = await low.adapter.read();
          if (!persisted) throw new Error(`${path} disappeared`);
          low.data = persisted;
          return persisted;
        },
      },
      path,
      options,
    );
  }

  /**
   * Opens the store at `path`. A missing file starts an empty store (its
   * folder is created and the empty document written at once, so a
   * read-only location fails now rather than at the first decision). A
   * corrupt or newer file is refused with an InputError and never written.
   */
  static async open(path: string, options: StoreOptions = {}): Promise<LowdbStore> {
    const absolute = resolve(path);
    const adapter = new StoreFile(absolute);
    const existing = await adapter.read();
    const low = new Low<StoreDocument>(adapter, existing ?? emptyDocument());
    // Built before the first write so bad options fail without creating a file.
    const store = new LowdbStore(low.data, low, absolute, options);
    if (!existing) {
      await mkdir(dirname(absolute), { recursive: true });
      await low.write();
    }
    return store;
  }
}
