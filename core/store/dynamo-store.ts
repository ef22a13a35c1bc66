// DynamoStore: the etcd v2 store port over one DynamoDB table (layout in dynamo-table.md).
//
// Why one item per etcd node, keyed `<root>#<shard>` / `<path below the root>`: the BBS only ever
// reads a whole root (`/v1/actual`, convergence and the list endpoints) or one guid's subtree
// (`/v1/actual/<guid>`, the lifecycle operations). Hashing the guid into the partition key spreads a
// root over `shards` partitions, so no partition takes all actual-LRP traffic, and still keeps a
// guid's subtree inside one partition, where a single Query on `begins_with(sk, "<guid>/")` answers
// it. A whole-root list pays for that with one Query per shard, issued in parallel.
//
// Why a per-key `version` instead of etcd's global modifiedIndex: callers only ever compare it for
// equality on the same key (CAS/CAD on the just-read index), so a counter on the item keeps those
// semantics without a global counter item that every write would contend on. A key that is deleted
// and later created again must not accept a CAS meant for its earlier life, so a brand-new item
// starts from a time-based base rather than from 1; an expired item that is overwritten keeps
// counting from where it was.
//
// Why TTL is decided at read time: DynamoDB deletes expired items lazily (within days), while etcd's
// TTL was exact. Every item with a TTL carries its
// exact `expiresAtMs`; get and list drop expired items, and every condition treats them as absent
// (create succeeds over one, CAS/CAD/delete fail with KeyNotFound). `now` always comes from the
// injected Clock. `sweepExpired` then deletes them for real, through a sparse index that holds only
// nodes with a TTL, so the watch stream sees the expiry promptly; its delete is conditional on the
// version and the expiry, so a node refreshed in the meantime survives.
//
// Why failures need no second read: every conditional write asks for the item as it was when the
// condition failed (ReturnValuesOnConditionCheckFailure ALL_OLD), and the same rule that built the
// condition classifies that item into KeyNotFound / CompareFailed(current) / KeyExists(current).
//
// Why labels carry a guard: labels are top-level `l_<name>` attributes (so Lambda event filters can
// match them), and a write replaces the whole label set. An UpdateItem cannot remove attributes it
// does not name, so each write removes every label name this store has seen and not been given, and
// its condition requires the stored label names (`labelNames`) to be among those. When an item holds
// a label never seen before, that condition fails, the name is learnt from the ALL_OLD item and the
// write is retried; the node never passes through a state with stale labels.
import {
  dynamoError,
  type AttributeValue,
  type DynamoDBCaller,
  type Item,
  type QueryInput,
  type TransactWriteItem,
} from "./dynamo-client";
import { systemClock, type Clock } from "../clock";
import { CompareFailedError, KeyExistsError, KeyNotFoundError, ValueTooLargeError, type StoreError } from "./errors";
import { Roots } from "./keys";
import type { LabelledNode, Labels, ListOptions, ScanOptions, Store, StoreNode, StoreOp, WriteOptions } from "./store";
import {
  Attr,
  DefaultShards,
  ExpiryIndex,
  LabelAttrPrefix,
  MaxItemBytes,
  ShardSeparator,
  TtlShardPrefix,
} from "./dynamo-table";

export interface DynamoStoreOptions {
  /** A DynamoDBHttpClient (makeDynamoDBClient), or anything that wraps one's `call`. */
  client: DynamoDBCaller;
  tableName: string;
  clock?: Clock;
  /** Shards per root; must match every other reader and writer of the table. */
  shards?: number;
}

/** Where a key lives in the table. */
export interface ItemLocation {
  pk: string;
  sk: string;
  /** `/v1/actual` */
  root: string;
  shard: number;
}

const MaxTransactOps = 100;
/** Up to this many known label names, a write's guard lists every allowed stored label set (IN takes 100). */
const MaxEnumeratedLabelNames = 6;
const MaxAttempts = 5;
/** BatchGetItem's limit per request. */
const MaxBatchGetKeys = 100;
const BatchGetConcurrency = 8;
const SweepConcurrency = 16;
const LabelNamePattern = /^[A-Za-z0-9_.-]{1,64}$/;

