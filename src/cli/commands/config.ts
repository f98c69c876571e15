import type { Command } from 'commander';
import { action } from '../run.js';
import { loadConfig, renderReference, summarizeConfig } from '../../config/index.js';

export function registerConfig(program: Command): void {
  const config = program.command('config').description('config file tools');

  config
    .command('check')
    .description('validate a config file: exit 0 with a summary, or 2 with one line per fault (FILE: key.path: reason)')
    .argument('<file>', 'config file (JSON)')
    .action(
      action(async (file: string) => {
        const { config: loaded, warnings } = await loadConfig(file);
        // Warnings go to stderr so that stdout stays the summary alone.
        for (const w of warnings) process.stderr.write(`${w.where}: warning: ${w.message}\n`);
        process.stdout.write(`${file}: valid\n${summarizeConfig(loaded).join('\n')}\n`);
      }),
    );

  config
    .command('reference')
    .description('print the Markdown reference of every config key (the generated part of docs/config.md)')
    .action(
      action(() => {
        process.stdout.write(renderReference());
      }),
    );
}
