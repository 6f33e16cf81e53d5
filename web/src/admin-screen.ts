/** The admin view (group `admins`): every user's tasks in one status, from GSI1. */
import { STATUSES, type Status } from "./api";
import { field, h, select } from "./dom";
import type { Shell } from "./shell";
import { TaskList } from "./task-list";

export function showAdmin(shell: Shell): void {
  const filter = select(STATUSES, "pending");
  const list = new TaskList({
    empty: () => "No user has a task with this status.",
    load: (nextToken) => shell.api.listAll(filter.value as Status, nextToken),
    actions: () => [],
    label: "All users' tasks",
  });
  filter.addEventListener("change", () => list.reload());
  shell.mount(
    "All users' tasks",
    h("p", {}, "Every user's tasks in one status, oldest first. Read only."),
    h("div", { class: "filter" }, field("Show", filter)),
    list.element,
  );
  list.reload();
}
