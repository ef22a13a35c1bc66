// `npm run build`: bundle every function the stack deploys the way SST does (esbuild with SST's
// options and banner, plus ours from infra/bundle-options.ts), then report each bundle's size and its
// cold module-initialisation time: the bundle imported by a fresh `node` process, as a Lambda cold
// start imports it. HTTP API bundles must stay within the budget; handlers not written yet are listed.
//
//   npm run build                      bundles into dist/<function id>/bundle.mjs (+ chunks)
//   npm run build -- --strict          also fail when a handler file does not exist
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build, type Metafile } from "esbuild";
import { routes } from "../core/routes";
import { allFunctions, handlerSource, type BbsFunction } from "./api-routes";
import { Bundle } from "./bundle-options";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");

/** Per HTTP API bundle (routes and the fallback). 1 KB = 1024 bytes. */
export const Budget = { bytes: 300 * 1024, initMs: 150 };
/** Fresh processes per bundle. */
const InitRuns = 7;

// SST's node runtime (pkg/runtime/node/build.go, sst 4.17.1) puts this at the top of every ESM bundle.
const SstBanner = [
  `import { createRequire as topLevelCreateRequire } from 'module';`,
  `const require = topLevelCreateRequire(import.meta.url);`,
  `import { fileURLToPath as topLevelFileUrlToPath, URL as topLevelURL } from "url"`,
  `const __filename = topLevelFileUrlToPath(import.meta.url)`,
  `const __dirname = topLevelFileUrlToPath(new topLevelURL(".", import.meta.url))`,
].join("\n");

/** What module-scope code sees on Lambda: region, function name, credentials, the linked table. */
const LambdaEnv: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  AWS_REGION: "us-east-1",
  AWS_DEFAULT_REGION: "us-east-1",
  AWS_LAMBDA_FUNCTION_NAME: "bbs-build-probe",
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "1024",
  AWS_ACCESS_KEY_ID: "AKIDPROBE",
  AWS_SECRET_ACCESS_KEY: "probe",
  AWS_SESSION_TOKEN: "probe",
  SST_RESOURCE_Store: JSON.stringify({ name: "bbs-build-probe-Store", type: "sst.aws.Dynamo" }),
  BBS_COMMUNICATION_TIMEOUT: "10s",
  BBS_CONVERGENCE_INTERVAL: "30s",
};

/**
 * The Node.js Lambda runtime's `awslambda` global, as far as module scope may touch it (the events
 * function wraps its handler in streamifyResponse when its module loads).
 */
const AwsLambdaGlobal = `globalThis.awslambda ??= { streamifyResponse: (f) => f, HttpResponseStream: { from: (s) => s } };`;

interface Row {
  fn: BbsFunction;
  source: string;
  status: "ok" | "missing" | "failed";
  /** What a cold start loads: the entry and the chunks it imports statically. */
  eagerBytes?: number;
  /** Everything in the function package, lazily loaded chunks included. */
  totalBytes?: number;
  initMinMs?: number;
  initMedianMs?: number;
  top?: string;
  error?: string;
}

function packageOf(input: string): string {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
  if (match) return match[1]!;
  return input.split("/").slice(0, 2).join("/");
}

function analyse(metafile: Metafile, entry: string): Pick<Row, "eagerBytes" | "totalBytes" | "top"> {
  const outputs = metafile.outputs;
  const entryOutput = Object.keys(outputs).find((path) => outputs[path]!.entryPoint === entry);
  if (!entryOutput) throw new Error(`esbuild produced no output for ${entry}`);
  const eager = new Set<string>();
  const visit = (path: string) => {
    if (eager.has(path)) return;
    eager.add(path);
    for (const imported of outputs[path]!.imports) if (imported.kind === "import-statement" && !imported.external) visit(imported.path);
  };
  visit(entryOutput);
  const byPackage = new Map<string, number>();
  for (const path of eager) {
    for (const [input, { bytesInOutput }] of Object.entries(outputs[path]!.inputs)) {
      byPackage.set(packageOf(input), (byPackage.get(packageOf(input)) ?? 0) + bytesInOutput);
    }
  }
  const sum = (paths: Iterable<string>) => [...paths].reduce((total, path) => total + outputs[path]!.bytes, 0);
  return {
    eagerBytes: sum(eager),
    totalBytes: sum(Object.keys(outputs)),
    top: [...byPackage.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([name, bytes]) => `${name} ${(bytes / 1024).toFixed(0)}`)
      .join(", "),
  };
}

async function bundle(fn: BbsFunction): Promise<Row> {
  const { file } = handlerSource(fn.handler);
  if (!existsSync(join(root, file))) return { fn, source: file, status: "missing" };
  const outdir = join(dist, fn.id);
  try {
    const result = await build({
      absWorkingDir: root,
      entryPoints: [file],
      outdir,
      entryNames: "bundle",
      outExtension: { ".js": ".mjs" },
      splitting: Bundle.splitting,
      bundle: true,
      platform: "node",
      format: Bundle.format,
      target: Bundle.esbuildTarget,
      minify: Bundle.minify,
      keepNames: Bundle.keepNames,
      mainFields: ["module", "main"],
      banner: { js: SstBanner },
      external: [...Bundle.external],
      metafile: true,
      logLevel: "silent",
    });
    writeFileSync(join(outdir, "meta.json"), JSON.stringify(result.metafile));
    return { fn, source: file, status: "ok", ...analyse(result.metafile, file) };
  } catch (error) {
    return { fn, source: file, status: "failed", error: error instanceof Error ? error.message : String(error) };
  }
}

