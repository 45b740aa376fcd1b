/** Relay-style cursors: opaque to clients, a number underneath (a todo's id, an event's sequence). */
import { Field, ObjectType, type ClassType } from "type-graphql";
import { InvalidInputError } from "../app-error";
import type { Page } from "../shared/page";

@ObjectType()
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true, description: "Pass as `after` to get the next page." })
  endCursor!: string | null;
}

export function encodeCursor(kind: string, key: number): string {
  return Buffer.from(`${kind}:${key}`, "utf8").toString("base64url");
}

/** The number inside a cursor of this kind; anything else is BAD_USER_INPUT naming `after`. */
export function decodeCursor(kind: string, cursor: string | null | undefined): number | undefined {
  if (cursor === null || cursor === undefined) return undefined;
  const match = new RegExp(`^${kind}:(\\d{1,15})$`).exec(Buffer.from(cursor, "base64url").toString("utf8"));
  if (match === null) throw new InvalidInputError("after", "is not a valid cursor");
  return Number(match[1]);
}

export function pageInfo(kind: string, keys: readonly number[], hasNextPage: boolean): PageInfo {
  return { hasNextPage, endCursor: keys.length === 0 ? null : encodeCursor(kind, keys[keys.length - 1]) };
}

export interface Edge<TNode> {
  cursor: string;
  node: TNode;
}

export interface Connection<TNode> {
  edges: Edge<TNode>[];
  pageInfo: PageInfo;
}

/** The `<Name>Edge` and `<Name>Connection` object types of one node type. */
export function connectionTypes<TNode extends object>(
  nodeType: ClassType<TNode>,
  name: string,
): ClassType<Connection<TNode>> {
  @ObjectType(`${name}Edge`)
  class EdgeType implements Edge<TNode> {
    @Field(() => String)
    cursor!: string;

    @Field(() => nodeType)
    node!: TNode;
  }

  @ObjectType(`${name}Connection`)
  class ConnectionType implements Connection<TNode> {
    @Field(() => [EdgeType])
    edges!: EdgeType[];

    @Field(() => PageInfo)
    pageInfo!: PageInfo;
  }
  return ConnectionType;
}

/** A page of items as a connection whose cursors hold the number `keyOf` gives each item. */
export function connectionOf<TItem, TNode>(
  kind: string,
  page: Page<TItem>,
  keyOf: (item: TItem) => number,
  nodeOf: (item: TItem) => TNode,
): Connection<TNode> {
  const keys = page.items.map(keyOf);
  return {
    edges: page.items.map((item, index) => ({ cursor: encodeCursor(kind, keys[index]), node: nodeOf(item) })),
    pageInfo: pageInfo(kind, keys, page.hasNextPage),
  };
}
