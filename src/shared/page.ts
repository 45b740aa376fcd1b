/** Page sizes of every list the API serves (todos, event history), and what a page is. */
import { InvalidInputError } from "../app-error";

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export interface Page<T> {
  readonly items: T[];
  readonly hasNextPage: boolean;
}

/** The page size a client asked for as `first`, or the default; outside 1–100 is BAD_USER_INPUT. */
export function pageSizeOf(first: number | null | undefined): number {
  if (first === null || first === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
    throw new InvalidInputError("first", `must be between 1 and ${MAX_PAGE_SIZE}`);
  }
  return first;
}
