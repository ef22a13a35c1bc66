// The BBS event log: where events wait for their subscribers (design in EVENTS.md).
//
// Why a log at all: a DynamoDB stream shard tolerates two readers, so SSE connections cannot each
// read the stream. The stream consumer appends every event here and each connection long-polls it.
//
// Why dense ids handed out by a head counter rather than stream sequence numbers: on AWS the stream
// has several shards, consumed concurrently, so events do not become visible in sequence-number
// order; a reader resuming "after id X" would either skip a late lower id or deliver duplicates.
// Here an id is assigned in the same transaction that writes the entry and moves the head, so ids
// become visible in id order: "everything after X" is exactly the entries X+1 … head. The head is one
// item every appender CASes, once per batch of up to 49 events, not once per event.
//
// Why a dedupe marker per store change: the stream delivers at least once. The marker is created in
// the same transaction as the entry, named after the change itself (key + version), so a redelivered
// change finds its marker and appends nothing, however much later it comes back.
//
// Everything goes through the Store port; entries and markers carry a store TTL, so reads stop
// seeing them after the retention and the store's sweeper deletes them.
import { createHash } from "node:crypto";
import type { Logger } from "../logger";
import { CompareFailedError, KeyExistsError, KeyNotFoundError } from "../store/errors";
import { EventDedupeRoot, eventDedupeKey, eventLogBucketDir, eventLogEntryKey, eventLogHeadKey } from "../store/keys";
import type { Store, StoreChange, StoreNode, StoreOp } from "../store/store";
import { isBBSEventType, type BBSEventType } from "./bbs-events";

export const EventLogDefaults = {
  /** Entries are kept at least this long (the TTL adds a margin for clock skew)… */
  retentionMs: 24 * 60 * 60 * 1000,
  /** …but a resume is honoured only this many events back ("whichever is smaller"). */
  retainedEvents: 100_000,
  /** Consecutive ids per bucket; a bucket is one partition and one Query. */
  bucketSize: 100,
} as const;

const EntryTtlMarginSeconds = 5 * 60;
/** The stream keeps records 24 h, so a redelivery cannot come later than this. */
const DedupeTtlSeconds = 25 * 60 * 60;
/** TransactWriteItems takes 100 actions: the head, then a marker and an entry per event. */
const MaxEventsPerTransaction = 49;
/** And 4 MB in all. */
const MaxBytesPerTransaction = 3_500_000;
/** Below DynamoDB's 400 KB item limit with room for the key and attributes. */
export const MaxEntryPayloadBytes = 380_000;
const MaxAppendAttempts = 25;
/** Up to this many ids are fetched one by one; more are read a bucket at a time. */
const DirectReadLimit = 8;

export type LogEntry =
  | { id: number; kind: "event"; type: BBSEventType; payload: Uint8Array }
  /** The event at this id could not be kept (too large); whoever reads it must list again. */
  | { id: number; kind: "relist"; reason: string };

/** One event to append, with the identity of the store change that made it. */
export interface LogItem {
  /** Stable across redeliveries of the same change (see dedupeIdOf). */
  dedupeId: string;
  type: BBSEventType;
  payload: Uint8Array;
  /** For logging only. */
  key: string;
}

/** Appending stopped after the first `appended` items (those are durable); the rest were not written. */
export class EventLogAppendError extends Error {
  override name = "EventLogAppendError";
  constructor(readonly appended: number, cause: unknown) {
    super(`event log append failed after ${appended} events`, { cause });
  }
}

/**
 * The identity of a store change, the same however often the stream delivers it: the key and the
 * version it wrote (or, for a removal, the version it removed). Versions never repeat on a key.
 */
export function dedupeIdOf(change: StoreChange): string {
  const what = change.after ? `w${change.after.version}` : `d${change.before?.version ?? ""}`;
  return createHash("sha256").update(`${change.key}\n${what}`).digest("base64url").slice(0, 32);
}

