// Counts the DynamoDB calls a piece of code makes, by wrapping `call` of one client instance. The
// call-count tests and `npm run bench` share it, so the counts the bench prints are the ones the tests
// assert.
//
// Every call is tallied twice: in the client's running total, and in the tally of the `track()` scope
// it was made from (AsyncLocalStorage), so concurrent operations are still counted one by one.
import { AsyncLocalStorage } from "node:async_hooks";
import type { DynamoDBHttpClient, Operation } from "../../core/store/dynamo-client";

/** A call's name: the operation, plus what makes it cost more or less. */
export interface CallKind {
  /** `GetItem`, `Query`, `UpdateItem`, `DeleteItem`, `TransactWriteItems`, `BatchWriteItem`, … */
  command: string;
  /** Reads: ConsistentRead was set. */
  consistent: boolean;
  /** Writes: a ConditionExpression was sent (on the item, or on any action of a transaction). */
  conditional: boolean;
  /** Items a batch or transaction touched (1 for single-item calls). */
  items: number;
  /** The call ended in ConditionalCheckFailed / TransactionCanceled. */
  conditionFailed: boolean;
}

export class CallTally {
  readonly calls: CallKind[] = [];

  add(call: CallKind): void {
    this.calls.push(call);
  }

  /** Calls of one command, optionally only those matching `where`. */
  count(command: string, where: Partial<Omit<CallKind, "command">> = {}): number {
    return this.calls.filter(
      (c) => c.command === command && Object.entries(where).every(([k, v]) => c[k as keyof CallKind] === v),
    ).length;
  }

  get total(): number {
    return this.calls.length;
  }

  get reads(): number {
    return this.calls.filter((c) => ReadCommands.has(c.command)).length;
  }

  get writes(): number {
    return this.calls.filter((c) => WriteCommands.has(c.command)).length;
  }

  /** e.g. `{ "GetItem(consistent)": 1, "UpdateItem(conditional)": 1 }`: what a test compares with toEqual. */
  summary(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const c of this.calls) {
      const flags = [
        ReadCommands.has(c.command) ? (c.consistent ? "consistent" : "eventual") : undefined,
        WriteCommands.has(c.command) && c.conditional ? "conditional" : undefined,
        c.conditionFailed ? "failed" : undefined,
      ].filter(Boolean);
      const name = flags.length > 0 ? `${c.command}(${flags.join(",")})` : c.command;
      out[name] = (out[name] ?? 0) + 1;
    }
    return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
  }

  clear(): void {
    this.calls.length = 0;
  }
}

export const ReadCommands = new Set(["GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"]);
export const WriteCommands = new Set(["PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"]);

export interface CountingClient {
  client: DynamoDBHttpClient;
  /** Every call since the wrapper was installed (or the last `total.clear()`). */
  total: CallTally;
  /** Runs `fn` and returns its result with the calls made from inside it (and from nothing else). */
  track<T>(fn: () => Promise<T>): Promise<{ result: T; calls: CallTally }>;
  /** Puts the original `call` back. */
  restore(): void;
}

function describeCall(name: string, input: Record<string, unknown>): Omit<CallKind, "conditionFailed"> {
  let conditional = typeof input.ConditionExpression === "string";
  let consistent = input.ConsistentRead === true;
  let items = 1;
  if (name === "TransactWriteItems") {
    const actions = (input.TransactItems as Record<string, { ConditionExpression?: string }>[] | undefined) ?? [];
    items = actions.length;
    conditional = actions.some((a) => Object.values(a).some((op) => typeof op?.ConditionExpression === "string"));
  } else if (name === "BatchWriteItem" || name === "BatchGetItem") {
    const requests = (input.RequestItems as Record<string, unknown[] | { Keys?: unknown[] }> | undefined) ?? {};
    items = Object.values(requests).reduce<number>((n, r) => n + (Array.isArray(r) ? r.length : (r.Keys?.length ?? 0)), 0);
    // A batch read sets ConsistentRead per table.
    if (name === "BatchGetItem") consistent = Object.values(requests).every((r) => !Array.isArray(r) && (r as { ConsistentRead?: boolean }).ConsistentRead === true);
  }
  return { command: name, consistent, conditional, items };
}

const scope = new AsyncLocalStorage<CallTally>();

/** Wraps `client.call` in place: everything that holds this client (a DynamoStore, say) is counted. */
export function countCalls(client: DynamoDBHttpClient): CountingClient {
  const total = new CallTally();
  const original = client.call;
  const call = async function (this: DynamoDBHttpClient, operation: Operation, input: object) {
    const kind = describeCall(operation, input as Record<string, unknown>);
    const record = (conditionFailed: boolean) => {
      const call = { ...kind, conditionFailed };
      total.add(call);
      scope.getStore()?.add(call);
    };
    try {
      const out = await (original as (...args: unknown[]) => Promise<unknown>).call(this, operation, input);
      record(false);
      return out;
    } catch (error) {
      const name = (error as { name?: string }).name;
      record(name === "ConditionalCheckFailedException" || name === "TransactionCanceledException");
      throw error;
    }
  };
  (client as { call: unknown }).call = call;
  return {
    client,
    total,
    async track(fn) {
      const calls = new CallTally();
      const result = await scope.run(calls, fn);
      return { result, calls };
    },
    restore() {
      (client as { call: unknown }).call = original;
    },
  };
}
