/**
 * An append-only typed array that doubles its capacity: collects a trace of
 * unknown length in 8 (Float64) or 4 (Int32) bytes per value instead of a
 * JS array of boxed numbers or objects.
 */
export class GrowableArray<A extends Float64Array | Int32Array> {
  private buffer: A;
  private count = 0;

  constructor(private readonly allocate: (capacity: number) => A) {
    this.buffer = allocate(1024);
  }

  get length(): number {
    return this.count;
  }

  push(value: number): void {
    if (this.count === this.buffer.length) {
      const grown = this.allocate(this.buffer.length * 2);
      grown.set(this.buffer);
      this.buffer = grown;
    }
    this.buffer[this.count++] = value;
  }

  /** The values pushed, as a view on the buffer (no copy): valid until the next push. */
  view(): A {
    return this.buffer.subarray(0, this.count) as A;
  }

  /** The values pushed, copied to an array of exactly their length. */
  toTrimmed(): A {
    return this.buffer.slice(0, this.count) as A;
  }
}
