// Responses too large for a Lambda: a list over 1 MiB is gzipped for a caller that accepts gzip (as
// Go's http.Client does by default), and a body over the configured limit (a Lambda's 6 MB) becomes
// a BBS error that says what to do, instead of API Gateway's bare 502.
import { gunzipSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { DesiredLRPsResponseSchema } from "../../core/gen/models/desired_lrp_requests_pb";
import { decodeMessage } from "../../core/models/codec";
import { configFromEnv } from "../../functions/_shared/config";
import { useContext } from "../../functions/_shared/dependencies";
import { acceptsGzip, GzipAboveBytes, type HttpEvent } from "../../functions/_shared/http";
import { bulkLoad, desiredLRP, desiredNode, processGuid } from "../bench/fixtures";
import { SHARDS, benchContext, invokeHttp, type BenchContext } from "../bench/harness";
import { freshStore } from "../support/dynamo";

let bench: BenchContext;
// 200 desired LRPs with 6 KB annotations: a list over 1 MiB from few writes.
const LRPS = 200;
const annotated = (i: number) => {
  const lrp = desiredLRP(processGuid("big", i));
  lrp.annotation = `${i}:`.padEnd(6_000, "annotation ");
  return lrp;
};

const bodyOf = (result: { body?: string; isBase64Encoded?: boolean }) => Buffer.from(result.body ?? "", result.isBase64Encoded ? "base64" : "utf8");
const withLimit = (maxResponseBytes?: number) =>
  useContext(bench.ctx, { ...configFromEnv({}), tableName: bench.tableName, maxResponseBytes });

beforeAll(async () => {
  const { endpoint, tableName } = await freshStore();
  bench = benchContext(endpoint, tableName);
  await bulkLoad(bench.store.client, tableName, SHARDS, Array.from({ length: LRPS }, (_, i) => desiredNode(annotated(i))));
});

describe("a list larger than 1 MiB", () => {
  it("is gzipped for a caller that accepts gzip, and inflates to exactly the plain body", async () => {
    withLimit(undefined);
    const plain = await invokeHttp("DesiredLRPs", {});
    expect(plain.headers?.["Content-Encoding"]).toBeUndefined();
    const plainBody = bodyOf(plain);
    expect(plainBody.length).toBeGreaterThan(GzipAboveBytes);
    expect((decodeMessage(DesiredLRPsResponseSchema, plainBody) as { desiredLrps: unknown[] }).desiredLrps).toHaveLength(LRPS);

    const gzipped = await invokeHttp("DesiredLRPs", {}, { "accept-encoding": "gzip" });
    expect(gzipped.headers).toMatchObject({ "Content-Encoding": "gzip", Vary: "Accept-Encoding", "Content-Type": "application/x-protobuf" });
    const compressed = bodyOf(gzipped);
    expect(compressed.length).toBeLessThan(plainBody.length / 4);
    expect(gunzipSync(compressed).equals(plainBody)).toBe(true);
  });

  it("is sent as it is when small, even to a caller that accepts gzip", async () => {
    withLimit(undefined);
    const small = await invokeHttp("DesiredLRPs", { domain: "nobody-here" }, { "accept-encoding": "gzip" });
    expect(small.headers?.["Content-Encoding"]).toBeUndefined();
    expect(bodyOf(small).length).toBe(0);
  });

  it("over the response limit becomes an UnknownError saying so, unless gzip brings it under", async () => {
    withLimit(500_000);
    try {
      const refused = decodeMessage(DesiredLRPsResponseSchema, bodyOf(await invokeHttp("DesiredLRPs", {}))) as {
        error?: { type: number; message: string };
        desiredLrps: unknown[];
      };
      expect(refused.desiredLrps).toHaveLength(0);
      expect(refused.error?.message).toMatch(/^the response is \d+ bytes, more than the 500000 this deployment can return: ask with Accept-Encoding: gzip/);

      const gzipped = await invokeHttp("DesiredLRPs", {}, { "accept-encoding": "gzip" });
      const listed = decodeMessage(DesiredLRPsResponseSchema, gunzipSync(bodyOf(gzipped))) as { error?: unknown; desiredLrps: unknown[] };
      expect(listed.error).toBeUndefined();
      expect(listed.desiredLrps).toHaveLength(LRPS);
    } finally {
      withLimit(undefined);
    }
  });
});

describe("Accept-Encoding", () => {
  const event = (value?: string) => ({ headers: value === undefined ? {} : { "Accept-Encoding": value } }) as unknown as HttpEvent;
  it("accepts gzip when named or by *, without q=0", () => {
    expect(acceptsGzip(event("gzip"))).toBe(true);
    expect(acceptsGzip(event("deflate, gzip;q=0.5"))).toBe(true);
    expect(acceptsGzip(event("*"))).toBe(true);
    expect(acceptsGzip(event("gzip;q=0"))).toBe(false);
    expect(acceptsGzip(event("identity"))).toBe(false);
    expect(acceptsGzip(event())).toBe(false);
  });
});
