// `pdpilot up` as a process: a local fleet of two sim workers and the router,
// a completion through it, then SIGTERM mid-stream: the stream finishes, the
// process exits 0, and no worker process is left behind.
import t, { type Test } from 'tap';
import OpenAI from 'openai';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PDPILOT_BIN } from '../../src/fleet/local-fleet.js';
import { alive, freePorts } from '../cli/fixtures/daemon-process.js';
import { MODEL, writeFastProfile } from './fixtures/fleet.js';

t.test('pdpilot up: serves, then drains and stops cleanly on SIGTERM', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pdpilot-up-'));
  const basePort = await freePorts(2);
  const routerPort = await freePorts(2, [basePort, basePort + 1]);
  const config = {
    fleet: { mode: 'local', backend: 'sim', profile: writeFastProfile(5, dir), workers: 2, initialPrefill: 1, host: '127.0.0.1', basePort },
    router: { host: '127.0.0.1', port: routerPort, model: MODEL, maxTokens: 512, contextTokens: 4096 },
    store: { path: join(dir, 'state.json') },
    // up also starts the admin API: on the free port after the router's (freePorts(2)), never the shared default 9400.
    admin: { port: routerPort + 1, tokens: [] },
    telemetry: { logLevel: 'info' },
  };
  const configPath = join(dir, 'config.json');
  writeFileSync(configPath, JSON.stringify(config));

  const child = spawn(process.execPath, [PDPILOT_BIN, 'up', '--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const logs: { msg: string; pid?: number; url?: string; role?: string }[] = [];
  const listening = new Promise<void>((resolve, reject) => {
    let pending = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      pending += s;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const entry = JSON.parse(pending.slice(0, nl)) as { msg: string };
        pending = pending.slice(nl + 1);
        logs.push(entry);
        if (entry.msg.startsWith('router listening')) resolve();
      }
    });
    void exited.then((code) => reject(new Error(`pdpilot up exited (${code}) before listening: ${stderr}`)));
  });
  await listening;

  const workers = logs.filter((l) => l.msg === 'worker ready');
  t.same(workers.map((w) => [w.role, w.url]), [
    ['prefill', `http://127.0.0.1:${basePort}`],
    ['decode', `http://127.0.0.1:${basePort + 1}`],
  ]);

  const client = new OpenAI({ baseURL: `http://127.0.0.1:${routerPort}/v1`, apiKey: 'unused', maxRetries: 0 });
  const r = await client.completions.create({ model: MODEL, prompt: 'Hello through pdpilot up', max_tokens: 8 });
  // Without ignore_eos the output may end early at <|endoftext|>; either way it is 1..8 tokens.
  t.ok(r.usage!.completion_tokens >= 1 && r.usage!.completion_tokens <= 8);
  t.ok(['length', 'stop'].includes(r.choices[0]!.finish_reason));

  // SIGTERM while a stream is in flight: it finishes, then the process exits 0.
  const stream = await client.completions.create({ model: MODEL, prompt: 'a long answer', max_tokens: 100, stream: true, ignore_eos: true } as OpenAI.CompletionCreateParamsStreaming);
  let chunks = 0;
  let finish: string | null = null;
  for await (const chunk of stream) {
    const c = chunk.choices[0];
    if (!c) continue;
    if (c.finish_reason) finish = c.finish_reason;
    else if (++chunks === 10) child.kill('SIGTERM');
  }
  t.equal(chunks, 100, 'the in-flight stream got every token');
  t.equal(finish, 'length');
  t.equal(await exited, 0, 'exit code 0');
  for (const w of workers) t.notOk(alive(w.pid!), `worker ${w.role} (pid ${w.pid}) is gone`);
  t.ok(logs.some((l) => l.msg === 'stopped'), 'logged the stop');
});

/** A two-worker `pdpilot up` expected to fail at start: its exit code and output. */
async function failedStart(t: Test, dir: string, ports: { basePort: number; routerPort: number; adminPort: number }, storePath: string) {
  const configPath = join(dir, 'config.json');
  writeFileSync(
    configPath,
    JSON.stringify({
      fleet: { mode: 'local', backend: 'sim', profile: writeFastProfile(5, dir), workers: 2, initialPrefill: 1, host: '127.0.0.1', basePort: ports.basePort },
      router: { host: '127.0.0.1', port: ports.routerPort, model: MODEL, maxTokens: 512, contextTokens: 4096 },
      store: { path: storePath },
      admin: { port: ports.adminPort, tokens: [] },
      telemetry: { logLevel: 'info' },
    }),
  );
  const child = spawn(process.execPath, [PDPILOT_BIN, 'up', '--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  let stdout = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  const workerPids = stdout
    .split('\n')
    .filter((l) => l.includes('"worker ready"'))
    .map((l) => (JSON.parse(l) as { pid: number }).pid);
  return { code, stderr, stdout, workerPids };
}

async function twoWorkerPorts() {
  const basePort = await freePorts(2);
  const routerPort = await freePorts(2, [basePort, basePort + 1]);
  return { basePort, routerPort, adminPort: routerPort + 1 };
}

t.test('pdpilot up: a store file it cannot read stops it at start with exit 2 naming the file, before any worker starts', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pdpilot-up-'));
  const storePath = join(dir, 'state.json');
  // The store is read for the workers' last roles before any worker starts (the control thread opens it again later).
  writeFileSync(storePath, '{\n  "schemaVersion": 1,\n  "decisions": [,]\n}\n');
  const r = await failedStart(t, dir, await twoWorkerPorts(), storePath);
  t.equal(r.code, 2, 'exit code 2: bad input');
  t.match(r.stderr, `${storePath}:3:`, 'names the file and the line');
  t.match(r.stderr, /not valid JSON/);
  t.notMatch(r.stdout, /"starting local workers"|"worker ready"/, 'no worker was started');
});

t.test('pdpilot up: a control plane that cannot start (its admin port is taken) exits 1 with the reason, and no worker is left', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pdpilot-up-'));
  const ports = await twoWorkerPorts();
  // The admin API listens on the control thread, after the workers and the router have started.
  const squatter = createServer();
  await new Promise<void>((resolve) => squatter.listen(ports.adminPort, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => squatter.close(() => resolve())));
  const r = await failedStart(t, dir, ports, join(dir, 'state.json'));
  t.equal(r.code, 1, 'exit code 1: a runtime failure');
  t.match(r.stderr, /EADDRINUSE/, 'with the reason');
  t.equal(r.workerPids.length, 2, 'the workers had started');
  for (const pid of r.workerPids) t.notOk(alive(pid), `worker pid ${pid} is gone`);
});
