import type { Command } from 'commander';
import { UsageError } from '../../domain/errors.js';
import { profileBackend } from '../../worker/profiler.js';
import { action, writeJson } from '../run.js';
import { addEngineFlags, workerOptions, type WorkerFlags } from './worker.js';

export function registerProfile(program: Command): void {
  const cmd = program
    .command('profile')
    .description('measure a backend over a grid of prefill batches and decode steps, fit the latency model, write a profile JSON')
    .requiredOption('--backend <backend>', 'sim or cpu (cuda when built)')
    .option('--out <file>', 'write the profile here (default stdout)')
    .option('--repeats <n>', 'measurements per grid point (the fastest is kept: interference only adds time)', '3')
    .option('--verbose', 'print each measurement on stderr');
  addEngineFlags(cmd).action(
    action(async (flags: WorkerFlags & { out?: string; repeats: string; verbose?: boolean }) => {
      const repeats = Number(flags.repeats);
      if (!Number.isInteger(repeats) || repeats < 1) throw new UsageError(`--repeats must be a positive integer, got "${flags.repeats}"`);
      const options = await workerOptions(
        { ...flags, role: 'prefill', port: '0', host: '127.0.0.1', kvBandwidthGbps: '0', kvTtlSeconds: '30', drainTimeoutSeconds: '1' },
        0,
      );
      const run = await profileBackend(options, { repeats, ...(flags.verbose ? { log: (l: string) => process.stderr.write(`${l}\n`) } : {}) });
      await writeJson(run.profile, flags.out);
      if (flags.out) process.stderr.write(`wrote ${flags.out} (${run.prefill.length} prefill batches, ${run.decode.length} decode steps)\n`);
      return 0;
    }),
  );
}