/** Wall-clock time to import the bundle (module evaluation included) in fresh `node` processes. */
function measureInit(outfile: string, exportName: string): { min: number; median: number } {
  const probe = [
    AwsLambdaGlobal,
    `const t0 = performance.now();`,
    `const mod = await import(${JSON.stringify(pathToFileURL(outfile).href)});`,
    `const ms = performance.now() - t0;`,
    `if (typeof mod[${JSON.stringify(exportName)}] !== "function") throw new Error("no export ${exportName}");`,
    `process.stdout.write(String(ms));`,
  ].join("\n");
  const samples: number[] = [];
  for (let i = 0; i < InitRuns; i++) {
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", probe], {
      env: LambdaEnv,
      cwd: dirname(outfile),
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    samples.push(Number(out));
  }
  samples.sort((a, b) => a - b);
  return { min: samples[0]!, median: samples[Math.floor(samples.length / 2)]! };
}

/** Only the HTTP API's functions carry the budget; the others are reported for information. */
const budgeted = (fn: BbsFunction) => fn.kind === "http" || fn.kind === "fallback";
const withinBudget = (row: Row) => row.eagerBytes! <= Budget.bytes && row.initMinMs! <= Budget.initMs;

function printTable(rows: Row[]): void {
  const header = ["function", "kind", "eager KB", "total KB", "init min", "median", "budget", "largest eager inputs (KB)"];
  const numeric = new Set([2, 3, 4, 5]);
  const lines = rows.map((row) => {
    if (row.status !== "ok") {
      const why = row.status === "missing" ? `${row.source} does not exist yet` : row.error!.split("\n")[0]!;
      return [row.fn.id, row.fn.kind, "-", "-", "-", "-", row.status.toUpperCase(), why];
    }
    const verdict = budgeted(row.fn) ? (withinBudget(row) ? "ok" : "OVER") : "n/a";
    return [
      row.fn.id,
      row.fn.kind,
      (row.eagerBytes! / 1024).toFixed(1),
      (row.totalBytes! / 1024).toFixed(1),
      row.initMinMs!.toFixed(0),
      row.initMedianMs!.toFixed(0),
      verdict,
      row.top!,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const format = (cells: string[]) => cells.map((c, i) => (numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ").trimEnd();
  console.log(format(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const line of lines) console.log(format(line));
}

async function main() {
  const args = new Set(process.argv.slice(2));
  const strict = args.has("--strict");
  rmSync(dist, { recursive: true, force: true });
  mkdirSync(dist, { recursive: true });

  const rows = await Promise.all(allFunctions(routes).map((fn) => bundle(fn)));
  // One process at a time, after every build has finished, so that the timings do not compete.
  for (const row of rows) {
    if (row.status !== "ok") continue;
    try {
      const init = measureInit(join(dist, row.fn.id, "bundle.mjs"), handlerSource(row.fn.handler).exportName);
      Object.assign(row, { initMinMs: init.min, initMedianMs: init.median });
    } catch (error) {
      const stderr = (error as { stderr?: string }).stderr ?? String(error);
      const reason = stderr.split("\n").find((line) => /Error/.test(line) && line.length < 300) ?? stderr.slice(0, 300);
      Object.assign(row, { status: "failed", error: `cannot be imported: ${reason}` });
    }
  }

  console.log(`Bundles in ${relative(root, dist)}/: esbuild ESM, minified, ${Bundle.esbuildTarget}, splitting, keepNames ${Bundle.keepNames}, no AWS SDK`);
  console.log(`Node ${process.version}, ${cpus().length} CPUs, load average ${loadavg().map((l) => l.toFixed(1)).join(" ")}`);
  console.log(`Budget per HTTP API bundle: ${Budget.bytes / 1024} KB eager, ${Budget.initMs} ms init (best of ${InitRuns} fresh processes)\n`);
  printTable(rows);

  const built = rows.filter((r) => r.status === "ok");
  const missing = rows.filter((r) => r.status === "missing");
  const failed = rows.filter((r) => r.status === "failed");
  const over = built.filter((r) => budgeted(r.fn) && !withinBudget(r));
  writeFileSync(
    join(dist, "bundles.json"),
    JSON.stringify(
      rows.map((r) => ({
        id: r.fn.id,
        kind: r.fn.kind,
        handler: r.fn.handler,
        status: r.status,
        eagerBytes: r.eagerBytes,
        totalBytes: r.totalBytes,
        initMinMs: r.initMinMs,
        initMedianMs: r.initMedianMs,
      })),
      null,
      2,
    ),
  );

  console.log(`\n${built.length} bundled, ${missing.length} missing, ${failed.length} failed, ${over.length} over budget`);
  for (const r of missing) console.log(`missing: ${r.fn.handler} (${r.source} not written yet)`);
  for (const r of failed) console.log(`failed: ${r.fn.handler}: ${r.error}`);
  for (const r of over) {
    console.log(`over budget: ${r.fn.id} ${(r.eagerBytes! / 1024).toFixed(1)} KB eager, ${r.initMinMs!.toFixed(0)} ms init`);
  }
  if (failed.length > 0 || over.length > 0 || (strict && missing.length > 0)) process.exit(1);
}

await main();
