// The store's own DynamoDB client: SigV4 against AWS's published test-suite values and against a
// derivation written out here step by step, the wire format, error parsing, and which failures are
// retried, all against a small HTTP server on 127.0.0.1. The store contract suite runs it against
// DynamoDB Local (dynamo-store.test.ts).
import { createHash, createHmac } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  DynamoDBError,
  DynamoDBHttpClient,
  parseErrorResponse,
  sha256Hex,
  signingKey,
  signRequest,
  type DynamoDBHttpClientOptions,
  type Operation,
} from "../../core/store/dynamo-client";
import { makeDynamoDBClient } from "../../core/store/dynamo-table";

// The credentials of AWS's SigV4 examples and test suite.
const ExampleCredentials = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" };
const EmptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

describe("SigV4", () => {
  // aws-sig-v4-test-suite: host example.amazonaws.com, 20150830T123600Z, us-east-1, service "service".
  const suite = {
    host: "example.amazonaws.com",
    path: "/",
    headers: {},
    payloadHash: EmptyHash,
    service: "service",
    region: "us-east-1",
    credentials: ExampleCredentials,
    date: new Date("2015-08-30T12:36:00Z"),
  };

  it("matches the test suite's get-vanilla, step by step", () => {
    const signed = signRequest({ ...suite, method: "GET" });
    expect(signed.canonicalRequest).toBe(
      ["GET", "/", "", "host:example.amazonaws.com", "x-amz-date:20150830T123600Z", "", "host;x-amz-date", EmptyHash].join("\n"),
    );
    expect(signed.stringToSign).toBe(
      [
        "AWS4-HMAC-SHA256",
        "20150830T123600Z",
        "20150830/us-east-1/service/aws4_request",
        "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
      ].join("\n"),
    );
    expect(signed.headers.authorization).toBe(
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, " +
        "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
    );
  });

  it("matches the test suite's post-vanilla and get-vanilla-query-order-key-case", () => {
    expect(signRequest({ ...suite, method: "POST" }).signature).toBe(
      "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
    );
    const query = [["Param2", "value2"], ["Param1", "value1"]] as const;
    expect(signRequest({ ...suite, method: "GET", query }).signature).toBe(
      "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
    );
  });

  it("derives the signing key of AWS's documented example", () => {
    expect(signingKey(ExampleCredentials.secretAccessKey, "20120215", "us-east-1", "iam").toString("hex")).toBe(
      "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d",
    );
  });

  it("signs a DynamoDB request with a session token as the spec's steps derive it", () => {
    const credentials = { ...ExampleCredentials, sessionToken: "session/token+=" };
    const body = '{"TableName":"bbs","Key":{"pk":{"S":"/v1/desired#07"},"sk":{"S":"pg-1"}},"ConsistentRead":true}';
    const signed = signRequest({
      method: "POST",
      host: "dynamodb.eu-west-1.amazonaws.com",
      path: "/",
      headers: { "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.GetItem" },
      payloadHash: sha256Hex(body),
      service: "dynamodb",
      region: "eu-west-1",
      credentials,
      date: new Date("2026-01-02T03:04:05.678Z"),
    });
    expect(signed.headers).toMatchObject({
      "content-type": "application/x-amz-json-1.0",
      "x-amz-target": "DynamoDB_20120810.GetItem",
      host: "dynamodb.eu-west-1.amazonaws.com",
      "x-amz-date": "20260102T030405Z",
      "x-amz-security-token": "session/token+=",
    });
    expect(signed.signature).toBe(
      specSignature({
        headers: signed.headers,
        body,
        secretAccessKey: credentials.secretAccessKey,
        region: "eu-west-1",
      }),
    );
  });
});

/**
 * The signature of a POST to `/` with no query, written out from the spec's three tasks, reading the
 * signed header names from the Authorization header.
 */