const EntryKind = { event: 1, relist: 2 } as const;
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** [kind][name length][name][payload]: the event's protobuf bytes, ready for the SSE data line. */
export function encodeEntry(entry: { kind: "event"; type: BBSEventType; payload: Uint8Array } | { kind: "relist"; reason: string }): Uint8Array {
  const name = utf8.encode(entry.kind === "event" ? entry.type : entry.reason);
  const body = entry.kind === "event" ? entry.payload : new Uint8Array(0);
  const out = new Uint8Array(2 + name.length + body.length);
  out[0] = EntryKind[entry.kind];
  out[1] = Math.min(name.length, 255);
  out.set(name.subarray(0, 255), 2);
  out.set(body, 2 + Math.min(name.length, 255));
  return out;
}

export function decodeEntry(id: number, bytes: Uint8Array): LogEntry | undefined {
  const kind = bytes[0];
  const nameLength = bytes[1];
  if (nameLength === undefined || bytes.length < 2 + nameLength) return undefined;
  const name = fromUtf8.decode(bytes.subarray(2, 2 + nameLength));
  if (kind === EntryKind.event && isBBSEventType(name)) return { id, kind: "event", type: name, payload: bytes.subarray(2 + nameLength) };
  if (kind === EntryKind.relist) return { id, kind: "relist", reason: name };
  return undefined;
}

interface Head {
  version: number;
  last: number;
}

function parseHead(node: StoreNode): Head {
  const last = Number(fromUtf8.decode(node.value));
  if (!Number.isSafeInteger(last) || last < 0) throw new Error(`event log head holds ${JSON.stringify(fromUtf8.decode(node.value))}`);
  return { version: node.version, last };
}

const encodeHead = (last: number) => utf8.encode(String(last));

/** Lost a race on the head with another appender's transaction (not a condition: nothing to learn). */
function isContention(error: unknown): boolean {
  return error instanceof Error && (error.name === "TransactionCanceledException" || error.name === "TransactionConflictException");
}

function idOfEntryKey(key: string): number {
  return Number(key.slice(key.lastIndexOf("/") + 1));
}

/**
 * What every EventLog over the same store in this process shares, so that many subscribers cost
 * about as much as one: head reads are coalesced, entries (immutable once written) are cached, and
 * an append made in this process (the local stack's consumer) wakes waiting subscribers at once.
 */
interface SharedState {
  head?: { last: number; atMs: number };
  headRead?: Promise<number>;
  entries: Map<number, LogEntry>;
  entryBytes: number;
  appendListeners: Set<() => void>;
}

const sharedStates = new WeakMap<Store, SharedState>();
const MaxCachedEntries = 50_000;
const MaxCachedEntryBytes = 64 * 1024 * 1024;

function sharedState(store: Store): SharedState {
  let state = sharedStates.get(store);
  if (!state) sharedStates.set(store, (state = { entries: new Map(), entryBytes: 0, appendListeners: new Set() }));
  return state;
}

function cacheEntry(state: SharedState, entry: LogEntry): void {
  if (state.entries.has(entry.id)) return;
  state.entries.set(entry.id, entry);
  state.entryBytes += entry.kind === "event" ? entry.payload.length + 64 : 64;
  for (const [id, old] of state.entries) {
    if (state.entries.size <= MaxCachedEntries && state.entryBytes <= MaxCachedEntryBytes) break;
    state.entries.delete(id);
    state.entryBytes -= old.kind === "event" ? old.payload.length + 64 : 64;
  }
}

export interface EventLogOptions {
  logger?: Logger;
  retentionMs?: number;
  retainedEvents?: number;
  bucketSize?: number;
}

export class EventLog {
  private readonly store: Store;
  private readonly logger?: Logger;
  readonly retentionMs: number;
  readonly retainedEvents: number;
  private readonly bucketSize: number;

  constructor(store: Store, options: EventLogOptions = {}) {
    this.store = store;
    this.logger = options.logger;
    this.retentionMs = options.retentionMs ?? EventLogDefaults.retentionMs;
    this.retainedEvents = options.retainedEvents ?? EventLogDefaults.retainedEvents;
    this.bucketSize = options.bucketSize ?? EventLogDefaults.bucketSize;
  }

  entryKey(id: number): string {
    return eventLogEntryKey(Math.floor(id / this.bucketSize), id);
  }

