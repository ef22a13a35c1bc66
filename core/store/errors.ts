import type { StoreNode } from "./store";

// The three failures etcd reported by code; each carries the current node where one exists, so the
// caller can map it to a BBS error (and often decide what to do next) without a second read.

export class KeyNotFoundError extends Error {
  override name = "KeyNotFoundError";
  readonly code = 100;
  constructor(readonly key: string) {
    super(`key not found: ${key}`);
  }
}

export class CompareFailedError extends Error {
  override name = "CompareFailedError";
  readonly code = 101;
  constructor(readonly key: string, readonly current: StoreNode) {
    super(`compare failed: ${key} is at version ${current.version}`);
  }
}

export class KeyExistsError extends Error {
  override name = "KeyExistsError";
  readonly code = 105;
  constructor(readonly key: string, readonly current: StoreNode) {
    super(`key exists: ${key}`);
  }
}

export type StoreError = KeyNotFoundError | CompareFailedError | KeyExistsError;

export function isStoreError(error: unknown): error is StoreError {
  return error instanceof KeyNotFoundError || error instanceof CompareFailedError || error instanceof KeyExistsError;
}

/**
 * A write whose item would exceed the backend's size limit (DynamoDB: 400 KB, names included). Raised
 * before any call, so the caller gets a clear error instead of a DynamoDB ValidationException.
 */
export class ValueTooLargeError extends Error {
  override name = "ValueTooLargeError";
  constructor(readonly key: string, readonly sizeBytes: number, readonly limitBytes: number) {
    super(`value too large: ${key} would take ${sizeBytes} bytes, the limit is ${limitBytes}`);
  }
}
