// A minimal DynamoDB client: the JSON protocol (AWS JSON 1.0 over HTTP(S)), signed with Signature
// Version 4. It exists so that the Lambda bundles do not carry the AWS SDK: the store marshals its
// items itself and uses a handful of operations, and the SDK's ~200 KB of minified code cost every
// HTTP route its size and cold-start budget (issue #8; infra/DEPLOYING.md, "Bundles").
//
// Why the retry rules are what they are: a conditional write that reached DynamoDB may have been
// applied even if its answer was lost, and repeating it would then fail its own condition and report
// a conflict with itself. So an answer DynamoDB gave that says "not done" (throttling) is retried for
// every operation, and so is a 5xx (DynamoDB's documented advice, and what the SDK did); a failure
// without an answer is retried only when the request cannot have been applied (it never left, or
// the keep-alive socket it went out on had already been closed by the peer) or when repeating it is
// harmless: reads, and TransactWriteItems, which carries a ClientRequestToken that makes DynamoDB
// ignore a repeat of a transaction it already applied.
import { createHash, createHmac, randomUUID } from "node:crypto";
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { Socket } from "node:net";

// ---- Wire types: only the members this project reads or writes. -------------------------------

/** An attribute in DynamoDB JSON, as on the wire: binary is base64, numbers are decimal strings. */
export interface AttributeValue {
  S?: string;
  N?: string;
  B?: string;
  BOOL?: boolean;
  NULL?: boolean;
  SS?: string[];
  NS?: string[];
  BS?: string[];
  L?: AttributeValue[];
  M?: Record<string, AttributeValue>;
}

export type Item = Record<string, AttributeValue>;

export type ReturnValue = "NONE" | "ALL_OLD" | "UPDATED_OLD" | "ALL_NEW" | "UPDATED_NEW";
export type ReturnValuesOnConditionCheckFailure = "NONE" | "ALL_OLD";

interface ExpressionInput {
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Item;
}

export interface GetItemInput {
  TableName: string;
  Key: Item;
  ConsistentRead?: boolean;
  ProjectionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
}
export interface GetItemOutput {
  Item?: Item;
}

export interface PutItemInput extends ExpressionInput {
  TableName: string;
  Item: Item;
  ConditionExpression?: string;
  ReturnValues?: "NONE" | "ALL_OLD";
  ReturnValuesOnConditionCheckFailure?: ReturnValuesOnConditionCheckFailure;
}
export interface PutItemOutput {
  Attributes?: Item;
}

export interface UpdateItemInput extends ExpressionInput {
  TableName: string;
  Key: Item;
  UpdateExpression?: string;
  ConditionExpression?: string;
  ReturnValues?: ReturnValue;
  ReturnValuesOnConditionCheckFailure?: ReturnValuesOnConditionCheckFailure;
}
export interface UpdateItemOutput {
  Attributes?: Item;
}

export interface DeleteItemInput extends ExpressionInput {
  TableName: string;
  Key: Item;
  ConditionExpression?: string;
  ReturnValues?: "NONE" | "ALL_OLD";
  ReturnValuesOnConditionCheckFailure?: ReturnValuesOnConditionCheckFailure;
}
export interface DeleteItemOutput {
  Attributes?: Item;
}

export interface QueryInput extends ExpressionInput {
  TableName: string;
  IndexName?: string;
  KeyConditionExpression: string;
  FilterExpression?: string;
  ProjectionExpression?: string;
  ConsistentRead?: boolean;
  ExclusiveStartKey?: Item;
  Limit?: number;
  ScanIndexForward?: boolean;
  Select?: "ALL_ATTRIBUTES" | "ALL_PROJECTED_ATTRIBUTES" | "SPECIFIC_ATTRIBUTES" | "COUNT";
}
export interface QueryOutput {
  Items?: Item[];
  Count?: number;
  ScannedCount?: number;
  LastEvaluatedKey?: Item;
}

export interface TransactWriteItem {
  ConditionCheck?: Omit<UpdateItemInput, "UpdateExpression" | "ReturnValues"> & { ConditionExpression: string };
  Put?: Omit<PutItemInput, "ReturnValues">;
  Update?: Omit<UpdateItemInput, "ReturnValues"> & { UpdateExpression: string };
  Delete?: Omit<DeleteItemInput, "ReturnValues">;
}
export interface TransactWriteItemsInput {
  TransactItems: TransactWriteItem[];
  /** Set by the client when absent, so that a retried transaction is applied at most once. */
  ClientRequestToken?: string;
}
export type TransactWriteItemsOutput = Record<string, unknown>;

