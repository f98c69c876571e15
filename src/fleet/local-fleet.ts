// A local fleet: worker processes (`pdpilot worker …`) spawned on this
// machine, waited on until they listen, and stopped with SIGTERM (SIGKILL
// after a bound). The daemon issue adds watching and restarts on top.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Role } from '../domain/role.js';

/** bin/pdpilot.js of this package (two levels up from dist/fleet/ or src/fleet/). */
export const PDPILOT_BIN = fileURLToPath(new URL('../../bin/pdpilot.js', import.meta.url));

export interface LocalWorkerSpec {
  role: Role;
  backend: 'sim' | 'cpu' | 'cuda';
  host: string;
  /** 0 lets the worker pick a free port (its URL is read from its first stdout line). */
  port: number;
  /** Profile JSON (required by the sim backend). */
  profile?: string;
  workerId?: string;
  /** Further `pdpilot worker` flags, e.g. ['--model-shape', 'layers=1,hidden=64']. */
  extraArgs?: readonly string[];
}

export interface LocalWorker {
  spec: LocalWorkerSpec;
  process: ChildProcess;
  url: string;
}

export interface LocalFleetOptions {
  /** Seconds a worker may take from spawn to listening. Default 30. */
  readyTimeoutSeconds?: number;
  /** Receives each worker's stderr lines, prefixed with its role and port. */
  log?: (line: string) => void;
}

/** Starts one worker process and resolves when it prints its `listening` line. */
export function spawnWorker(spec: LocalWorkerSpec, options: LocalFleetOptions = {}): Promise<LocalWorker> {
  const args = [PDPILOT_BIN, 'worker', '--role', spec.role, '--backend', spec.backend, '--host', spec.host, '--port', String(spec.port)];
  if (spec.profile) args.push('--profile', spec.profile);
  if (spec.workerId) args.push('--worker-id', spec.workerId);
  args.push(...(spec.extraArgs ?? []));
  // Own process group: a Ctrl-C in the terminal reaches only the parent, which drains the router before it stops the workers.
  // The IPC channel is the worker's lifeline: it closes when the parent dies, even by SIGKILL, and the
  // worker then stops itself (src/cli/commands/worker.ts), so a crashed daemon leaves no workers holding its ports.
  const spawned = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], detached: true });
  // The channel must not keep the parent alive on its own.
  spawned.channel?.unref();
  // Node's typings know stdout/stderr are pipes only for a 3-entry stdio; with 'ipc' as the 4th they are still pipes.
  const child = spawned as typeof spawned & { stdout: NonNullable<typeof spawned.stdout>; stderr: NonNullable<typeof spawned.stderr> };
  const label = `${spec.role}:${spec.port}`;
  let stderrTail = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    stderrTail = (stderrTail + text).slice(-2000);
    for (const line of text.split('\n')) if (line) options.log?.(`[worker ${label}] ${line}`);
  });
  return new Promise<LocalWorker>((resolve, reject) => {
    let pending = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`worker ${label} did not report listening within ${options.readyTimeoutSeconds ?? 30} s`));
    }, (options.readyTimeoutSeconds ?? 30) * 1000);
    const onExit = (code: number | null, signal: string | null) => {
      clearTimeout(timer);
      reject(new Error(`worker ${label} exited (${signal ?? `code ${code}`}) before listening: ${stderrTail.trim() || 'no stderr'}`));
    };
    child.once('exit', onExit);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`worker ${label} could not start: ${error.message}`));
    });
    child.stdout.setEncoding('utf8');
    const onData = (text: string) => {
      pending += text;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        let event: { event?: string; url?: string } | undefined;
        try {
          event = JSON.parse(line) as { event?: string; url?: string };
        } catch {
          continue; // a log line, not the worker's announcement
        }
        if (event.event === 'listening' && typeof event.url === 'string') {
          clearTimeout(timer);
          child.off('exit', onExit);
          child.stdout.off('data', onData);
          // Keep draining stdout so a chatty worker never blocks on a full pipe.
          child.stdout.resume();
          resolve({ spec, process: child, url: event.url });
          return;
        }
      }
    };
    child.stdout.on('data', onData);
  });
}

/** Sends SIGTERM and waits for the exit; SIGKILL after `timeoutSeconds`. Resolves the exit code (null when killed). */
export function stopWorker(worker: LocalWorker, timeoutSeconds = 10): Promise<number | null> {
  const child = worker.process;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutSeconds * 1000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    child.kill('SIGTERM');
  });
}

export class LocalFleet {
  readonly workers: LocalWorker[] = [];

  constructor(
    private readonly specs: readonly LocalWorkerSpec[],
    private readonly options: LocalFleetOptions = {},
  ) {}

  /** Spawns every worker concurrently; if one fails to start, stops the others and throws. */
  async start(): Promise<LocalWorker[]> {
    const results = await Promise.allSettled(this.specs.map((spec) => spawnWorker(spec, this.options)));
    for (const r of results) if (r.status === 'fulfilled') this.workers.push(r.value);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await this.stop();
      throw failed.reason;
    }
    return this.workers;
  }

  async stop(timeoutSeconds = 10): Promise<void> {
    await Promise.all(this.workers.map((w) => stopWorker(w, timeoutSeconds)));
  }
}
