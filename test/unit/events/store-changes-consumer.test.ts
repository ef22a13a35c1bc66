// The stream consumer handler (functions/streams/store-changes.ts) over a DynamoDB Local table:
// records in, events appended to the log once each, unreadable records skipped, a failed append
// reported as the batch item failure and healed by the redelivery.
import { create } from "@bufbuild/protobuf";
import type { DynamoDBRecord } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeActualLRP } from "../../../core/actual-lrps";
import { droppingAuctioneerClient } from "../../../core/collaborators/auctioneer";
import { httpRepClient } from "../../../core/collaborators/rep";
import { systemClock } from "../../../core/clock";
import type { BBSContext } from "../../../core/context";
import { EventLog } from "../../../core/events/event-log";
import { ActualLRPSchema } from "../../../core/gen/models/actual_lrp_pb";
import { DesiredLRPSchema } from "../../../core/gen/models/desired_lrp_pb";
import { silentLogger } from "../../../core/logger";
import { actualLRPKey, emptyNetInfo, newModificationTag } from "../../../core/models/actual-lrp";
import { encodeRecord } from "../../../core/records";
import type { Store, StoreOp } from "../../../core/store/store";
import { configFromEnv } from "../../../functions/_shared/config";
import { useContext } from "../../../functions/_shared/dependencies";
import { handler } from "../../../functions/streams/store-changes";
import { freshStore } from "../../support/dynamo";

let store: Store;
let failNextTransact = false;

beforeAll(async () => {
  const fresh = await freshStore();
  // The store the consumer writes through; a test can make its next transaction fail.
  store = Object.assign(Object.create(fresh.store) as Store, {
    transact(ops: readonly StoreOp[]) {
      if (failNextTransact) {
        failNextTransact = false;
        return Promise.reject(new Error("ProvisionedThroughputExceededException"));
      }
      return fresh.store.transact(ops);
    },
  });
  const ctx: BBSContext = {
    store,
    clock: systemClock,
    logger: silentLogger,
    auctioneer: droppingAuctioneerClient(silentLogger),
    reps: httpRepClient({ timeoutMs: 1_000 }),
    communicationTimeoutMs: 1_000,
  };
  useContext(ctx, { ...configFromEnv(), tableName: fresh.tableName });
});

afterAll(() => {
  failNextTransact = false;
});

let sequence = 1;
function record(eventName: "INSERT" | "MODIFY" | "REMOVE", key: string, value: Uint8Array, version: number): DynamoDBRecord {
  const [, , root, ...rest] = key.split("/");
  const image = {
    pk: { S: `/v1/${root}#03` },
    sk: { S: rest.join("/") },
    key: { S: key },
    value: { B: Buffer.from(value).toString("base64") },
    version: { N: String(version) },
    writtenAtMs: { N: String(Date.now()) },
  };
  return {
    eventID: `id-${sequence}`,
    eventName,
    eventSource: "aws:dynamodb",
    dynamodb: {
      Keys: { pk: image.pk, sk: image.sk },
      ...(eventName === "REMOVE" ? { OldImage: image } : { NewImage: image }),
      ...(eventName === "MODIFY" ? { OldImage: { ...image, version: { N: String(version - 1) } } } : {}),
      SequenceNumber: String(sequence++).padStart(21, "0"),
      StreamViewType: "NEW_AND_OLD_IMAGES",
    },
  } as DynamoDBRecord;
}

const desired = (guid: string) => encodeRecord(DesiredLRPSchema, create(DesiredLRPSchema, { processGuid: guid, domain: "cf-apps", rootFs: "preloaded:x", instances: 1 }));
const actual = (guid: string, state: string) =>
  encodeActualLRP(create(ActualLRPSchema, { actualLrpKey: actualLRPKey(guid, 0, "cf-apps"), actualLrpNetInfo: emptyNetInfo(), state, modificationTag: newModificationTag() }));

async function logged(): Promise<string[]> {
  const log = new EventLog(store);
  const entries = await log.read(0, await log.head());
  return [...entries.values()].map((e) => (e.kind === "event" ? e.type : "relist"));
}

describe("the stream consumer", () => {
  it("appends one event per LRP change, skips what is not an LRP or does not decode, and is idempotent", async () => {
    const batch = {
      Records: [
        record("INSERT", "/v1/desired/web", desired("web"), 1),
        record("INSERT", "/v1/actual/web/0/instance", actual("web", "UNCLAIMED"), 1),
        record("INSERT", "/v1/actual/bad/0/instance", Uint8Array.from([7, 7]), 1), // undecodable
        { eventName: "INSERT", dynamodb: { NewImage: { key: { N: "42" } } } } as unknown as DynamoDBRecord, // not a node
        record("INSERT", "/v1/task/t-1", Uint8Array.from([2]), 1),
        record("MODIFY", "/v1/actual/web/0/instance", actual("web", "CLAIMED"), 2),
        record("REMOVE", "/v1/desired/web", desired("web"), 1),
      ],
    };
    expect(await handler(batch)).toEqual({ batchItemFailures: [] });
    expect(await logged()).toEqual(["desired_lrp_created", "actual_lrp_created", "actual_lrp_changed", "desired_lrp_removed"]);

    // Lambda delivers the same batch again: nothing is appended twice.
    expect(await handler(batch)).toEqual({ batchItemFailures: [] });
    expect(await logged()).toHaveLength(4);
  });

  it("reports the first change it could not log, and the redelivery from there logs each event once", async () => {
    const before = (await logged()).length;
    const batch = [
      record("INSERT", "/v1/actual/api/0/instance", actual("api", "UNCLAIMED"), 1),
      record("MODIFY", "/v1/actual/api/0/instance", actual("api", "CLAIMED"), 2),
    ];
    failNextTransact = true;
    expect(await handler({ Records: batch })).toEqual({ batchItemFailures: [{ itemIdentifier: batch[0]!.dynamodb!.SequenceNumber }] });
    expect(await logged()).toHaveLength(before);
    expect(await handler({ Records: batch })).toEqual({ batchItemFailures: [] });
    expect((await logged()).slice(before)).toEqual(["actual_lrp_created", "actual_lrp_changed"]);
  });
});
