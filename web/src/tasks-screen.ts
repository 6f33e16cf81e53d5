/**
 * A list of tasks, the user's own or a project's: a form that adds a task or edits one (with
 * `If-Match`, and a reload offer on 412; a due date picker and a priority), a status filter
 * and a sort (oldest first or by due date), in a project an assignee picker and "Assigned to
 * me", the list with "Load more", and deletion after a confirmation. A project's viewers get the list without any control that would change it.
 * The list stays live (docs/live.md): tasks created, changed or deleted elsewhere show at
 * once, and the task being edited says when it was changed elsewhere, before a save fails.
 */
import {
  type Member,
  PRIORITIES,
  type Priority,
  type Project,
  STATUSES,
  type Sort,
  type Status,
  type Task,
  type TaskChanges,
  type TaskRoutes,
} from "./api";
import { ApiError } from "./errors";
import type { LiveEvent } from "./live";
import { Notice, button, field, h, input, select, whileBusy } from "./dom";
import { fromLocalInput, toLocalInput } from "./planning";
import type { Shell } from "./shell";
import { TaskList } from "./task-list";

const FILTERS = [{ value: "", label: "All" }, ...STATUSES];
const SORTS: { value: Sort; label: string }[] = [
  { value: "created_at", label: "Oldest first" },
  { value: "due_at", label: "Due date" },
];

/** Whose tasks a screen shows. */
interface TaskScope {
  heading: string;
  routes: TaskRoutes;
  /** In a project: the project (with the user's role) and its members. */
  project?: { project: Project; members: Member[] };
}

export function showTasks(shell: Shell): void {
  showTaskScreen(shell, { heading: "My tasks", routes: shell.api.mine });
}

/** A project's tasks, once its members are known (for the assignee picker). */
export function showProjectTasks(shell: Shell, project: Project): void {
  const notice = new Notice();
  shell.mount(project.name, notice.element);
  void whileBusy(notice.element, notice, "Loading the project…", async () => {
    const members = await shell.api.members(project.project_id);
    showTaskScreen(shell, {
      heading: project.name,
      routes: shell.api.projectTasks(project.project_id),
      project: { project, members },
    });
  });
}

function showTaskScreen(shell: Shell, scope: TaskScope): void {
  const notice = new Notice();
  const filter = select(FILTERS);
  const sort = select(SORTS, "created_at");
  const members = scope.project?.members ?? [];
  const mineOnly = input({ type: "checkbox", name: "assigned-to-me" });
  const canEdit = scope.project?.project.role !== "viewer";
  const matches = (task: Task) =>
    (!filter.value || filter.value === task.status) &&
    (!mineOnly.checked || task.assignee === shell.user?.sub);
  const list = new TaskList({
    empty: () => {
      if (mineOnly.checked) return "No tasks here are assigned to you.";
      if (filter.value) return "No tasks with this status.";
      if (!scope.project) return "You have no tasks yet. Add your first one above.";
      return canEdit ? "This project has no tasks yet. Add the first one above." : "This project has no tasks yet.";
    },
    load: (nextToken) =>
      scope.routes.list(
        {
          status: filter.value as Status | "",
          assignee: mineOnly.checked ? shell.user?.sub : undefined,
          sort: sort.value as Sort,
        },
        nextToken,
      ),
    actions: (task) => (canEdit ? taskActions(task) : []),
    details: (task) => assigneeLine(task, members),
    label: scope.project ? `Tasks of ${scope.heading}` : "Your tasks",
  });
  const editor = canEdit
    ? new TaskForm(scope.routes, members, notice, {
        // Oldest first, a new task goes at the end; by due date, where only the API knows.
        created: (task) => (sort.value === "due_at" ? list.reload() : list.added(task, matches(task))),
        saved: (task) => list.replaced(task, matches(task)),
        deleted: (id) => list.removed(id),
      })
    : null;

  function taskActions(task: Task): HTMLElement[] {
    if (!editor) return [];
    const edit = button("Edit", { "aria-label": `Edit: ${task.title}` });
    edit.addEventListener("click", () => editor.edit(task.task_id));
    const remove = button("Delete", { "aria-label": `Delete: ${task.title}` });
    remove.addEventListener("click", () => editor.confirmDelete(task, remove));
    const actions = [edit];
    if (task.status !== "done") {
      const done = button("Mark done", { "aria-label": `Mark done: ${task.title}` });
      done.addEventListener("click", () => {
        void whileBusy(list.element, list.notice, "Saving…", async () => {
          const { task: saved } = await scope.routes.update(task.task_id, { status: "done" }, null);
          list.replaced(saved, matches(saved));
        });
      });
      actions.push(done);
    }
    actions.push(remove);
    return actions;
  }

  filter.addEventListener("change", () => list.reload());
  sort.addEventListener("change", () => list.reload());
  mineOnly.addEventListener("change", () => list.reload());
  const filterBar = h(
    "div",
    { class: "filter" },
    field("Show", filter),
    field("Sort by", sort),
    scope.project ? field("Assigned to me", mineOnly) : null,
  );
  const readOnly = canEdit
    ? null
    : h("p", {}, "You can read this project's tasks. Its owner can make you an editor to change them.");
  shell.mount(
    scope.heading,
    notice.element,
    readOnly,
    editor?.element ?? null,
    h("section", { "aria-label": "Task list" }, filterBar, list.element),
  );
  shell.watchLive({ event: follow, resync: () => list.reload() });
  list.reload();

  /** A change elsewhere to this list's tasks, or to the project itself. */
  function follow(event: LiveEvent): void {
    const here = scope.project ? scope.project.project.project_id : null;
    if (event.project_id !== here) return;
    const task = event.data as unknown as Task;
    switch (event.type) {
      case "task.created":
        if (sort.value === "due_at") list.reload();
        else list.added(task, matches(task));
        break;
      case "task.updated":
        if (sort.value === "due_at") list.reload();
        else list.replaced(task, matches(task));
        editor?.changedElsewhere(task);
        break;
      case "task.deleted":
        list.removed(String(event.data.task_id));
        editor?.deletedElsewhere(String(event.data.task_id));
        break;
      case "project.deleted":
        shell.mount(scope.heading, h("p", { class: "error", role: "alert" }, "This project was deleted."));
        break;
      case "member.updated":
      case "member.removed":
        if (scope.project && event.data.user_id === shell.user?.sub) {
          if (event.type === "member.removed") {
            shell.mount(scope.heading, h("p", { class: "error", role: "alert" }, "You are no longer a member of this project."));
          } else {
            showProjectTasks(shell, { ...scope.project.project, role: event.data.role as Project["role"] });
          }
        }
        break;
      default:
        break;
    }
  }
}

