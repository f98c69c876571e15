// Promise/stream face of the native engine for the worker host. Each request
// gets an engine id; the engine's batched events are routed to per-request
// handlers. Nothing here blocks: the engine steps on its own thread.
import { loadNative, PdwEvent, PdwStatus, type NativeConfig, type NativeEngine, type NativeEvent, type NativeStats } from './native.js';

export class EngineError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

export interface RequestHandlers {
  onFirstToken?(token: number, queueSeconds: number): void;
  onToken?(token: number, index: number): void;
  onDone?(): void;
  onError?(error: EngineError): void;
}

export interface StepInfo {
  kind: 'prefill' | 'decode';
  batch: number;
  tokens: number;
  seconds: number;
}

export class WorkerEngine {
  private readonly native: NativeEngine;
  private readonly handlers = new Map<number, RequestHandlers>();
  private readonly probes = new Map<number, { resolve(s: number): void; reject(e: Error): void }>();
  private nextId = 1;
  private closed = false;
  /** Called for every backend step (metrics). */
  onStep?: (step: StepInfo) => void;

  constructor(readonly config: NativeConfig) {
    const mod = loadNative();
    this.native = new mod.Engine(config, (events) => this.dispatch(events));
  }

  private status(code: number, what: string): EngineError {
    return new EngineError(code, `${what}: ${loadNative().statusName(code)}`);
  }

  private refd = false;

  /** Holds the event loop open exactly while some request or probe awaits engine events. */
  private syncRef(): void {
    const want = !this.closed && this.handlers.size + this.probes.size > 0;
    if (want === this.refd) return;
    this.refd = want;
    if (want) this.native.ref();
    else this.native.unref();
  }

  private dispatch(events: NativeEvent[]): void {
    this.dispatchAll(events);
    this.syncRef();
  }

  private dispatchAll(events: NativeEvent[]): void {
    for (const e of events) {
      if (e.type === PdwEvent.step) {
        const probe = this.probes.get(e.id);
        if (probe) {
          this.probes.delete(e.id);
          probe.resolve(e.seconds);
        } else {
          this.onStep?.({ kind: e.code === 1 ? 'prefill' : 'decode', batch: e.batch, tokens: e.tokens, seconds: e.seconds });
        }
        continue;
      }
      const probe = e.type === PdwEvent.error ? this.probes.get(e.id) : undefined;
      if (probe) {
        this.probes.delete(e.id);
        probe.reject(new EngineError(e.code, e.message ?? loadNative().statusName(e.code)));
        continue;
      }
      const h = this.handlers.get(e.id);
      if (!h) continue;
      switch (e.type) {
        case PdwEvent.firstToken:
          h.onFirstToken?.(e.token, e.seconds);
          break;
        case PdwEvent.token:
          h.onToken?.(e.token, e.index);
          break;
        case PdwEvent.done:
          this.handlers.delete(e.id);
          h.onDone?.();
          break;
        case PdwEvent.error:
          this.handlers.delete(e.id);
          h.onError?.(new EngineError(e.code, e.message ?? loadNative().statusName(e.code)));
          break;
      }
    }
  }

  private submit(handlers: RequestHandlers, call: (id: number) => number, what: string): number {
    if (this.closed) throw new EngineError(PdwStatus.stopped, `${what}: engine closed`);
    const id = this.nextId++;
    this.handlers.set(id, handlers);
    const rc = call(id);
    if (rc !== PdwStatus.ok) {
      this.handlers.delete(id);
      throw this.status(rc, what);
    }
    this.syncRef();
    return id;
  }

  /** Prompt only; the KV stays held under the returned id until kvTake/kvRelease. */
  prefill(tokens: Int32Array, h: RequestHandlers): number {
    return this.submit(h, (id) => this.native.submitPrefill(id, tokens), 'prefill');
  }

  /** Prefill then decode here; maxTokens outputs in all (the first from prefill). */
  generate(tokens: Int32Array, maxTokens: number, h: RequestHandlers): number {
    return this.submit(h, (id) => this.native.submitGenerate(id, tokens, maxTokens), 'generate');
  }

  /** Decode `maxNew` tokens after `firstToken` over an imported KV blob of `context` tokens. */
  decode(firstToken: number, context: number, maxNew: number, kv: Uint8Array, h: RequestHandlers): number {
    return this.submit(h, (id) => this.native.submitDecode(id, firstToken, context, maxNew, kv), 'decode');
  }

  cancel(id: number): boolean {
    return !this.closed && this.native.cancel(id) === PdwStatus.ok;
  }

  async kvTake(id: number): Promise<Buffer> {
    if (this.closed) throw new EngineError(PdwStatus.stopped, 'engine closed');
    try {
      return await this.native.kvTake(id);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      throw new EngineError(typeof code === 'number' ? code : PdwStatus.backend, (error as Error).message);
    }
  }

  kvRelease(id: number): boolean {
    return !this.closed && this.native.kvRelease(id) === PdwStatus.ok;
  }

  /** Times one step of the given shape on the engine thread (profiling). */
  probe(kind: 'prefill' | 'decode', lens: readonly number[]): Promise<number> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.probes.set(id, { resolve, reject });
      const rc = this.native.submitProbe(id, kind === 'prefill' ? 1 : 2, Int32Array.from(lens));
      if (rc !== PdwStatus.ok) {
        this.probes.delete(id);
        reject(this.status(rc, `probe ${kind} [${lens.join(',')}]`));
      }
      this.syncRef();
    });
  }

  stats(): NativeStats {
    return this.native.stats();
  }

  private fixed: Pick<NativeStats, 'vocab' | 'contextTokens' | 'kvTotalBlocks' | 'blockSize' | 'kvBytesPerToken'> | undefined;

  /** The figures of stats() fixed when the engine was created (shape and capacity), read once: the routes check every request against them. */
  get limits(): Pick<NativeStats, 'vocab' | 'contextTokens' | 'kvTotalBlocks' | 'blockSize' | 'kvBytesPerToken'> {
    if (!this.fixed) {
      const s = this.native.stats();
      this.fixed = { vocab: s.vocab, contextTokens: s.contextTokens, kvTotalBlocks: s.kvTotalBlocks, blockSize: s.blockSize, kvBytesPerToken: s.kvBytesPerToken };
    }
    return this.fixed;
  }

  checkKv(): string {
    return this.native.checkKv();
  }

  /** Requests with a live handler (queued, running, or waiting on their first token). */
  get inFlight(): number {
    return this.handlers.size;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.native.close();
  }
}

/** KV blob header fields (native-worker/src/backend.h KvHeader, little-endian). */
export function readKvHeader(blob: Uint8Array): { tokens: number; accountedBytes: number; payloadBytes: number } | undefined {
  if (blob.byteLength < 64) return undefined;
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  if (view.getUint32(0, true) !== 0x564b4450) return undefined; // "PDKV"
  return {
    tokens: Number(view.getBigUint64(32, true)),
    accountedBytes: Number(view.getBigUint64(40, true)),
    payloadBytes: Number(view.getBigUint64(48, true)),
  };
}
