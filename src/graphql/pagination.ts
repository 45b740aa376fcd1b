/** Relay-style cursors: opaque to clients, an id underneath. */
import { Field, ObjectType } from "type-graphql";
import { InvalidInputError } from "../app-error";

@ObjectType()
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true, description: "Pass as `after` to get the next page." })
  endCursor!: string | null;
}

export function encodeCursor(kind: string, id: number): string {
  return Buffer.from(`${kind}:${id}`, "utf8").toString("base64url");
}

/** The id inside a cursor of this kind; anything else is BAD_USER_INPUT naming `after`. */
export function decodeCursor(kind: string, cursor: string | null | undefined): number | undefined {
  if (cursor === null || cursor === undefined) return undefined;
  const match = new RegExp(`^${kind}:(\\d{1,15})$`).exec(Buffer.from(cursor, "base64url").toString("utf8"));
  if (match === null) throw new InvalidInputError("after", "is not a valid cursor");
  return Number(match[1]);
}

export function pageInfo(kind: string, ids: readonly number[], hasNextPage: boolean): PageInfo {
  return { hasNextPage, endCursor: ids.length === 0 ? null : encodeCursor(kind, ids[ids.length - 1]) };
}
