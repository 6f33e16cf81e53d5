/**
 * Due dates and priorities on screen: the cue a due date gets ("Overdue", "Due today"),
 * and the conversion between the API's UTC instants and the browser's local
 * `datetime-local` field (the user picks a local time; the API stores the instant).
 */
import { PRIORITIES, type Task } from "./api";
import { h } from "./dom";

/** "overdue" before now (unless done), "today" later today, else nothing. */
export function dueCue(task: Task, now = new Date()): "overdue" | "today" | null {
  if (!task.due_at || task.status === "done") return null;
  const due = new Date(task.due_at);
  if (Number.isNaN(due.getTime())) return null;
  if (due.getTime() < now.getTime()) return "overdue";
  return due.toDateString() === now.toDateString() ? "today" : null;
}

/** The line under a task's title: when it is due (with its cue) and its priority. */
export function planningLine(task: Task): HTMLElement | null {
  const priority = task.priority && task.priority !== "none" ? task.priority : null;
  if (!task.due_at && !priority) return null;
  const cue = dueCue(task);
  const parts: (Node | string)[] = [];
  if (task.due_at) {
    parts.push("Due ", h("time", { datetime: task.due_at }, new Date(task.due_at).toLocaleString()));
    if (cue) parts.push(" ", h("span", { class: `cue cue-${cue}` }, cue === "overdue" ? "Overdue" : "Due today"));
  }
  if (priority) {
    const label = PRIORITIES.find((p) => p.value === priority)?.label ?? priority;
    parts.push(h("span", { class: `priority priority-${priority}` }, `${label} priority`));
  }
  return h("p", { class: "planning" }, ...parts);
}

/** The value of a `datetime-local` field showing `instant` in the browser's time zone. */
export function toLocalInput(instant: string | null): string {
  if (!instant) return "";
  const date = new Date(instant);
  if (Number.isNaN(date.getTime())) return "";
  const pad = (n: number) => String(n).padStart(2, "0");
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}`
  );
}

/** The instant a `datetime-local` value names in the browser's time zone, as RFC 3339. */
export function fromLocalInput(value: string): string | null {
  if (!value) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}
