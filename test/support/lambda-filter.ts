// Lambda event filtering (FilterCriteria patterns), written from the AWS documentation rather than
// from our code, for the subset of the grammar a pattern may use here: exact strings and numbers,
// `prefix`, `exists` and `anything-but` (a list of strings). A record passes a filter when it passes
// any of its patterns; a pattern matches when every key in it matches; a key whose pattern value is an
// array matches when the record's value matches any element.
type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function matchesCondition(value: Json | undefined, condition: Json): boolean {
  if (condition !== null && typeof condition === "object" && !Array.isArray(condition)) {
    if ("prefix" in condition) return typeof value === "string" && value.startsWith(String(condition.prefix));
    if ("exists" in condition) return (value !== undefined) === condition.exists;
    if ("anything-but" in condition) {
      const excluded = ([] as Json[]).concat(condition["anything-but"] as Json);
      return value !== undefined && !excluded.includes(value as Json);
    }
    throw new Error(`unsupported filter condition ${JSON.stringify(condition)}`);
  }
  return value === condition;
}

function matchesPattern(record: Json | undefined, pattern: Json): boolean {
  if (Array.isArray(pattern)) {
    const values = Array.isArray(record) ? record : [record];
    return pattern.some((condition) => values.some((v) => matchesCondition(v as Json | undefined, condition)));
  }
  if (pattern === null || typeof pattern !== "object") throw new Error(`pattern leaves must be arrays, got ${JSON.stringify(pattern)}`);
  if (record === null || typeof record !== "object" || Array.isArray(record)) {
    // Only `exists: false` can match below a missing object.
    return Object.values(pattern).every((p) => Array.isArray(p) && p.some((c) => JSON.stringify(c) === '{"exists":false}'));
  }
  return Object.entries(pattern).every(([k, p]) => matchesPattern((record as Record<string, Json>)[k], p));
}

/** Whether Lambda would deliver `record` to a function with these filter patterns. */
export function lambdaFilterPasses(record: unknown, patterns: readonly unknown[]): boolean {
  return patterns.some((p) => matchesPattern(JSON.parse(JSON.stringify(record)) as Json, JSON.parse(JSON.stringify(p)) as Json));
}
