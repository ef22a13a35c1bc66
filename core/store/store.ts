// The store port: etcd v2 as the BBS used it (keys, opaque values, per-key versions, TTL), and
// nothing about LRPs or tasks. `version` plays etcd's modifiedIndex: callers only ever compare it for
// equality on the same key, so a per-key counter keeps CAS semantics without a global counter.

export type Labels = Readonly<Record<string, string>>;

export interface StoreNode {
  key: string;
  value: Uint8Array;
  version: number;
  /** Unix milliseconds after which the node no longer exists; absent = no TTL. */
  expiresAtMs?: number;
  /** Small plain attributes kept beside the value (domain, cell id) so stream filters can see them. */
  labels?: Labels;
}

/** A node without its value: what a reader needs whose labels tell it enough. */
export interface LabelledNode {
  key: string;
  version: number;
  expiresAtMs?: number;
  /** Only the labels asked for, and only those the node has. */
  labels: Labels;
}

export interface WriteOptions {
  /** etcd TTL in seconds; 0 or absent = never expires (and clears any previous TTL). */
  ttlSeconds?: number;
  labels?: Labels;
}

export interface ListOptions {
  /** etcd's recursive GET: every node below the prefix; otherwise only direct children. */
  recursive?: boolean;
}

export interface ScanOptions {
  /**
   * Read only the key, value, version and expiry of each node, not its labels: less to transfer and
   * to build when the caller decodes the value anyway (convergence).
   */
  withoutLabels?: boolean;
}

export type StoreOp =
  | { op: "create"; key: string; value: Uint8Array; options?: WriteOptions }
  | { op: "set"; key: string; value: Uint8Array; options?: WriteOptions }
  | { op: "compareAndSwap"; key: string; value: Uint8Array; prevVersion: number; options?: WriteOptions }
  | { op: "compareAndDelete"; key: string; prevVersion: number }
  | { op: "delete"; key: string };

/** A change to one node, as a watcher sees it. `expired` is true when TTL (not a caller) removed it. */
export interface StoreChange {
  key: string;
  before?: StoreNode;
  after?: StoreNode;
  expired: boolean;
  /** Position of the change in the change stream, comparable as a bigint (decimal string). */
  sequence: string;
}

export interface Store {
  /** etcd GET. Throws KeyNotFoundError when absent or expired. */
  get(key: string): Promise<StoreNode>;
  /** etcd recursive GET of a directory; [] when nothing lives below the prefix. */
  list(prefix: string, options?: ListOptions): Promise<StoreNode[]>;
  /**
   * The same nodes as a recursive `list(prefix)`, handed to `visit` a page at a time as they are read
   * (strongly consistent; a root's shards are read in parallel), so a caller that keeps only what it
   * needs holds a few pages however large the directory is. Pages of different shards may be visited
   * in any order; the next page of a shard is read only once `visit` has returned for the previous one.
   */
  forEachNode(prefix: string, visit: (nodes: StoreNode[]) => void | Promise<void>, options?: ScanOptions): Promise<void>;
  /**
   * forEachNode reading only each node's key, version, expiry and the named labels, never its value:
   * for callers that trust labels written beside the value in the same write (convergence).
   */
  forEachLabelledNode(prefix: string, labelNames: readonly string[], visit: (nodes: LabelledNode[]) => void | Promise<void>): Promise<void>;
  /** Many etcd GETs in as few strongly consistent reads as the store allows; absent and expired keys are left out. */
  getMany(keys: readonly string[]): Promise<Map<string, StoreNode>>;
  /** etcd create (put-if-absent). Throws KeyExistsError carrying the current node. */
  create(key: string, value: Uint8Array, options?: WriteOptions): Promise<StoreNode>;
  /** etcd set: unconditional put. */
  set(key: string, value: Uint8Array, options?: WriteOptions): Promise<StoreNode>;
  /** etcd compareAndSwap on prevIndex. Throws KeyNotFoundError, or CompareFailedError with the current node. */
  compareAndSwap(key: string, value: Uint8Array, prevVersion: number, options?: WriteOptions): Promise<StoreNode>;
  /** etcd compareAndDelete on prevIndex. Throws KeyNotFoundError, or CompareFailedError with the current node. */
  compareAndDelete(key: string, prevVersion: number): Promise<void>;
  /** etcd delete. Throws KeyNotFoundError when absent or expired. */
  delete(key: string): Promise<void>;
  /** All-or-nothing write of several distinct keys; a failed condition throws that key's store error. */
  transact(ops: readonly StoreOp[]): Promise<void>;
  /** Deletes nodes whose TTL has passed, each with a condition so a node refreshed meanwhile survives. */
  sweepExpired(): Promise<number>;
}
