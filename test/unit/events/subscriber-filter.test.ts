// The Lambda subscriber helper: its event-source filter, run against sample stream records through an
// independent model of Lambda's filtering, and its handler end to end on the same records.
import { create } from "@bufbuild/protobuf";
import type { DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { encodeActualLRP } from "../../../core/actual-lrps";
import type { BBSEvent } from "../../../core/events/bbs-events";
import { ActualLRPSchema } from "../../../core/gen/models/actual_lrp_pb";
import { DesiredLRPSchema } from "../../../core/gen/models/desired_lrp_pb";
import { silentLogger } from "../../../core/logger";
import { actualLRPKey, emptyNetInfo, newModificationTag } from "../../../core/models/actual-lrp";
import { encodeRecord } from "../../../core/records";
import {
  bbsEventFilterCriteria,
  bbsEventFilterPatterns,
  bbsEventSubscriber,
  type BBSEventFilter,
} from "../../../functions/_shared/bbs-event-subscriber";
import { crashReporterFilter, handler as crashReporter } from "../../../functions/subscribers/crash-reporter";
import { lambdaFilterPasses } from "../../support/lambda-filter";

// ---- Sample records, in the shape the table's stream has (attribute names as stored) ----

type Image = Record<string, { S: string } | { N: string } | { B: string }>;
let sequence = 100;

function image(key: string, value: Uint8Array, version: number, labels: Record<string, string>): Image {
  const [, , root, ...rest] = key.split("/");
  const out: Image = {
    pk: { S: `/v1/${root}#07` },
    sk: { S: rest.join("/") },
    key: { S: key },
    value: { B: Buffer.from(value).toString("base64") },
    version: { N: String(version) },
    writtenAtMs: { N: "1767225600000" },
  };
  const names = Object.keys(labels).sort();
  if (names.length) out.labelNames = { S: names.join(",") };
  for (const [name, v] of Object.entries(labels)) out[`l_${name}`] = { S: v };
  return out;
}

function record(eventName: "INSERT" | "MODIFY" | "REMOVE", oldImage?: Image, newImage?: Image): DynamoDBRecord {
  const keys = (newImage ?? oldImage)!;
  return {
    eventID: `e${sequence}`,
    eventName,
    eventSource: "aws:dynamodb",
    eventVersion: "1.1",
    awsRegion: "eu-west-1",
    eventSourceARN: "arn:aws:dynamodb:eu-west-1:000000000000:table/bbs/stream/2026-01-01T00:00:00.000",
    dynamodb: {
      ApproximateCreationDateTime: 1767225600,
      Keys: { pk: keys.pk!, sk: keys.sk! } as never,
      ...(newImage ? { NewImage: newImage as never } : {}),
      ...(oldImage ? { OldImage: oldImage as never } : {}),
      SequenceNumber: String(sequence++).padStart(21, "0"),
      SizeBytes: 200,
      StreamViewType: "NEW_AND_OLD_IMAGES",
    },
  };
}

const desired = (guid: string, domain: string, instances = 1) =>
  encodeRecord(DesiredLRPSchema, create(DesiredLRPSchema, { processGuid: guid, domain, rootFs: "preloaded:cflinuxfs2", instances }));
const actual = (guid: string, domain: string, state: string, cellId: string, crashCount = 0) =>
  encodeActualLRP(
    create(ActualLRPSchema, {
      actualLrpKey: actualLRPKey(guid, 0, domain),
      actualLrpInstanceKey: { instanceGuid: cellId ? "ig-1" : "", cellId },
      actualLrpNetInfo: emptyNetInfo(),
      state,
      crashCount,
      crashReason: crashCount ? "exit status 1" : "",
      modificationTag: newModificationTag(),
    }),
  );

const dKey = (guid: string) => `/v1/desired/${guid}`;
const iKey = (guid: string) => `/v1/actual/${guid}/0/instance`;
const eKey = (guid: string) => `/v1/actual/${guid}/0/evacuating`;

const samples = {
  desiredCreatedApps: record("INSERT", undefined, image(dKey("web"), desired("web", "cf-apps"), 1, { domain: "cf-apps" })),
  desiredChangedApps: record(
    "MODIFY",
    image(dKey("web"), desired("web", "cf-apps", 1), 1, { domain: "cf-apps" }),
    image(dKey("web"), desired("web", "cf-apps", 3), 2, { domain: "cf-apps" }),
  ),
  desiredRemovedTasks: record("REMOVE", image(dKey("job"), desired("job", "cf-tasks"), 4, { domain: "cf-tasks" })),
  actualCreatedApps: record("INSERT", undefined, image(iKey("web"), actual("web", "cf-apps", "UNCLAIMED", ""), 1, { domain: "cf-apps", cell_id: "" })),
  actualClaimedOnCell1: record(
    "MODIFY",
    image(iKey("web"), actual("web", "cf-apps", "UNCLAIMED", ""), 1, { domain: "cf-apps", cell_id: "" }),
    image(iKey("web"), actual("web", "cf-apps", "CLAIMED", "cell-1"), 2, { domain: "cf-apps", cell_id: "cell-1" }),
  ),
  actualCrashedOffCell1: record(
    "MODIFY",
    image(iKey("web"), actual("web", "cf-apps", "RUNNING", "cell-1"), 3, { domain: "cf-apps", cell_id: "cell-1" }),
    image(iKey("web"), actual("web", "cf-apps", "UNCLAIMED", "", 1), 4, { domain: "cf-apps", cell_id: "" }),
  ),
  actualChangedOtherDomain: record(
    "MODIFY",
    image(iKey("job"), actual("job", "cf-tasks", "UNCLAIMED", ""), 1, { domain: "cf-tasks", cell_id: "" }),
    image(iKey("job"), actual("job", "cf-tasks", "CLAIMED", "cell-2"), 2, { domain: "cf-tasks", cell_id: "cell-2" }),
  ),
  evacuatingExpiredOnCell1: {
    ...record("REMOVE", image(eKey("web"), actual("web", "cf-apps", "RUNNING", "cell-1"), 1, { domain: "cf-apps", cell_id: "cell-1" })),
    userIdentity: { type: "Service", principalId: "dynamodb.amazonaws.com" },
  },
  task: record("INSERT", undefined, image("/v1/task/t-1", Uint8Array.from([2]), 1, { domain: "cf-apps", cell_id: "cell-1" })),
  eventLogEntry: record("INSERT", undefined, image("/v1/event/0/7", Uint8Array.from([1, 0]), 1, {})),
} satisfies Record<string, DynamoDBRecord>;

type Sample = keyof typeof samples;
const names = Object.keys(samples) as Sample[];

/** The samples Lambda would deliver under `filter`. */
const delivered = (filter: BBSEventFilter) => names.filter((n) => lambdaFilterPasses(samples[n], bbsEventFilterPatterns(filter)));

/** The samples the subscriber finally hands to its callback under `filter`. */
async function handled(filter: BBSEventFilter): Promise<Sample[]> {
  const seen: Sample[] = [];
  const handler = bbsEventSubscriber({
    filter,
    logger: silentLogger,
    handle(_event, meta) {
      seen.push(names.find((n) => samples[n].dynamodb!.SequenceNumber === meta.sequence)!);
    },
  });
  const event: DynamoDBStreamEvent = { Records: delivered(filter).map((n) => samples[n]) };
  expect(await handler(event)).toEqual({ batchItemFailures: [] });
  return seen;
}

describe("the subscriber's event-source filter", () => {
  it("with no filter lets through every LRP record and no other", async () => {
    expect(delivered({})).toEqual(names.filter((n) => n !== "task" && n !== "eventLogEntry"));
    expect(await handled({})).toEqual(delivered({}));
  });

  it("selects event kinds by record root and stream event name", async () => {
    expect(delivered({ types: ["desired_lrp_created", "desired_lrp_removed"] })).toEqual(["desiredCreatedApps", "desiredChangedApps", "desiredRemovedTasks"]);
    expect(await handled({ types: ["desired_lrp_created", "desired_lrp_removed"] })).toEqual(["desiredCreatedApps", "desiredRemovedTasks"]);
    // INSERT or MODIFY may be a creation (a write over an expired record); the helper settles it.
    expect(delivered({ types: ["actual_lrp_created"] })).toEqual([
      "actualCreatedApps",
      "actualClaimedOnCell1",
      "actualCrashedOffCell1",
      "actualChangedOtherDomain",
    ]);
    expect(await handled({ types: ["actual_lrp_created"] })).toEqual(["actualCreatedApps"]);
    expect(delivered({ types: ["actual_lrp_removed"] })).toEqual(["evacuatingExpiredOnCell1"]);
  });

  it("selects one domain on the new image, or the old one for removals", async () => {
    expect(delivered({ domain: "cf-tasks" })).toEqual(["desiredRemovedTasks", "actualChangedOtherDomain"]);
    expect(await handled({ domain: "cf-tasks" })).toEqual(["desiredRemovedTasks", "actualChangedOtherDomain"]);
    expect(delivered({ domain: "cf-apps", types: ["actual_lrp_changed"] })).toEqual(["actualClaimedOnCell1", "actualCrashedOffCell1"]);
  });

  it("selects one cell: records moving onto it or off it, actual LRPs only", async () => {
    expect(delivered({ cellId: "cell-1" })).toEqual(["actualClaimedOnCell1", "actualCrashedOffCell1", "evacuatingExpiredOnCell1"]);
    expect(await handled({ cellId: "cell-1" })).toEqual(["actualClaimedOnCell1", "actualCrashedOffCell1", "evacuatingExpiredOnCell1"]);
    expect(delivered({ cellId: "cell-1", domain: "cf-tasks" })).toEqual([]);
  });

  it("stays within Lambda's limit of 5 patterns and serialises as FilterCriteria", () => {
    const filter: BBSEventFilter = { types: ["actual_lrp_changed", "actual_lrp_removed"], domain: "cf-apps", cellId: "cell-1" };
    expect(bbsEventFilterPatterns(filter).length).toBeLessThanOrEqual(5);
    const criteria = bbsEventFilterCriteria(filter);
    expect(criteria.Filters.map((f) => JSON.parse(f.Pattern))).toEqual(bbsEventFilterPatterns(filter));
    expect(JSON.parse(criteria.Filters[0]!.Pattern)).toEqual({
      eventName: ["MODIFY", "REMOVE"],
      dynamodb: { Keys: { pk: { S: [{ prefix: "/v1/actual#" }] } }, NewImage: { l_domain: { S: ["cf-apps"] }, l_cell_id: { S: ["cell-1"] } } },
    });
  });
});

describe("the subscriber handler", () => {
  it("decodes records into typed events, in order, with where each came from", async () => {
    const events: { event: BBSEvent; expired: boolean; key: string }[] = [];
    const handler = bbsEventSubscriber({ logger: silentLogger, handle: (event, meta) => void events.push({ event, expired: meta.expired, key: meta.key }) });
    await handler({ Records: [samples.actualClaimedOnCell1, samples.evacuatingExpiredOnCell1] });
    expect(events.map((e) => e.event.type)).toEqual(["actual_lrp_changed", "actual_lrp_removed"]);
    const removed = events[1]!;
    expect(removed).toMatchObject({ expired: true, key: "/v1/actual/web/0/evacuating" });
    if (removed.event.type !== "actual_lrp_removed") throw new Error("unreachable");
    expect(removed.event.actualLRPGroup.instance).toBeUndefined();
    expect(removed.event.actualLRPGroup.evacuating?.actualLrpInstanceKey?.cellId).toBe("cell-1");
  });

  it("skips an undecodable record and reports the first failing event for redelivery", async () => {
    const broken = record("INSERT", undefined, image(iKey("bad"), Uint8Array.from([2, 0x0a, 0xff]), 1, { domain: "cf-apps", cell_id: "" }));
    let calls = 0;
    const handler = bbsEventSubscriber({
      logger: silentLogger,
      handle(event) {
        calls++;
        if (event.type === "actual_lrp_changed") throw new Error("downstream is down");
      },
    });
    const response = await handler({ Records: [broken, samples.actualCreatedApps, samples.actualClaimedOnCell1, samples.actualCrashedOffCell1] });
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: samples.actualClaimedOnCell1.dynamodb!.SequenceNumber }] });
    expect(calls).toBe(2);
  });

  it("drives the example crash reporter", async () => {
    expect(delivered(crashReporterFilter)).toEqual(["actualClaimedOnCell1", "actualCrashedOffCell1"]);
    const lines: string[] = [];
    const write = process.stdout.write;
    process.stdout.write = ((line: string) => (lines.push(line), true)) as typeof process.stdout.write;
    try {
      await crashReporter({ Records: delivered(crashReporterFilter).map((n) => samples[n]) });
    } finally {
      process.stdout.write = write;
    }
    const crashes = lines.map((l) => JSON.parse(l)).filter((l) => l.message === "actual-lrp-crashed");
    expect(crashes).toEqual([expect.objectContaining({ process_guid: "web", cell_id: "cell-1", crash_count: 1, subscriber: "crash-reporter" })]);
  });
});
