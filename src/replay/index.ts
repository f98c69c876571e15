// Trace replay against a live OpenAI-compatible server (`pdpilot replay`):
// the clock- and I/O-free core — the open-loop schedule, SSE decoding, the
// reading of a completion stream, the report. The HTTP transport and the
// wall clock are chosen in cli/.
export { OK, type ReplayRecord, type ReplayRequest, type ReplayTransport, type StreamOutcome } from './outcome.js';
export { SseDecoder } from './sse.js';
export { CompletionStreamTracker, errorCode } from './completion-stream.js';
export { runOpenLoop, type OpenLoopOptions, type Pacer } from './open-loop.js';
export { replaySummary, requestLatency, type ReplaySummary } from './report.js';
