// `npm test` step: type-check sst.config.ts and infra/*.ts against SST's own types.
// `--prepare` only makes .sst/platform ready (test/run.ts runs that beside the suite), `--check` only
// runs tsc; neither flag, both in turn.
//
// The `sst` npm package carries only the runtime SDK types; the `sst.aws.*` component types exist
// only in .sst/platform, which `sst install` extracts and fills from the npm registry. So on a clean
// clone (CI) this runs `sst install` once (about 40-75 s), then tsc, which needs no network. Two
// variables keep `sst install` to the npm registry: SST_SKIP_DEPENDENCY_CHECK skips the Pulumi and Bun
// downloads from GitHub, SST_NO_BUN makes it install with npm. .sst/ is git-ignored.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const platform = join(root, ".sst", "platform");
const sstPackage = join(root, "node_modules", "sst");

function run(what: string, command: string, args: string[], env: NodeJS.ProcessEnv = process.env): void {
  const started = Date.now();
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit", env });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (result.error) throw result.error;
  if (result.status !== 0) {
    console.error(`infra typecheck: ${what} failed (exit ${result.status}) after ${seconds} s`);
    process.exit(result.status ?? 1);
  }
  console.error(`infra typecheck: ${what} took ${seconds} s`);
}

/** The platform must exist and match the installed CLI; a bumped `sst` reinstalls it. */
function platformReady(): boolean {
  if (!existsSync(join(platform, "node_modules")) || !existsSync(join(platform, "config.d.ts"))) return false;
  const wanted = (JSON.parse(readFileSync(join(sstPackage, "package.json"), "utf8")) as { version: string }).version;
  const installed = existsSync(join(platform, "version")) ? readFileSync(join(platform, "version"), "utf8").trim() : "";
  return installed === wanted;
}

const only = process.argv.includes("--prepare") ? "prepare" : process.argv.includes("--check") ? "check" : undefined;

if (only !== "check" && !platformReady()) {
  console.error("infra typecheck: .sst/platform is missing or stale; running `sst install` (npm registry only)");
  run("sst install", process.execPath, [join(sstPackage, "bin", "sst.mjs"), "install", "--stage", process.env.SST_STAGE ?? "typecheck"], {
    ...process.env,
    SST_SKIP_DEPENDENCY_CHECK: "1",
    SST_NO_BUN: "1",
    SST_TELEMETRY_DISABLED: "1",
  });
}

if (only !== "prepare") run("tsc -p infra/tsconfig.json", process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", join(root, "infra", "tsconfig.json")]);
