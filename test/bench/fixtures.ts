// What the bench stores: records shaped like benchmarkbbs's (single-instance desired LRPs with a
// download, a run and a monitor action and cf-router routes; RUNNING actual LRPs spread over 1,000
// cells; tasks), and a bulk loader that writes them as the store would, with BatchWriteItem.
import { create } from "@bufbuild/protobuf";
import { ActionSchema, DownloadActionSchema, RunActionSchema, type Action } from "../../core/gen/models/actions_pb";
import {
  ActualLRPInstanceKeySchema,
  ActualLRPNetInfoSchema,
  ActualLRPSchema,
  PortMappingSchema,
  type ActualLRP,
} from "../../core/gen/models/actual_lrp_pb";
import { DesiredLRPSchema, type DesiredLRP } from "../../core/gen/models/desired_lrp_pb";
import { EnvironmentVariableSchema } from "../../core/gen/models/environment_variables_pb";
import { ModificationTagSchema } from "../../core/gen/models/modification_tag_pb";
import { TaskDefinitionSchema, TaskSchema, Task_State, type Task } from "../../core/gen/models/task_pb";
import { actualLRPWriteOptions, encodeActualLRP } from "../../core/actual-lrps";
import { ActualLRPState, actualLRPKey, emptyInstanceKey, emptyNetInfo } from "../../core/models/actual-lrp";
import { encodeRoutes } from "../../core/models/routes";
import { encodeRecord } from "../../core/records";
import type { DynamoDBCaller, Item, WriteRequest } from "../../core/store/dynamo-client";
import { plainNodeItem } from "../../core/store/dynamo-store";
import { Attr, LabelAttrPrefix } from "../../core/store/dynamo-table";
import { actualLRPInstanceKey, desiredLRPKey, taskKey } from "../../core/store/keys";
import type { Labels } from "../../core/store/store";
import { encodeTask, taskWriteOptions } from "../../core/tasks";
import { desiredLRPWriteOptions } from "../../core/desired-lrps";

export const DOMAIN = "cf-apps";
export const CELLS = 1000;
export const SECOND_NS = 1_000_000_000n;

export const cellId = (i: number) => `cell-${i % CELLS}`;
export const processGuid = (prefix: string, i: number) => `${prefix}-${String(i).padStart(6, "0")}-a1b2c3d4-e5f6`;
export const taskGuid = (i: number) => `task-${String(i).padStart(6, "0")}-a1b2c3d4-e5f6`;

const run = (path: string, args: string[]): Action =>
  create(ActionSchema, { runAction: create(RunActionSchema, { path, args, user: "vcap", logSource: "APP" }) });

/** A desired LRP about the size of benchmarkbbs's (≈ 700 bytes encoded). */
export function desiredLRP(guid: string, instances = 1, domain = DOMAIN): DesiredLRP {
  return create(DesiredLRPSchema, {
    processGuid: guid,
    domain,
    rootFs: "preloaded:cflinuxfs4",
    instances,
    environmentVariables: [
      create(EnvironmentVariableSchema, { name: "PORT", value: "8080" }),
      create(EnvironmentVariableSchema, { name: "VCAP_APPLICATION", value: `{"application_id":"${guid}","name":"bench-app"}` }),
    ],
    setup: create(ActionSchema, {
      downloadAction: create(DownloadActionSchema, {
        from: `http://file-server.service.cf.internal:8080/v1/static/buildpack_app_lifecycle/buildpack_app_lifecycle.tgz`,
        to: "/tmp/lifecycle",
        cacheKey: "buildpack-cflinuxfs4-lifecycle",
        user: "vcap",
      }),
    }),
    action: run("/tmp/lifecycle/launcher", ["app", "bundle exec rackup config.ru -p $PORT", "{}"]),
    monitor: run("/tmp/lifecycle/healthcheck", ["-port=8080"]),
    startTimeout: 60,
    diskMb: 1024,
    memoryMb: 256,
    cpuWeight: 1,
    ports: [8080],
    routes: encodeRoutes({ "cf-router": `[{"hostnames":["${guid}.bench.example.com"],"port":8080}]` }),
    logGuid: guid,
    logSource: "CELL",
    metricsGuid: guid,
    modificationTag: create(ModificationTagSchema, { epoch: `epoch-${guid}`, index: 0 }),
  });
}

export interface ActualShape {
  state: ActualLRPState;
  cell?: string;
  sinceNs: bigint;
  crashCount?: number;
  domain?: string;
}

