// The store table (the etcd stand-in). Its layout comes from core/store/dynamo-table.ts, the one
// definition the local stack and the tests create too, so the deployed table cannot drift from it.
import { ExpiryIndex, StoreTableSstArgs } from "../core/store/dynamo-table";
import { TableActions, type FunctionAccess } from "./api-routes";

const production = $app.stage === "production";

export const table = new sst.aws.Dynamo("StoreTable", {
  fields: StoreTableSstArgs.fields,
  primaryIndex: StoreTableSstArgs.primaryIndex,
  globalIndexes: {
    [ExpiryIndex.name]: {
      hashKey: ExpiryIndex.hashKey,
      rangeKey: ExpiryIndex.rangeKey,
      projection: [...ExpiryIndex.nonKeyAttributes],
    },
  },
  stream: StoreTableSstArgs.stream, // NEW_AND_OLD_IMAGES
  ttl: StoreTableSstArgs.ttl, // expiresAt, epoch seconds
  deletionProtection: production,
  transform: {
    table: (args) => {
      // SST turns it on already; said here so that nobody turns it off by accident.
      args.pointInTimeRecovery = { enabled: true };
    },
  },
});

/**
 * What the functions link to learn the table's name. Linking the Dynamo component itself would also
 * grant `dynamodb:*` on it, so the name travels in this permission-free link instead, and each
 * function gets exactly the actions of its access level (tablePermissions below).
 *
 * On Lambda, SST hands link properties to the `sst` SDK in an encrypted file (resource.enc), not as
 * SST_RESOURCE_* variables, and our functions do not use that SDK: the `env` include sets
 * SST_RESOURCE_Store, which functions/_shared/config.ts reads, on every function that links it.
 */
export const store = new sst.Linkable("Store", {
  properties: { name: table.name },
  include: [sst.env({ SST_RESOURCE_Store: $jsonStringify({ name: table.name, type: "sst.aws.Dynamo" }) })],
});

/** The IAM statements for a function of this access level; `expiryIndex` adds Query on the sweep's index. */
export function tablePermissions(access: FunctionAccess, options: { expiryIndex?: boolean } = {}): sst.aws.FunctionPermissionArgs[] {
  const actions = [...TableActions[access]];
  if (actions.length === 0) return [];
  const statements: sst.aws.FunctionPermissionArgs[] = [{ actions, resources: [table.arn] }];
  if (options.expiryIndex) {
    statements.push({ actions: ["dynamodb:Query"], resources: [$interpolate`${table.arn}/index/${ExpiryIndex.name}`] });
  }
  return statements;
}
