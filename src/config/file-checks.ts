// Files the config names: the profile and a policy file must exist now (the
// daemon cannot start without them); the state file may not exist yet — the
// store creates it and its folder on first start, which is what a fresh clone
// with the default `.pdpilot/state.json` needs — but it must be creatable.
import { stat } from 'node:fs/promises';
import { dirname, isAbsolute, relative } from 'node:path';
import type { PdpilotConfig } from './schema.js';
import type { KeyProblem } from './schema-errors.js';

/**
 * Problems with the files a config (paths already absolute) refers to; `valid`
 * says which path keys passed the schema, the others are skipped.
 */
export async function fileProblems(config: PdpilotConfig, valid: (path: string) => boolean): Promise<KeyProblem[]> {
  const checks: Promise<KeyProblem | undefined>[] = [];
  if (valid('fleet.profile')) checks.push(existingFile('fleet.profile', config.fleet.profile));
  if (valid('policy.file') && config.policy.file !== undefined) checks.push(existingFile('policy.file', config.policy.file));
  if (valid('store.path')) checks.push(creatableFile('store.path', config.store.path));
  return (await Promise.all(checks)).filter((p): p is KeyProblem => p !== undefined);
}

/** `path` relative to the working directory when it lies below it, else absolute: short, and still says where we looked. */
export function displayPath(path: string, cwd = process.cwd()): string {
  const rel = relative(cwd, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

async function existingFile(key: string, path: string): Promise<KeyProblem | undefined> {
  const found = await statOrCode(path);
  if (found === 'ENOENT' || found === 'ENOTDIR') return { path: key, reason: `file not found: ${displayPath(path)}` };
  if (typeof found === 'string') return { path: key, reason: `cannot read ${displayPath(path)} (${found})` };
  if (!found.isFile()) return { path: key, reason: `not a file: ${displayPath(path)}` };
  return undefined;
}

async function creatableFile(key: string, path: string): Promise<KeyProblem | undefined> {
  const found = await statOrCode(path);
  if (typeof found !== 'string') return found.isFile() ? undefined : { path: key, reason: `not a file: ${displayPath(path)}` };
  // Missing: the nearest existing ancestor must be a folder for mkdir -p to succeed.
  let ancestor = dirname(path);
  for (;;) {
    const up = await statOrCode(ancestor);
    if (typeof up !== 'string') {
      return up.isDirectory() ? undefined : { path: key, reason: `cannot be created: ${displayPath(ancestor)} is not a folder` };
    }
    const parent = dirname(ancestor);
    if (parent === ancestor) return undefined;
    ancestor = parent;
  }
}

async function statOrCode(path: string) {
  try {
    return await stat(path);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? 'unknown error';
  }
}