/** FNV-1a, 32 bit, over the UTF-8 bytes: stable across processes and releases, which the layout needs. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, "utf8")) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function padShard(shard: number, shards: number): string {
  return String(shard).padStart(String(shards - 1).length, "0");
}

/**
 * The item key of an etcd key: `/v1/actual/pg-1/0/instance` → pk `/v1/actual#<shard of pg-1>`, sk
 * `pg-1/0/instance`. A storable key has at least three non-empty segments.
 */
export function locateKey(key: string, shards: number = DefaultShards): ItemLocation {
  const segments = key.split("/");
  if (segments.length < 4 || segments[0] !== "" || segments.slice(1).some((s) => s === "")) {
    throw new RangeError(`invalid store key ${JSON.stringify(key)}: want /<a>/<b>/<name>[/...]`);
  }
  const root = `/${segments[1]}/${segments[2]}`;
  const shard = fnv1a32(segments[3]!) % shards;
  return { pk: rootPartition(root, shard, shards), sk: segments.slice(3).join("/"), root, shard };
}

/**
 * The item a write leaves for a node without TTL or labels. Only for bulk loads that bypass the
 * conditional write path (test fixtures, migrations); everything else goes through DynamoStore.
 */
export function plainNodeItem(
  key: string,
  value: Uint8Array,
  version: number,
  writtenAtMs: number,
  shards: number = DefaultShards,
): Item {
  const { pk, sk } = locateKey(key, shards);
  return {
    [Attr.pk]: str(pk),
    [Attr.sk]: str(sk),
    [Attr.key]: str(key),
    [Attr.value]: { B: toBase64(value) },
    [Attr.version]: num(version),
    [Attr.writtenAtMs]: num(writtenAtMs),
  };
}

function rootPartition(root: string, shard: number, shards: number): string {
  return `${root}${ShardSeparator}${padShard(shard, shards)}`;
}

function ttlPartition(shard: number, shards: number): string {
  return `${TtlShardPrefix}${padShard(shard, shards)}`;
}

const num = (n: number): AttributeValue => ({ N: String(n) });
const str = (s: string): AttributeValue => ({ S: s });

// The JSON protocol carries binary as base64: a value is encoded once on its way in and decoded once
// on its way out, and everything else (keys, versions) passes through as the wire gave it.
function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

function fromBase64(text: string): Uint8Array {
  const buffer = Buffer.from(text, "base64");
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

function expiresAtMsOf(item: Item): number | undefined {
  const n = item[Attr.expiresAtMs]?.N;
  return n === undefined ? undefined : Number(n);
}

function isLive(item: Item | undefined, nowMs: number): item is Item {
  if (!item) return false;
  const expiresAtMs = expiresAtMsOf(item);
  return expiresAtMs === undefined || expiresAtMs > nowMs;
}

interface Projected {
  expression: string;
  names: Record<string, string>;
}

/** A ProjectionExpression over placeholders: `key` and `value` are reserved words. */
function projectionOf(attributes: readonly string[]): Projected {
  const names: Record<string, string> = {};
  attributes.forEach((attr, i) => (names[`#p${i}`] = attr));
  return { expression: Object.keys(names).join(", "), names };
}

/** The labels `names` the item holds. */
function labelsOf(item: Item, names: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const name of names) {
    const v = item[LabelAttrPrefix + name]?.S;
    if (v !== undefined) labels[name] = v;
  }
  return labels;
}

function labelledNode(item: Item, labelNames: readonly string[]): LabelledNode {
  const node: LabelledNode = { key: item[Attr.key]!.S!, version: Number(item[Attr.version]!.N), labels: labelsOf(item, labelNames) };
  const expiresAtMs = expiresAtMsOf(item);
  if (expiresAtMs !== undefined) node.expiresAtMs = expiresAtMs;
  return node;
}

function labelNamesOf(item: Item | undefined): string[] {
  const joined = item?.[Attr.labelNames]?.S;
  return joined ? joined.split(",") : [];
}

/** Collects placeholders, so no attribute name ever clashes with a reserved word (`key`, `value`). */
class Expression {
  readonly names: Record<string, string> = {};
  readonly values: Item = {};
  private readonly byAttr = new Map<string, string>();
  private counter = 0;
  private nowPlaceholder?: string;

  constructor(private readonly nowMs: number) {}

  name(attr: string): string {
    let placeholder = this.byAttr.get(attr);
    if (!placeholder) {
      placeholder = `#a${this.byAttr.size}`;
      this.byAttr.set(attr, placeholder);
      this.names[placeholder] = attr;
    }
    return placeholder;
  }

