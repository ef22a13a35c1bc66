import type { AuctioneerClient } from "./collaborators/auctioneer";
import type { RepClient } from "./collaborators/rep";
import type { Clock } from "./clock";
import type { Logger } from "./logger";
import type { Store } from "./store/store";

/** What every BBS operation may use; built once per process by the function layer. */
export interface BBSContext {
  store: Store;
  clock: Clock;
  logger: Logger;
  auctioneer: AuctioneerClient;
  reps: RepClient;
  /** Timeout for outbound HTTP (auctioneer, reps, task callbacks), in milliseconds. */
  communicationTimeoutMs: number;
}

/** Runs `work` over `items` with at most `limit` in flight; results keep the input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
