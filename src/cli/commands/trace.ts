import type { Command } from 'commander';

export function registerTrace(program: Command): void {
  program.command('trace').description('trace tools (not built yet)');
}
