import { joinURL, postJSON } from "./http";

/** Calls the BBS makes to a cell's rep, at the rep_address of its cell presence. */
export interface RepClient {
  stopLRPInstance(repAddress: string, processGuid: string, instanceGuid: string): Promise<void>;
  cancelTask(repAddress: string, taskGuid: string): Promise<void>;
}

export function httpRepClient(options: { timeoutMs: number }): RepClient {
  const post = (url: string) => postJSON(url, undefined, { timeoutMs: options.timeoutMs, expectStatus: 202 }).then(() => undefined);
  return {
    stopLRPInstance: (rep, processGuid, instanceGuid) =>
      post(joinURL(rep, `/v1/lrps/${encodeURIComponent(processGuid)}/instances/${encodeURIComponent(instanceGuid)}/stop`)),
    cancelTask: (rep, taskGuid) => post(joinURL(rep, `/v1/tasks/${encodeURIComponent(taskGuid)}/cancel`)),
  };
}
