// The BBS error catalogue of cloudfoundry/bbs 0344309c. The type string is what goes on the wire
// (Error.type was still a string then), so it is the discriminant here too.

export const ErrorType = {
  UnknownError: "UnknownError",
  InvalidDomain: "InvalidDomain",
  InvalidRecord: "InvalidRecord",
  InvalidRequest: "InvalidRequest",
  InvalidResponse: "InvalidResponse",
  InvalidProtobufMessage: "InvalidProtobufMessage",
  InvalidJSON: "InvalidJSON",
  InvalidStateTransition: "InvalidStateTransition",
  Unauthorized: "Unauthorized",
  ResourceConflict: "ResourceConflict",
  ResourceExists: "ResourceExists",
  ResourceNotFound: "ResourceNotFound",
  RouterError: "RouterError",
  ActualLRPCannotBeClaimed: "ActualLRPCannotBeClaimed",
  ActualLRPCannotBeStarted: "ActualLRPCannotBeStarted",
  ActualLRPCannotBeCrashed: "ActualLRPCannotBeCrashed",
  ActualLRPCannotBeFailed: "ActualLRPCannotBeFailed",
  ActualLRPCannotBeRemoved: "ActualLRPCannotBeRemoved",
  ActualLRPCannotBeStopped: "ActualLRPCannotBeStopped",
  ActualLRPCannotBeUnclaimed: "ActualLRPCannotBeUnclaimed",
  ActualLRPCannotBeEvacuated: "ActualLRPCannotBeEvacuated",
  DesiredLRPCannotBeUpdated: "DesiredLRPCannotBeUpdated",
  RunningOnDifferentCell: "RunningOnDifferentCell",
} as const;

export type ErrorType = (typeof ErrorType)[keyof typeof ErrorType];

export class BbsError extends Error {
  override name = "BbsError";
  constructor(readonly type: ErrorType, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

const fixed = (type: ErrorType, message: string) => (cause?: unknown) => new BbsError(type, message, { cause });

export const unknownError = fixed(ErrorType.UnknownError, "the request failed for an unknown reason");
export const badRequest = fixed(ErrorType.InvalidRequest, "the request received is invalid");
export const resourceConflict = fixed(ErrorType.ResourceConflict, "the requested resource is in a conflicting state");
export const resourceExists = fixed(ErrorType.ResourceExists, "the requested resource already exists");
export const resourceNotFound = fixed(ErrorType.ResourceNotFound, "the requested resource could not be found");
export const serializeJSONError = fixed(ErrorType.InvalidJSON, "could not serialize JSON");
export const deserializeJSONError = fixed(ErrorType.InvalidJSON, "could not deserialize JSON");
export const actualLRPCannotBeClaimed = fixed(ErrorType.ActualLRPCannotBeClaimed, "cannot claim actual LRP");
export const actualLRPCannotBeStarted = fixed(ErrorType.ActualLRPCannotBeStarted, "cannot start actual LRP");
export const actualLRPCannotBeCrashed = fixed(ErrorType.ActualLRPCannotBeCrashed, "cannot crash actual LRP");
export const actualLRPCannotBeFailed = fixed(ErrorType.ActualLRPCannotBeFailed, "cannot fail actual LRP");
export const actualLRPCannotBeRemoved = fixed(ErrorType.ActualLRPCannotBeRemoved, "cannot remove actual LRP");
export const actualLRPCannotBeStopped = fixed(ErrorType.ActualLRPCannotBeStopped, "cannot stop actual LRP");
export const actualLRPCannotBeUnclaimed = fixed(ErrorType.ActualLRPCannotBeUnclaimed, "cannot unclaim actual LRP");
export const actualLRPCannotBeEvacuated = fixed(ErrorType.ActualLRPCannotBeEvacuated, "cannot evacuate actual LRP");
export const desiredLRPCannotBeUpdated = fixed(ErrorType.DesiredLRPCannotBeUpdated, "cannot update desired LRP");

export const invalidRequest = (message: string) => new BbsError(ErrorType.InvalidRequest, message);
export const invalidRecord = (message: string) => new BbsError(ErrorType.InvalidRecord, message);

export const taskTransitionError = (from: string, to: string) =>
  new BbsError(ErrorType.InvalidStateTransition, `Cannot transition from ${from} to ${to}`);

/** The original puts the actual cell first: "Running on cell <actual> not <expected>". */
export const runningOnDifferentCellError = (expected: string, actual: string) =>
  new BbsError(ErrorType.RunningOnDifferentCell, `Running on cell ${actual} not ${expected}`);

export function isBbsError(error: unknown): error is BbsError {
  return error instanceof BbsError;
}
