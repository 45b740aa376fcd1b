/** Queries and mutations over HTTP POST, typed by the documents GraphQL Code Generator made. */
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print } from "graphql";

export async function requestGraphQL<TData, TVariables>(
  httpUrl: string,
  token: string,
  document: TypedDocumentNode<TData, TVariables>,
  variables: TVariables,
): Promise<TData> {
  const response = await fetch(httpUrl, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: print(document), variables }),
  });
  const body = (await response.json()) as {
    data?: TData | null;
    errors?: { message: string; extensions?: { code?: string } }[];
  };
  if (body.errors !== undefined || body.data == null) {
    const errors = (body.errors ?? []).map((error) => `${error.extensions?.code ?? "ERROR"}: ${error.message}`);
    throw new Error(`HTTP ${response.status} ${errors.join("; ") || "no data"}`);
  }
  return body.data;
}
