/** Deeply nested JSON for depth rules: `{ a: { a: ... } }`. */

/** `depth` objects nested in one another, the innermost holding `leaf` under `a` when given. */
export function nestedObjects(depth: number, leaf?: unknown): Record<string, unknown> {
  let value: Record<string, unknown> = leaf === undefined ? {} : { a: leaf };
  for (let level = 1; level < depth; level++) value = { a: value };
  return value;
}

/** The same as JSON text, built without JSON.stringify, which overflows its stack long before 5000 levels. */
export function nestedObjectsJson(depth: number): string {
  return `${'{"a":'.repeat(depth - 1)}{}${"}".repeat(depth - 1)}`;
}
