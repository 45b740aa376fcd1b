/**
 * Decides which relay may publish. Several API instances on one PostgreSQL
 * database must not publish a user's events out of order or twice, so only
 * the holder of a session-level advisory lock relays; the others stand by and
 * take over when its connection (and with it the lock) goes away.
 */
import type { Pool, PoolClient } from "pg";

export interface RelayLeadership {
  /** True when this instance may publish now (acquiring or re-checking the lock). */
  acquire(): Promise<boolean>;
  release(): Promise<void>;
}

/** SQLite is embedded in one process: its relay is always the only one. */
export const soleRelay: RelayLeadership = {
  acquire: async () => true,
  release: async () => undefined,
};

/** Arbitrary but fixed: every instance of this application contends for the same lock. */
export const RELAY_LOCK_KEY = 727_100_417;

export class PostgresAdvisoryLeadership implements RelayLeadership {
  private client: PoolClient | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly lockKey: number = RELAY_LOCK_KEY,
  ) {}

  async acquire(): Promise<boolean> {
    if (this.client !== undefined) {
      try {
        // The lock lives as long as this session; a cheap round trip proves the session does.
        await this.client.query("select 1");
        return true;
      } catch {
        this.discardBrokenSession();
      }
    }
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch {
      return false;
    }
    try {
      const result = await client.query<{ locked: boolean }>("select pg_try_advisory_lock($1) as locked", [
        this.lockKey,
      ]);
      if (result.rows[0]?.locked === true) {
        client.on("error", () => this.discardBrokenSession());
        this.client = client;
        return true;
      }
      client.release();
      return false;
    } catch {
      client.release(true);
      return false;
    }
  }

  async release(): Promise<void> {
    const client = this.client;
    if (client === undefined) return;
    this.client = undefined;
    try {
      await client.query("select pg_advisory_unlock($1)", [this.lockKey]);
      client.release();
    } catch {
      client.release(true);
    }
  }

  /** The session holding the lock is gone, and the lock with it: its connection must not be reused. */
  private discardBrokenSession(): void {
    const client = this.client;
    this.client = undefined;
    client?.release(true);
  }
}