/** "Assigned to …" for a project task, by the member's e-mail address. */
function assigneeLine(task: Task, members: Member[]): HTMLElement | null {
  if (!task.assignee) return null;
  const member = members.find((m) => m.user_id === task.assignee);
  return h("p", { class: "assignee" }, `Assigned to ${member?.email ?? "a former member"}`);
}

interface FormEvents {
  created(task: Task): void;
  saved(task: Task): void;
  deleted(id: string): void;
}

/** One form for both adding and editing, so each label exists once on the page. */
class TaskForm {
  readonly element: HTMLFormElement;
  private readonly heading = h("h3", {}, "Add a task");
  private readonly title = input({ type: "text", name: "title", required: true, maxlength: "200" });
  private readonly description = h("textarea", { name: "description", rows: "3", maxlength: "4000" });
  private readonly status = select(STATUSES, "pending");
  /** When it is due, in the browser's time zone; empty for no due date. */
  private readonly due = input({ type: "datetime-local", name: "due_at" });
  private readonly priority = select(PRIORITIES, "none");
  /** In a project: who the task is assigned to (a member, or nobody). */
  private readonly assignee: HTMLSelectElement | null;
  private readonly buttons = h("div", { class: "actions" });
  private readonly dialog = h("dialog", { "aria-labelledby": "delete-heading" });
  /** The task being edited, the ETag and `updated_at` of the version the form shows. */
  private editing: { id: string; etag: string | null; updatedAt: string } | null = null;
  /** A save or delete of this form is in flight: its own live events are no news. */
  private busy = false;

