import { Arg, Authorized, Ctx, Int, Query, Resolver } from "type-graphql";
import type { OutboxRecord } from "../../events/outbox.repository";
import { authenticatedUser, type GraphQLContext } from "../context";
import { decodeCursor, encodeCursor, pageInfo } from "../pagination";
import { TodoEventConnection, TodoEventStatus, type TodoEvent } from "./todo-event.type";

const CURSOR_KIND = "event";

@Resolver()
export class TodoEventHistoryResolver {
  @Authorized()
  @Query(() => TodoEventConnection, { description: "The caller's own event history, newest first." })
  async todoEvents(
    @Ctx() context: GraphQLContext,
    @Arg("after", () => String, { nullable: true }) after?: string | null,
    @Arg("first", () => Int, { nullable: true, description: "1–100, default 20." }) first?: number | null,
  ): Promise<TodoEventConnection> {
    const page = await context.services.eventHistory.page(
      authenticatedUser(context),
      first,
      decodeCursor(CURSOR_KIND, after),
    );
    return {
      edges: page.items.map((record) => ({ cursor: encodeCursor(CURSOR_KIND, record.id), node: toTodoEvent(record) })),
      pageInfo: pageInfo(
        CURSOR_KIND,
        page.items.map((record) => record.id),
        page.hasNextPage,
      ),
    };
  }
}

function toTodoEvent(record: OutboxRecord): TodoEvent {
  return {
    eventId: record.event.event_id,
    action: record.event.action,
    taskId: record.event.task_id,
    details: record.event.details,
    occurredAt: new Date(record.event.occurred_at),
    status: record.status === "PUBLISHED" ? TodoEventStatus.PUBLISHED : TodoEventStatus.PENDING,
    attempts: record.attempts,
    lastError: record.lastError,
    publishedAt: record.publishedAt,
  };
}