export function actualLRP(guid: string, index: number, shape: ActualShape): ActualLRP {
  const holds = shape.state === ActualLRPState.Claimed || shape.state === ActualLRPState.Running;
  const cell = shape.cell ?? cellId(index);
  return create(ActualLRPSchema, {
    actualLrpKey: actualLRPKey(guid, index, shape.domain ?? DOMAIN),
    actualLrpInstanceKey: holds ? create(ActualLRPInstanceKeySchema, { instanceGuid: `ig-${guid}-${index}`, cellId: cell }) : emptyInstanceKey(),
    actualLrpNetInfo:
      shape.state === ActualLRPState.Running
        ? create(ActualLRPNetInfoSchema, { address: "10.244.16.12", ports: [create(PortMappingSchema, { containerPort: 8080, hostPort: 61000 + (index % 4000) })] })
        : emptyNetInfo(),
    crashCount: shape.crashCount ?? 0,
    crashReason: shape.state === ActualLRPState.Crashed ? "APP/PROC/WEB: Exited with status 1" : "",
    state: shape.state,
    since: shape.sinceNs,
    modificationTag: create(ModificationTagSchema, { epoch: `epoch-${guid}-${index}`, index: 3 }),
  });
}

export function task(guid: string, i: number, nowNs: bigint): Task {
  const running = i % 2 === 0;
  return create(TaskSchema, {
    taskGuid: guid,
    domain: "bench-tasks",
    taskDefinition: create(TaskDefinitionSchema, {
      rootFs: "preloaded:cflinuxfs4",
      action: run("/tmp/lifecycle/launcher", ["app", "bin/rake db:migrate", "{}"]),
      diskMb: 1024,
      memoryMb: 256,
      cpuWeight: 1,
      logGuid: guid,
      logSource: "TASK",
      metricsGuid: guid,
      resultFile: "/tmp/result.json",
      completionCallbackUrl: "http://cc.service.cf.internal:9023/internal/v3/tasks/callback",
    }),
    createdAt: nowNs,
    updatedAt: nowNs,
    firstCompletedAt: 0n,
    state: running ? Task_State.Running : Task_State.Pending,
    cellId: running ? cellId(i) : "",
    result: "",
    failed: false,
    failureReason: "",
  });
}

/** A node as the store would leave it after a write without TTL. */
export interface PlainNode {
  key: string;
  value: Uint8Array;
  labels?: Labels;
}

export const desiredNode = (lrp: DesiredLRP): PlainNode => ({
  key: desiredLRPKey(lrp.processGuid),
  value: encodeRecord(DesiredLRPSchema, lrp),
  labels: desiredLRPWriteOptions(lrp).labels,
});

export const actualNode = (lrp: ActualLRP): PlainNode => ({
  key: actualLRPInstanceKey(lrp.actualLrpKey!.processGuid, lrp.actualLrpKey!.index),
  value: encodeActualLRP(lrp),
  labels: actualLRPWriteOptions(lrp).labels,
});

export const taskNode = (t: Task): PlainNode => ({ key: taskKey(t.taskGuid), value: encodeTask(t), labels: taskWriteOptions(t).labels });

/** The store's item for a node (plainNodeItem), plus its labels as the store writes them. */
export function nodeItem(node: PlainNode, version: number, writtenAtMs: number, shards: number): Item {
  const item = plainNodeItem(node.key, node.value, version, writtenAtMs, shards);
  const names = Object.keys(node.labels ?? {}).sort();
  if (names.length > 0) {
    item[Attr.labelNames] = { S: names.join(",") };
    for (const name of names) item[LabelAttrPrefix + name] = { S: node.labels![name]! };
  }
  return item;
}

/**
 * Writes nodes with BatchWriteItem, 25 items a request, `parallel` requests in flight, retrying
 * unprocessed items. Returns items per second.
 */
export async function bulkLoad(
  client: DynamoDBCaller,
  tableName: string,
  shards: number,
  nodes: Iterable<PlainNode>,
  parallel = 8,
): Promise<number> {
  const started = performance.now();
  const now = Date.now();
  const batches: WriteRequest[][] = [];
  let batch: WriteRequest[] = [];
  let count = 0;
  for (const node of nodes) {
    batch.push({ PutRequest: { Item: nodeItem(node, now * 1000 + 1, now, shards) } });
    count++;
    if (batch.length === 25) {
      batches.push(batch);
      batch = [];
    }
  }
  if (batch.length > 0) batches.push(batch);
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < batches.length) {
        let pending: WriteRequest[] | undefined = batches[next++];
        for (let attempt = 0; pending && pending.length > 0; attempt++) {
          if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** attempt)));
          const { UnprocessedItems } = await client.call("BatchWriteItem", { RequestItems: { [tableName]: pending } });
          pending = UnprocessedItems?.[tableName];
        }
      }
    }),
  );
  return count / ((performance.now() - started) / 1000);
}

/** `count` single-instance desired LRPs and their RUNNING instances, guids `prefix-<from..from+count>`. */
export function* lrpNodes(prefix: string, from: number, count: number, nowNs: bigint): Generator<PlainNode> {
  for (let i = from; i < from + count; i++) {
    const guid = processGuid(prefix, i);
    yield desiredNode(desiredLRP(guid));
    yield actualNode(actualLRP(guid, 0, { state: ActualLRPState.Running, cell: cellId(i), sinceNs: nowNs - 3600n * SECOND_NS }));
  }
}

export function* taskNodes(from: number, count: number, nowNs: bigint): Generator<PlainNode> {
  for (let i = from; i < from + count; i++) yield taskNode(task(taskGuid(i), i, nowNs));
}
