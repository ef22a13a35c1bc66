// When a crashed actual LRP may run again (the original's restart calculator): the first crashes
// restart at once, later ones after an exponential backoff capped at 16 minutes, and after 200 never.

export const IMMEDIATE_RESTARTS = 3;
export const MAX_RESTART_ATTEMPTS = 200;
export const MIN_BACKOFF_NS = 30n * 1_000_000_000n;
export const MAX_BACKOFF_NS = 16n * 60n * 1_000_000_000n;
/** 2^5 × 30 s = 16 min: beyond this exponent the cap applies anyway. */
export const MAX_BACKOFF_EXPONENT = 5;
/** A RUNNING instance that crashes after running longer than this starts counting crashes afresh. */
export const CRASH_RESET_TIMEOUT_NS = 5n * 60n * 1_000_000_000n;

export function backoffNs(crashCount: number): bigint {
  const exponent = Math.min(Math.max(crashCount - IMMEDIATE_RESTARTS, 0), MAX_BACKOFF_EXPONENT);
  const wait = MIN_BACKOFF_NS * 2n ** BigInt(exponent);
  return wait < MAX_BACKOFF_NS ? wait : MAX_BACKOFF_NS;
}

/** Whether an instance with `crashCount` crashes, the last at `crashedAtNs`, should be restarted at `nowNs`. */
export function shouldRestart(nowNs: bigint, crashedAtNs: bigint, crashCount: number): boolean {
  if (crashCount < IMMEDIATE_RESTARTS) return true;
  if (crashCount >= MAX_RESTART_ATTEMPTS) return false;
  return crashedAtNs + backoffNs(crashCount) <= nowNs;
}

/** Whether a crash with this new count is restarted by the crash itself, without waiting for convergence. */
export const shouldRestartImmediately = (crashCount: number) => shouldRestart(0n, 0n, crashCount);

/** The crash count after a crash: reset to 1 when the instance had been RUNNING for more than 5 minutes. */
export function nextCrashCount(previous: number, wasRunning: boolean, sinceNs: bigint, nowNs: bigint): number {
  if (wasRunning && nowNs - sinceNs > CRASH_RESET_TIMEOUT_NS) return 1;
  return previous + 1;
}
