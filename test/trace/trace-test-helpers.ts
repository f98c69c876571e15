// Shared by the trace tests (not a test file itself: tap runs *.test.ts only).
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { TraceRequest } from '../../src/domain/request.js';
import { openTrace, type OpenTraceOptions, type TraceFile, type TraceIterable } from '../../src/trace/index.js';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** The Azure traces shipped in data/traces (byte-identical to the published files; see shipped-traces.test.ts). */
export const azureTrace = (which: 'code' | 'conv'): string => join(repoRoot, 'data', 'traces', `AzureLLMInferenceTrace_${which}.csv`);

export async function collect(trace: TraceIterable): Promise<TraceRequest[]> {
  const requests: TraceRequest[] = [];
  for await (const request of trace) requests.push(request);
  return requests;
}

/** Opens and reads a whole trace file; returns the file too, for its format and skip counts. */
export async function readTrace(path: string, options: OpenTraceOptions = {}): Promise<{ file: TraceFile; requests: TraceRequest[] }> {
  const file = await openTrace(path, options);
  return { file, requests: await collect(file) };
}
