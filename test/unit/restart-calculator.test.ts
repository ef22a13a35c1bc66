import { describe, expect, it } from "vitest";
import { backoffNs, nextCrashCount, shouldRestart, shouldRestartImmediately } from "../../core/models/restart-calculator";

const s = (n: number) => BigInt(n) * 1_000_000_000n;
const min = (n: number) => s(n * 60);

describe("restart calculator", () => {
  it("restarts the first two crashes at once and waits from the third", () => {
    expect(shouldRestartImmediately(1)).toBe(true);
    expect(shouldRestartImmediately(2)).toBe(true);
    expect(shouldRestartImmediately(3)).toBe(false);
  });

  it("backs off 30 s, 1, 2, 4, 8 min, then 16 min, and never restarts at 200 crashes", () => {
    expect([3, 4, 5, 6, 7, 8, 50, 199].map(backoffNs)).toEqual([s(30), min(1), min(2), min(4), min(8), min(16), min(16), min(16)]);
    const crashedAt = s(1_000_000);
    expect(shouldRestart(crashedAt + s(29), crashedAt, 3)).toBe(false);
    expect(shouldRestart(crashedAt + s(30), crashedAt, 3)).toBe(true);
    expect(shouldRestart(crashedAt + min(16) - 1n, crashedAt, 8)).toBe(false);
    expect(shouldRestart(crashedAt + min(16), crashedAt, 199)).toBe(true);
    expect(shouldRestart(crashedAt + min(10_000), crashedAt, 200)).toBe(false);
  });

  it("resets the crash count to 1 only after running for more than 5 minutes", () => {
    const since = s(1_000);
    expect(nextCrashCount(7, true, since, since + min(5) + 1n)).toBe(1);
    expect(nextCrashCount(7, true, since, since + min(5))).toBe(8);
    expect(nextCrashCount(7, false, since, since + min(60))).toBe(8);
  });
});
