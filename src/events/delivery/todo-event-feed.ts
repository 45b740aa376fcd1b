/**
 * In-process fan-out of delivered events to live GraphQL subscribers. Each
 * subscriber sees only its own user's events; a subscriber that falls too
 * far behind is ended (it can resubscribe and catch up from `todoEvents`)
 * instead of letting its buffer grow without bound.
 */
import type { TodoEventPayload } from "../todo-event";

export const MAX_BUFFERED_EVENTS = 1000;

export class SubscriberTooSlowError extends Error {
  constructor() {
    super(`subscriber fell more than ${MAX_BUFFERED_EVENTS} events behind`);
    this.name = "SubscriberTooSlowError";
  }
}

class Subscriber implements AsyncIterableIterator<TodoEventPayload> {
  private readonly buffer: TodoEventPayload[] = [];
  private waiting: ((result: IteratorResult<TodoEventPayload>) => void) | undefined;
  private failWaiting: ((error: Error) => void) | undefined;
  private ended = false;
  private failure: Error | undefined;

  constructor(private readonly onEnd: () => void) {}

  push(event: TodoEventPayload): void {
    if (this.ended) return;
    if (this.waiting !== undefined) {
      const resolve = this.waiting;
      this.waiting = this.failWaiting = undefined;
      resolve({ value: event, done: false });
      return;
    }
    if (this.buffer.length >= MAX_BUFFERED_EVENTS) {
      this.fail(new SubscriberTooSlowError());
      return;
    }
    this.buffer.push(event);
  }

  next(): Promise<IteratorResult<TodoEventPayload>> {
    const buffered = this.buffer.shift();
    if (buffered !== undefined) return Promise.resolve({ value: buffered, done: false });
    if (this.failure !== undefined) {
      const failure = this.failure;
      this.failure = undefined;
      return Promise.reject(failure);
    }
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      this.failWaiting = reject;
    });
  }

  return(): Promise<IteratorResult<TodoEventPayload>> {
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.buffer.length = 0;
    this.onEnd();
    const resolve = this.waiting;
    this.waiting = this.failWaiting = undefined;
    resolve?.({ value: undefined, done: true });
  }

  private fail(error: Error): void {
    const reject = this.failWaiting;
    if (reject === undefined) this.failure = error;
    this.end();
    reject?.(error);
  }
}

export class TodoEventFeed {
  private readonly subscribers = new Map<string, Set<Subscriber>>();
  private count = 0;

  subscribe(userId: string): AsyncIterableIterator<TodoEventPayload> {
    const forUser = this.subscribers.get(userId) ?? new Set<Subscriber>();
    this.subscribers.set(userId, forUser);
    const subscriber: Subscriber = new Subscriber(() => {
      forUser.delete(subscriber);
      this.count -= 1;
      if (forUser.size === 0 && this.subscribers.get(userId) === forUser) this.subscribers.delete(userId);
    });
    forUser.add(subscriber);
    this.count += 1;
    return subscriber;
  }

  /** Hands the event to its user's subscribers only; returns how many received it. */
  deliver(event: TodoEventPayload): number {
    const forUser = this.subscribers.get(event.user_id);
    if (forUser === undefined) return 0;
    for (const subscriber of [...forUser]) subscriber.push(event);
    return forUser.size;
  }

  get activeSubscriptions(): number {
    return this.count;
  }

  /** Ends every subscription (shutdown). */
  close(): void {
    for (const forUser of [...this.subscribers.values()]) for (const subscriber of [...forUser]) subscriber.end();
  }
}
