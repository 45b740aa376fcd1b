import { Arg, Authorized, Ctx, Int, Mutation, Query, Resolver } from "type-graphql";
import { authenticatedUser, type GraphQLContext } from "../context";
import { connectionOf, decodeCursor, type Connection } from "../pagination";
import { CreateTodoInput, TodoFilter, UpdateTodoInput } from "./todo.inputs";
import { DeleteTodoPayload, Todo, TodoConnection } from "./todo.type";

const CURSOR_KIND = "todo";

@Authorized()
@Resolver(() => Todo)
export class TodoResolver {
  @Query(() => Todo, { nullable: true, description: "One of the caller's todos; NOT_FOUND for any other id." })
  todo(@Arg("id", () => Int) id: number, @Ctx() context: GraphQLContext): Promise<Todo> {
    return context.services.todos.get(authenticatedUser(context), id);
  }

  @Query(() => TodoConnection, { description: "The caller's todos, newest first." })
  async todos(
    @Ctx() context: GraphQLContext,
    @Arg("after", () => String, { nullable: true }) after?: string | null,
    @Arg("first", () => Int, { nullable: true, description: "1–100, default 20." }) first?: number | null,
    @Arg("filter", () => TodoFilter, { nullable: true }) filter?: TodoFilter | null,
  ): Promise<Connection<Todo>> {
    const page = await context.services.todos.list(authenticatedUser(context), {
      completed: filter?.completed,
      search: filter?.search,
      first,
      afterId: decodeCursor(CURSOR_KIND, after),
    });
    return connectionOf(
      CURSOR_KIND,
      page,
      (todo) => todo.id,
      (todo) => todo,
    );
  }

  @Mutation(() => Todo, { description: "Creates a todo and emits task_created." })
  createTodo(
    @Arg("input", () => CreateTodoInput) input: CreateTodoInput,
    @Ctx() context: GraphQLContext,
  ): Promise<Todo> {
    return context.services.todos.create(authenticatedUser(context), input, { traceparent: context.traceparent });
  }

  // Parameter decorators run last-to-first: `input` first emits the contract's order (id, input).
  @Mutation(() => Todo, { description: "Changes the given fields and emits task_updated with what changed." })
  updateTodo(
    @Arg("input", () => UpdateTodoInput) input: UpdateTodoInput,
    @Arg("id", () => Int) id: number,
    @Ctx() context: GraphQLContext,
  ): Promise<Todo> {
    return context.services.todos.update(authenticatedUser(context), id, input, { traceparent: context.traceparent });
  }

  @Mutation(() => Todo, { description: "Marks a todo completed and emits task_completed (once)." })
  completeTodo(@Arg("id", () => Int) id: number, @Ctx() context: GraphQLContext): Promise<Todo> {
    return context.services.todos.complete(authenticatedUser(context), id, { traceparent: context.traceparent });
  }

  @Mutation(() => DeleteTodoPayload, { description: "Deletes a todo and emits task_deleted; its event history stays." })
  async deleteTodo(@Arg("id", () => Int) id: number, @Ctx() context: GraphQLContext): Promise<DeleteTodoPayload> {
    const deleted = await context.services.todos.delete(authenticatedUser(context), id, {
      traceparent: context.traceparent,
    });
    return { success: true, id: deleted.id };
  }
}
