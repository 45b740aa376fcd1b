import { Arg, Authorized, Ctx, Int, Mutation, Resolver } from "type-graphql";
import { authenticatedUser, type GraphQLContext } from "../context";
import { TodoEventInput } from "./todo-event.input";
import { TriggerTodoEventPayload } from "./trigger-todo-event.payload";

@Resolver()
export class TodoEventResolver {
  @Authorized()
  @Mutation(() => TriggerTodoEventPayload, {
    description: "Publishes a todo event for the caller to the todo-events topic, synchronously.",
  })
  // Parameter decorators run last-to-first, so `input` is declared before
  // `taskId` to emit the contract's argument order: (taskId, input).
  async triggerTodoEvent(
    @Arg("input", () => TodoEventInput) input: TodoEventInput,
    @Arg("taskId", () => Int) taskId: number,
    @Ctx() context: GraphQLContext,
  ): Promise<TriggerTodoEventPayload> {
    const { eventId, sequence, replayed } = await context.services.triggers.trigger(
      authenticatedUser(context),
      { taskId, action: input.action, details: input.details, idempotencyKey: input.idempotencyKey },
      // The context itself: its logger is made only if the trigger logs.
      context,
    );
    return {
      success: true,
      message: replayed ? "Event already published (idempotent retry)" : "Event published successfully",
      eventId,
      sequence,
    };
  }
}
