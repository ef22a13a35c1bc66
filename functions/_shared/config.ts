// Configuration comes from the environment, read here and nowhere else.
export interface BBSConfig {
  tableName: string;
  dynamodbEndpoint?: string;
  region?: string;
  auctioneerURL?: string;
  communicationTimeoutMs: number;
  maxRequestBytes: number;
  /** Larger response bodies (as sent: base64 or text) are replaced by an error saying so; unset: no limit (BBS_MAX_RESPONSE_BYTES). */
  maxResponseBytes?: number;
  /** How often both convergence passes run (BBS_CONVERGENCE_INTERVAL). */
  convergenceIntervalMs: number;
  /** How often the scheduled function deletes expired nodes between passes, so their removal reaches the stream (BBS_EXPIRY_SWEEP_INTERVAL). */
  expirySweepIntervalMs: number;
}

/** Go-style durations ("10s", "500ms", "1m") or plain milliseconds. */
export function parseDurationMs(text: string | undefined, fallbackMs: number): number {
  if (text === undefined || text.trim() === "") return fallbackMs;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new Error(`not a duration: ${text}`);
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(match[2] ?? "ms") as "ms" | "s" | "m" | "h"];
  return Number(match[1]) * factor;
}

/**
 * The table linked as `Store` (infra/table.ts), as SST_RESOURCE_Store JSON: set on Lambda by the
 * link's env include, and by `sst dev` / `sst shell`. BBS_TABLE wins when set (the local stack, tests).
 */
function linkedTableName(env: NodeJS.ProcessEnv): string | undefined {
  const linked = env.SST_RESOURCE_Store;
  if (!linked) return undefined;
  try {
    return (JSON.parse(linked) as { name?: string }).name;
  } catch {
    return undefined;
  }
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): BBSConfig {
  return {
    tableName: env.BBS_TABLE ?? linkedTableName(env) ?? "bbs",
    dynamodbEndpoint: env.BBS_DYNAMODB_ENDPOINT || undefined,
    region: env.AWS_REGION || undefined,
    auctioneerURL: env.BBS_AUCTIONEER_URL || undefined,
    communicationTimeoutMs: parseDurationMs(env.BBS_COMMUNICATION_TIMEOUT, 10_000),
    convergenceIntervalMs: parseDurationMs(env.BBS_CONVERGENCE_INTERVAL, 30_000),
    maxRequestBytes: Number(env.BBS_MAX_REQUEST_BYTES ?? 1024 * 1024),
    maxResponseBytes: env.BBS_MAX_RESPONSE_BYTES ? Number(env.BBS_MAX_RESPONSE_BYTES) : undefined,
    expirySweepIntervalMs: parseDurationMs(env.BBS_EXPIRY_SWEEP_INTERVAL, 5_000),
  };
}
