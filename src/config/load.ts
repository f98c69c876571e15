// Loading the daemon config: read the JSON file, apply the schema's defaults,
// validate (schema, then cross-field rules, then referenced files), and return
// a typed config with absolute paths and secrets read from the environment.
// Every fault is collected and thrown together as InputErrors, one
// `FILE: key.path: reason` each; nothing here exits the process.
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { InputError, InputErrors } from '../domain/errors.js';
import { ConfigSchema, type PdpilotConfig } from './schema.js';
import { schemaProblems, type KeyProblem } from './schema-errors.js';
import { crossChecks, MIN_TOKEN_LENGTH } from './cross-checks.js';
import { fileProblems } from './file-checks.js';
import { parseJsonText } from './json-text.js';

export interface LoadOptions {
  /** Where `tokenEnv` variables are read; default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Check that referenced files exist (default true). Off, only the file's own content is judged. */
  checkFiles?: boolean;
}

/** Something that loads but is probably not what was meant; `where` is `FILE: key.path` like an error's. */
export interface ConfigWarning {
  where: string;
  message: string;
}

export interface LoadedConfig {
  config: PdpilotConfig;
  warnings: ConfigWarning[];
}

/** Reads and validates the config file at `file` (as the user named it; errors quote it so). Throws InputError(s). */
export async function loadConfig(file: string, options: LoadOptions = {}): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(file, code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a folder, not a config file' : `cannot read (${code})`);
  }
  return validateConfig(parseJsonText(text, file), file, options);
}

/**
 * Validates an already-parsed config document. `file` names it in errors and
 * its folder is where relative paths resolve.
 */
export async function validateConfig(document: unknown, file: string, options: LoadOptions = {}): Promise<LoadedConfig> {
  const { env = process.env, checkFiles = true } = options;
  const evaluated = evaluate(document, dirname(resolve(file)), env);
  const problems = [...evaluated.problems];
  if (checkFiles && evaluated.valid !== undefined) problems.push(...(await fileProblems(evaluated.config, evaluated.valid)));
  const where = (path: string) => (path === '' ? file : `${file}: ${path}`);
  if (problems.length > 0) throw new InputErrors(problems.map((p) => new InputError(where(p.path), p.reason)));
  return { config: evaluated.config, warnings: evaluated.warnings.map((w) => ({ where: where(w.path), message: w.reason })) };
}

/**
 * The config a daemon runs with when the file leaves everything out: every
 * default, relative paths resolved against `baseDir`. It passes the schema and
 * the cross-field rules (a test holds it to that); its files are not checked.
 */
export function defaultConfig(baseDir: string = process.cwd()): PdpilotConfig {
  const { config, problems } = evaluate({}, baseDir, {});
  if (problems.length > 0) throw new Error(`the built-in defaults are invalid: ${problems.map((p) => `${p.path}: ${p.reason}`).join('; ')}`);
  return config;
}

interface Evaluation {
  config: PdpilotConfig;
  problems: KeyProblem[];
  warnings: KeyProblem[];
  /** Whether a key passed the schema; undefined when the document is not even an object. */
  valid?: (path: string) => boolean;
}

/** Everything except file checks: defaults, schema, cross-field rules, resolution. No I/O. */
function evaluate(document: unknown, baseDir: string, env: Readonly<Record<string, string | undefined>>): Evaluation {
  // Defaults are applied to a copy: the caller's document stays as written, which `given` below relies on.
  const config = Value.Default(ConfigSchema, structuredClone(document)) as PdpilotConfig;
  const problems = schemaProblems(ConfigSchema, config);
  if (problems.some((p) => p.path === '')) return { config, problems, warnings: [] };

  const failed = problems.map((p) => p.path);
  const inside = (inner: string, outer: string) => inner === outer || inner.startsWith(`${outer}.`);
  const valid = (...paths: string[]) => paths.every((path) => !failed.some((f) => inside(f, path) || inside(path, f)));
  const typed = (path: string) => !failed.some((f) => inside(path, f));
  const given = (path: string) => lookup(document, path) !== undefined;

  const { problems: crossProblems, warnings } = crossChecks({ config, valid, typed, given });
  problems.push(...crossProblems);
  problems.push(...resolveForDaemon(config, baseDir, env, valid, warnings));
  return { config, problems, warnings, valid };
}

/**
 * Turns the validated document into what the daemon uses: absolute paths,
 * the initial split filled in, tokens read from the environment. Returns the
 * problems it finds (a token variable holding too short a token) and adds
 * warnings (a token variable that is unset).
 */
function resolveForDaemon(
  config: PdpilotConfig,
  baseDir: string,
  env: Readonly<Record<string, string | undefined>>,
  valid: (...paths: string[]) => boolean,
  warnings: KeyProblem[],
): KeyProblem[] {
  const problems: KeyProblem[] = [];
  if (valid('fleet.profile')) config.fleet.profile = resolve(baseDir, config.fleet.profile);
  if (valid('policy.file') && config.policy.file !== undefined) config.policy.file = resolve(baseDir, config.policy.file);
  if (valid('store.path')) config.store.path = resolve(baseDir, config.store.path);
  if (valid('policy.name', 'policy.file') && config.policy.name === undefined && config.policy.file === undefined) config.policy.name = 'pdpilot';

  const { fleet, controller } = config;
  if (valid('fleet.mode', 'fleet.workers', 'fleet.initialPrefill', 'controller.minPerRole') && fleet.mode === 'local' && fleet.initialPrefill === undefined) {
    // Half and half, moved into the range the floors allow: prefill ≥ its floor and decode ≥ its floor.
    const highest = Math.max(0, fleet.workers - controller.minPerRole.decode);
    fleet.initialPrefill = Math.min(highest, Math.max(controller.minPerRole.prefill, Math.floor(fleet.workers / 2)));
  }

  if (valid('admin.tokens')) {
    config.admin.tokens = config.admin.tokens.filter((entry, i) => {
      if (entry.tokenEnv === undefined || entry.token !== undefined) return true;
      const secret = env[entry.tokenEnv];
      const at = `admin.tokens.${i}.tokenEnv`;
      if (secret === undefined || secret === '') {
        warnings.push({ path: at, reason: `${entry.tokenEnv} is not set: token "${entry.name}" is disabled` });
        return false;
      }
      if (secret.length < MIN_TOKEN_LENGTH) problems.push({ path: at, reason: `${entry.tokenEnv} holds ${secret.length} characters; a token needs at least ${MIN_TOKEN_LENGTH}` });
      entry.token = secret;
      return true;
    });
  }
  return problems;
}

/** The value at a dotted path of a parsed JSON document, or undefined. */
function lookup(document: unknown, path: string): unknown {
  let node = document;
  for (const key of path.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}
