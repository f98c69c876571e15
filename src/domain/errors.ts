/**
 * Bad input from outside (a file, a flag, a request body). `where` names the
 * fault — a file with line, or a key path — and the CLI prints
 * `where: message` on one line and exits 2.
 */
export class InputError extends Error {
  constructor(
    readonly where: string,
    message: string,
  ) {
    super(`${where}: ${message}`);
    this.name = 'InputError';
  }
}

/** Bad usage of a command (missing or conflicting flags). Exit 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Several input errors found at once (e.g. every invalid key of a config file); printed one per line. */
export class InputErrors extends Error {
  constructor(readonly errors: InputError[]) {
    super(errors.map((e) => e.message).join('\n'));
    this.name = 'InputErrors';
  }
}

export function isInputProblem(error: unknown): error is InputError | UsageError | InputErrors {
  return error instanceof InputError || error instanceof UsageError || error instanceof InputErrors;
}
