// A local fleet: worker processes (`pdpilot worker …`) spawned on this
// machine, waited on until they listen, watched, restarted after a crash
// (capped exponential backoff, given up after too many crashes in a window),
// and stopped with SIGTERM (SIGKILL after a bound).
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Role, WorkerId } from '../domain/role.js';
import { backoffSeconds } from '../lib/backoff.js';

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

/** When and how often a crashed worker is started again (config `fleet.restart`). */
export interface RestartPolicy {
  backoffBaseSeconds: number;
  backoffMaxSeconds: number;
  /** A worker that crashes this many times within `crashWindowSeconds` is left down. */
  maxCrashes: number;
  crashWindowSeconds: number;
}

/** What the supervisor did about a worker that exited on its own. */
export type SupervisionEvent =
  | { kind: 'crashed'; workerId: WorkerId; exit: string; crashesInWindow: number; restartInSeconds: number }
  | { kind: 'restarted'; workerId: WorkerId; role: Role; url: string; pid: number | undefined }
  | { kind: 'restart-failed'; workerId: WorkerId; message: string }
  | { kind: 'given-up'; workerId: WorkerId; exit: string; crashesInWindow: number };

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
  /** Workers left down after too many crashes. */
  readonly down = new Set<WorkerId>();
  private stopping = false;
  private readonly crashTimes = new Map<WorkerId, number[]>();
  private readonly restartTimers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly specs: readonly LocalWorkerSpec[],
    private readonly options: LocalFleetOptions & { restart?: RestartPolicy; onEvent?: (event: SupervisionEvent) => void } = {},
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
    if (this.options.restart) this.workers.forEach((w, i) => this.watch(w, i, this.options.restart as RestartPolicy));
    return this.workers;
  }

  /**
   * Records a worker's current role, so that a restart after a crash brings it
   * back in the role the controller last gave it rather than its first one.
   */
  noteRole(workerId: WorkerId, role: Role): void {
    const i = this.workers.findIndex((w) => idOf(w) === workerId);
    const worker = this.workers[i];
    if (worker) this.workers[i] = { ...worker, spec: { ...worker.spec, role } };
  }

  async stop(timeoutSeconds = 10): Promise<void> {
    this.stopping = true;
    for (const timer of this.restartTimers) clearTimeout(timer);
    this.restartTimers.clear();
    await Promise.all(this.workers.map((w) => stopWorker(w, timeoutSeconds)));
  }

  private watch(worker: LocalWorker, index: number, policy: RestartPolicy): void {
    worker.process.once('exit', (code, signal) => {
      // An exit we asked for, or of a process this slot no longer holds, is not a crash.
      if (this.stopping || this.workers[index]?.process !== worker.process) return;
      this.crashed(index, policy, signal ?? `code ${code}`);
    });
  }

  /** A worker's process ended on its own, or its restart failed: back off and start it again, or give up. */
  private crashed(index: number, policy: RestartPolicy, exit: string): void {
    const worker = this.workers[index];
    if (!worker) return;
    const id = idOf(worker);
    // Crash times come from the wall clock: this is the process shell, not the simulated control loop.
    const now = Date.now() / 1000;
    const recent = (this.crashTimes.get(id) ?? []).filter((t) => now - t < policy.crashWindowSeconds);
    recent.push(now);
    this.crashTimes.set(id, recent);
    if (recent.length >= policy.maxCrashes) {
      this.down.add(id);
      this.options.onEvent?.({ kind: 'given-up', workerId: id, exit, crashesInWindow: recent.length });
      return;
    }
    const waitSeconds = backoffSeconds(recent.length - 1, policy.backoffBaseSeconds, policy.backoffMaxSeconds);
    this.options.onEvent?.({ kind: 'crashed', workerId: id, exit, crashesInWindow: recent.length, restartInSeconds: waitSeconds });
    const timer = setTimeout(() => {
      this.restartTimers.delete(timer);
      void this.restart(index, policy);
    }, waitSeconds * 1000);
    this.restartTimers.add(timer);
  }

  private async restart(index: number, policy: RestartPolicy): Promise<void> {
    const previous = this.workers[index];
    if (!previous || this.stopping) return;
    // Same port, so every client that knows the worker's URL reaches the new process without being told.
    const spec = { ...previous.spec, port: portOf(previous.url) };
    let worker: LocalWorker;
    try {
      worker = await spawnWorker(spec, this.options);
    } catch (error) {
      this.options.onEvent?.({ kind: 'restart-failed', workerId: idOf(previous), message: (error as Error).message });
      if (!this.stopping) this.crashed(index, policy, 'failed to start');
      return;
    }
    if (this.stopping) {
      await stopWorker(worker);
      return;
    }
    this.workers[index] = worker;
    this.watch(worker, index, policy);
    this.options.onEvent?.({ kind: 'restarted', workerId: idOf(worker), role: spec.role, url: worker.url, pid: worker.process.pid });
  }
}

function idOf(worker: LocalWorker): WorkerId {
  return worker.spec.workerId ?? worker.url;
}

function portOf(url: string): number {
  return Number(new URL(url).port);
}
