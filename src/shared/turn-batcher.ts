/**
 * Collects what arrives during one turn of the event loop and hands it on once the turn is over,
 * in batches of at most `maxBatch`. The requests read in one turn reach their database write or
 * their mark within that turn's promise chains; run after it (`setImmediate`), one transaction or
 * one statement serves them all.
 */
export class TurnBatcher<T> {
  private waiting: T[] = [];
  private scheduled = false;

  constructor(
    private readonly maxBatch: number,
    private readonly handle: (batch: T[]) => void,
  ) {}

  add(item: T): void {
    this.waiting.push(item);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const all = this.waiting;
      this.waiting = [];
      for (let start = 0; start < all.length; start += this.maxBatch) {
        this.handle(all.slice(start, start + this.maxBatch));
      }
    });
  }
}
