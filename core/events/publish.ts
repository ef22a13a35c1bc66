// The stream consumer's event step: translate a batch of store changes and append the events to the
// log, in stream order, once each.
import type { Logger } from "../logger";
import type { Store, StoreChange } from "../store/store";
import { encodeBBSEvent } from "./bbs-events";
import { changeToEvent } from "./change-to-events";
import { EventLog, EventLogAppendError, dedupeIdOf, type EventLogOptions, type LogItem } from "./event-log";

/**
 * Publishes the events of `changes` and returns the sequence of the first change whose event could
 * not be logged (the stream should resume there), or undefined when all are logged. Changes that
 * make no event, or whose records do not decode (logged), are simply passed over.
 */
export async function publishChangeEvents(
  store: Store,
  changes: readonly StoreChange[],
  logger: Logger,
  options: EventLogOptions = {},
): Promise<string | undefined> {
  const items: (LogItem & { sequence: string })[] = [];
  for (const change of changes) {
    const event = changeToEvent(change, logger);
    if (!event) continue;
    items.push({ dedupeId: dedupeIdOf(change), type: event.type, payload: encodeBBSEvent(event), key: change.key, sequence: change.sequence });
  }
  if (items.length === 0) return undefined;
  try {
    await new EventLog(store, { logger, ...options }).append(items);
    return undefined;
  } catch (error) {
    const appended = error instanceof EventLogAppendError ? error.appended : 0;
    logger.error("failed-to-publish-events", error, { appended, sequence: items[appended]?.sequence });
    return items[appended]!.sequence;
  }
}
