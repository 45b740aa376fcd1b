/**
 * Validation rules that refuse abusive documents before execution: too deep,
 * too many aliases/fields, or too costly (list fields multiply by their page
 * size). Violations answer GRAPHQL_VALIDATION_FAILED with `extensions.limit`
 * naming the limit, so clients can tell them from typos.
 */
import {
  GraphQLError,
  Kind,
  type ASTVisitor,
  type FieldNode,
  type FragmentDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from "graphql";

export interface QueryLimits {
  readonly maxDepth: number;
  readonly maxAliases: number;
  readonly maxCost: number;
}

export const DEFAULT_QUERY_LIMITS: QueryLimits = { maxDepth: 10, maxAliases: 30, maxCost: 5000 };

/** Page-size arguments that multiply the cost of what is selected below a field. */
const PAGE_SIZE_ARGUMENT = "first";
/** What an omitted page size means (the connections' default) and what a variable might be (their maximum). */
const DEFAULT_PAGE_SIZE = 20;
const MAX_PAGE_SIZE = 100;
/** Connection fields: their cost scales with the page even when `first` is omitted. */
const PAGINATED_FIELDS = new Set(["todos", "todoEvents"]);

export function queryLimitRules(limits: QueryLimits = DEFAULT_QUERY_LIMITS): ValidationRule[] {
  return [(context) => limitVisitor(context, limits)];
}

function limitVisitor(context: ValidationContext, limits: QueryLimits): ASTVisitor {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of context.getDocument().definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }

  return {
    OperationDefinition(operation) {
      const measured = measure(operation.selectionSet, fragments, new Set());
      const violations: [string, number, number][] = [
        ["depth", measured.depth, limits.maxDepth],
        ["aliases", measured.aliases, limits.maxAliases],
        ["cost", measured.cost, limits.maxCost],
      ];
      for (const [limit, value, max] of violations) {
        if (value > max) {
          context.reportError(
            new GraphQLError(`Operation exceeds the ${limit} limit (${value} > ${max})`, {
              nodes: [operation],
              extensions: { limit, value, max },
            }),
          );
        }
      }
    },
  };
}

interface Measure {
  depth: number;
  aliases: number;
  cost: number;
}

function measure(
  selectionSet: SelectionSetNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  visitedFragments: Set<string>,
): Measure {
  const total: Measure = { depth: 0, aliases: 0, cost: 0 };
  for (const selection of selectionSet.selections) {
    let inner: Measure;
    if (selection.kind === Kind.FIELD) {
      inner = measureField(selection, fragments, visitedFragments);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      inner = measure(selection.selectionSet, fragments, visitedFragments);
    } else {
      const fragment = fragments.get(selection.name.value);
      // Unknown or cyclic fragments are reported by graphql's own rules.
      if (fragment === undefined || visitedFragments.has(fragment.name.value)) continue;
      inner = measure(fragment.selectionSet, fragments, new Set([...visitedFragments, fragment.name.value]));
    }
    total.depth = Math.max(total.depth, inner.depth);
    total.aliases += inner.aliases;
    total.cost += inner.cost;
  }
  return total;
}

function measureField(
  field: FieldNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  visitedFragments: Set<string>,
): Measure {
  const aliased = field.alias !== undefined ? 1 : 0;
  if (field.selectionSet === undefined) return { depth: 1, aliases: aliased, cost: 1 };
  const below = measure(field.selectionSet, fragments, visitedFragments);
  return { depth: below.depth + 1, aliases: below.aliases + aliased, cost: 1 + pageSize(field) * below.cost };
}

/** A literal `first` counts as given, a variable as the largest page, an omitted one as the default page. */
function pageSize(field: FieldNode): number {
  const first = field.arguments?.find((argument) => argument.name.value === PAGE_SIZE_ARGUMENT);
  if (first === undefined) return PAGINATED_FIELDS.has(field.name.value) ? DEFAULT_PAGE_SIZE : 1;
  return first.value.kind === Kind.INT ? Math.max(1, Number(first.value.value)) : MAX_PAGE_SIZE;
}
