/**
 * What the database's writes last said about its storage, for /readyz: full from the first
 * write refused for lack of space until a write that adds rows (every mutation appends an
 * event) commits again. Passive on purpose: a probe that writes would itself need the space it
 * looks for.
 */
export type StorageState =
  { readonly state: "ok" } | { readonly state: "full"; readonly since: string; readonly refusedWrites: number };

export class StorageStatus {
  private fullSince: Date | undefined;
  private refusedWrites = 0;

  constructor(private readonly now: () => Date = () => new Date()) {}

  recordStorageFull(): void {
    this.fullSince ??= this.now();
    this.refusedWrites += 1;
  }

  recordRowsAdded(): void {
    this.fullSince = undefined;
    this.refusedWrites = 0;
  }

  read(): StorageState {
    return this.fullSince === undefined
      ? { state: "ok" }
      : { state: "full", since: this.fullSince.toISOString(), refusedWrites: this.refusedWrites };
  }
}
