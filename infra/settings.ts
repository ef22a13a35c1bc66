// Run-time configuration of every BBS function, linked rather than pasted: the functions read it in
// functions/_shared/config.ts (and only there) from the BBS_* variables this link sets.
//
// - The auctioneer URL differs per stage and may carry credentials, so it is an SST secret:
//   `npx sst secret set AuctioneerUrl https://auctioneer.example:9016 --stage <name>`. Unset (the
//   placeholder ""), auction requests are logged and dropped, as the local stack does.
// - The timeouts are plain settings, kept here so that a change is one reviewed line.

/** How long calls to the auctioneer and the cell reps may take (Go duration syntax). */
export const CommunicationTimeout = "10s";
/**
 * The BBS convergence cadence. AWS schedules no finer than once a minute, so the scheduled function
 * runs 60 s / this interval passes per invocation (two, 30 s apart). See infra/convergence.ts.
 */
export const ConvergenceInterval = "30s";
/**
 * How often the scheduled function deletes expired nodes between convergence rounds, so that a lost
 * cell's presence reaches the stream within seconds (DynamoDB's own TTL can take days).
 */
export const ExpirySweepInterval = "5s";

/**
 * A synchronous Lambda returns at most 6 MB (6,291,456 bytes) of serialised result; the headers and
 * the JSON around the body take well under the 64 KB kept back. A larger body becomes a BBS error
 * that says so instead of API Gateway's bare 502.
 */
export const MaxResponseBytes = String(6_291_456 - 65_536);

export const auctioneerUrl = new sst.Secret("AuctioneerUrl", "");

export const settings = new sst.Linkable("BbsSettings", {
  properties: {
    auctioneerUrl: auctioneerUrl.value,
    communicationTimeout: CommunicationTimeout,
    convergenceInterval: ConvergenceInterval,
    expirySweepInterval: ExpirySweepInterval,
    maxResponseBytes: MaxResponseBytes,
  },
  include: [
    sst.env({
      BBS_AUCTIONEER_URL: auctioneerUrl.value,
      BBS_COMMUNICATION_TIMEOUT: CommunicationTimeout,
      BBS_CONVERGENCE_INTERVAL: ConvergenceInterval,
      BBS_EXPIRY_SWEEP_INTERVAL: ExpirySweepInterval,
      BBS_MAX_RESPONSE_BYTES: MaxResponseBytes,
    }),
  ],
});