export interface KeysAndAttributes {
  Keys: Item[];
  ConsistentRead?: boolean;
  ProjectionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
}
export interface BatchGetItemInput {
  RequestItems: Record<string, KeysAndAttributes>;
}
export interface BatchGetItemOutput {
  Responses?: Record<string, Item[]>;
  UnprocessedKeys?: Record<string, KeysAndAttributes>;
}

export interface WriteRequest {
  PutRequest?: { Item: Item };
  DeleteRequest?: { Key: Item };
}
export interface BatchWriteItemInput {
  RequestItems: Record<string, WriteRequest[]>;
}
export interface BatchWriteItemOutput {
  UnprocessedItems?: Record<string, WriteRequest[]>;
}

export interface KeySchemaElement {
  AttributeName: string;
  KeyType: "HASH" | "RANGE";
}
export interface Projection {
  ProjectionType?: "ALL" | "KEYS_ONLY" | "INCLUDE";
  NonKeyAttributes?: string[];
}
export interface StreamSpecification {
  StreamEnabled: boolean;
  StreamViewType?: "KEYS_ONLY" | "NEW_IMAGE" | "OLD_IMAGE" | "NEW_AND_OLD_IMAGES";
}
export interface CreateTableInput {
  TableName: string;
  AttributeDefinitions: { AttributeName: string; AttributeType: "S" | "N" | "B" }[];
  KeySchema: KeySchemaElement[];
  BillingMode?: "PROVISIONED" | "PAY_PER_REQUEST";
  ProvisionedThroughput?: { ReadCapacityUnits: number; WriteCapacityUnits: number };
  GlobalSecondaryIndexes?: { IndexName: string; KeySchema: KeySchemaElement[]; Projection: Projection }[];
  StreamSpecification?: StreamSpecification;
}
export interface TableDescription {
  TableName?: string;
  TableStatus?: "CREATING" | "UPDATING" | "DELETING" | "ACTIVE" | (string & {});
  KeySchema?: KeySchemaElement[];
  GlobalSecondaryIndexes?: { IndexName?: string; IndexStatus?: string; KeySchema?: KeySchemaElement[]; Projection?: Projection }[];
  StreamSpecification?: StreamSpecification;
  LatestStreamArn?: string;
  BillingModeSummary?: { BillingMode?: string };
}
export interface TimeToLiveSpecification {
  Enabled: boolean;
  AttributeName: string;
}

/** Each operation's input and the part of its output this project reads. */
export interface Operations {
  GetItem: { input: GetItemInput; output: GetItemOutput };
  PutItem: { input: PutItemInput; output: PutItemOutput };
  UpdateItem: { input: UpdateItemInput; output: UpdateItemOutput };
  DeleteItem: { input: DeleteItemInput; output: DeleteItemOutput };
  Query: { input: QueryInput; output: QueryOutput };
  TransactWriteItems: { input: TransactWriteItemsInput; output: TransactWriteItemsOutput };
  BatchWriteItem: { input: BatchWriteItemInput; output: BatchWriteItemOutput };
  BatchGetItem: { input: BatchGetItemInput; output: BatchGetItemOutput };
  CreateTable: { input: CreateTableInput; output: { TableDescription?: TableDescription } };
  DescribeTable: { input: { TableName: string }; output: { Table?: TableDescription } };
  DeleteTable: { input: { TableName: string }; output: { TableDescription?: TableDescription } };
  DescribeTimeToLive: {
    input: { TableName: string };
    output: { TimeToLiveDescription?: { AttributeName?: string; TimeToLiveStatus?: string } };
  };
  UpdateTimeToLive: {
    input: { TableName: string; TimeToLiveSpecification: TimeToLiveSpecification };
    output: { TimeToLiveSpecification?: TimeToLiveSpecification };
  };
}

export type Operation = keyof Operations;
export type OperationInput<Op extends Operation> = Operations[Op]["input"];
export type OperationOutput<Op extends Operation> = Operations[Op]["output"];

/**
 * What the store needs from a client. An interface rather than the class, so that a test or a
 * benchmark can wrap `call` (to count or fail calls) and hand the wrapper to DynamoStore.
 */
