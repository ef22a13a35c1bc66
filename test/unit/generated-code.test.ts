// The committed core/gen must be what `buf generate` makes of core/proto today.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const repo = fileURLToPath(new URL("../../", import.meta.url));
const bin = join(repo, "node_modules", ".bin");
const committed = join(repo, "core", "gen");

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

describe("generated code", () => {
  const tmp = mkdtempSync(join(tmpdir(), "bbs-gen-"));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it("core/gen is byte-for-byte what buf generate produces", () => {
    const out = join(tmp, "gen");
    const template = join(tmp, "buf.gen.yaml");
    // the same plugin and options as buf.gen.yaml, writing to the temporary directory
    writeFileSync(
      template,
      [
        "version: v2",
        "clean: true",
        "plugins:",
        `  - local: ${JSON.stringify(join(bin, "protoc-gen-es"))}`,
        `    out: ${JSON.stringify(out)}`,
        "    opt:",
        "      - target=ts",
        "",
      ].join("\n"),
    );
    execFileSync(join(bin, "buf"), ["generate", "--template", template], {
      cwd: repo,
      env: { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ""}` },
      stdio: "pipe",
    });

    const fresh = listFiles(out);
    expect(fresh.length).toBeGreaterThan(0);
    expect(listFiles(committed)).toEqual(fresh);
    for (const file of fresh) {
      const a = readFileSync(join(out, file));
      const b = readFileSync(join(committed, file));
      expect(a.equals(b), `core/gen/${file} is stale: run buf generate`).toBe(true);
    }
  }, 120_000);

  it("buf.gen.yaml still uses the same plugin and options", () => {
    const config = readFileSync(join(repo, "buf.gen.yaml"), "utf8");
    expect(config).toMatch(/local:\s*protoc-gen-es/);
    expect(config).toMatch(/out:\s*core\/gen/);
    expect(config).toMatch(/-\s*target=ts/);
  });
});
