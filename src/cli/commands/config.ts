import type { Command } from 'commander';

export function registerConfig(program: Command): void {
  program.command('config').description('config file tools (not built yet)');
}
