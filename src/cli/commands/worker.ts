import type { Command } from 'commander';
import { UsageError } from '../../domain/errors.js';
import { isRole } from '../../domain/role.js';
import { loadProfile } from '../../perf/profile.js';
import { BACKENDS, parseModelShape, type BackendName, type WorkerOptions } from '../../worker/options.js';
import { startWorker } from '../../worker/server.js';
import { action } from '../run.js';

function int(name: string, value: string, min = 1): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${name} must be an integer ≥ ${min}, got "${value}"`);
  return n;
}

function num(name: string, value: string, min = 0): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < min) throw new UsageError(`${name} must be a number ≥ ${min}, got "${value}"`);
  return n;
}

export interface WorkerFlags {
  role: string;
  backend: string;
  port: string;
  host: string;
  profile?: string;
  modelShape?: string;
  weights?: string;
  seed: string;
  threads: string;
  blockSize: string;
  kvCapacityTokens?: string;
  prefillTokenBudget: string;
  maxBatch: string;
  kvBandwidthGbps: string;
  kvTtlSeconds: string;
  drainTimeoutSeconds: string;
  workerId?: string;
  log?: boolean;
}

/** Flags → WorkerOptions (shared with `pdpilot profile`). */
export async function workerOptions(f: WorkerFlags, port: number): Promise<WorkerOptions> {
  if (!isRole(f.role)) throw new UsageError(`--role must be prefill or decode, got "${f.role}"`);
  if (!BACKENDS.includes(f.backend as BackendName)) throw new UsageError(`--backend must be one of ${BACKENDS.join(', ')}, got "${f.backend}"`);
  const backend = f.backend as BackendName;
  if (backend === 'sim' && !f.profile) throw new UsageError('--backend sim needs --profile FILE (its step times come from the profile)');
  const profile = f.profile ? await loadProfile(f.profile) : undefined;
  return {
    role: f.role,
    backend,
    ...(profile ? { profile } : {}),
    shape: parseModelShape(f.modelShape),
    ...(f.weights ? { weights: f.weights } : {}),
    seed: int('--seed', f.seed, 0),
    threads: int('--threads', f.threads, 0),
    blockSize: int('--block-size', f.blockSize),
    ...(f.kvCapacityTokens ? { kvCapacityTokens: int('--kv-capacity-tokens', f.kvCapacityTokens) } : {}),
    prefillTokenBudget: int('--prefill-token-budget', f.prefillTokenBudget),
    maxBatch: int('--max-batch', f.maxBatch),
    // Gbit/s → bytes/s.
    kvBandwidthBytesPerSecond: (num('--kv-bandwidth-gbps', f.kvBandwidthGbps) * 1e9) / 8,
    kvTtlSeconds: num('--kv-ttl-seconds', f.kvTtlSeconds, 0.001),
    drainTimeoutSeconds: num('--drain-timeout-seconds', f.drainTimeoutSeconds),
    workerId: f.workerId ?? `${f.host}:${port}`,
  };
}

export function addEngineFlags(cmd: Command): Command {
  return cmd
    .option('--profile <file>', 'profile JSON (required for sim: its step times)')
    .option('--model-shape <spec>', 'cpu model shape, e.g. layers=2,hidden=256,heads=8,kvHeads=4,ffn=688,vocab=1024,context=1024')
    .option('--weights <file>', 'cpu weights (safetensors, F32 or BF16, Hugging Face Llama names); seeded random when absent')
    .option('--seed <n>', 'seed of the random cpu weights', '1')
    .option('--threads <n>', 'cpu matmul threads (0 = all cores)', '0')
    .option('--block-size <tokens>', 'KV block size in tokens', '16')
    .option('--kv-capacity-tokens <n>', 'KV cache size (sim: the profile\'s kvCapacityTokens; cpu: 8 × context)')
    .option('--prefill-token-budget <n>', 'max prompt tokens per prefill batch', '4096')
    .option('--max-batch <n>', 'max sequences per decode step', '256');
}

export function registerWorker(program: Command): void {
  const cmd = program
    .command('worker')
    .description('run one worker process: the native engine behind the worker protocol (docs/protocol.md)')
    .requiredOption('--role <role>', 'prefill or decode')
    .requiredOption('--backend <backend>', 'sim, cpu or cuda')
    .requiredOption('--port <n>', 'HTTP port (0 = any free port; the chosen URL is printed)')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--kv-bandwidth-gbps <x>', 'KV pull bandwidth charged on decode (bytes ÷ bandwidth); 0 = no charge', '0')
    .option('--kv-ttl-seconds <s>', 'free an unpulled KV handle after this long', '30')
    .option('--drain-timeout-seconds <s>', 'default bound on a role switch\'s drain', '30')
    .option('--worker-id <id>', 'worker label in metrics and state (default host:port)')
    .option('--log', 'log requests (pino JSON on stdout)');
  addEngineFlags(cmd).action(
    action(async (flags: WorkerFlags) => {
      const port = int('--port', flags.port, 0);
      const options = await workerOptions(flags, port);
      const worker = await startWorker(options, { host: flags.host, port, logger: flags.log ?? false });
      // One line on stdout, parsed by process fleets and tests: where the worker listens.
      process.stdout.write(`${JSON.stringify({ event: 'listening', url: worker.url, role: options.role, backend: options.backend })}\n`);
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          process.off('disconnect', stop);
          worker.close().then(resolve, resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
        // Spawned by a local fleet (src/fleet/local-fleet.ts) with an IPC channel: the channel closes when
        // that parent dies, however it died, and a worker without its daemon has nobody to serve.
        if (process.channel) {
          process.on('disconnect', stop);
          process.channel.unref();
        }
      });
      return 0;
    }),
  );
}
