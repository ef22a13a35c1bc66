import type { DesiredLRP } from "../gen/models/desired_lrp_pb";
import type { Task } from "../gen/models/task_pb";
import type { Logger } from "../logger";
import { encodeLRPStartRequests, encodeTaskAuctionRequests } from "../models/go-json";
import { joinURL, postJSON } from "./http";

export interface LRPStartRequest {
  desiredLRP: DesiredLRP;
  indices: number[];
}

/** The auctioneer places work on cells; the BBS only asks. A failed request never rolls back state. */
export interface AuctioneerClient {
  requestLRPAuctions(starts: LRPStartRequest[]): Promise<void>;
  requestTaskAuctions(tasks: Task[]): Promise<void>;
}

export function httpAuctioneerClient(options: { url: string; timeoutMs: number }): AuctioneerClient {
  return {
    async requestLRPAuctions(starts) {
      await postJSON(joinURL(options.url, "/v1/lrps"), encodeLRPStartRequests(starts), { timeoutMs: options.timeoutMs, expectStatus: 202 });
    },
    async requestTaskAuctions(tasks) {
      await postJSON(joinURL(options.url, "/v1/tasks"), encodeTaskAuctionRequests(tasks), { timeoutMs: options.timeoutMs, expectStatus: 202 });
    },
  };
}

/** With no auctioneer configured (a laptop), auction requests are logged and dropped. */
export function droppingAuctioneerClient(logger: Logger): AuctioneerClient {
  return {
    async requestLRPAuctions(starts) {
      logger.info("auction-dropped-no-auctioneer", { lrp_starts: starts.map((s) => ({ process_guid: s.desiredLRP.processGuid, indices: s.indices })) });
    },
    async requestTaskAuctions(tasks) {
      logger.info("auction-dropped-no-auctioneer", { task_guids: tasks.map((t) => t.taskGuid) });
    },
  };
}
