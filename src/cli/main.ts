#!/usr/bin/env node
// Composition root of the pdpilot CLI. Each command lives in its own module
// under commands/ and registers itself on the program; nothing imports cli/.
import { Command, CommanderError } from 'commander';
import { createRequire } from 'node:module';
import * as commands from './commands/index.js';

const require = createRequire(import.meta.url);
const { version } = require('../../package.json') as { version: string };

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('pdpilot')
    .description('Control plane for prefill/decode-disaggregated LLM serving')
    .version(version)
    .showHelpAfterError()
    .exitOverride();
  for (const register of Object.values(commands)) register(program);
  return program;
}

async function main(): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version exit 0; everything else commander rejects is bad usage.
      process.exitCode = error.exitCode === 0 ? 0 : 2;
      return;
    }
    throw error;
  }
}

await main();
