// A lost cell's instances are re-auctioned as soon as its presence goes, not at the next scheduled
// pass: the original's converger ran convergence on every consul "cell disappeared" event for the same
// reason (semantics §6.0). Here the removal of a presence node (its TTL ran out and the sweep deleted
// it, or it was deleted) reaches the store's change stream, and this reactor runs an LRP convergence
// pass for it before the stream moves on. A failed pass throws, so the stream delivers the change
// again.
//
// Several losses at once (a zone going down) must not cost a full pass each. A pass that began after
// a loss covers it, because the pass reads cells through the store, which treats an expired node as
// absent from the moment it expires. So a loss that a finished or running pass already covers waits
// for that pass, and the losses that arrive while an older pass runs share the next one.
import type { BBSContext } from "../context";
import type { StoreChangeReactor } from "../store-change-reactors";
import { parseKey } from "../store/keys";
import type { Store, StoreChange } from "../store/store";
import { convergeLRPs } from "./lrp-convergence";

interface PassState {
  /** Start time (store clock, ms) of the latest pass that finished. */
  finishedStartMs: number;
  running?: { startedAtMs: number; done: Promise<void> };
}

const states = new WeakMap<Store, PassState>();

/** Resolves once a pass that started at or after `coverFromMs` has finished; at most one pass runs at a time per store. */
export async function convergeLRPsCovering(ctx: BBSContext, coverFromMs: number, run: () => Promise<unknown> = () => convergeLRPs(ctx)): Promise<void> {
  let state = states.get(ctx.store);
  if (!state) states.set(ctx.store, (state = { finishedStartMs: -Infinity }));
  for (;;) {
    if (state.finishedStartMs >= coverFromMs) return;
    const running = state.running;
    if (running) {
      if (running.startedAtMs >= coverFromMs) return running.done;
      await running.done.catch(() => {});
      continue;
    }
    const startedAtMs = ctx.clock.nowMs();
    const pass = state;
    const done = (async () => {
      try {
        await run();
        pass.finishedStartMs = Math.max(pass.finishedStartMs, startedAtMs);
      } finally {
        pass.running = undefined;
      }
    })();
    state.running = { startedAtMs, done };
    return done;
  }
}

/** The time from which a pass covers this removal: the expiry itself, or (for a delete) now. */
function lossTimeMs(ctx: BBSContext, change: StoreChange): number {
  const expiresAtMs = change.before?.expiresAtMs;
  return change.expired && expiresAtMs !== undefined ? expiresAtMs : ctx.clock.nowMs();
}

export const cellLossReactor: StoreChangeReactor = {
  name: "cell-loss-convergence",
  async react(ctx, change) {
    if (change.after !== undefined || change.before === undefined) return;
    const parsed = parseKey(change.key);
    if (parsed.kind !== "cell") return;
    ctx.logger.info("cell-lost-converging-lrps", { cell_id: parsed.cellId, expired: change.expired });
    await convergeLRPsCovering(ctx, lossTimeMs(ctx, change));
  },
};
