// What the BBS does with each change of its store, in stream order: the DynamoDB stream consumer
// (and the local stack's stream poller) hands every change to these reactors. Each must be
// idempotent: the stream delivers at least once.
import type { BBSContext } from "./context";
import type { StoreChange } from "./store/store";
import { taskCallbacks } from "./task-callbacks";
import { cellLossReactor } from "./convergence/cell-loss";

export interface StoreChangeReactor {
  name: string;
  react(ctx: BBSContext, change: StoreChange): Promise<void>;
}

export const storeChangeReactors: StoreChangeReactor[] = [
  taskCallbacks,
  cellLossReactor,
];

/**
 * Runs every reactor over the changes in order and returns the sequence of the first change that
 * failed (the stream resumes from there), or undefined when all succeeded.
 */
export async function reactToChanges(
  ctx: BBSContext,
  changes: readonly StoreChange[],
  reactors: readonly StoreChangeReactor[] = storeChangeReactors,
): Promise<string | undefined> {
  for (const change of changes) {
    for (const reactor of reactors) {
      try {
        await reactor.react(ctx, change);
      } catch (error) {
        ctx.logger.error("store-change-reactor-failed", error, { reactor: reactor.name, key: change.key, sequence: change.sequence });
        return change.sequence;
      }
    }
  }
  return undefined;
}
