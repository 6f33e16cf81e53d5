/**
 * Upcoming: the user's open tasks with a due date, their own and those assigned to them in
 * projects, soonest first, straight from `GET /upcoming`. A task marked done here leaves
 * the list, as it leaves the view. Any change to a task reloads it (only the API knows the
 * order and who is assigned what).
 */
import type { Task } from "./api";
import { button, h, whileBusy } from "./dom";
import type { Shell } from "./shell";
import { TaskList } from "./task-list";

export function showUpcoming(shell: Shell): void {
  const list: TaskList = new TaskList({
    empty: () => "Nothing is due. Tasks with a due date that are not done show here, soonest first.",
    load: (nextToken) => shell.api.upcoming(nextToken),
    actions: (task) => [markDone(task)],
    details: (task) => (task.project_id ? h("p", { class: "assignee" }, "Assigned to you in a project") : null),
    label: "Upcoming tasks",
  });

  function markDone(task: Task): HTMLElement {
    const done = button("Mark done", { "aria-label": `Mark done: ${task.title}` });
    done.addEventListener("click", () => {
      const routes = task.project_id ? shell.api.projectTasks(task.project_id) : shell.api.mine;
      void whileBusy(list.element, list.notice, "Saving…", async () => {
        const { task: saved } = await routes.update(task.task_id, { status: "done" }, null);
        list.replaced(saved, false);
        list.notice.info(`Done: “${saved.title}”.`);
      });
    });
    return done;
  }

  shell.mount(
    "Upcoming",
    h("p", {}, "Your open tasks with a due date, and those assigned to you in projects, soonest first."),
    list.element,
  );
  shell.watchLive({
    event: (event) => {
      if (event.type.startsWith("task.")) list.reload();
    },
    resync: () => list.reload(),
  });
  list.reload();
}
