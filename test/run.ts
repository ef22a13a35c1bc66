// `npm test`: type-check, then the whole vitest suite. The infra type-check needs .sst/platform,
// which `sst install` fetches from the npm registry on a clean clone (about a minute, mostly waiting
// on the network), so that runs beside the suite instead of before it; the infra tsc itself runs
// after the suite, when the CPUs are free again. Arguments go to vitest (`npm test -- test/unit`).
// Exits non-zero when any step fails.
import { spawn, spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (pkg: string, file: string) => join(root, "node_modules", pkg, file);
const tsx = [bin("tsx", "dist/cli.mjs")];

function step(name: string, args: string[]): number {
  const result = spawnSync(process.execPath, args, { cwd: root, stdio: "inherit" });
  if (result.error) throw result.error;
  if (result.status !== 0) console.error(`npm test: ${name} failed (exit ${result.status ?? result.signal})`);
  return result.status ?? 1;
}

const core = step("tsc -p tsconfig.json", [bin("typescript", "bin/tsc"), "-p", "tsconfig.json", "--noEmit"]);
if (core !== 0) process.exit(core);

// Its output is held back until the suite is done, so the two do not interleave.
const prepare = new Promise<{ status: number; output: string }>((resolve) => {
  const child = spawn(process.execPath, [...tsx, "infra/typecheck.ts", "--prepare"], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  child.on("error", (error) => resolve({ status: 1, output: `${output}${String(error)}\n` }));
  child.on("close", (status) => resolve({ status: status ?? 1, output }));
});

const suite = step("vitest run", [bin("vitest", "vitest.mjs"), "run", ...process.argv.slice(2)]);
const prepared = await prepare;
process.stderr.write(prepared.output);
const infra = prepared.status === 0 ? step("infra type-check", [...tsx, "infra/typecheck.ts", "--check"]) : prepared.status;
process.exit(suite !== 0 ? suite : infra);
