export interface Clock {
  /** Unix milliseconds. */
  nowMs(): number;
  /** Unix nanoseconds, the unit of every timestamp the BBS stores. */
  nowNs(): bigint;
}

export const systemClock: Clock = {
  nowMs: () => Date.now(),
  nowNs: () => BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n),
};

/** A clock that only moves when told to; for tests of TTL, backoff and convergence. */
export class ManualClock implements Clock {
  constructor(private ms: number = Date.UTC(2026, 0, 1)) {}
  nowMs() {
    return this.ms;
  }
  nowNs() {
    return BigInt(this.ms) * 1_000_000n;
  }
  advance(ms: number) {
    this.ms += ms;
  }
  set(ms: number) {
    this.ms = ms;
  }
}
