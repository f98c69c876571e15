import type { Command } from 'commander';
import { action } from '../run.js';

export function registerUp(program: Command): void {
  program
    .command('up')
    .description('start the daemon: local fleet, router, controller, admin API')
    .option('--config <file>', 'config file', 'config.example.json')
    .action(
      action(() => {
        process.stderr.write(
          'pdpilot up: the daemon is not built yet (router: issue 7, controller and admin API: issue 8).\n' +
            'Available now: pdpilot config check, pdpilot trace stats. See README.md.\n',
        );
        return 1;
      }),
    );
}
