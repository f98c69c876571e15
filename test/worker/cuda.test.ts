// The cuda backend without a GPU (CI): its host-side logic runs everywhere;
// the CUDA code compiles and links wherever nvcc is; the kernel-vs-reference
// tests and the worker itself need a GPU and say why when there is none.
// On a GPU machine the same tests run the kernels and expect them to pass.
import t, { type Test } from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, spawnWorker } from './fixtures/workers.js';

const DIR = join(ROOT, 'native-worker');

function tapLines(t: Test, stdout: string): void {
  const lines = stdout.split('\n');
  const plan = lines.find((l) => /^1\.\.\d+/.test(l));
  t.ok(plan, 'the binary printed its plan');
  const count = Number(/^1\.\.(\d+)/.exec(plan ?? '')?.[1]);
  const results = lines.filter((l) => /^(not )?ok \d+ - /.test(l));
  t.equal(results.length, count, `${count} checks reported`);
  for (const line of results) t.ok(line.startsWith('ok '), line.replace(/^(not )?ok \d+ - /, ''));
}

function nvcc(): string | undefined {
  const found = spawnSync('sh', ['-c', 'command -v nvcc || ls /usr/local/cuda/bin/nvcc'], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim().split('\n')[0] : undefined;
}

t.test('cuda host logic (g++ only): bf16, GEMM plan and fragment emulation, block tables, KV packing, cuBLAS fallback', async (t) => {
  execFileSync('make', ['-C', DIR, '-j2', 'build/standalone/cuda-host-test'], { stdio: 'pipe' });
  const run = spawnSync(join(DIR, 'build/standalone/cuda-host-test'), { encoding: 'utf8', timeout: 60_000 });
  tapLines(t, run.stdout);
  t.equal(run.status, 0, 'exit status 0');
});

t.test('cuda backend compiles and links with nvcc and cudart alone (make cuda)', async (t) => {
  const path = nvcc();
  if (!path) {
    t.pass('make cuda', { skip: 'nvcc not found: the cuda backend cannot be built on this machine' });
    return;
  }
  // npm ci built the library already (binding.gyp → tools/cuda-gyp.sh); this links the bench and the kernel tests.
  execFileSync('make', ['-C', DIR, '-j2', 'cuda'], { stdio: 'pipe', timeout: 300_000 });
  for (const f of ['build/cuda/libpdw_cuda.a', 'build/pdw-cuda-bench', 'build/cuda/cuda-kernels-test'])
    t.ok(existsSync(join(DIR, f)), `${f} built`);
  const run = spawnSync(join(DIR, 'build/cuda/cuda-kernels-test'), { encoding: 'utf8', timeout: 300_000 });
  t.equal(run.status, 0, 'kernel test binary exits 0');
  const skip = /^SKIP: (.*)$/m.exec(run.stdout);
  if (skip) {
    t.pass('kernel-vs-reference tolerance tests', { skip: `they need a GPU: ${skip[1]}` });
    return;
  }
  tapLines(t, run.stdout);
});

t.test('pdpilot worker --backend cuda without a GPU exits 1 and says why', async (t) => {
  const kernels = join(DIR, 'build/cuda/cuda-kernels-test');
  const probe = existsSync(kernels) ? spawnSync(kernels, { encoding: 'utf8', timeout: 300_000 }) : undefined;
  if (probe && !/^SKIP: /m.test(probe.stdout)) {
    // A GPU is visible: the worker must start on it instead.
    const w = await spawnWorker(['--role', 'prefill', '--backend', 'cuda']);
    t.match(w.url, /^http:/, 'cuda worker listening on a GPU machine');
    await w.stop();
    return;
  }
  const run = spawnSync(process.execPath, [join(ROOT, 'bin', 'pdpilot.js'), 'worker', '--role', 'prefill', '--backend', 'cuda', '--port', '0'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  t.equal(run.status, 1, 'exit status 1');
  t.match(
    run.stderr,
    /cuda backend cannot run: no CUDA device \(cudaGetDeviceCount|cuda backend is not built into this binary: nvcc was not found/,
    `one-line reason: ${run.stderr.trim()}`,
  );
});