export interface DynamoDBCaller {
  call<Op extends Operation>(operation: Op, input: OperationInput<Op>): Promise<OperationOutput<Op>>;
}

// ---- Errors ----------------------------------------------------------------------------------

export interface CancellationReason {
  Code?: string;
  Message?: string;
  Item?: Item;
}

/**
 * An error DynamoDB answered with (`name` is the exception's short name, e.g.
 * `ConditionalCheckFailedException`), or a request that got no answer (`name` "NetworkError",
 * `status` 0; `mayHaveApplied` says whether the request left this process).
 */
export class DynamoDBError extends Error {
  override readonly name: string;
  /** HTTP status; 0 when no answer arrived. */
  readonly status: number;
  /** The item as it was when a condition failed (ReturnValuesOnConditionCheckFailure ALL_OLD). */
  readonly item?: Item;
  /** TransactionCanceledException: one reason per TransactItems entry, in order. */
  readonly cancellationReasons?: CancellationReason[];
  readonly requestId?: string;
  /** Node's error code for a NetworkError (ECONNRESET, ...). */
  readonly code?: string;
  /** NetworkError only: the request was sent, so a write may have been applied. */
  readonly mayHaveApplied?: boolean;

  constructor(
    name: string,
    message: string,
    details: {
      status: number;
      item?: Item;
      cancellationReasons?: CancellationReason[];
      requestId?: string;
      code?: string;
      mayHaveApplied?: boolean;
      cause?: unknown;
    },
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = name;
    this.status = details.status;
    if (details.item !== undefined) this.item = details.item;
    if (details.cancellationReasons !== undefined) this.cancellationReasons = details.cancellationReasons;
    if (details.requestId !== undefined) this.requestId = details.requestId;
    if (details.code !== undefined) this.code = details.code;
    if (details.mayHaveApplied !== undefined) this.mayHaveApplied = details.mayHaveApplied;
  }
}

/** The DynamoDBError of this name, if `error` is one. */
export function dynamoError(error: unknown, name: string): DynamoDBError | undefined {
  return error instanceof DynamoDBError && error.name === name ? error : undefined;
}

/**
 * The error in a non-2xx answer. The exception name comes from `__type`
 * (`com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException`) or, failing that, from the
 * `x-amzn-ErrorType` header (`ConditionalCheckFailedException:http://...`).
 */
