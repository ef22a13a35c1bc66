// The single list of BBS routes (the analogue of routes.go): the local server, the SST API and the
// route-coverage test are all driven by it. Paths, methods and messages are those of cloudfoundry/bbs
// 0344309c, plus the two cell presence routes that replace consul.
import type { DescMessage } from "@bufbuild/protobuf";
import * as A from "./gen/models/actual_lrp_requests_pb";
import * as C from "./gen/models/cell_presence_pb";
import * as D from "./gen/models/desired_lrp_requests_pb";
import * as Dom from "./gen/models/domain_pb";
import * as E from "./gen/models/evacuation_pb";
import * as L from "./gen/models/lrp_convergence_request_pb";
import * as T from "./gen/models/task_requests_pb";

/** What a route may do to the table: infra grants each function exactly this. */
export type TableAccess = "read" | "write";

export interface RouteSpec {
  /** The rata route name of the original. */
  name: string;
  method: "GET" | "POST";
  path: string;
  /** Undefined when the original never read the body (Domains, ConvergeLRPs, EventStream). */
  request?: DescMessage;
  /** Undefined for the event stream, which answers with server-sent events. */
  response?: DescMessage;
  /** The function module and export that serves the route, relative to the repository root. */
  handler: string;
  access: TableAccess;
  /** Server-sent events: served by a streaming function rather than through the HTTP API. */
  streaming?: boolean;
}

const route = (
  name: string,
  method: RouteSpec["method"],
  path: string,
  handlerFile: string,
  access: TableAccess,
  request: DescMessage | undefined,
  response: DescMessage | undefined,
): RouteSpec => ({ name, method, path, request, response, handler: `functions/${handlerFile}.handler`, access });