  constructor(
    private readonly routes: TaskRoutes,
    members: Member[],
    private readonly notice: Notice,
    private readonly events: FormEvents,
  ) {
    this.assignee = members.length
      ? select([{ value: "", label: "Nobody" }, ...members.map((m) => ({ value: m.user_id, label: m.email }))])
      : null;
    this.element = h(
      "form",
      { class: "task-form", novalidate: true },
      this.heading,
      field("Title", this.title),
      field("Description", this.description),
      field("Status", this.status),
      field("Due", this.due),
      field("Priority", this.priority),
      this.assignee ? field("Assignee", this.assignee) : null,
      this.buttons,
      this.dialog,
    );
    this.element.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.submit();
    });
    this.showAdd();
  }

  async edit(id: string): Promise<void> {
    await whileBusy(this.element, this.notice, "Loading the task…", async () => {
      const { task, etag } = await this.routes.get(id);
      this.fill(task, etag);
    });
    this.title.focus();
  }

  confirmDelete(task: Task, opener: HTMLElement): void {
    const yes = h("button", { type: "button", class: "danger" }, "Yes, delete");
    const no = button("Cancel");
    this.dialog.replaceChildren(
      h("h3", { id: "delete-heading" }, "Delete this task?"),
      h("p", {}, `“${task.title}” will be deleted. This cannot be undone.`),
      h("div", { class: "actions" }, yes, no),
    );
    // Escape closes the dialog too; focus goes back to the task's Delete button, or to the
    // form when the task is being deleted.
    let deleting = false;
    this.dialog.onclose = () => (deleting ? this.title : opener).focus();
    no.addEventListener("click", () => this.dialog.close());
    yes.addEventListener("click", () => {
      deleting = true;
      this.dialog.close();
      this.busy = true;
      void whileBusy(this.element, this.notice, "Deleting…", async () => {
        await this.routes.remove(task.task_id).catch((error: unknown) => {
          // Already gone is what the user wanted.
          if (!(error instanceof ApiError && error.status === 404)) throw error;
        });
        if (this.editing?.id === task.task_id) this.showAdd();
        this.events.deleted(task.task_id);
        this.notice.info(`Deleted “${task.title}”.`);
      }).finally(() => (this.busy = false));
    });
    this.dialog.showModal();
    no.focus();
  }

  /** A live event: the task being edited was changed elsewhere. Says so now, instead of
   * letting the save fail with 412 later. */
  changedElsewhere(task: Task): void {
    const editing = this.editing;
    if (this.busy || !editing || editing.id !== task.task_id || editing.updatedAt === task.updated_at) return;
    this.offerReload(editing.id, "This task was changed elsewhere while you were editing it.", false);
  }

  /** A live event: the task being edited was deleted elsewhere. */
  deletedElsewhere(id: string): void {
    if (this.busy || this.editing?.id !== id) return;
    this.showAdd();
    this.notice.error("The task you were editing was deleted elsewhere.");
  }

  private fill(task: Task, etag: string | null): void {
    this.editing = { id: task.task_id, etag, updatedAt: task.updated_at };
    this.heading.textContent = "Edit task";
    this.title.value = task.title;
    this.description.value = task.description;
    this.status.value = task.status;
    this.due.value = toLocalInput(task.due_at);
    this.priority.value = task.priority ?? "none";
    if (this.assignee) this.assignee.value = task.assignee ?? "";
    const cancel = button("Cancel");
    cancel.addEventListener("click", () => {
      this.showAdd();
      this.notice.clear();
      this.title.focus();
    });
    this.buttons.replaceChildren(h("button", { type: "submit", class: "primary" }, "Save"), cancel);
  }

  private showAdd(): void {
    this.editing = null;
    this.heading.textContent = "Add a task";
    this.title.value = "";
    this.description.value = "";
    this.status.value = "pending";
    this.due.value = "";
    this.priority.value = "none";
    if (this.assignee) this.assignee.value = "";
    this.buttons.replaceChildren(h("button", { type: "submit", class: "primary" }, "Add task"));
  }

  private async submit(): Promise<void> {
    const changes: TaskChanges = {
      title: this.title.value.trim(),
      description: this.description.value,
      status: this.status.value as Status,
      // An empty field is no due date: null clears one when editing.
      due_at: fromLocalInput(this.due.value),
      priority: this.priority.value as Priority,
    };
    // A new task is unassigned unless someone is picked; an edit may clear the assignee.
    if (this.assignee && (this.assignee.value || this.editing)) changes.assignee = this.assignee.value || null;
    if (!changes.title) {
      this.notice.error("Enter a title.");
      this.title.focus();
      return;
    }
    const editing = this.editing;
    if (!editing) {
      await whileBusy(this.element, this.notice, "Adding the task…", async () => {
        const task = await this.routes.create(changes);
        this.showAdd();
        this.events.created(task);
        this.notice.info(`Added “${task.title}”.`);
      });
      this.title.focus();
      return;
    }
    this.busy = true;
    await whileBusy(this.element, this.notice, "Saving…", async () => {
      try {
        const { task } = await this.routes.update(editing.id, changes, editing.etag);
        this.showAdd();
        this.events.saved(task);
        this.notice.info(`Saved “${task.title}”.`);
      } catch (error) {
        if (error instanceof ApiError && error.status === 412) {
          this.offerReload(editing.id, "This task was changed elsewhere since you opened it. Your changes were not saved.");
        } else throw error;
      }
    }).finally(() => (this.busy = false));
  }

  /** Someone changed the task since the form was filled (a live event, or 412 on save):
   * offer its latest version. */
  private offerReload(id: string, message: string, focus = true): void {
    const reload = button("Reload task");
    reload.addEventListener("click", () => {
      void whileBusy(this.element, this.notice, "Loading the latest version…", async () => {
        const { task, etag } = await this.routes.get(id);
        this.fill(task, etag);
        this.events.saved(task);
        this.notice.info("This is the latest version. Make your changes again, then save.");
      });
    });
    this.notice.show(
      h(
        "div",
        { class: "error", role: "alert" },
        h("p", {}, message),
        reload,
      ),
    );
    // A live event never moves the focus away from what the user is typing.
    if (focus) reload.focus();
  }
}
