/**
 * FIFO of int32 values (request ids) on a growable ring buffer: a queue
 * that allocates only when it doubles, so pushing and popping millions of
 * requests through an instance creates no garbage.
 */
export class IntDeque {
  private items: Int32Array;
  private head = 0;
  private size = 0;

  constructor(initialCapacity = 16) {
    this.items = new Int32Array(Math.max(2, initialCapacity));
  }

  get length(): number {
    return this.size;
  }

  push(value: number): void {
    if (this.size === this.items.length) this.grow();
    this.items[(this.head + this.size) % this.items.length] = value;
    this.size++;
  }

  /** Oldest value; -1 when empty. */
  peek(): number {
    return this.size === 0 ? -1 : (this.items[this.head] as number);
  }

  /** Removes and returns the oldest value; -1 when empty. */
  shift(): number {
    if (this.size === 0) return -1;
    const value = this.items[this.head] as number;
    this.head = (this.head + 1) % this.items.length;
    this.size--;
    return value;
  }

  /** The i-th oldest value (0 = oldest). */
  at(i: number): number {
    return this.items[(this.head + i) % this.items.length] as number;
  }

  clear(): void {
    this.head = 0;
    this.size = 0;
  }

  private grow(): void {
    const next = new Int32Array(this.items.length * 2);
    for (let i = 0; i < this.size; i++) next[i] = this.items[(this.head + i) % this.items.length] as number;
    this.items = next;
    this.head = 0;
  }
}
