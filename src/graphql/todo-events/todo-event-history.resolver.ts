import { Arg, Authorized, Ctx, Int, Query, Resolver } from "type-graphql";
import { authenticatedUser, type GraphQLContext } from "../context";
import { connectionOf, decodeCursor, type Connection } from "../pagination";
import { todoEventOfRecord } from "./todo-event.mapper";
import { TodoEventConnection, type TodoEvent } from "./todo-event.type";

/**
 * A cursor holds the event's sequence: the history is read by the user's sequence index. Cursors
 * of the earlier kind ("event", an outbox id) are refused as invalid rather than misread.
 */
const CURSOR_KIND = "event-sequence";

@Resolver()
export class TodoEventHistoryResolver {
  @Authorized()
  @Query(() => TodoEventConnection, { description: "The caller's own event history, newest first." })
  async todoEvents(
    @Ctx() context: GraphQLContext,
    @Arg("after", () => String, { nullable: true }) after?: string | null,
    @Arg("first", () => Int, { nullable: true, description: "1–100, default 20." }) first?: number | null,
  ): Promise<Connection<TodoEvent>> {
    const page = await context.services.eventHistory.page(
      authenticatedUser(context),
      first,
      decodeCursor(CURSOR_KIND, after),
    );
    return connectionOf(CURSOR_KIND, page, (record) => record.sequence, todoEventOfRecord);
  }
}