  /**
   * The last id handed out; 0 for an empty log. A read made (or begun) by another caller in this
   * process within `maxAgeMs` is shared rather than repeated.
   */
  async head(maxAgeMs = 0): Promise<number> {
    const state = sharedState(this.store);
    if (state.head && Date.now() - state.head.atMs <= maxAgeMs) return state.head.last;
    if (state.headRead) return state.headRead;
    const startedAtMs = Date.now();
    const read = this.readHead().then((head) => {
      const last = head?.last ?? 0;
      if (!state.head || state.head.last <= last) state.head = { last, atMs: startedAtMs };
      return last;
    });
    state.headRead = read;
    try {
      return await read;
    } finally {
      if (state.headRead === read) state.headRead = undefined;
    }
  }

  /** Calls `listener` after each append this process makes to the log; returns the unsubscribe. */
  onAppend(listener: () => void): () => void {
    const listeners = sharedState(this.store).appendListeners;
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  private async readHead(): Promise<Head | undefined> {
    try {
      return parseHead(await this.store.get(eventLogHeadKey));
    } catch (error) {
      if (error instanceof KeyNotFoundError) return undefined;
      throw error;
    }
  }

  /**
   * Appends the items in order, each exactly once however often it is offered. Throws
   * EventLogAppendError telling how many items are durable when a write fails.
   */
  async append(items: readonly LogItem[]): Promise<void> {
    let done = 0;
    while (done < items.length) {
      const chunk: LogItem[] = [];
      let bytes = 0;
      for (let i = done; i < items.length && chunk.length < MaxEventsPerTransaction; i++) {
        const size = items[i]!.payload.length + 512;
        if (chunk.length > 0 && bytes + size > MaxBytesPerTransaction) break;
        chunk.push(items[i]!);
        bytes += size;
      }
      try {
        await this.appendChunk(chunk);
      } catch (error) {
        throw new EventLogAppendError(done, error);
      }
      done += chunk.length;
    }
  }

  private async appendChunk(chunk: readonly LogItem[]): Promise<void> {
    let pending = chunk.map((item) => this.fitted(item));
    let head = await this.readHead();
    let checkMarkers = false;
    let floor = 0;
    for (let attempt = 1; ; attempt++) {
      if (checkMarkers) {
        pending = await this.withoutLogged(pending);
        checkMarkers = false;
      }
      if (pending.length === 0) return;
      const first = Math.max(head?.last ?? 0, floor) + 1;
      const last = first + pending.length - 1;
      const ops: StoreOp[] = [
        head
          ? { op: "compareAndSwap", key: eventLogHeadKey, value: encodeHead(last), prevVersion: head.version }
          : { op: "create", key: eventLogHeadKey, value: encodeHead(last) },
      ];
      const entryTtl = Math.ceil(this.retentionMs / 1000) + EntryTtlMarginSeconds;
      pending.forEach((item, i) => {
        ops.push(
          { op: "create", key: eventDedupeKey(item.dedupeId), value: utf8.encode(String(first + i)), options: { ttlSeconds: DedupeTtlSeconds } },
          { op: "create", key: this.entryKey(first + i), value: item.value, options: { ttlSeconds: entryTtl } },
        );
      });
      try {
        await this.store.transact(ops);
        const state = sharedState(this.store);
        pending.forEach((item, i) => {
          const entry = decodeEntry(first + i, item.value);
          if (entry) cacheEntry(state, entry);
        });
        if (!state.head || state.head.last < last) state.head = { last, atMs: Date.now() };
        for (const listener of state.appendListeners) listener();
        return;
      } catch (error) {
        if (attempt >= MaxAppendAttempts) throw error;
        if ((error instanceof CompareFailedError || error instanceof KeyExistsError) && error.key === eventLogHeadKey) {
          head = parseHead(error.current); // another appender moved the head: take the next ids
        } else if (error instanceof KeyNotFoundError && error.key === eventLogHeadKey) {
          head = undefined;
        } else if (error instanceof KeyExistsError && error.key.startsWith(`${EventDedupeRoot}/`)) {
          checkMarkers = true; // a redelivery: drop what is already logged
          continue;
        } else if (isContention(error)) {
          head = await this.readHead(); // a concurrent transaction held the head: look again
        } else if (error instanceof KeyExistsError) {
          // An entry already holds an id the head calls free: the head was lost or rewound. Skip past it
          // (readers of the skipped ids get a relist after their gap timeout).
          this.logger?.error("event-log-head-behind-entries", error, { head: head?.last, entry: error.key });
          floor = Math.max(floor, idOfEntryKey(error.key));
        } else {
          throw error;
        }
        await new Promise((r) => setTimeout(r, Math.random() * 5 * Math.min(attempt, 10)));
      }
    }
  }

  /** The entry value; an event too large for one item becomes a relist entry, so the log never blocks. */
  private fitted(item: LogItem): LogItem & { value: Uint8Array } {
    if (item.payload.length <= MaxEntryPayloadBytes) return { ...item, value: encodeEntry({ kind: "event", type: item.type, payload: item.payload }) };
    this.logger?.error("event-too-large-for-log", undefined, { key: item.key, type: item.type, bytes: item.payload.length });
    return { ...item, value: encodeEntry({ kind: "relist", reason: `${item.type} of ${item.key} was too large to keep` }) };
  }

  private async withoutLogged<T extends LogItem>(items: readonly T[]): Promise<T[]> {
    const logged = await Promise.all(
      items.map(async (item) => {
        try {
          await this.store.get(eventDedupeKey(item.dedupeId));
          return true;
        } catch (error) {
          if (error instanceof KeyNotFoundError) return false;
          throw error;
        }
      }),
    );
    return items.filter((_, i) => !logged[i]);
  }

  /** The entries with afterId < id <= upToId that can be read now (strongly consistent), by id. */
  async read(afterId: number, upToId: number): Promise<Map<number, LogEntry>> {
    const found = new Map<number, LogEntry>();
    const state = sharedState(this.store);
    // Entries never change once written: whatever this process has seen is served from memory.
    while (afterId < upToId) {
      const cached = state.entries.get(afterId + 1);
      if (!cached) break;
      found.set(cached.id, cached);
      afterId++;
    }
    if (upToId <= afterId) return found;
    const add = (node: StoreNode) => {
      const id = idOfEntryKey(node.key);
      if (!(id > afterId && id <= upToId)) return;
      const entry = decodeEntry(id, node.value);
      if (entry) {
        found.set(id, entry);
        cacheEntry(state, entry);
      } else this.logger?.error("undecodable-event-log-entry", undefined, { key: node.key });
    };
    if (upToId - afterId <= DirectReadLimit) {
      const nodes = await Promise.all(
        Array.from({ length: upToId - afterId }, (_, i) =>
          this.store.get(this.entryKey(afterId + 1 + i)).catch((error: unknown) => {
            if (error instanceof KeyNotFoundError) return undefined;
            throw error;
          }),
        ),
      );
      for (const node of nodes) if (node) add(node);
      return found;
    }
    const firstBucket = Math.floor((afterId + 1) / this.bucketSize);
    const lastBucket = Math.floor(upToId / this.bucketSize);
    const buckets = Array.from({ length: lastBucket - firstBucket + 1 }, (_, i) => firstBucket + i);
    for (let i = 0; i < buckets.length; i += 4) {
      const lists = await Promise.all(buckets.slice(i, i + 4).map((b) => this.store.list(eventLogBucketDir(b))));
      for (const node of lists.flat()) add(node);
    }
    return found;
  }

  /**
   * Whether a subscriber whose last event was `id` can resume: the id was handed out, is among the
   * last `retainedEvents`, and its entry has not expired (then nothing after it has either).
   * Id 0 means "before the first event".
   */
  async isRetained(id: number, head: number): Promise<boolean> {
    if (!Number.isSafeInteger(id) || id < 0 || id > head) return false;
    if (head - id > this.retainedEvents) return false;
    if (id === head) return true;
    try {
      await this.store.get(this.entryKey(Math.max(id, 1)));
      return true;
    } catch (error) {
      if (error instanceof KeyNotFoundError) return false;
      throw error;
    }
  }
}
