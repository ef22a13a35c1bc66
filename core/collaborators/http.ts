// Outbound HTTP to Diego components (auctioneer, reps, task callbacks): JSON bodies, a communication
// timeout, and success only on the status the original expected.
export class CollaboratorError extends Error {
  override name = "CollaboratorError";
  constructor(message: string, readonly status?: number, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export interface PostOptions {
  timeoutMs: number;
  expectStatus?: number;
}

export async function postJSON(url: string, body: string | undefined, options: PostOptions): Promise<number> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body,
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    await response.arrayBuffer();
  } catch (error) {
    throw new CollaboratorError(`POST ${url} failed: ${(error as Error).message}`, undefined, { cause: error });
  }
  if (options.expectStatus !== undefined && response.status !== options.expectStatus) {
    throw new CollaboratorError(`POST ${url} answered ${response.status}, expected ${options.expectStatus}`, response.status);
  }
  return response.status;
}

export const joinURL = (base: string, path: string) => `${base.replace(/\/+$/, "")}${path}`;
