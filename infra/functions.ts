// The one place that turns a BbsFunction (infra/api-routes.ts) into SST function arguments: runtime,
// architecture, memory, bundling, links and the table permissions of its access level.
import type { BbsFunction } from "./api-routes";
import { Bundle } from "./bundle-options";
import { settings } from "./settings";
import { store, tablePermissions } from "./table";

/**
 * arm64 is 20% cheaper per GB-s than x86_64, and the bundles are plain JavaScript. 1024 MB buys a
 * bigger CPU share for the cold start and for protobuf work; at ~25 ms per request that is about
 * $0.33 per million requests (see infra/DEPLOYING.md). Events and Convergence override it.
 */
export const defaults = {
  runtime: Bundle.runtime,
  architecture: "arm64",
  memory: "1024 MB",
  // The same options `npm run build` measures.
  nodejs: {
    format: Bundle.format,
    minify: Bundle.minify,
    splitting: Bundle.splitting,
    esbuild: { keepNames: Bundle.keepNames, external: [...Bundle.external] },
  },
} satisfies Partial<sst.aws.FunctionArgs>;

/** `extra.permissions` come on top of the table's (the stream consumer's failure queue, say). */
export function functionArgs(
  fn: BbsFunction,
  extra: Omit<Partial<sst.aws.FunctionArgs>, "permissions"> & { permissions?: sst.aws.FunctionPermissionArgs[] } = {},
): sst.aws.FunctionArgs {
  const { permissions: extraPermissions = [], ...rest } = extra;
  return {
    ...defaults,
    handler: fn.handler,
    description: fn.routeName ? `BBS ${fn.routeName}` : `BBS ${fn.id}`,
    // The fallback touches neither the table nor the collaborators; everything else links both.
    link: fn.access === "none" ? [] : [store, settings],
    // Only the scheduled function sweeps expired nodes, the one reader of the expiry index.
    permissions: [...tablePermissions(fn.access, { expiryIndex: fn.kind === "schedule" }), ...extraPermissions],
    ...rest,
  };
}
