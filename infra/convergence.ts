// Convergence on a schedule. The BBS converges every 30 s; EventBridge schedules no finer than once a
// minute, so functions/convergence/scheduled.handler runs two rounds per invocation, 30 s apart
// (BBS_CONVERGENCE_INTERVAL, infra/settings.ts), each with the store's expiry sweep, and sweeps again
// every BBS_EXPIRY_SWEEP_INTERVAL in between. It plans its work to end before the minute does.
import { convergenceFunction } from "./api-routes";
import { functionArgs } from "./functions";

export const convergence = new sst.aws.Cron("ConvergenceSchedule", {
  schedule: "rate(1 minute)",
  function: functionArgs(convergenceFunction, {
    // The handler stops scheduling work one sweep interval before the minute ends; the timeout is
    // the backstop that keeps a stuck invocation from overlapping the next one for long.
    timeout: "1 minute",
    // Lambda bills the waits between rounds too: 512 MB keeps an always-on schedule near $17 a
    // month (infra/DEPLOYING.md); raise it if convergence of a large deployment needs more CPU.
    memory: "512 MB",
    // A missed minute is made up by the next one; retrying a stale invocation would only overlap it.
    retries: 0,
  }),
});
