// Traces: readers for the formats of docs/traces.md, lazy transformations,
// compact materialisation for replay, and the stats of DESIGN.md.
export { TRACE_FORMATS, isTraceFormat, type TraceFormat, type TraceIterable } from './trace-format.js';
export { openTrace, detectFormat, TraceFile, type OpenTraceOptions } from './trace-reader.js';
export { scaleRate, sliceTime, concatTraces, superposeTraces, type TimeSlice, type TracePart } from './transforms.js';
export { CompactTrace, compactTrace } from './compact-trace.js';
export { traceStats, type TraceStats, type TokenStats } from './trace-stats.js';
