/** The todo model and its rules; each violation names its input field. */
import { InvalidInputError } from "../app-error";

export const PRIORITIES = ["LOW", "MEDIUM", "HIGH"] as const;
export type Priority = (typeof PRIORITIES)[number];

export const MAX_TITLE_LENGTH = 200;
export const MAX_DESCRIPTION_LENGTH = 2000;

export interface Todo {
  readonly id: number;
  readonly userId: string;
  readonly title: string;
  readonly description: string | null;
  readonly completed: boolean;
  readonly priority: Priority;
  readonly dueAt: Date | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface NewTodo {
  readonly title: string;
  readonly description?: string | null;
  readonly priority?: Priority | null;
  readonly dueAt?: Date | null;
}

/** Absent fields stay as they are; `null` clears an optional field. */
export interface TodoPatch {
  readonly title?: string | null;
  readonly description?: string | null;
  readonly priority?: Priority | null;
  readonly dueAt?: Date | null;
  readonly completed?: boolean | null;
}

export function normaliseTitle(title: string | null | undefined, field: string): string {
  const trimmed = (title ?? "").trim();
  if (trimmed.length === 0) throw new InvalidInputError(field, "must not be empty");
  if (trimmed.length > MAX_TITLE_LENGTH)
    throw new InvalidInputError(field, `must be at most ${MAX_TITLE_LENGTH} characters`);
  return trimmed;
}

export function normaliseDescription(description: string | null | undefined, field: string): string | null {
  if (description === null || description === undefined) return null;
  if (description.length > MAX_DESCRIPTION_LENGTH) {
    throw new InvalidInputError(field, `must be at most ${MAX_DESCRIPTION_LENGTH} characters`);
  }
  return description;
}

export function assertValidDueAt(dueAt: Date | null | undefined, field: string): void {
  if (dueAt instanceof Date && Number.isNaN(dueAt.getTime()))
    throw new InvalidInputError(field, "must be a valid date-time");
}