  value(v: AttributeValue): string {
    const placeholder = `:v${this.counter++}`;
    this.values[placeholder] = v;
    return placeholder;
  }

  now(): string {
    this.nowPlaceholder ??= this.value(num(this.nowMs));
    return this.nowPlaceholder;
  }

  params(): { ExpressionAttributeNames: Record<string, string>; ExpressionAttributeValues?: Item } {
    return Object.keys(this.values).length > 0
      ? { ExpressionAttributeNames: this.names, ExpressionAttributeValues: this.values }
      : { ExpressionAttributeNames: this.names };
  }
}

// Named condition fragments. An expired item is absent to every one of them.
const notExists = (e: Expression) => `attribute_not_exists(${e.name(Attr.pk)})`;
const exists = (e: Expression) => `attribute_exists(${e.name(Attr.pk)})`;
const expired = (e: Expression) => `${e.name(Attr.expiresAtMs)} <= ${e.now()}`;
const notExpired = (e: Expression) =>
  `(attribute_not_exists(${e.name(Attr.expiresAtMs)}) OR ${e.name(Attr.expiresAtMs)} > ${e.now()})`;
const versionIs = (e: Expression, version: number) => `${e.name(Attr.version)} = ${e.value(num(version))}`;

/** etcd create (105 when taken): no item, or only an expired one. */
const absent = (e: Expression) => `(${notExists(e)} OR ${expired(e)})`;
/** The node exists (100 otherwise). */
const live = (e: Expression) => `${exists(e)} AND ${notExpired(e)}`;
/** The node exists at this version (100 / 101 otherwise). */
const liveAt = (e: Expression, version: number) => `${live(e)} AND ${versionIs(e, version)}`;

type WriteOp = Extract<StoreOp, { op: "create" | "set" | "compareAndSwap" }>;
type DeleteOp = Extract<StoreOp, { op: "compareAndDelete" | "delete" }>;

interface UpdateParams {
  TableName: string;
  Key: Item;
  UpdateExpression: string;
  ConditionExpression?: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues?: Item;
}

interface DeleteParams {
  TableName: string;
  Key: Item;
  ConditionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues?: Item;
}

function isWrite(op: StoreOp): op is WriteOp {
  return op.op === "create" || op.op === "set" || op.op === "compareAndSwap";
}

