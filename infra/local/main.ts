// `npm start`: the local BBS on BBS_ADDRESS (default 127.0.0.1:8889). Configuration is by environment;
// see the README's table.
import { PrerequisiteError } from "./dynamodb-local";
import { startLocalStack } from "./stack";

function splitAddress(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(":");
  const port = Number(address.slice(at + 1));
  if (at < 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new PrerequisiteError(`BBS_ADDRESS must be host:port, got "${address}"`);
  }
  return { host: address.slice(0, at).replace(/^\[|\]$/g, ""), port };
}

async function main() {
  const env = process.env;
  const { host, port } = splitAddress(env.BBS_ADDRESS ?? "127.0.0.1:8889");
  const inMemory = env.BBS_IN_MEMORY === "1" || env.BBS_IN_MEMORY === "true";
  if (!env.BBS_AUCTIONEER_URL) {
    console.warn("warning: BBS_AUCTIONEER_URL is not set; auction requests will be logged and dropped");
  }
  let stack;
  try {
    stack = await startLocalStack({
      host,
      port,
      dynamodbEndpoint: env.BBS_DYNAMODB_ENDPOINT || undefined,
      tableName: env.BBS_TABLE || "bbs",
      dataDir: env.BBS_DATA_DIR || ".bbs-data",
      inMemory,
      auctioneerURL: env.BBS_AUCTIONEER_URL || undefined,
      communicationTimeout: env.BBS_COMMUNICATION_TIMEOUT || undefined,
      convergenceInterval: env.BBS_CONVERGENCE_INTERVAL || "30s",
      expirySweepInterval: env.BBS_EXPIRY_SWEEP_INTERVAL || "5s",
      onError: (error) => console.error("local-server-error", error),
    });
  } catch (error) {
    if (error instanceof PrerequisiteError || (error as NodeJS.ErrnoException).code === "EADDRINUSE") {
      const message =
        (error as NodeJS.ErrnoException).code === "EADDRINUSE"
          ? `${host}:${port} is already in use: stop whatever listens there or set BBS_ADDRESS to another host:port`
          : (error as Error).message;
      console.error(`bbs: ${message}`);
      process.exit(1);
    }
    throw error;
  }
  const storage = env.BBS_DYNAMODB_ENDPOINT ? `DynamoDB at ${stack.dynamodbEndpoint}` : inMemory ? "DynamoDB Local in memory" : `DynamoDB Local in ${env.BBS_DATA_DIR || ".bbs-data"}`;
  console.log(`bbs.started: listening on ${stack.url} (table ${stack.tableName}, ${storage})`);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log("bbs.stopping");
    await stack.stop();
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

await main();
