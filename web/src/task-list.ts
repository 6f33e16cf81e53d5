/** A list of tasks, in the order the API gives, with loading and empty states and "Load more". */
import { STATUSES, type Task, type TaskPage } from "./api";
import { Notice, button, h, whileBusy } from "./dom";
import { dueCue, planningLine } from "./planning";

interface ListOptions {
  /** The sentence shown when there is nothing to list. */
  empty(): string;
  load(nextToken?: string): Promise<TaskPage>;
  /** Buttons for one task; none for a read-only list. */
  actions(task: Task): HTMLElement[];
  /** A line more about a task (a project task's assignee), if any. */
  details?(task: Task): HTMLElement | null;
  label: string;
}

export class TaskList {
  readonly element = h("div", { class: "task-list" });
  readonly notice = new Notice();
  private readonly items = h("ul", { class: "tasks" });
  private readonly more = button("Load more");
  private readonly emptyState = h("p", { class: "empty" });
  private nextToken: string | undefined;
  /** Bumped on every reload, so a slow older answer never lands in a newer list. */
  private generation = 0;

  constructor(private readonly options: ListOptions) {
    this.items.setAttribute("aria-label", options.label);
    this.more.addEventListener("click", () => void this.page(this.generation));
    this.element.append(this.notice.element, this.items, this.emptyState, this.more);
  }

  reload(): void {
    this.generation += 1;
    this.nextToken = undefined;
    this.items.replaceChildren();
    this.update();
    this.emptyState.hidden = true;
    void this.page(this.generation);
  }

  added(task: Task, matches: boolean): void {
    // Announced twice (the answer to this tab's create and its live event): once is shown.
    if (this.find(task.task_id)) return this.replaced(task, matches);
    // Oldest first: a new task belongs at the end, once every older page is shown.
    if (matches && this.nextToken === undefined) this.items.append(this.item(task));
    this.update();
  }

  replaced(task: Task, matches: boolean): void {
    const current = this.find(task.task_id);
    if (!current) return;
    if (matches) current.replaceWith(this.item(task));
    else current.remove();
    this.update();
  }

  removed(id: string): void {
    this.find(id)?.remove();
    this.update();
  }

  private async page(generation: number): Promise<void> {
    await whileBusy(this.element, this.notice, "Loading tasks…", async () => {
      const page = await this.options.load(this.nextToken);
      if (generation !== this.generation) return;
      this.items.append(...page.tasks.map((task) => this.item(task)));
      this.nextToken = page.next_token ?? undefined;
      this.update();
    });
  }

  private update(): void {
    this.more.hidden = this.nextToken === undefined;
    const empty = this.items.children.length === 0 && this.nextToken === undefined;
    this.emptyState.hidden = !empty;
    this.emptyState.textContent = empty ? this.options.empty() : "";
  }

  private find(id: string): HTMLElement | null {
    return this.items.querySelector<HTMLElement>(`li[data-id="${CSS.escape(id)}"]`);
  }

  private item(task: Task): HTMLLIElement {
    const status = STATUSES.find((s) => s.value === task.status)?.label ?? task.status;
    const actions = this.options.actions(task);
    const cue = dueCue(task);
    return h(
      "li",
      { class: cue ? `task task-${cue}` : "task", "data-id": task.task_id },
      h("h3", { class: "task-title" }, task.title),
      h("p", { class: `status status-${task.status}` }, status),
      planningLine(task),
      task.description ? h("p", { class: "description" }, task.description) : null,
      this.options.details?.(task) ?? null,
      h("p", { class: "meta" }, "Created ", h("time", { datetime: task.created_at }, formatTime(task.created_at))),
      actions.length ? h("div", { class: "actions" }, ...actions) : null,
    );
  }
}

function formatTime(timestamp: string): string {
  const date = new Date(timestamp);
  return Number.isNaN(date.getTime()) ? timestamp : date.toLocaleString();
}
