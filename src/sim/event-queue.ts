/**
 * The simulator's future-event list: a binary min-heap keyed by (time, seq),
 * stored as parallel typed arrays so pushing and popping an event allocates
 * nothing. An event is two integers — a kind and a target (an instance
 * index, or unused) — that the cluster dispatches with a switch; no closure
 * is kept per event.
 *
 * Ordering invariant: events pop in non-decreasing time; events at the same
 * time pop in the order they were pushed (seq breaks ties), so a run is
 * deterministic for a given input.
 */
export class EventQueue {
  private times = new Float64Array(64);
  private seqs = new Float64Array(64);
  private kinds = new Int32Array(64);
  private targets = new Int32Array(64);
  private size = 0;
  private nextSeq = 0;

  /** Popped event's fields; valid until the next pop. */
  timeSeconds = 0;
  kind = 0;
  target = 0;

  get length(): number {
    return this.size;
  }

  /** Time of the earliest event; Infinity when empty. */
  peekTimeSeconds(): number {
    return this.size === 0 ? Number.POSITIVE_INFINITY : (this.times[0] as number);
  }

  push(timeSeconds: number, kind: number, target: number): void {
    if (Number.isNaN(timeSeconds)) throw new RangeError('event time is NaN');
    if (this.size === this.times.length) this.grow();
    const seq = this.nextSeq++;
    // Sift up from the new leaf, moving parents down until the slot is found.
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!earlier(timeSeconds, seq, this.times[parent] as number, this.seqs[parent] as number)) break;
      this.move(parent, i);
      i = parent;
    }
    this.set(i, timeSeconds, seq, kind, target);
  }

  /** Removes the earliest event into timeSeconds/kind/target; false when empty. */
  pop(): boolean {
    if (this.size === 0) return false;
    this.timeSeconds = this.times[0] as number;
    this.kind = this.kinds[0] as number;
    this.target = this.targets[0] as number;
    const last = --this.size;
    if (last === 0) return true;
    const t = this.times[last] as number;
    const s = this.seqs[last] as number;
    const k = this.kinds[last] as number;
    const g = this.targets[last] as number;
    // Sift the former last element down from the root.
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= last) break;
      const right = left + 1;
      const child =
        right < last && earlier(this.times[right] as number, this.seqs[right] as number, this.times[left] as number, this.seqs[left] as number)
          ? right
          : left;
      if (!earlier(this.times[child] as number, this.seqs[child] as number, t, s)) break;
      this.move(child, i);
      i = child;
    }
    this.set(i, t, s, k, g);
    return true;
  }

  private move(from: number, to: number): void {
    this.times[to] = this.times[from] as number;
    this.seqs[to] = this.seqs[from] as number;
    this.kinds[to] = this.kinds[from] as number;
    this.targets[to] = this.targets[from] as number;
  }

  private set(i: number, t: number, s: number, k: number, g: number): void {
    this.times[i] = t;
    this.seqs[i] = s;
    this.kinds[i] = k;
    this.targets[i] = g;
  }

  private grow(): void {
    const n = this.times.length * 2;
    const times = new Float64Array(n);
    times.set(this.times);
    const seqs = new Float64Array(n);
    seqs.set(this.seqs);
    const kinds = new Int32Array(n);
    kinds.set(this.kinds);
    const targets = new Int32Array(n);
    targets.set(this.targets);
    this.times = times;
    this.seqs = seqs;
    this.kinds = kinds;
    this.targets = targets;
  }
}

/** (ta, sa) orders before (tb, sb): earlier time, or the same time and pushed first. */
function earlier(ta: number, sa: number, tb: number, sb: number): boolean {
  return ta < tb || (ta === tb && sa < sb);
}
