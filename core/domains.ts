import type { BBSContext } from "./context";
import { unknownError } from "./models/errors";
import { DomainRoot, domainKey, parseKey } from "./store/keys";

const EMPTY = new Uint8Array(0);

/** A domain is fresh while its node lives: its owner re-upserts it to say "my desired state is complete". */
export async function upsertDomain(ctx: BBSContext, domain: string, ttlSeconds: number): Promise<void> {
  try {
    await ctx.store.set(domainKey(domain), EMPTY, { ttlSeconds });
  } catch (error) {
    throw unknownError(error);
  }
}

export async function listDomains(ctx: BBSContext): Promise<string[]> {
  let nodes;
  try {
    nodes = await ctx.store.list(DomainRoot, { recursive: true });
  } catch (error) {
    throw unknownError(error);
  }
  return nodes.flatMap((node) => {
    const parsed = parseKey(node.key);
    return parsed.kind === "domain" ? [parsed.domain] : [];
  });
}

export async function freshDomains(ctx: BBSContext): Promise<Set<string>> {
  return new Set(await listDomains(ctx));
}