function utf8Length(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

/** Nonempty subsets of sorted names, each sorted and comma-joined as `labelNames` stores it. */
function joinedSubsets(sortedNames: readonly string[]): string[] {
  const out: string[] = [];
  for (let mask = 1; mask < 1 << sortedNames.length; mask++) {
    out.push(sortedNames.filter((_, i) => mask & (1 << i)).join(","));
  }
  return out;
}

async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export class DynamoStore implements Store {
  readonly client: DynamoDBCaller;
  readonly tableName: string;
  readonly shards: number;
  private readonly clock: Clock;
  /** Every label name seen on this table by this instance; writes remove the ones not given. */
  private readonly labelVocabulary = new Set<string>();

  constructor({ client, tableName, clock = systemClock, shards = DefaultShards }: DynamoStoreOptions) {
    if (!Number.isInteger(shards) || shards < 1) throw new RangeError(`shards must be a positive integer, got ${shards}`);
    this.client = client;
    this.tableName = tableName;
    this.clock = clock;
    this.shards = shards;
  }

  locate(key: string): ItemLocation {
    return locateKey(key, this.shards);
  }

  // etcd GET (100 when absent or expired).
  async get(key: string): Promise<StoreNode> {
    const item = await this.getItem(this.locate(key));
    if (!isLive(item, this.clock.nowMs())) throw new KeyNotFoundError(key);
    return this.toNode(item);
  }

  // etcd GET of a directory, recursive or not. Only leaves come back; directories are implicit.
  async list(prefix: string, options: ListOptions = {}): Promise<StoreNode[]> {
    const recursive = options.recursive ?? false;
    const dir = prefix.replace(/\/+$/, "");
    const segments = dir.split("/");
    if (segments[0] !== "" || segments.slice(1).some((s) => s === "")) return [];
    const depth = segments.length - 1;

    let items: Item[];
    if (depth < 2) {
      // Above the roots (`/v1`): only the known roots can be enumerated, and they hold no direct leaves.
      if (!recursive) return [];
      const roots = Roots.filter((root) => root.startsWith(`${dir}/`));
      items = (await Promise.all(roots.map((root) => this.queryRoot(root)))).flat();
    } else if (depth === 2) {
      items = await this.queryRoot(dir);
      if (!recursive) items = items.filter((item) => !item[Attr.sk]!.S!.includes("/"));
    } else {
      const location = this.locate(dir);
      const below = `${location.sk}/`;
      items = await this.queryAll({
        TableName: this.tableName,
        ConsistentRead: true,
        KeyConditionExpression: "#pk = :pk AND begins_with(#sk, :below)",
        ExpressionAttributeNames: { "#pk": Attr.pk, "#sk": Attr.sk },
        ExpressionAttributeValues: { ":pk": str(location.pk), ":below": str(below) },
      });
      if (items.length === 0) {
        // etcd lists a leaf as itself.
        const leaf = await this.getItem(location);
        items = leaf ? [leaf] : [];
      } else if (!recursive) {
        items = items.filter((item) => !item[Attr.sk]!.S!.slice(below.length).includes("/"));
      }
    }
    const now = this.clock.nowMs();
    return items.filter((item) => isLive(item, now)).map((item) => this.toNode(item));
  }

  // list's recursive read, streamed: each page is filtered for expiry and visited before the next
  // page of its shard is requested, so memory is bounded by pages in flight, not by the directory.
  async forEachNode(prefix: string, visit: (nodes: StoreNode[]) => void | Promise<void>, options: ScanOptions = {}): Promise<void> {
    const projection = options.withoutLabels ? projectionOf([Attr.key, Attr.value, Attr.version, Attr.expiresAtMs]) : undefined;
    await this.scan(prefix, projection, (items) => visit(items.map((item) => this.toNode(item))));
  }

  // A projection: DynamoDB still reads whole items, but neither sends the values nor does this decode them.
  async forEachLabelledNode(prefix: string, labelNames: readonly string[], visit: (nodes: LabelledNode[]) => void | Promise<void>): Promise<void> {
    for (const name of labelNames) {
      if (!LabelNamePattern.test(name)) throw new RangeError(`invalid label name ${JSON.stringify(name)}`);
    }
    const projection = projectionOf([Attr.key, Attr.version, Attr.expiresAtMs, ...labelNames.map((name) => LabelAttrPrefix + name)]);
    await this.scan(prefix, projection, (items) => visit(items.map((item) => labelledNode(item, labelNames))));
  }

  // BatchGetItem, 100 keys a request and the requests in parallel; keys DynamoDB leaves unprocessed
  // (throttling, the 16 MB response limit) are asked for again after a short backoff.
  async getMany(keys: readonly string[]): Promise<Map<string, StoreNode>> {
    const found = new Map<string, StoreNode>();
    const unique = [...new Set(keys)];
    const requests: Item[][] = [];
    for (let i = 0; i < unique.length; i += MaxBatchGetKeys) {
      requests.push(unique.slice(i, i + MaxBatchGetKeys).map((key) => {
        const { pk, sk } = this.locate(key);
        return { [Attr.pk]: str(pk), [Attr.sk]: str(sk) };
      }));
    }
    await forEachLimited(requests, BatchGetConcurrency, async (batch) => {
      let pending: Item[] = batch;
      for (let attempt = 1; pending.length > 0; attempt++) {
        if (attempt > 1) {
          if (attempt > MaxAttempts) throw new Error(`BatchGetItem left ${pending.length} keys unprocessed after ${MaxAttempts} attempts`);
          await new Promise((r) => setTimeout(r, 20 * 2 ** attempt * Math.random()));
        }
        const out = await this.client.call("BatchGetItem", {
          RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: true } },
        });
        const now = this.clock.nowMs();
        for (const item of out.Responses?.[this.tableName] ?? []) {
          if (isLive(item, now)) found.set(item[Attr.key]!.S!, this.toNode(item));
        }
        pending = out.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
      }
    });
    return found;
  }

  /** The recursive read below `prefix`, a page of live items at a time. */
  private async scan(prefix: string, projection: Projected | undefined, onItems: (items: Item[]) => void | Promise<void>): Promise<void> {
    const dir = prefix.replace(/\/+$/, "");
    const segments = dir.split("/");
    if (segments[0] !== "" || segments.slice(1).some((s) => s === "")) return;
    const depth = segments.length - 1;
    const query = (input: QueryInput): QueryInput =>
      projection
        ? {
            ...input,
            ProjectionExpression: projection.expression,
            ExpressionAttributeNames: { ...input.ExpressionAttributeNames, ...projection.names },
          }
        : input;
    let seen = false;
    const visitLive = async (items: Item[]) => {
      if (items.length > 0) seen = true;
      const now = this.clock.nowMs();
      const live = items.filter((item) => isLive(item, now));
      if (live.length > 0) await onItems(live);
    };
    const rootPages = (root: string) =>
      Promise.all(
        Array.from({ length: this.shards }, (_, shard) =>
          this.forEachPage(
            query({
              TableName: this.tableName,
              ConsistentRead: true,
              KeyConditionExpression: "#pk = :pk",
              ExpressionAttributeNames: { "#pk": Attr.pk },
              ExpressionAttributeValues: { ":pk": str(rootPartition(root, shard, this.shards)) },
            }),
            visitLive,
          ),
        ),
      );

    if (depth < 2) {
      await Promise.all(Roots.filter((root) => root.startsWith(`${dir}/`)).map(rootPages));
    } else if (depth === 2) {
      await rootPages(dir);
    } else {
      const location = this.locate(dir);
      await this.forEachPage(
        query({
          TableName: this.tableName,
          ConsistentRead: true,
          KeyConditionExpression: "#pk = :pk AND begins_with(#sk, :below)",
          ExpressionAttributeNames: { "#pk": Attr.pk, "#sk": Attr.sk },
          ExpressionAttributeValues: { ":pk": str(location.pk), ":below": str(`${location.sk}/`) },
        }),
        visitLive,
      );
      if (!seen) {
        // etcd lists a leaf as itself.
        const leaf = await this.getItem(location);
        if (leaf) await visitLive([leaf]);
      }
    }
  }

  // etcd create, i.e. put-if-absent (105 with the current node).
  create(key: string, value: Uint8Array, options?: WriteOptions): Promise<StoreNode> {
    return this.write({ op: "create", key, value, options });
  }

  // etcd set: unconditional.
  set(key: string, value: Uint8Array, options?: WriteOptions): Promise<StoreNode> {
    return this.write({ op: "set", key, value, options });
  }

  // etcd compareAndSwap on prevIndex (100, or 101 with the current node).
  compareAndSwap(key: string, value: Uint8Array, prevVersion: number, options?: WriteOptions): Promise<StoreNode> {
    return this.write({ op: "compareAndSwap", key, value, prevVersion, options });
  }

  // etcd compareAndDelete on prevIndex (100, or 101 with the current node).
  compareAndDelete(key: string, prevVersion: number): Promise<void> {
    return this.remove({ op: "compareAndDelete", key, prevVersion });
  }

  // etcd delete (100 when absent or expired).
  delete(key: string): Promise<void> {
    return this.remove({ op: "delete", key });
  }

  async transact(ops: readonly StoreOp[]): Promise<void> {
    if (ops.length === 0) return;
    if (ops.length > MaxTransactOps) throw new RangeError(`transact takes at most ${MaxTransactOps} ops, got ${ops.length}`);
    const keys = new Set(ops.map((op) => op.key));
    if (keys.size !== ops.length) throw new RangeError("transact needs distinct keys");
    const locations = ops.map((op) => this.locate(op.key));
    ops.forEach((op, i) => {
      if (isWrite(op)) this.checkSize(op, locations[i]!);
    });
    const hints: (string[] | undefined)[] = ops.map(() => undefined);

    for (let attempt = 1; ; attempt++) {
      const now = this.clock.nowMs();
      const items: TransactWriteItem[] = ops.map((op, i) =>
        isWrite(op)
          ? { Update: { ...this.updateParams(op, locations[i]!, now, hints[i]), ReturnValuesOnConditionCheckFailure: "ALL_OLD" } }
          : { Delete: { ...this.deleteParams(op, locations[i]!, now), ReturnValuesOnConditionCheckFailure: "ALL_OLD" } },
      );
      try {
        await this.client.call("TransactWriteItems", { TransactItems: items });
        return;
      } catch (error) {
        const canceled = dynamoError(error, "TransactionCanceledException");
        if (!canceled) throw error;
        const reasons = canceled.cancellationReasons ?? [];
        let retry = false;
        for (const [i, reason] of reasons.entries()) {
          if (reason.Code === "ConditionalCheckFailed") {
            const storeError = this.classifyFailure(ops[i]!, reason.Item, now);
            if (storeError) throw storeError;
            hints[i] = this.learnLabels(reason.Item);
            retry = true;
          } else if (reason.Code === "TransactionConflict") {
            retry = true;
          } else if (reason.Code && reason.Code !== "None") {
            throw error;
          }
        }
        if (!retry || attempt >= MaxAttempts) throw error;
        await new Promise((r) => setTimeout(r, 10 * attempt * Math.random()));
      }
    }
  }

  async sweepExpired(): Promise<number> {
    const now = this.clock.nowMs();
    const perShard = await Promise.all(
      Array.from({ length: this.shards }, (_, shard) =>
        // The index is eventually consistent; the conditional delete below is what decides.
        this.queryAll({
          TableName: this.tableName,
          IndexName: ExpiryIndex.name,
          KeyConditionExpression: "#ttlShard = :ttlShard AND #expiresAtMs <= :now",
          ProjectionExpression: "#pk, #sk, #version",
          ExpressionAttributeNames: {
            "#ttlShard": Attr.ttlShard,
            "#expiresAtMs": Attr.expiresAtMs,
            "#pk": Attr.pk,
            "#sk": Attr.sk,
            "#version": Attr.version,
          },
          ExpressionAttributeValues: { ":ttlShard": str(ttlPartition(shard, this.shards)), ":now": num(now) },
        }),
      ),
    );
    let deleted = 0;
    await forEachLimited(perShard.flat(), SweepConcurrency, async (item) => {
      try {
        await this.client.call("DeleteItem", {
          TableName: this.tableName,
          Key: { [Attr.pk]: item[Attr.pk]!, [Attr.sk]: item[Attr.sk]! },
          // Refreshed (new version or later expiry) or already gone since the index saw it: keep.
          ConditionExpression: "#version = :version AND #expiresAtMs <= :now",
          ExpressionAttributeNames: { "#version": Attr.version, "#expiresAtMs": Attr.expiresAtMs },
          ExpressionAttributeValues: { ":version": item[Attr.version]!, ":now": num(now) },
        });
        deleted++;
      } catch (error) {
        if (!dynamoError(error, "ConditionalCheckFailedException")) throw error;
      }
    });
    return deleted;
  }

  private async write(op: WriteOp): Promise<StoreNode> {
    const location = this.locate(op.key);
    this.checkSize(op, location);
    let hint: string[] | undefined;
    for (let attempt = 1; ; attempt++) {
      const now = this.clock.nowMs();
      try {
        const { Attributes } = await this.client.call("UpdateItem", {
          ...this.updateParams(op, location, now, hint),
          ReturnValues: "ALL_NEW",
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        });
        return this.toNode(Attributes!);
      } catch (error) {
        const failed = dynamoError(error, "ConditionalCheckFailedException");
        if (!failed) throw error;
        const old = failed.item;
        const storeError = this.classifyFailure(op, old, now);
        if (storeError) throw storeError;
        // Only the label guard failed: the item holds a label name we had not seen.
        hint = this.learnLabels(old);
        if (attempt >= MaxAttempts) throw new Error(`write of ${op.key}: label set kept changing under us`, { cause: error });
      }
    }
  }

  private async remove(op: DeleteOp): Promise<void> {
    const now = this.clock.nowMs();
    try {
      await this.client.call("DeleteItem", {
        ...this.deleteParams(op, this.locate(op.key), now),
        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      });
    } catch (error) {
      const failed = dynamoError(error, "ConditionalCheckFailedException");
      if (!failed) throw error;
      throw this.classifyFailure(op, failed.item, now) ?? error;
    }
  }

  /**
   * The store error a failed condition means, judged on the item as DynamoDB saw it and with the same
   * `now`; undefined when the operation's own condition held (so the label guard failed).
   */
  private classifyFailure(op: StoreOp, old: Item | undefined, now: number): StoreError | undefined {
    const current = isLive(old, now) ? old : undefined;
    switch (op.op) {
      case "create":
        return current ? new KeyExistsError(op.key, this.toNode(current)) : undefined;
      case "set":
        return undefined;
      case "compareAndSwap":
      case "compareAndDelete":
        if (!current) return new KeyNotFoundError(op.key);
        return Number(current[Attr.version]!.N) !== op.prevVersion
          ? new CompareFailedError(op.key, this.toNode(current))
          : undefined;
      case "delete":
        return current ? undefined : new KeyNotFoundError(op.key);
    }
  }

  private updateParams(op: WriteOp, location: ItemLocation, now: number, hint: string[] | undefined): UpdateParams {
    const e = new Expression(now);
    const options = op.options ?? {};
    const labels = validLabels(op.key, options.labels);
    const names = Object.keys(labels).sort();
    for (const name of names) this.labelVocabulary.add(name);

    const set = [
      `${e.name(Attr.key)} = ${e.value(str(op.key))}`,
      `${e.name(Attr.value)} = ${e.value({ B: toBase64(op.value) })}`,
      // A brand-new item starts from a time-based base; an existing (even expired) one counts on.
      `${e.name(Attr.version)} = if_not_exists(${e.name(Attr.version)}, ${e.value(num(this.versionBase(now)))}) + ${e.value(num(1))}`,
      `${e.name(Attr.writtenAtMs)} = ${e.now()}`,
    ];
    const remove: string[] = [];

    const ttlMs = ttlMillis(op.key, options.ttlSeconds);
    if (ttlMs > 0) {
      const expiresAtMs = now + ttlMs;
      set.push(
        `${e.name(Attr.expiresAtMs)} = ${e.value(num(expiresAtMs))}`,
        `${e.name(Attr.expiresAt)} = ${e.value(num(Math.ceil(expiresAtMs / 1000)))}`,
        `${e.name(Attr.ttlShard)} = ${e.value(str(ttlPartition(location.shard, this.shards)))}`,
      );
    } else {
      remove.push(e.name(Attr.expiresAtMs), e.name(Attr.expiresAt), e.name(Attr.ttlShard));
    }

    if (names.length > 0) set.push(`${e.name(Attr.labelNames)} = ${e.value(str(names.join(",")))}`);
    else remove.push(e.name(Attr.labelNames));
    for (const name of names) set.push(`${e.name(LabelAttrPrefix + name)} = ${e.value(str(labels[name]!))}`);

    // The label guard: the stored label names must all be ones this write sets or removes.
    const given = new Set(names);
    let guard: string;
    const known = [...new Set([...this.labelVocabulary, ...(hint ?? [])])].sort();
    if (known.length <= MaxEnumeratedLabelNames) {
      for (const name of known) if (!given.has(name)) remove.push(e.name(LabelAttrPrefix + name));
      const allowed = joinedSubsets(known).map((joined) => e.value(str(joined)));
      guard = allowed.length
        ? `(attribute_not_exists(${e.name(Attr.labelNames)}) OR ${e.name(Attr.labelNames)} IN (${allowed.join(", ")}))`
        : `attribute_not_exists(${e.name(Attr.labelNames)})`;
    } else {
      // Too many names to enumerate the allowed sets: bet on an exact set (the last one seen, else ours).
      const expected = hint ?? names;
      for (const name of expected) if (!given.has(name)) remove.push(e.name(LabelAttrPrefix + name));
      guard = expected.length
        ? `(${notExists(e)} OR ${e.name(Attr.labelNames)} = ${e.value(str([...expected].sort().join(",")))})`
        : `attribute_not_exists(${e.name(Attr.labelNames)})`;
    }

    let condition: string | undefined;
    if (op.op === "create") condition = absent(e);
    else if (op.op === "compareAndSwap") condition = liveAt(e, op.prevVersion);

    return {
      TableName: this.tableName,
      Key: { [Attr.pk]: str(location.pk), [Attr.sk]: str(location.sk) },
      UpdateExpression: `SET ${set.join(", ")}${remove.length ? ` REMOVE ${remove.join(", ")}` : ""}`,
      ConditionExpression: condition ? `${condition} AND ${guard}` : guard,
      ...e.params(),
    };
  }

  private deleteParams(op: DeleteOp, location: ItemLocation, now: number): DeleteParams {
    const e = new Expression(now);
    const condition = op.op === "compareAndDelete" ? liveAt(e, op.prevVersion) : live(e);
    return {
      TableName: this.tableName,
      Key: { [Attr.pk]: str(location.pk), [Attr.sk]: str(location.sk) },
      ConditionExpression: condition,
      ...e.params(),
    };
  }

  /** Unlike etcd's global index, a fresh key must not reuse versions from its previous life. */
  private versionBase(now: number): number {
    return now * 1000 + Math.floor(Math.random() * 1000);
  }

  private checkSize(op: WriteOp, location: ItemLocation): void {
    const labels = op.options?.labels ?? {};
    const numberBytes = 21; // DynamoDB's upper bound for a Number
    let size =
      utf8Length(Attr.pk) + utf8Length(location.pk) +
      utf8Length(Attr.sk) + utf8Length(location.sk) +
      utf8Length(Attr.key) + utf8Length(op.key) +
      utf8Length(Attr.value) + op.value.byteLength +
      utf8Length(Attr.version) + numberBytes +
      utf8Length(Attr.writtenAtMs) + numberBytes;
    if ((op.options?.ttlSeconds ?? 0) > 0) {
      size +=
        utf8Length(Attr.expiresAtMs) + numberBytes +
        utf8Length(Attr.expiresAt) + numberBytes +
        utf8Length(Attr.ttlShard) + utf8Length(ttlPartition(location.shard, this.shards));
    }
    const names = Object.keys(labels);
    if (names.length > 0) size += utf8Length(Attr.labelNames) + utf8Length(names.join(","));
    for (const [name, value] of Object.entries(labels)) size += utf8Length(LabelAttrPrefix + name) + utf8Length(value);
    if (size > MaxItemBytes) throw new ValueTooLargeError(op.key, size, MaxItemBytes);
  }

  private learnLabels(item: Item | undefined): string[] {
    const names = labelNamesOf(item);
    for (const name of names) this.labelVocabulary.add(name);
    return names;
  }

  private toNode(item: Item): StoreNode {
    const node: StoreNode = {
      key: item[Attr.key]!.S!,
      value: fromBase64(item[Attr.value]?.B ?? ""),
      version: Number(item[Attr.version]!.N),
    };
    const expiresAtMs = expiresAtMsOf(item);
    if (expiresAtMs !== undefined) node.expiresAtMs = expiresAtMs;
    const names = this.learnLabels(item);
    if (names.length > 0) node.labels = labelsOf(item, names);
    return node;
  }

  private async getItem(location: ItemLocation): Promise<Item | undefined> {
    const { Item } = await this.client.call("GetItem", {
      TableName: this.tableName,
      Key: { [Attr.pk]: str(location.pk), [Attr.sk]: str(location.sk) },
      ConsistentRead: true,
    });
    return Item;
  }

  /** Every shard of a root, in parallel; strongly consistent. */
  private async queryRoot(root: string): Promise<Item[]> {
    const perShard = await Promise.all(
      Array.from({ length: this.shards }, (_, shard) =>
        this.queryAll({
          TableName: this.tableName,
          ConsistentRead: true,
          KeyConditionExpression: "#pk = :pk",
          ExpressionAttributeNames: { "#pk": Attr.pk },
          ExpressionAttributeValues: { ":pk": str(rootPartition(root, shard, this.shards)) },
        }),
      ),
    );
    return perShard.flat();
  }

  private async forEachPage(input: QueryInput, onPage: (items: Item[]) => Promise<void>): Promise<void> {
    let start: Item | undefined;
    do {
      const page = await this.client.call("Query", start ? { ...input, ExclusiveStartKey: start } : input);
      await onPage(page.Items ?? []);
      start = page.LastEvaluatedKey;
    } while (start);
  }

  private async queryAll(input: QueryInput): Promise<Item[]> {
    const items: Item[] = [];
    let start: Item | undefined;
    do {
      const page = await this.client.call("Query", start ? { ...input, ExclusiveStartKey: start } : input);
      if (page.Items) items.push(...page.Items);
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }
}

function ttlMillis(key: string, ttlSeconds: number | undefined): number {
  if (ttlSeconds === undefined || ttlSeconds === 0) return 0;
  if (!Number.isFinite(ttlSeconds) || ttlSeconds < 0) throw new RangeError(`invalid ttlSeconds ${ttlSeconds} for ${key}`);
  return Math.round(ttlSeconds * 1000);
}

function validLabels(key: string, labels: Labels | undefined): Labels {
  if (!labels) return {};
  for (const name of Object.keys(labels)) {
    if (!LabelNamePattern.test(name)) throw new RangeError(`invalid label name ${JSON.stringify(name)} for ${key}`);
  }
  return labels;
}
