/**
 * Limits that refuse abusive documents before execution, in time linear in the
 * document's size: depth, aliases and directives through graphql-armor's rules,
 * tokens while parsing (graphql-js stops lexing at the limit), and a cost rule
 * of our own that knows our page sizes. Every violation answers
 * GRAPHQL_VALIDATION_FAILED with `extensions.limit` and `extensions.max`.
 */
import { maxAliasesRule } from "@escape.tech/graphql-armor-max-aliases";
import { maxDepthRule } from "@escape.tech/graphql-armor-max-depth";
import { maxDirectivesRule } from "@escape.tech/graphql-armor-max-directives";
import {
  GraphQLError,
  Kind,
  type ASTNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type ParseOptions,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from "graphql";
import type { DocumentLimits } from "../../config/config";
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from "../../shared/page";
import { ErrorCode } from "../../error-codes";

export type LimitName = "depth" | "aliases" | "cost" | "tokens" | "directives";

export function documentLimitError(limit: LimitName, max: number, nodes?: readonly ASTNode[]): GraphQLError {
  return new GraphQLError(`Document exceeds the ${limit} limit of ${max}`, {
    nodes,
    extensions: { code: ErrorCode.GRAPHQL_VALIDATION_FAILED, limit, max },
  });
}

/** Given to graphql-js's parser: lexing stops at the limit, so a huge document costs no more than the limit. */
export function documentParseOptions(limits: DocumentLimits): ParseOptions {
  return { maxTokens: limits.maxTokens, noLocation: false };
}

/**
 * graphql-js reports its token limit as a syntax error (spelt "more that" in
 * graphql 16); this turns it into the
 * same limit error as the other limits, whichever transport parsed it.
 */
export function asTokenLimitError(error: GraphQLError, limits: DocumentLimits): GraphQLError | undefined {
  return /^Syntax Error: Document contains more th(?:an|at) \d+ tokens/.test(error.message)
    ? documentLimitError("tokens", limits.maxTokens)
    : undefined;
}

export function documentLimitRules(limits: DocumentLimits): ValidationRule[] {
  // graphql-armor throws from the visitor by default, which aborts validation with an
  // unexpected error; reporting through the context keeps it a validation error.
  const reportAs =
    (limit: LimitName, max: number) =>
    (context: ValidationContext | null): void =>
      context?.reportError(documentLimitError(limit, max));
  const common = { propagateOnRejection: false, exposeLimits: true };
  return [
    maxDepthRule({
      ...common,
      n: limits.maxDepth,
      // Fragments count as the fields they hold, and introspection is no exception.
      flattenFragments: true,
      ignoreIntrospection: false,
      onReject: [reportAs("depth", limits.maxDepth)],
    }),
    maxAliasesRule({ ...common, n: limits.maxAliases, onReject: [reportAs("aliases", limits.maxAliases)] }),
    maxDirectivesRule({ ...common, n: limits.maxDirectives, onReject: [reportAs("directives", limits.maxDirectives)] }),
    (context) => costVisitor(context, limits.maxCost),
  ];
}

/** Connection fields: their cost scales with the page even when `first` is omitted. */
const PAGINATED_FIELDS = new Set(["todos", "todoEvents"]);
const PAGE_SIZE_ARGUMENT = "first";

/**
 * Cost = fields, where a field with a selection costs 1 plus its page size
 * times what it selects. graphql-armor's cost rule is not used: it counts a
 * `first: $n` variable and an omitted `first` as a page of 1, so a nested
 * `todos(first: $n)` would pass at a hundredth of its real cost.
 *
 * A fragment's cost does not depend on where it is spread, so each is measured
 * once and reused: a document whose fragments spread each other twice over
 * costs 2^levels but takes time proportional to its length.
 */
function costVisitor(context: ValidationContext, maxCost: number) {
  const fragmentCosts = new Map<string, number>();
  const inProgress = new Set<string>();

  const fragmentCost = (fragment: FragmentDefinitionNode): number => {
    const name = fragment.name.value;
    const known = fragmentCosts.get(name);
    if (known !== undefined) return known;
    // A cycle is reported by graphql's own NoFragmentCyclesRule; count it as free here.
    if (inProgress.has(name)) return 0;
    inProgress.add(name);
    const cost = selectionCost(fragment.selectionSet);
    inProgress.delete(name);
    fragmentCosts.set(name, cost);
    return cost;
  };

  const selectionCost = (selectionSet: SelectionSetNode): number => {
    let total = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) total += fieldCost(selection);
      else if (selection.kind === Kind.INLINE_FRAGMENT) total += selectionCost(selection.selectionSet);
      else {
        const fragment = context.getFragment(selection.name.value);
        // Unknown fragments are reported by graphql's own rules.
        if (fragment !== undefined && fragment !== null) total += fragmentCost(fragment);
      }
    }
    return total;
  };

  const fieldCost = (field: FieldNode): number =>
    field.selectionSet === undefined ? 1 : 1 + pageSize(field) * selectionCost(field.selectionSet);

  return {
    OperationDefinition(operation: { selectionSet: SelectionSetNode } & ASTNode) {
      if (selectionCost(operation.selectionSet) > maxCost)
        context.reportError(documentLimitError("cost", maxCost, [operation]));
    },
  };
}

/** A literal `first` counts as given, a variable as the largest page, an omitted one as the default page. */
function pageSize(field: FieldNode): number {
  const first = field.arguments?.find((argument) => argument.name.value === PAGE_SIZE_ARGUMENT);
  if (first === undefined) return PAGINATED_FIELDS.has(field.name.value) ? DEFAULT_PAGE_SIZE : 1;
  return first.value.kind === Kind.INT ? Math.max(1, Number(first.value.value)) : MAX_PAGE_SIZE;
}
