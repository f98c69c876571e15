// The one seam between pdpilot and a worker process (DESIGN.md, "Worker
// protocol"): the router carries requests through it, the controller observes
// and flips workers through it. Interface only, so that control/ may import
// this file without pulling in an HTTP stack; implementations live beside it
// (native-worker-client.ts for pdpilot's own worker).
import type { Role, WorkerStatus } from '../domain/role.js';

/** A worker's own report of itself (GET /v1/state), in the units of the protocol. */
export interface WorkerState {
  workerId: string;
  role: Role;
  /** The worker's lifecycle; never `stale` (that is an observer's mark for a worker it could not reach). */
  status: Exclude<WorkerStatus, 'stale'>;
  backend: string;
  model: string;
  queuedRequests: number;
  queuedTokens: number;
  runningRequests: number;
  kvUsedTokens: number;
  kvTotalTokens: number;
  /** Fraction (0–1) of KV blocks in use. */
  kvUsage: number;
  /** KV handles prefilled here and not yet pulled by a decode worker. */
  heldKvHandles: number;
  vocabSize: number;
  contextTokens: number;
}

/** Prefill of a prompt given as token ids (ids at or above the worker's vocabulary are folded by the worker). */
export interface PrefillCall {
  requestId?: string;
  promptTokens: readonly number[];
  /**
   * false: the caller needs only the first token (no decode follows), so the
   * worker frees the KV at once and returns no kvUrl — no release call later.
   * Default true. A worker that ignores it returns a kvUrl as usual.
   */
  retainKv?: boolean;
}

export interface PrefillResult {
  firstToken: number;
  /** Where a decode worker pulls this prompt's KV from; spent by the first pull. Empty when the KV was not retained (retainKv: false). */
  kvUrl: string;
  promptTokens: number;
  kvBytes: number;
  /** Seconds waiting in the worker's queue, and prefilling. */
  queueSeconds: number;
  prefillSeconds: number;
}

/** Decode after a prefill: the worker pulls the KV from `kvUrl` and continues from `firstToken`. */
export interface DecodeCall {
  requestId?: string;
  kvUrl: string;
  firstToken: number;
  /** Tokens held in the KV (the prefill's promptTokens). */
  promptTokens: number;
  /** Output tokens of the request in all, the prefill's first token included; the stream yields maxTokens − 1. */
  maxTokens: number;
}

/** One streamed output token; `index` counts from 1 (0 is the prefill's first token). */
export interface DecodedToken {
  index: number;
  token: number;
}

export interface RoleSwitchResult {
  role: Role;
  previousRole: Role;
  changed: boolean;
  drainSeconds: number;
  switchSeconds: number;
  handedBack: number;
  releasedKvHandles: number;
}

export interface WorkerHealth {
  /** The process answers. */
  live: boolean;
  /** It accepts new work (status ready). */
  ready: boolean;
}

export interface CallOptions {
  /** Abandons the call (the worker sees the connection close and cancels the request). */
  signal?: AbortSignal;
}

/**
 * How a call to a worker went wrong, as a caller must act on it:
 * - `unreachable`: no answer, or the connection broke (the process may be dead);
 * - `handed-back`: the worker is draining or switching and gave the request back; retry elsewhere;
 * - `rejected`: the worker refused the request itself (4xx that is not a hand-back); retrying elsewhere will not help;
 * - `failed`: the worker accepted and then failed (5xx); another worker may succeed;
 * - `timeout`: no answer in the client's time bound;
 * - `aborted`: the caller's signal fired.
 */
export type WorkerFailureKind = 'unreachable' | 'handed-back' | 'rejected' | 'failed' | 'timeout' | 'aborted';

/** Shape of every error a WorkerClient throws. */
export interface WorkerFailure extends Error {
  readonly kind: WorkerFailureKind;
  /** The worker's stable error code (docs/protocol.md) when it sent one, else the kind. */
  readonly code: string;
  /** HTTP status when the worker answered, else 0. */
  readonly status: number;
  readonly workerId: string;
}

export interface WorkerClient {
  /** Stable id of the worker (its base URL unless configured otherwise). */
  readonly id: string;
  readonly url: string;
  state(options?: CallOptions): Promise<WorkerState>;
  prefill(call: PrefillCall, options?: CallOptions): Promise<PrefillResult>;
  /** Streams the decoded tokens in order; ends when the worker reports done, throws a WorkerFailure otherwise. */
  decode(call: DecodeCall, options?: CallOptions): AsyncIterable<DecodedToken>;
  /** Pulls and drops a KV handle nobody will decode (so its blocks are freed now, not at the worker's TTL). */
  releaseKv(kvUrl: string, options?: CallOptions): Promise<void>;
  /** Drains, then switches the role; resolves when the switch is done. */
  switchRole(role: Role, drainTimeoutSeconds?: number, options?: CallOptions): Promise<RoleSwitchResult>;
  /** Prometheus text of the worker's /metrics. */
  metricsText(options?: CallOptions): Promise<string>;
  health(options?: CallOptions): Promise<WorkerHealth>;
  /** Closes kept-alive connections. */
  close(): Promise<void>;
}