function specSignature(request: { headers: IncomingHttpHeaders | Record<string, string>; body: string; secretAccessKey: string; region: string }): string {
  const authorization = String(request.headers.authorization);
  const signedHeaders = /SignedHeaders=([^,]+)/.exec(authorization)![1]!;
  const amzDate = String(request.headers["x-amz-date"]);
  const hash = (text: string) => createHash("sha256").update(text).digest("hex");
  const hmac = (key: string | Buffer, text: string) => createHmac("sha256", key).update(text).digest();
  // Task 1: the canonical request.
  let canonicalRequest = "POST\n/\n\n";
  for (const name of signedHeaders.split(";")) canonicalRequest += `${name}:${String(request.headers[name]).trim()}\n`;
  canonicalRequest += `\n${signedHeaders}\n${hash(request.body)}`;
  // Task 2: the string to sign.
  const scope = `${amzDate.slice(0, 8)}/${request.region}/dynamodb/aws4_request`;
  const stringToSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${hash(canonicalRequest)}`;
  // Task 3: the signing key, then the signature.
  const kDate = hmac(`AWS4${request.secretAccessKey}`, amzDate.slice(0, 8));
  const kSigning = hmac(hmac(hmac(kDate, request.region), "dynamodb"), "aws4_request");
  return createHmac("sha256", kSigning).update(stringToSign).digest("hex");
}

describe("parseErrorResponse", () => {
  it("takes the name from __type, the message in either casing, and the ALL_OLD item", () => {
    const error = parseErrorResponse(
      400,
      JSON.stringify({
        __type: "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
        message: "The conditional request failed",
        Item: { pk: { S: "a" }, value: { B: "AAE=" } },
      }),
      { "x-amzn-requestid": "RID" },
    );
    expect(error).toBeInstanceOf(DynamoDBError);
    expect(error).toMatchObject({
      name: "ConditionalCheckFailedException",
      message: "The conditional request failed",
      status: 400,
      item: { pk: { S: "a" }, value: { B: "AAE=" } },
      requestId: "RID",
    });
    const canceled = parseErrorResponse(
      400,
      JSON.stringify({
        __type: "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
        Message: "Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]",
        CancellationReasons: [{ Code: "None" }, { Code: "ConditionalCheckFailed", Message: "failed", Item: { pk: { S: "b" } } }],
      }),
    );
    expect(canceled.name).toBe("TransactionCanceledException");
    expect(canceled.message).toMatch(/^Transaction cancelled/);
    expect(canceled.cancellationReasons).toEqual([
      { Code: "None" },
      { Code: "ConditionalCheckFailed", Message: "failed", Item: { pk: { S: "b" } } },
    ]);
    expect(canceled.item).toBeUndefined();
  });

  it("falls back to x-amzn-ErrorType, then to the status", () => {
    const fromHeader = parseErrorResponse(400, "", {
      "x-amzn-errortype": "ResourceNotFoundException:http://internal.amazon.com/coral/com.amazonaws.dynamodb.v20120810/",
    });
    expect(fromHeader.name).toBe("ResourceNotFoundException");
    const signature = parseErrorResponse(400, '{"__type":"com.amazon.coral.service#InvalidSignatureException","message":"x"}');
    expect(signature.name).toBe("InvalidSignatureException");
    const page = parseErrorResponse(502, "<html>Bad Gateway</html>");
    expect(page).toMatchObject({ name: "HttpError502", status: 502 });
  });
});

// ---- Against a local HTTP server -------------------------------------------------------------

interface Seen {
  target: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** 1 for the first connection the server saw, 2 for the second, … */
  connection: number;
}

type Reply = (res: ServerResponse, seen: Seen) => void;

const ok =
  (output: object = {}): Reply =>
  (res) =>
    res.writeHead(200, { "content-type": "application/x-amz-json-1.0" }).end(JSON.stringify(output));

const fail =
  (status: number, type: string, extra: object = {}, headers: Record<string, string> = {}): Reply =>
  (res) =>
    res
      .writeHead(status, { "content-type": "application/x-amz-json-1.0", "x-amzn-requestid": "RID", ...headers })
      .end(JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message: `${type} from the test`, ...extra }));

/** Reads the request, then drops the connection without an answer. */
const drop: Reply = (res) => res.socket?.destroy();

const servers: { close(): void }[] = [];
const clients: DynamoDBHttpClient[] = [];
afterEach(() => {
  for (const client of clients.splice(0)) client.destroy();
  for (const server of servers.splice(0)) server.close();
});

/** A server that answers the n-th request with replies[n] (the last one repeats). */
async function fakeDynamo(replies: Reply[]): Promise<{ seen: Seen[]; endpoint: string }> {
  const seen: Seen[] = [];
  const connections = new WeakMap<Socket, number>();
  let nextConnection = 1;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (!connections.has(req.socket)) connections.set(req.socket, nextConnection++);
      const entry: Seen = {
        target: String(req.headers["x-amz-target"]),
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        connection: connections.get(req.socket)!,
      };
      seen.push(entry);
      replies[Math.min(seen.length - 1, replies.length - 1)]!(res, entry);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push({ close: () => server.close() && server.closeAllConnections() });
  return { seen, endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const testCredentials = { accessKeyId: "AKIDTEST", secretAccessKey: "secret/key+", sessionToken: "the-token" };

function clientFor(endpoint: string, options: DynamoDBHttpClientOptions = {}): DynamoDBHttpClient {
  const client = new DynamoDBHttpClient({ endpoint, region: "us-east-1", credentials: testCredentials, retryBaseMs: 1, ...options });
  clients.push(client);
  return client;
}

async function rejection(promise: Promise<unknown>): Promise<DynamoDBError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(DynamoDBError);
    return error as DynamoDBError;
  }
  throw new Error("expected the call to fail");
}

const getInput = { TableName: "t", Key: { pk: { S: "a" }, sk: { S: "b" } }, ConsistentRead: true };
const updateInput = {
  TableName: "t",
  Key: { pk: { S: "a" }, sk: { S: "b" } },
  UpdateExpression: "SET #v = :v",
  ConditionExpression: "attribute_not_exists(#v)",
  ExpressionAttributeNames: { "#v": "value" },
  ExpressionAttributeValues: { ":v": { B: "AAEC" } },
};

describe("DynamoDBHttpClient", () => {
  it("POSTs the input as AWS JSON 1.0 with the target, signed, and returns the parsed answer", async () => {
    const server = await fakeDynamo([ok({ Item: { pk: { S: "a" }, value: { B: "AAEC" } } })]);
    const calls: [Operation, object][] = [];
    const client = clientFor(server.endpoint, { onCall: (operation, input) => calls.push([operation, input]) });

    const output = await client.call("GetItem", getInput);
    expect(output).toEqual({ Item: { pk: { S: "a" }, value: { B: "AAEC" } } });
    expect(calls).toEqual([["GetItem", getInput]]);
    const [request] = server.seen;
    expect(request!.target).toBe("DynamoDB_20120810.GetItem");
    expect(request!.headers["content-type"]).toBe("application/x-amz-json-1.0");
    expect(JSON.parse(request!.body)).toEqual(getInput);
    expect(request!.headers["x-amz-security-token"]).toBe("the-token");
    expect(request!.headers.host).toBe(new URL(server.endpoint).host);
    expect(request!.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d{8}\/us-east-1\/dynamodb\/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, Signature=[0-9a-f]{64}$/,
    );
    expect(request!.headers.authorization).toContain(
      `Signature=${specSignature({ headers: request!.headers, body: request!.body, secretAccessKey: testCredentials.secretAccessKey, region: "us-east-1" })}`,
    );
  });

  it("takes the Lambda environment's credentials and region when given none", async () => {
    const server = await fakeDynamo([ok()]);
    const names = ["AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"] as const;
    const saved = names.map((name) => [name, process.env[name]] as const);
    try {
      Object.assign(process.env, {
        AWS_REGION: "eu-central-1",
        AWS_ACCESS_KEY_ID: "AKIDENV",
        AWS_SECRET_ACCESS_KEY: "env-secret",
        AWS_SESSION_TOKEN: "env-token",
      });
      const client = new DynamoDBHttpClient({ endpoint: server.endpoint });
      clients.push(client);
      await client.call("DescribeTable", { TableName: "t" });
      expect(server.seen[0]!.headers.authorization).toContain("Credential=AKIDENV/");
      expect(server.seen[0]!.headers.authorization).toContain("/eu-central-1/dynamodb/aws4_request");
      expect(server.seen[0]!.headers["x-amz-security-token"]).toBe("env-token");
      const aws = new DynamoDBHttpClient();
      clients.push(aws);
      expect(aws.endpoint).toBe("https://dynamodb.eu-central-1.amazonaws.com");

      delete process.env.AWS_ACCESS_KEY_ID;
      await expect(client.call("DescribeTable", { TableName: "t" })).rejects.toThrow(/no AWS credentials/);
    } finally {
      for (const [name, value] of saved) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  it("uses fixed dummy credentials and region local for DynamoDB Local (makeDynamoDBClient)", async () => {
    const server = await fakeDynamo([ok()]);
    const client = makeDynamoDBClient({ endpoint: server.endpoint });
    clients.push(client);
    await client.call("DescribeTable", { TableName: "t" });
    expect(server.seen[0]!.headers.authorization).toContain("Credential=local/");
    expect(server.seen[0]!.headers.authorization).toContain("/local/dynamodb/aws4_request");
  });

  it("retries throttling, then succeeds; onCall sees one call", async () => {
    const server = await fakeDynamo([fail(400, "ThrottlingException"), fail(400, "ProvisionedThroughputExceededException"), ok()]);
    let calls = 0;
    const client = clientFor(server.endpoint, { onCall: () => calls++ });
    await client.call("UpdateItem", updateInput);
    expect(server.seen.map((s) => s.target)).toEqual(Array(3).fill("DynamoDB_20120810.UpdateItem"));
    expect(calls).toBe(1);
  });

  it("gives up after maxAttempts with the last error", async () => {
    const server = await fakeDynamo([fail(400, "ThrottlingException")]);
    const error = await rejection(clientFor(server.endpoint, { maxAttempts: 3 }).call("Query", { TableName: "t", KeyConditionExpression: "x" }));
    expect(error).toMatchObject({ name: "ThrottlingException", status: 400, requestId: "RID" });
    expect(server.seen).toHaveLength(3);
  });

  it("retries 5xx answers, JSON or not", async () => {
    const server = await fakeDynamo([
      fail(500, "InternalServerError"),
      (res) => res.writeHead(503, { "content-type": "text/html" }).end("<html>Service Unavailable</html>"),
      ok({ Attributes: {} }),
    ]);
    expect(await clientFor(server.endpoint).call("UpdateItem", updateInput)).toEqual({ Attributes: {} });
    expect(server.seen).toHaveLength(3);
  });

  it("does not retry a failed condition, and hands back the item DynamoDB returned", async () => {
    const server = await fakeDynamo([fail(400, "ConditionalCheckFailedException", { Item: { pk: { S: "a" }, version: { N: "7" } } })]);
    const error = await rejection(clientFor(server.endpoint).call("UpdateItem", updateInput));
    expect(error).toMatchObject({ name: "ConditionalCheckFailedException", status: 400, item: { pk: { S: "a" }, version: { N: "7" } } });
    expect(server.seen).toHaveLength(1);
  });

  it("does not retry a cancelled transaction, and hands back its reasons", async () => {
    const reasons = [{ Code: "None" }, { Code: "ConditionalCheckFailed", Item: { pk: { S: "a" } } }];
    const server = await fakeDynamo([fail(400, "TransactionCanceledException", { CancellationReasons: reasons })]);
    const error = await rejection(clientFor(server.endpoint).call("TransactWriteItems", { TransactItems: [] }));
    expect(error).toMatchObject({ name: "TransactionCanceledException", cancellationReasons: reasons });
    expect(server.seen).toHaveLength(1);
  });

  it("does not retry client errors", async () => {
    const server = await fakeDynamo([fail(400, "ValidationException")]);
    expect((await rejection(clientFor(server.endpoint).call("GetItem", getInput))).name).toBe("ValidationException");
    expect(server.seen).toHaveLength(1);
  });

  describe("without an answer", () => {
    it("retries a read", async () => {
      const server = await fakeDynamo([drop, ok({ Item: { pk: { S: "a" } } })]);
      expect(await clientFor(server.endpoint).call("GetItem", getInput)).toEqual({ Item: { pk: { S: "a" } } });
      expect(server.seen).toHaveLength(2);
    });

    it("surfaces a write that was sent, since it may have been applied", async () => {
      const server = await fakeDynamo([drop, ok()]);
      const error = await rejection(clientFor(server.endpoint).call("UpdateItem", updateInput));
      expect(error).toMatchObject({ name: "NetworkError", status: 0, mayHaveApplied: true });
      expect(error.message).toMatch(/^UpdateItem: .*may have been applied/);
      expect(server.seen).toHaveLength(1);
    });

    it("retries a transaction under the same ClientRequestToken, which makes a repeat harmless", async () => {
      const server = await fakeDynamo([drop, ok()]);
      const input = { TransactItems: [{ Delete: { TableName: "t", Key: { pk: { S: "a" } }, ConditionExpression: "attribute_exists(pk)" } }] };
      await clientFor(server.endpoint).call("TransactWriteItems", input);
      const tokens = server.seen.map((s) => (JSON.parse(s.body) as { ClientRequestToken?: string }).ClientRequestToken);
      expect(tokens).toHaveLength(2);
      expect(tokens[0]).toMatch(/^[0-9a-f-]{36}$/);
      expect(tokens[1]).toBe(tokens[0]);
      expect(input).not.toHaveProperty("ClientRequestToken");
    });

    it("retries a write on a reused keep-alive socket that is reset before any answer (the stale-socket race)", async () => {
      const server = await fakeDynamo([ok(), drop, ok({ Attributes: {} })]);
      const client = clientFor(server.endpoint);
      await client.call("GetItem", getInput);
      expect(await client.call("UpdateItem", updateInput)).toEqual({ Attributes: {} });
      expect(server.seen.map((s) => s.connection)).toEqual([1, 1, 2]);
    });

    it("retries a write whose connection was refused, and says it was not applied", async () => {
      const closed = await fakeDynamo([ok()]);
      for (const server of servers.splice(0)) server.close();
      const error = await rejection(clientFor(closed.endpoint, { maxAttempts: 2 }).call("UpdateItem", updateInput));
      expect(error).toMatchObject({ name: "NetworkError", code: "ECONNREFUSED", mayHaveApplied: false });
      expect(error.message).not.toMatch(/may have been applied/);
    });

    it("gives up on an exchange that exceeds timeoutMs", async () => {
      const server = await fakeDynamo([() => undefined]);
      const error = await rejection(clientFor(server.endpoint, { timeoutMs: 100 }).call("UpdateItem", updateInput));
      expect(error).toMatchObject({ name: "NetworkError", code: "ETIMEDOUT", mayHaveApplied: true });
      expect(server.seen).toHaveLength(1);
    });
  });

  it("corrects its clock from the server's Date when a signature is rejected as expired", async () => {
    const serverNow = Date.now() + 3_600_000;
    const server = await fakeDynamo([
      fail(400, "InvalidSignatureException", { message: "Signature expired" }, { date: new Date(serverNow).toUTCString() }),
      ok(),
    ]);
    await clientFor(server.endpoint).call("UpdateItem", updateInput);
    expect(server.seen).toHaveLength(2);
    const sentAt = (s: Seen) => {
      const d = String(s.headers["x-amz-date"]);
      return Date.parse(`${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}T${d.slice(9, 11)}:${d.slice(11, 13)}:${d.slice(13, 15)}Z`);
    };
    expect(Math.abs(sentAt(server.seen[1]!) - serverNow)).toBeLessThan(5_000);
    expect(Math.abs(sentAt(server.seen[0]!) - Date.now())).toBeLessThan(5_000);
  });
});
