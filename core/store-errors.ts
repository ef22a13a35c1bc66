// The one translation from store failures to BBS errors (the original's ErrorFromEtcdError). Callers
// name the error an operation reports when it loses a race; everything unexpected is UnknownError.
import { BbsError, resourceConflict, resourceExists, resourceNotFound, unknownError } from "./models/errors";
import { CompareFailedError, KeyExistsError, KeyNotFoundError } from "./store/errors";

export interface StoreErrorMapping {
  notFound?: () => BbsError;
  exists?: () => BbsError;
  compareFailed?: () => BbsError;
}

export function bbsErrorFromStore(error: unknown, mapping: StoreErrorMapping = {}): BbsError {
  if (error instanceof BbsError) return error;
  if (error instanceof KeyNotFoundError) return (mapping.notFound ?? resourceNotFound)();
  if (error instanceof KeyExistsError) return (mapping.exists ?? resourceExists)();
  if (error instanceof CompareFailedError) return (mapping.compareFailed ?? resourceConflict)();
  return unknownError(error);
}
