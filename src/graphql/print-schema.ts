import { printSchema, type GraphQLSchema } from "graphql";

/**
 * SDL in declaration order (not sorted: sorting would reorder arguments away
 * from the contract, e.g. `triggerTodoEvent(taskId, input)`).
 */
export function printGraphQLSchema(schema: GraphQLSchema): string {
  return `# Emitted from the code by \`npm run schema\`; do not edit by hand.\n\n${printSchema(schema)}\n`;
}
