// An example Lambda subscriber: logs every crash of a `cf-apps` instance, straight from the table's
// stream. Deploy it with its filter so Lambda only invokes it for changed actual LRPs of that domain:
//
//   table.subscribe("CrashReporter", "functions/subscribers/crash-reporter.handler", {
//     filters: bbsEventFilterPatterns(crashReporterFilter),
//     transform: { eventSourceMapping: { functionResponseTypes: ["ReportBatchItemFailures"] } },
//   });
import { jsonLogger } from "../../core/logger";
import { bbsEventSubscriber, type BBSEventFilter } from "../_shared/bbs-event-subscriber";

export const crashReporterFilter: BBSEventFilter = { types: ["actual_lrp_changed"], domain: "cf-apps" };

const logger = jsonLogger({ base: { subscriber: "crash-reporter" } });

export const handler = bbsEventSubscriber({
  filter: crashReporterFilter,
  logger,
  handle(event, meta) {
    if (event.type !== "actual_lrp_changed") return;
    const before = event.before.instance;
    const after = event.after.instance;
    // Evacuating records are not instances; a crash shows as a growing crash count on the instance.
    if (!before || !after || after.crashCount <= before.crashCount) return;
    logger.info("actual-lrp-crashed", {
      process_guid: after.actualLrpKey?.processGuid,
      index: after.actualLrpKey?.index,
      cell_id: before.actualLrpInstanceKey?.cellId,
      crash_count: after.crashCount,
      crash_reason: after.crashReason,
      state: after.state,
      sequence: meta.sequence,
    });
  },
});