export const routes: readonly RouteSpec[] = [
  route("Domains", "POST", "/v1/domains/list", "domains/list", "read", undefined, Dom.DomainsResponseSchema),
  route("UpsertDomain", "POST", "/v1/domains/upsert", "domains/upsert", "write", Dom.UpsertDomainRequestSchema, Dom.UpsertDomainResponseSchema),

  route("ActualLRPGroups", "POST", "/v1/actual_lrp_groups/list", "actual-lrp-groups/list", "read", A.ActualLRPGroupsRequestSchema, A.ActualLRPGroupsResponseSchema),
  route("ActualLRPGroupsByProcessGuid", "POST", "/v1/actual_lrp_groups/list_by_process_guid", "actual-lrp-groups/list-by-process-guid", "read", A.ActualLRPGroupsByProcessGuidRequestSchema, A.ActualLRPGroupsResponseSchema),
  route("ActualLRPGroupsByProcessGuidAndIndex", "POST", "/v1/actual_lrp_groups/get_by_process_guid_and_index", "actual-lrp-groups/get-by-process-guid-and-index", "read", A.ActualLRPGroupByProcessGuidAndIndexRequestSchema, A.ActualLRPGroupResponseSchema),

  route("ClaimActualLRP", "POST", "/v1/actual_lrps/claim", "actual-lrps/claim", "write", A.ClaimActualLRPRequestSchema, A.ActualLRPLifecycleResponseSchema),
  route("StartActualLRP", "POST", "/v1/actual_lrps/start", "actual-lrps/start", "write", A.StartActualLRPRequestSchema, A.ActualLRPLifecycleResponseSchema),
  route("CrashActualLRP", "POST", "/v1/actual_lrps/crash", "actual-lrps/crash", "write", A.CrashActualLRPRequestSchema, A.ActualLRPLifecycleResponseSchema),
  route("FailActualLRP", "POST", "/v1/actual_lrps/fail", "actual-lrps/fail", "write", A.FailActualLRPRequestSchema, A.ActualLRPLifecycleResponseSchema),
  route("RemoveActualLRP", "POST", "/v1/actual_lrps/remove", "actual-lrps/remove", "write", A.RemoveActualLRPRequestSchema, A.ActualLRPLifecycleResponseSchema),
  route("RetireActualLRP", "POST", "/v1/actual_lrps/retire", "actual-lrps/retire", "write", A.RetireActualLRPRequestSchema, A.ActualLRPLifecycleResponseSchema),

  route("RemoveEvacuatingActualLRP", "POST", "/v1/actual_lrps/remove_evacuating", "evacuation/remove-evacuating", "write", E.RemoveEvacuatingActualLRPRequestSchema, E.RemoveEvacuatingActualLRPResponseSchema),
  route("EvacuateClaimedActualLRP", "POST", "/v1/actual_lrps/evacuate_claimed", "evacuation/evacuate-claimed", "write", E.EvacuateClaimedActualLRPRequestSchema, E.EvacuationResponseSchema),
  route("EvacuateCrashedActualLRP", "POST", "/v1/actual_lrps/evacuate_crashed", "evacuation/evacuate-crashed", "write", E.EvacuateCrashedActualLRPRequestSchema, E.EvacuationResponseSchema),
  route("EvacuateStoppedActualLRP", "POST", "/v1/actual_lrps/evacuate_stopped", "evacuation/evacuate-stopped", "write", E.EvacuateStoppedActualLRPRequestSchema, E.EvacuationResponseSchema),
  route("EvacuateRunningActualLRP", "POST", "/v1/actual_lrps/evacuate_running", "evacuation/evacuate-running", "write", E.EvacuateRunningActualLRPRequestSchema, E.EvacuationResponseSchema),

  route("DesiredLRPs", "POST", "/v1/desired_lrps/list", "desired-lrps/list", "read", D.DesiredLRPsRequestSchema, D.DesiredLRPsResponseSchema),
  route("DesiredLRPByProcessGuid", "POST", "/v1/desired_lrps/get_by_process_guid", "desired-lrps/get-by-process-guid", "read", D.DesiredLRPByProcessGuidRequestSchema, D.DesiredLRPResponseSchema),
  route("DesireDesiredLRP", "POST", "/v1/desired_lrp/desire", "desired-lrps/desire", "write", D.DesireLRPRequestSchema, D.DesiredLRPLifecycleResponseSchema),
  route("UpdateDesireLRP", "POST", "/v1/desired_lrp/update", "desired-lrps/update", "write", D.UpdateDesiredLRPRequestSchema, D.DesiredLRPLifecycleResponseSchema),
  route("RemoveDesiredLRP", "POST", "/v1/desired_lrp/remove", "desired-lrps/remove", "write", D.RemoveDesiredLRPRequestSchema, D.DesiredLRPLifecycleResponseSchema),

  route("ConvergeLRPs", "POST", "/v1/lrps/converge", "convergence/converge-lrps", "write", undefined, L.ConvergeLRPsResponseSchema),

  route("Tasks", "POST", "/v1/tasks/list", "tasks/list", "read", T.TasksRequestSchema, T.TasksResponseSchema),
  route("TaskByGuid", "GET", "/v1/tasks/get_by_task_guid", "tasks/get-by-task-guid", "read", T.TaskByGuidRequestSchema, T.TaskResponseSchema),
  route("DesireTask", "POST", "/v1/tasks/desire", "tasks/desire", "write", T.DesireTaskRequestSchema, T.TaskLifecycleResponseSchema),
  route("StartTask", "POST", "/v1/tasks/start", "tasks/start", "write", T.StartTaskRequestSchema, T.StartTaskResponseSchema),
  route("CancelTask", "POST", "/v1/tasks/cancel", "tasks/cancel", "write", T.TaskGuidRequestSchema, T.TaskLifecycleResponseSchema),
  route("FailTask", "POST", "/v1/tasks/fail", "tasks/fail", "write", T.FailTaskRequestSchema, T.TaskLifecycleResponseSchema),
  route("CompleteTask", "POST", "/v1/tasks/complete", "tasks/complete", "write", T.CompleteTaskRequestSchema, T.TaskLifecycleResponseSchema),
  route("ResolvingTask", "POST", "/v1/tasks/resolving", "tasks/resolving", "write", T.TaskGuidRequestSchema, T.TaskLifecycleResponseSchema),
  route("DeleteTask", "POST", "/v1/tasks/delete", "tasks/delete", "write", T.TaskGuidRequestSchema, T.TaskLifecycleResponseSchema),
  route("ConvergeTasks", "POST", "/v1/tasks/converge", "tasks/converge", "write", T.ConvergeTasksRequestSchema, T.ConvergeTasksResponseSchema),

  { ...route("EventStream", "GET", "/v1/events", "events/stream", "read", undefined, undefined), streaming: true },

  route("UpsertCellPresence", "POST", "/v1/cells/upsert", "cells/upsert", "write", C.UpsertCellPresenceRequestSchema, C.UpsertCellPresenceResponseSchema),
  route("Cells", "POST", "/v1/cells/list", "cells/list", "read", undefined, C.CellsResponseSchema),
];

export function routeNamed(name: string): RouteSpec {
  const found = routes.find((r) => r.name === name);
  if (!found) throw new Error(`no BBS route named ${name}`);
  return found;
}

export type RouteMatch = { kind: "route"; route: RouteSpec } | { kind: "method-not-allowed"; allow: string[] } | { kind: "not-found" };

/** Exact, case-sensitive path matching as the original's router did; GET routes also answer HEAD. */
export function matchRoute(method: string, path: string): RouteMatch {
  const onPath = routes.filter((r) => r.path === path);
  if (onPath.length === 0) return { kind: "not-found" };
  const wanted = method === "HEAD" ? "GET" : method;
  const found = onPath.find((r) => r.method === wanted);
  if (found) return { kind: "route", route: found };
  const allow = onPath.flatMap((r) => (r.method === "GET" ? ["GET", "HEAD"] : [r.method]));
  return { kind: "method-not-allowed", allow };
}
