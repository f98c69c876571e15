/**
 * The requests in flight, as parallel typed arrays indexed by a slot id that
 * is recycled when a request completes: memory is bounded by the requests in
 * the system at once, not by the length of the trace.
 */
export class RequestTable {
  arrivalSeconds = new Float64Array(1024);
  inputTokens = new Int32Array(1024);
  outputTokens = new Int32Array(1024);
  /** When the prompt's prefill finished. */
  prefillEndSeconds = new Float64Array(1024);
  /** When the first token reached the user (after the KV hand-off when there is one). */
  firstTokenSeconds = new Float64Array(1024);
  /** Decode iterations done (the compat decode rotates requests, so each keeps its own count). */
  decodedSteps = new Int32Array(1024);
  /** Instance holding the request's prefilled KV until a decode instance pulls it; -1 when none. */
  kvHolder = new Int32Array(1024);
  private free: number[] = [];
  private used = 0;
  /** Requests in flight. */
  inFlight = 0;

  allocate(arrivalSeconds: number, inputTokens: number, outputTokens: number): number {
    let id = this.free.pop();
    if (id === undefined) {
      if (this.used === this.arrivalSeconds.length) this.grow();
      id = this.used++;
    }
    this.arrivalSeconds[id] = arrivalSeconds;
    this.inputTokens[id] = inputTokens;
    this.outputTokens[id] = outputTokens;
    this.prefillEndSeconds[id] = Number.NaN;
    this.firstTokenSeconds[id] = Number.NaN;
    this.decodedSteps[id] = 0;
    this.kvHolder[id] = -1;
    this.inFlight++;
    return id;
  }

  release(id: number): void {
    this.free.push(id);
    this.inFlight--;
  }

  private grow(): void {
    const n = this.arrivalSeconds.length * 2;
    const f64 = (a: Float64Array) => {
      const b = new Float64Array(n);
      b.set(a);
      return b;
    };
    const i32 = (a: Int32Array) => {
      const b = new Int32Array(n);
      b.set(a);
      return b;
    };
    this.arrivalSeconds = f64(this.arrivalSeconds);
    this.inputTokens = i32(this.inputTokens);
    this.outputTokens = i32(this.outputTokens);
    this.prefillEndSeconds = f64(this.prefillEndSeconds);
    this.firstTokenSeconds = f64(this.firstTokenSeconds);
    this.decodedSteps = i32(this.decodedSteps);
    this.kvHolder = i32(this.kvHolder);
  }
}