export function parseErrorResponse(
  status: number,
  body: string,
  headers: Record<string, string | string[] | undefined> = {},
): DynamoDBError {
  let parsed: Record<string, unknown> = {};
  try {
    const value: unknown = JSON.parse(body);
    if (value && typeof value === "object") parsed = value as Record<string, unknown>;
  } catch {
    // Not JSON (a proxy's or load balancer's page): the status says enough.
  }
  const header = (name: string) => {
    const value = headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const type = typeof parsed.__type === "string" ? parsed.__type : (header("x-amzn-errortype")?.split(":")[0] ?? "");
  const name = type.slice(type.lastIndexOf("#") + 1) || `HttpError${status}`;
  const text = [parsed.message, parsed.Message].find((m): m is string => typeof m === "string");
  return new DynamoDBError(name, text ?? (body.length > 0 && body.length < 300 ? body : `HTTP ${status}`), {
    status,
    item: isObject(parsed.Item) ? (parsed.Item as Item) : undefined,
    cancellationReasons: Array.isArray(parsed.CancellationReasons) ? (parsed.CancellationReasons as CancellationReason[]) : undefined,
    requestId: header("x-amzn-requestid"),
  });
}

function isObject(value: unknown): value is object {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// ---- Signature Version 4 ---------------------------------------------------------------------

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SignInput {
  method: string;
  /** The Host header: hostname, plus `:port` when not the scheme's default. */
  host: string;
  /** The path as sent (percent-encoded), e.g. `/`. */
  path: string;
  /** Query parameters, not encoded. */
  query?: readonly (readonly [string, string])[];
  /** Headers to send and sign besides host, x-amz-date and x-amz-security-token. */
  headers: Record<string, string>;
  /** Hex SHA-256 of the body. */
  payloadHash: string;
  service: string;
  region: string;
  credentials: Credentials;
  date: Date;
}

export interface SignedRequest {
  /** Every header to send, lower-case, Authorization included. */
  headers: Record<string, string>;
  canonicalRequest: string;
  stringToSign: string;
  signature: string;
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

function hmac(key: string | Uint8Array, data: string): Buffer {
  return createHmac("sha256", key).update(data, "utf8").digest();
}

/** RFC 3986 unreserved characters stay, everything else is %XX with upper-case hex. */
function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

// One entry suffices: a process signs with one secret for one region, and the key changes daily.
let cachedKey: { id: string; key: Buffer } | undefined;

/** kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request"). */
export function signingKey(secretAccessKey: string, dateStamp: string, region: string, service: string): Buffer {
  const id = `${secretAccessKey}\n${dateStamp}\n${region}\n${service}`;
  if (cachedKey?.id !== id) {
    const kDate = hmac(`AWS4${secretAccessKey}`, dateStamp);
    cachedKey = { id, key: hmac(hmac(hmac(kDate, region), service), "aws4_request") };
  }
  return cachedKey.key;
}

/** Signs a request with SigV4 in the Authorization header. */
export function signRequest(input: SignInput): SignedRequest {
  const amzDate = input.date.toISOString().replace(/\.\d{3}Z$/, "Z").replace(/[-:]/g, "");
  const dateStamp = amzDate.slice(0, 8);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(input.headers)) headers[name.toLowerCase()] = value;
  headers.host = input.host;
  headers["x-amz-date"] = amzDate;
  if (input.credentials.sessionToken) headers["x-amz-security-token"] = input.credentials.sessionToken;

  const names = Object.keys(headers).sort();
  const signedHeaders = names.join(";");
  const canonicalHeaders = names.map((name) => `${name}:${headers[name]!.trim().replace(/\s+/g, " ")}\n`).join("");
  // Non-S3 services sign each path segment encoded once more than it is sent.
  const canonicalUri = input.path === "" ? "/" : input.path.split("/").map(uriEncode).join("/");
  const canonicalQuery = (input.query ?? [])
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  const canonicalRequest = [
    input.method.toUpperCase(),
    canonicalUri,
    canonicalQuery,
    canonicalHeaders,
    signedHeaders,
    input.payloadHash,
  ].join("\n");

  const scope = `${dateStamp}/${input.region}/${input.service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256Hex(canonicalRequest)].join("\n");
  const signature = createHmac("sha256", signingKey(input.credentials.secretAccessKey, dateStamp, input.region, input.service))
    .update(stringToSign, "utf8")
    .digest("hex");
  headers.authorization =
    `AWS4-HMAC-SHA256 Credential=${input.credentials.accessKeyId}/${scope}, ` +
    `SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return { headers, canonicalRequest, stringToSign, signature };
}

// ---- The client ------------------------------------------------------------------------------

export type CredentialSource = Credentials | (() => Credentials | Promise<Credentials>);

export interface DynamoDBHttpClientOptions {
  /** Default `https://dynamodb.<region>.amazonaws.com`. */
  endpoint?: string;
  /** Default AWS_REGION, then AWS_DEFAULT_REGION. */
  region?: string;
  /** Default: the Lambda environment's AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN. */
  credentials?: CredentialSource;
  /** Sockets kept per client; the store fans out up to `shards` queries at once. Default 64. */
  maxSockets?: number;
  /** Attempts per call, the first included. Default 4. */
  maxAttempts?: number;
  /** Backoff base; the n-th retry waits a random time below base × 2^(n-1), capped. Default 50 ms. */
  retryBaseMs?: number;
  /** Per-attempt deadline for the whole exchange; none by default (Lambda's timeout bounds it). */
  timeoutMs?: number;
  /** Called once per `call`, before the first attempt (counting calls in tests and benchmarks). */
  onCall?: CallListener;
}

export type CallListener = (operation: Operation, input: object) => void;

const Service = "dynamodb";
const TargetPrefix = "DynamoDB_20120810.";
const MaxDelayMs = 2_000;
/** Throttling waits longer than other transient failures: the capacity needs time to come back. */
const ThrottleFactor = 4;

const ThrottlingErrors = new Set([
  "ThrottlingException",
  "ProvisionedThroughputExceededException",
  "RequestLimitExceeded",
  "TooManyRequestsException",
  "Throttling",
]);
const TransientErrors = new Set(["InternalServerError", "InternalFailure", "ServiceUnavailable"]);
const ClockSkewErrors = new Set(["InvalidSignatureException", "RequestExpired", "RequestTimeTooSkewed", "SignatureDoesNotMatch"]);
/** Repeating these cannot change what the first attempt did (TransactWriteItems: by its ClientRequestToken). */
const IdempotentOperations = new Set<Operation>(["GetItem", "Query", "DescribeTable", "DescribeTimeToLive", "TransactWriteItems"]);
/** Failures before a connection exists: the request never left. */
const ConnectErrors = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ENETUNREACH", "EHOSTUNREACH", "ENETDOWN", "EHOSTDOWN"]);

type Attempt =
  | { ok: true; output: unknown }
  | { ok: false; error: DynamoDBError; retry: "throttle" | "transient" | "now" | undefined };

function credentialsFromEnv(): Credentials {
  const accessKeyId = process.env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = process.env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) {
    throw new Error("no AWS credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set");
  }
  const sessionToken = process.env.AWS_SESSION_TOKEN;
  return sessionToken ? { accessKeyId, secretAccessKey, sessionToken } : { accessKeyId, secretAccessKey };
}

export function defaultEndpoint(region: string): string {
  return `https://dynamodb.${region}.${region.startsWith("cn-") ? "amazonaws.com.cn" : "amazonaws.com"}`;
}

export class DynamoDBHttpClient implements DynamoDBCaller {
  readonly endpoint: string;
  readonly region: string;
  /** Settable after construction; wrap the previous one to chain. */
  onCall?: CallListener;
  /** The parts of the endpoint a request needs. */
  private readonly target: { protocol: string; host: string; hostname: string; port: string; path: string };
  private readonly secure: boolean;
  private readonly agent: HttpAgent;
  private readonly credentials: CredentialSource;
  private readonly maxAttempts: number;
  private readonly retryBaseMs: number;
  private readonly timeoutMs: number | undefined;
  /** Server time minus ours, learnt from a signature rejected as expired. */
  private clockOffsetMs = 0;

  constructor(options: DynamoDBHttpClientOptions = {}) {
    const region = options.region ?? (process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION);
    if (!region) throw new Error("DynamoDB client: no region (set AWS_REGION or pass region)");
    this.region = region;
    this.endpoint = options.endpoint ?? defaultEndpoint(region);
    const url = new URL(this.endpoint);
    this.target = {
      protocol: url.protocol,
      host: url.host,
      hostname: url.hostname.replace(/^\[(.*)\]$/, "$1"),
      port: url.port,
      path: url.pathname,
    };
    this.secure = url.protocol === "https:";
    if (!this.secure && url.protocol !== "http:") throw new Error(`DynamoDB client: unsupported endpoint ${this.endpoint}`);
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 64 };
    this.agent = this.secure ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
    this.credentials = options.credentials ?? credentialsFromEnv;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 4);
    this.retryBaseMs = options.retryBaseMs ?? 50;
    this.timeoutMs = options.timeoutMs;
    if (options.onCall) this.onCall = options.onCall;
  }

  async call<Op extends Operation>(operation: Op, input: OperationInput<Op>): Promise<OperationOutput<Op>> {
    this.onCall?.(operation, input);
    const body =
      operation === "TransactWriteItems" && !(input as TransactWriteItemsInput).ClientRequestToken
        ? { ...input, ClientRequestToken: randomUUID() }
        : input;
    const payload = Buffer.from(JSON.stringify(body), "utf8");
    const payloadHash = sha256Hex(payload);
    for (let attempt = 1; ; attempt++) {
      const result = await this.attempt(operation, payload, payloadHash);
      if (result.ok) return result.output as OperationOutput<Op>;
      if (!result.retry || attempt >= this.maxAttempts) throw result.error;
      if (result.retry !== "now") {
        const base = this.retryBaseMs * (result.retry === "throttle" ? ThrottleFactor : 1);
        await new Promise((r) => setTimeout(r, Math.random() * Math.min(MaxDelayMs, base * 2 ** (attempt - 1))));
      }
    }
  }

  /** Closes the kept-alive sockets. */
  destroy(): void {
    this.agent.destroy();
  }

  private async attempt(operation: Operation, payload: Buffer, payloadHash: string): Promise<Attempt> {
    const credentials = typeof this.credentials === "function" ? await this.credentials() : this.credentials;
    const signed = signRequest({
      method: "POST",
      host: this.target.host,
      path: this.target.path,
      headers: {
        "content-type": "application/x-amz-json-1.0",
        "x-amz-target": TargetPrefix + operation,
      },
      payloadHash,
      service: Service,
      region: this.region,
      credentials,
      date: new Date(Date.now() + this.clockOffsetMs),
    });
    signed.headers["content-length"] = String(payload.byteLength);

    return new Promise<Attempt>((resolve) => {
      let settled = false;
      let connected = false;
      let answered = false;
      let deadline: ReturnType<typeof setTimeout> | undefined;
      const settle = (result: Attempt) => {
        if (!settled) {
          settled = true;
          clearTimeout(deadline);
          resolve(result);
        }
      };
      const failWithoutAnswer = (error: Error & { code?: string }, req: ClientRequest) => {
        const code = error.code;
        // A reset on a reused keep-alive socket before any answer: the peer had closed it while it
        // sat idle (or the Lambda sandbox was frozen), so nothing was read from it.
        const staleSocket = req.reusedSocket && !answered && (code === "ECONNRESET" || code === "EPIPE");
        const sent = connected && !staleSocket && !(code !== undefined && ConnectErrors.has(code));
        const retry = !sent || IdempotentOperations.has(operation) ? "transient" : undefined;
        const message = `${operation}: ${error.message}${sent && retry === undefined ? " (the request was sent and may have been applied)" : ""}`;
        settle({
          ok: false,
          error: new DynamoDBError("NetworkError", message, { status: 0, code, mayHaveApplied: sent, cause: error }),
          retry,
        });
      };

      const send = this.secure ? httpsRequest : httpRequest;
      const req: ClientRequest = send(
        {
          protocol: this.target.protocol,
          hostname: this.target.hostname,
          port: this.target.port || undefined,
          path: this.target.path,
          method: "POST",
          agent: this.agent,
          headers: signed.headers,
        },
        (res: IncomingMessage) => {
          answered = true;
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("error", (error) => failWithoutAnswer(error, req));
          res.on("close", () => {
            if (!res.complete) failWithoutAnswer(Object.assign(new Error("response cut short"), { code: "ECONNRESET" }), req);
          });
          res.on("end", () => settle(this.answer(operation, res, Buffer.concat(chunks).toString("utf8"))));
        },
      );
      req.on("socket", (socket: Socket) => {
        if (!socket.connecting) connected = true;
        else socket.once(this.secure ? "secureConnect" : "connect", () => (connected = true));
      });
      req.on("error", (error) => failWithoutAnswer(error, req));
      if (this.timeoutMs !== undefined) {
        deadline = setTimeout(() => {
          const error = Object.assign(new Error(`no complete answer within ${this.timeoutMs} ms`), { code: "ETIMEDOUT" });
          failWithoutAnswer(error, req);
          req.destroy(error);
        }, this.timeoutMs);
      }
      req.end(payload);
    });
  }

  private answer(operation: Operation, res: IncomingMessage, body: string): Attempt {
    const status = res.statusCode ?? 0;
    if (status >= 200 && status < 300) {
      try {
        return { ok: true, output: body.length > 0 ? JSON.parse(body) : {} };
      } catch (cause) {
        const error = new DynamoDBError("InvalidResponse", `${operation}: the answer is not JSON`, { status, cause });
        return { ok: false, error, retry: IdempotentOperations.has(operation) ? "transient" : undefined };
      }
    }
    const error = parseErrorResponse(status, body, res.headers);
    if (ThrottlingErrors.has(error.name)) return { ok: false, error, retry: "throttle" };
    if (TransientErrors.has(error.name) || status >= 500) return { ok: false, error, retry: "transient" };
    // The token this client set is still being worked on by the first attempt.
    if (error.name === "TransactionInProgressException") return { ok: false, error, retry: "transient" };
    if (ClockSkewErrors.has(error.name) && this.learnClockOffset(res.headers.date)) return { ok: false, error, retry: "now" };
    return { ok: false, error, retry: undefined };
  }

  /** True when the server's clock is far enough from ours to explain a rejected signature. */
  private learnClockOffset(serverDate: string | undefined): boolean {
    const serverMs = serverDate ? Date.parse(serverDate) : NaN;
    if (Number.isNaN(serverMs)) return false;
    const offset = serverMs - Date.now();
    if (Math.abs(offset - this.clockOffsetMs) < 60_000) return false;
    this.clockOffsetMs = offset;
    return true;
  }
}
