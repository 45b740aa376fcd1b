/**
 * Per-user token buckets, so one user cannot starve the others. Buckets of
 * users who went quiet are forgotten, which bounds the memory used.
 */
export interface RateLimiterOptions {
  readonly requestsPerMinute: number;
  readonly burst: number;
  readonly now?: () => number;
  /** At most this many buckets are kept; idle ones are swept first. */
  readonly maxTrackedUsers?: number;
}

export type RateDecision = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly refillPerMs: number;
  private readonly now: () => number;
  private readonly maxTrackedUsers: number;

  constructor(private readonly options: RateLimiterOptions) {
    this.refillPerMs = options.requestsPerMinute / 60_000;
    this.now = options.now ?? Date.now;
    this.maxTrackedUsers = options.maxTrackedUsers ?? 100_000;
  }

  take(userId: string): RateDecision {
    const now = this.now();
    const bucket = this.buckets.get(userId) ?? { tokens: this.options.burst, updatedAt: now };
    bucket.tokens = Math.min(this.options.burst, bucket.tokens + (now - bucket.updatedAt) * this.refillPerMs);
    bucket.updatedAt = now;
    // Re-insert so the map's order is least recently used first.
    this.buckets.delete(userId);
    this.buckets.set(userId, bucket);
    if (this.buckets.size > this.maxTrackedUsers) this.sweep();
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / this.refillPerMs / 1000)) };
  }

  get trackedUsers(): number {
    return this.buckets.size;
  }

  private sweep(): void {
    for (const userId of this.buckets.keys()) {
      if (this.buckets.size <= this.maxTrackedUsers * 0.9) return;
      this.buckets.delete(userId);
    }
  }
}
