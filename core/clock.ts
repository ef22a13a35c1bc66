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

/**
 * A clock that only moves when told to; for tests of TTL, backoff and convergence. It starts at the
 * real time, so TTL attributes it writes mean the same to DynamoDB as to the store.
 */
export class ManualClock implements Clock {
  constructor(private ms: number = Date.now()) {}
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
