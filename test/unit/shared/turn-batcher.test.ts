/** What arrives in one turn of the event loop is handed on together after it, in bounded batches. */
import { setImmediate as afterTurn } from "node:timers/promises";
import { TurnBatcher } from "../../../src/shared/turn-batcher";

describe("TurnBatcher", () => {
  it("hands on what arrived in one turn as one batch, once the turn is over", async () => {
    const batches: number[][] = [];
    const batcher = new TurnBatcher<number>(10, (batch) => batches.push(batch));

    batcher.add(1);
    batcher.add(2);
    await Promise.resolve();
    batcher.add(3);
    expect(batches).toEqual([]);

    await afterTurn();
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it("splits a turn that brought more than a batch holds", async () => {
    const batches: number[][] = [];
    const batcher = new TurnBatcher<number>(2, (batch) => batches.push(batch));

    for (const item of [1, 2, 3, 4, 5]) batcher.add(item);
    await afterTurn();

    expect(batches).toEqual([[1, 2], [3, 4], [5]]);
  });

  it("starts a new batch for what arrives after the handed-on one", async () => {
    const batches: number[][] = [];
    const batcher = new TurnBatcher<number>(10, (batch) => batches.push(batch));

    batcher.add(1);
    await afterTurn();
    batcher.add(2);
    await afterTurn();

    expect(batches).toEqual([[1], [2]]);
  });
});
