// Simulator speed benchmark (a benchmark, never a timed test):
//   npm run bench:sim [-- --quick]
// Reports simulated requests per wall-second on one core (8 GPUs, the conv
// trace at its own rate), then the 1,000-GPU run of the conv trace
// superposed 100× (~1.9 M requests), with its wall time and peak RSS.
// The trace is read once into typed arrays (16 B a request) and streamed
// through superposeTraces; outcomes are kept as two Float64Arrays.
import { createPolicy } from '../src/policy/registry.js';
import { loadProfile } from '../src/perf/profile.js';
import { runPolicy } from '../src/sim/run-policy.js';
import { compactTrace, openTrace, superposeTraces } from '../src/trace/index.js';

const quick = process.argv.includes('--quick');
const profile = await loadProfile('profiles/opt-13b-tp1-a100.json');
const conv = await compactTrace(await openTrace('data/traces/AzureLLMInferenceTrace_conv.csv'));
const slo = { ttftSeconds: 1, tpotSeconds: 0.1, attainment: 0.9 };

async function timed(label: string, gpus: number, copies: number): Promise<void> {
  // Copies are shifted by a few ms each so arrivals do not coincide exactly.
  const trace = copies === 1 ? conv : superposeTraces(Array.from({ length: copies }, (_, i) => ({ trace: conv, offsetSeconds: i * 0.0037 })));
  const prefill = Math.round((gpus * 3) / 8);
  const started = process.hrtime.bigint();
  const cpuStarted = process.cpuUsage();
  const result = await runPolicy({
    trace,
    profile,
    policy: createPolicy('static', { prefill, decode: gpus - prefill }),
    slo,
    options: { gpus, initialPrefill: prefill },
  });
  const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  // CPU time too: on a shared machine wall time includes waiting for a core; the run is single-threaded.
  const cpu = process.cpuUsage(cpuStarted);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const rssMb = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(
    `${label}: ${result.simulatedRequests} requests on ${gpus} GPUs in ${wallSeconds.toFixed(2)} s wall = ` +
      `${Math.round(result.simulatedRequests / wallSeconds)} simulated requests/s (CPU ${cpuSeconds.toFixed(2)} s: ` +
      `${Math.round(result.simulatedRequests / cpuSeconds)}/s); attainment ${(result.attainment * 100).toFixed(1)}%; ` +
      `peak RSS so far ${rssMb.toFixed(0)} MB\n`,
  );
}

await timed('conv ×1, 8 GPUs (warm-up)', 8, 1);
await timed('conv ×1, 8 GPUs', 8, 1);
if (!quick) await timed('conv superposed ×100, 1000 GPUs', 1000, 100);
