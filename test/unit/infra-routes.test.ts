// The deployed HTTP API is generated from the route table (infra/api-routes.ts): every BBS route must
// get its own function and API route, with exactly the table access the route table declares.
import { describe, expect, it } from "vitest";
import { routes } from "../../core/routes";
import {
  DefaultRouteKey,
  FallbackHandler,
  TableActions,
  allFunctions,
  apiFunctions,
  fallbackFunction,
  handlerSource,
  routeKeys,
  streamingFunctions,
} from "../../infra/api-routes";

const httpRoutes = routes.filter((r) => !r.streaming);
const streamingRoutes = routes.filter((r) => r.streaming);

describe("route table → HTTP API", () => {
  const functions = apiFunctions(routes);

  it("gives every non-streaming route exactly one function, serving that route's handler", () => {
    expect(functions).toHaveLength(httpRoutes.length);
    for (const route of httpRoutes) {
      const serving = functions.filter((fn) => fn.routeName === route.name);
      expect(serving, route.name).toHaveLength(1);
      expect(serving[0]!.handler).toBe(route.handler);
      expect(serving[0]!.access).toBe(route.access);
    }
  });

  it("maps each route to its method and path, and GET routes to HEAD as well", () => {
    for (const route of httpRoutes) {
      const fn = functions.find((f) => f.routeName === route.name)!;
      const expected = route.method === "GET" ? [`GET ${route.path}`, `HEAD ${route.path}`] : [`${route.method} ${route.path}`];
      expect(fn.routeKeys, route.name).toEqual(expected);
    }
    expect(routeKeys({ method: "GET", path: "/v1/tasks/get_by_task_guid" })).toContain("HEAD /v1/tasks/get_by_task_guid");
  });

  it("never puts a streaming route behind the HTTP API", () => {
    expect(streamingRoutes.length).toBeGreaterThan(0);
    const apiKeys = new Set(functions.flatMap((fn) => fn.routeKeys));
    for (const route of streamingRoutes) {
      expect(apiKeys.has(`${route.method} ${route.path}`), route.name).toBe(false);
      const streaming = streamingFunctions(routes).filter((fn) => fn.routeName === route.name);
      expect(streaming, route.name).toHaveLength(1);
      expect(streaming[0]!.handler).toBe(route.handler);
      expect(streaming[0]!.kind).toBe("events");
    }
  });

  it("sends everything else to the fallback through $default", () => {
    expect(fallbackFunction.routeKeys).toEqual([DefaultRouteKey]);
    expect(fallbackFunction.handler).toBe(FallbackHandler);
    expect(TableActions[fallbackFunction.access]).toEqual([]);
  });

  it("uses each API route key and each function id once", () => {
    const all = allFunctions(routes);
    const keys = all.flatMap((fn) => fn.routeKeys);
    expect(new Set(keys).size).toBe(keys.length);
    const ids = all.map((fn) => fn.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[A-Z][A-Za-z0-9]*$/);
  });

  it("points every handler at a `functions/**.ts` module export", () => {
    for (const fn of allFunctions(routes)) {
      const { file, exportName } = handlerSource(fn.handler);
      expect(file, fn.id).toMatch(/^functions\/[a-z0-9/_-]+\.ts$/);
      expect(exportName, fn.id).toBe("handler");
    }
  });
});

describe("table permissions", () => {
  it("lets read routes read, and only read", () => {
    expect([...TableActions.read].sort()).toEqual(["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:Query"]);
  });

  it("lets write routes read and write items, and nothing beyond items", () => {
    expect([...TableActions.write].sort()).toEqual([
      "dynamodb:BatchGetItem",
      "dynamodb:ConditionCheckItem",
      "dynamodb:DeleteItem",
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:Query",
      "dynamodb:TransactWriteItems",
      "dynamodb:UpdateItem",
    ]);
    for (const action of Object.values(TableActions).flat()) expect(action).not.toMatch(/\*|Scan|Table|Stream|Backup/);
  });
});
