/**
 * Time as the control and routing code sees it. Live, it is the wall clock;
 * in the simulator and in tests, a virtual clock that only moves when told.
 * Code in control/, policy/, forecast/ and router/scheduler/ takes a Clock
 * (or plain `nowSeconds` values) and never reads Date.now() itself.
 */
export interface Clock {
  /** Seconds since an arbitrary fixed origin. Monotonic. */
  nowSeconds(): number;
}

/** The wall clock, monotonic (performance.now), for live use only. */
export class SystemClock implements Clock {
  nowSeconds(): number {
    return performance.now() / 1000;
  }
}

/** A clock that moves only when told: the simulator's and the tests'. */
export class ManualClock implements Clock {
  constructor(private seconds = 0) {}

  nowSeconds(): number {
    return this.seconds;
  }

  /** Moves to an absolute time; refuses to go backwards. */
  set(seconds: number): void {
    if (seconds < this.seconds) throw new Error(`ManualClock cannot go back from ${this.seconds} to ${seconds}`);
    this.seconds = seconds;
  }

  advance(deltaSeconds: number): void {
    this.set(this.seconds + deltaSeconds);
  }
}
