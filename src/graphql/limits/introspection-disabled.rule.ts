/**
 * Refuses `__schema` and `__type` when introspection is off, on every
 * transport. `__typename` stays allowed: clients need it and it reveals nothing.
 */
import { GraphQLError, type ValidationRule } from "graphql";
import { ErrorCode } from "../../error-codes";

const INTROSPECTION_FIELDS = new Set(["__schema", "__type"]);

export const introspectionDisabledRule: ValidationRule = (context) => ({
  Field(node) {
    if (!INTROSPECTION_FIELDS.has(node.name.value)) return;
    context.reportError(
      new GraphQLError("GraphQL introspection is not allowed on this server", {
        nodes: [node],
        extensions: { code: ErrorCode.GRAPHQL_VALIDATION_FAILED },
      }),
    );
  },
});
