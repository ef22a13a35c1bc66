// Cold module initialisation of every function bundle: `npm run build` (infra/build.ts) bundles each
// function as SST deploys it and imports each bundle in fresh `node` processes; the bench runs it and
// reads what it wrote to dist/bundles.json.
import { execFile } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { log, median } from "./harness";

export interface BundleInit {
  id: string;
  kind: string;
  status: string;
  eagerKB?: number;
  initMinMs?: number;
  initMedianMs?: number;
}

export interface ColdInitResult {
  bundles: BundleInit[];
  built: number;
  failed: number;
  /** Over HTTP API bundles (routes + fallback): the median of their best-of-7 init times, and the worst. */
  httpMedianMs: number;
  httpMaxMs: number;
  httpMaxId: string;
  /** The largest eager bundle among HTTP API functions. */
  httpMaxEagerKB: number;
  /** infra/build.ts's own verdict (exit code 1: a bundle failed or is over its budget). */
  buildExitCode: number;
}

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

export function measureColdInit(): Promise<ColdInitResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--import", "tsx", join(root, "infra", "build.ts")],
      { cwd: root, maxBuffer: 16 * 1024 * 1024, timeout: 300_000 },
      (error, _stdout, stderr) => {
        const file = join(root, "dist", "bundles.json");
        const fresh = existsSync(file) && statSync(file).mtimeMs >= started - 1000;
        if (!fresh) {
          return reject(new Error(`infra/build.ts wrote no dist/bundles.json: ${(error?.message ?? "") + stderr.slice(0, 500)}`));
        }
        const rows = JSON.parse(readFileSync(file, "utf8")) as {
          id: string;
          kind: string;
          status: string;
          eagerBytes?: number;
          initMinMs?: number;
          initMedianMs?: number;
        }[];
        const bundles: BundleInit[] = rows.map((r) => ({
          id: r.id,
          kind: r.kind,
          status: r.status,
          eagerKB: r.eagerBytes === undefined ? undefined : Number((r.eagerBytes / 1024).toFixed(1)),
          initMinMs: r.initMinMs === undefined ? undefined : Number(r.initMinMs.toFixed(1)),
          initMedianMs: r.initMedianMs === undefined ? undefined : Number(r.initMedianMs.toFixed(1)),
        }));
        const http = bundles.filter((b) => (b.kind === "http" || b.kind === "fallback") && b.initMinMs !== undefined);
        const worst = http.reduce<BundleInit | undefined>((w, b) => (!w || b.initMinMs! > w.initMinMs! ? b : w), undefined);
        const result: ColdInitResult = {
          bundles,
          built: bundles.filter((b) => b.status === "ok").length,
          failed: bundles.filter((b) => b.status !== "ok").length,
          httpMedianMs: http.length ? median(http.map((b) => b.initMinMs!)) : NaN,
          httpMaxMs: worst?.initMinMs ?? NaN,
          httpMaxId: worst?.id ?? "-",
          httpMaxEagerKB: Math.max(...http.map((b) => b.eagerKB ?? 0)),
          buildExitCode: typeof error?.code === "number" ? error.code : 0,
        };
        log(`cold init: ${result.built} bundles, HTTP median ${result.httpMedianMs.toFixed(0)} ms, worst ${result.httpMaxMs.toFixed(0)} ms (${result.httpMaxId})`);
        resolve(result);
      },
    );
  });
}
