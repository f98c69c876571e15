import { isInputProblem, InputErrors } from '../domain/errors.js';

/**
 * Wraps a command's action with the exit-code contract of DESIGN.md:
 * 0 on success, 2 on bad usage or bad input (one line per fault on stderr,
 * naming the file/key/line), 1 on a runtime failure.
 */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<number | void> | number | void) {
  return async (...args: A): Promise<void> => {
    try {
      const code = await fn(...args);
      process.exitCode = typeof code === 'number' ? code : 0;
    } catch (error) {
      process.exitCode = reportError(error);
    }
  };
}

export function reportError(error: unknown): number {
  if (error instanceof InputErrors) {
    for (const e of error.errors) process.stderr.write(`${e.message}\n`);
    return 2;
  }
  if (isInputProblem(error)) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 2;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`pdpilot: ${message}\n`);
  if (process.env.PDPILOT_DEBUG && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  return 1;
}

/** Writes JSON to stdout or to a file path ("-" or undefined means stdout). */
export async function writeJson(value: unknown, path?: string): Promise<void> {
  const text = `${JSON.stringify(value, null, 2)}\n`;
  if (!path || path === '-') {
    process.stdout.write(text);
    return;
  }
  const { writeFile } = await import('node:fs/promises');
  await writeFile(path, text);
}
