// The route table → AWS mapping: which function serves which HTTP API route, and which table actions
// it may use. Pure data derived from core/routes.ts, free of SST globals, so that sst.config.ts, the
// bundle script (infra/build.ts) and the route-coverage test all read the same answer.
import type { RouteSpec, TableAccess } from "../core/routes";

/** A route's table access, or none at all (the fallback never touches the table). */
export type FunctionAccess = TableAccess | "none";

/** The table actions each access level grants; nothing else on the table is ever allowed. */
export const TableActions: Readonly<Record<FunctionAccess, readonly string[]>> = {
  none: [],
  read: ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem"],
  write: [
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:BatchGetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:TransactWriteItems",
    "dynamodb:ConditionCheckItem",
  ],
};

/** The catch-all of the HTTP API: 404 for unknown paths, 405 + Allow for a known path and another method. */
export const DefaultRouteKey = "$default";
export const FallbackHandler = "functions/fallback.handler";
/** The single consumer of the table's stream. */
export const StoreChangesHandler = "functions/streams/store-changes.handler";
/** Run every minute by the schedule: convergence passes plus the store's expiry sweep. */
export const ConvergenceHandler = "functions/convergence/scheduled.handler";

export type FunctionKind = "http" | "fallback" | "events" | "stream" | "schedule";

export interface BbsFunction {
  /** Logical name of the function in the stack (unique, stable: renaming it replaces the function). */
  id: string;
  kind: FunctionKind;
  /** `functions/x/y.handler`, as SST and the local runner take it. */
  handler: string;
  access: FunctionAccess;
  /** The route table entry it serves, if any. */
  routeName?: string;
  /** HTTP API route keys (`POST /v1/tasks/list`, `$default`); empty for functions outside the HTTP API. */
  routeKeys: string[];
}

/** `functions/tasks/list.handler` → `{ file: "functions/tasks/list.ts", exportName: "handler" }`. */
export function handlerSource(handler: string): { file: string; exportName: string } {
  const dot = handler.lastIndexOf(".");
  if (dot <= 0 || dot === handler.length - 1) throw new Error(`not a "file.export" handler: ${handler}`);
  return { file: `${handler.slice(0, dot)}.ts`, exportName: handler.slice(dot + 1) };
}

/** One API route key per method; a GET route also answers HEAD, as the original router did. */
export function routeKeys(route: Pick<RouteSpec, "method" | "path">): string[] {
  const keys = [`${route.method} ${route.path}`];
  if (route.method === "GET") keys.push(`HEAD ${route.path}`);
  return keys;
}

/** `UpsertDomain` → `RouteUpsertDomain`: a name that cannot collide with the table, queue or cron. */
export function routeFunctionId(routeName: string): string {
  return `Route${routeName}`;
}

/** One function per route-table entry served through the HTTP API (streaming entries excluded). */
export function apiFunctions(routes: readonly RouteSpec[]): BbsFunction[] {
  return routes
    .filter((route) => !route.streaming)
    .map((route) => ({
      id: routeFunctionId(route.name),
      kind: "http" as const,
      handler: route.handler,
      access: route.access,
      routeName: route.name,
      routeKeys: routeKeys(route),
    }));
}

/** The streaming entries (GET /v1/events): served by a function URL, not by the HTTP API. */
export function streamingFunctions(routes: readonly RouteSpec[]): BbsFunction[] {
  return routes
    .filter((route) => route.streaming)
    .map((route) => ({
      id: route.name === "EventStream" ? "Events" : routeFunctionId(route.name),
      kind: "events" as const,
      handler: route.handler,
      access: route.access,
      routeName: route.name,
      routeKeys: [],
    }));
}

export const fallbackFunction: BbsFunction = {
  id: "RouteFallback",
  kind: "fallback",
  handler: FallbackHandler,
  access: "none",
  routeKeys: [DefaultRouteKey],
};

export const storeChangesFunction: BbsFunction = {
  id: "StoreChanges",
  kind: "stream",
  handler: StoreChangesHandler,
  access: "write",
  routeKeys: [],
};

export const convergenceFunction: BbsFunction = {
  id: "Convergence",
  kind: "schedule",
  handler: ConvergenceHandler,
  access: "write",
  routeKeys: [],
};

/** Every function the stack deploys: what `npm run build` bundles. */
export function allFunctions(routes: readonly RouteSpec[]): BbsFunction[] {
  return [...apiFunctions(routes), fallbackFunction, ...streamingFunctions(routes), storeChangesFunction, convergenceFunction];
}
