/**
 * The REST API client: sends the Cognito ID token as API Gateway's authorizer takes it,
 * refreshes the session once on a 401, and turns every other failure into an ApiError.
 * A user's own tasks and a project's tasks share one set of task routes under different
 * paths (`/tasks`, `/projects/{id}/tasks`).
 */
import { fetchAuthSession } from "aws-amplify/auth";

import { ApiError, SessionExpired } from "./errors";

export type Status = "pending" | "in_progress" | "done";

export const STATUSES: { value: Status; label: string }[] = [
  { value: "pending", label: "Pending" },
  { value: "in_progress", label: "In progress" },
  { value: "done", label: "Done" },
];

export type Priority = "none" | "low" | "medium" | "high" | "urgent";

export const PRIORITIES: { value: Priority; label: string }[] = [
  { value: "none", label: "None" },
  { value: "low", label: "Low" },
  { value: "medium", label: "Medium" },
  { value: "high", label: "High" },
  { value: "urgent", label: "Urgent" },
];

/** A task list's order: oldest first, or soonest due first (undated tasks last). */
export type Sort = "created_at" | "due_at";

export type Role = "owner" | "editor" | "viewer";

export const ROLES: { value: Role; label: string }[] = [
  { value: "owner", label: "Owner" },
  { value: "editor", label: "Editor" },
  { value: "viewer", label: "Viewer" },
];

export interface Task {
  task_id: string;
  title: string;
  description: string;
  status: Status;
  /** When it is due (RFC 3339 UTC), or null. */
  due_at: string | null;
  priority: Priority;
  created_at: string;
  updated_at: string;
  /** Project tasks only: the project, who created it and who it is assigned to. */
  project_id?: string | null;
  created_by?: string;
  assignee?: string | null;
}

export interface TaskPage {
  tasks: Task[];
  count: number;
  next_token?: string | null;
}

/** A project as its member sees it, with the member's own role. */
export interface Project {
  project_id: string;
  name: string;
  role: Role;
  created_at: string;
  updated_at: string;
}

export interface Member {
  user_id: string;
  email: string;
  role: Role;
  joined_at: string;
}

export interface Invitation {
  invitation_id: string;
  project_id: string;
  project_name: string;
  email: string;
  role: Role;
  created_at: string;
  expires_at: string;
}

/** A task with the ETag of the version it shows, for a conditional update. */
/** The kinds of event a webhook can be limited to. */
export const EVENT_TYPES = [
  "task.created",
  "task.updated",
  "task.deleted",
  "project.updated",
  "project.deleted",
  "member.added",
  "member.updated",
  "member.removed",
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** A webhook endpoint (its secret is shown only when created or rotated). */
export interface Webhook {
  webhook_id: string;
  url: string;
  /** The event types delivered; empty for every type. */
  events: EventType[];
  project_id: string | null;
  created_by: string;
  created_at: string;
  disabled: boolean;
  disabled_at: string | null;
  disabled_reason: string | null;
  previous_secret_until: string | null;
}

export interface WebhookWithSecret extends Webhook {
  /** `whsec_...`: shown this once. */
  secret: string;
}

/** One delivery attempt: the endpoint's status code, or why there was none. */
export interface DeliveryAttempt {
  attempt_id: string;
  event_id: string;
  event_type: EventType;
  attempt: number;
  at: string;
  status_code: number | null;
  error: string | null;
  next_attempt_at: string | null;
}

export interface Versioned {
  task: Task;
  etag: string | null;
}

export type TaskChanges = Partial<
  Pick<Task, "title" | "description" | "status" | "due_at" | "priority" | "assignee">
>;

/** Which tasks a list shows, in which order: a status, and in a project, one assignee. */
export interface TaskFilter {
  status: Status | "";
  assignee?: string;
  sort?: Sort;
}

/** The task routes under one path: the user's own (`/tasks`) or a project's. */
export class TaskRoutes {
  constructor(
    private readonly api: Api,
    private readonly base: string,
  ) {}

  list(filter: TaskFilter, nextToken?: string): Promise<TaskPage> {
    const params = { status: filter.status, assignee: filter.assignee, sort: filter.sort, next_token: nextToken };
    return this.api.json("GET", `${this.base}${query(params)}`);
  }

  async get(id: string): Promise<Versioned> {
    const response = await this.api.send("GET", this.path(id));
    return { task: (await response.json()) as Task, etag: response.headers.get("ETag") };
  }

  create(task: TaskChanges): Promise<Task> {
    return this.api.json("POST", this.base, task);
  }

  /** PATCH with `If-Match`: an ApiError with status 412 when someone changed it since. */
  async update(id: string, changes: TaskChanges, etag: string | null): Promise<Versioned> {
    const headers: Record<string, string> = etag ? { "If-Match": etag } : {};
    const response = await this.api.send("PATCH", this.path(id), changes, headers);
    const body = (await response.json()) as { task: Task };
    return { task: body.task, etag: response.headers.get("ETag") };
  }

  async remove(id: string): Promise<void> {
    await this.api.send("DELETE", this.path(id));
  }

  private path(id: string): string {
    return `${this.base}/${encodeURIComponent(id)}`;
  }
}

export class Api {
  /** The signed-in user's own tasks. */
  readonly mine = new TaskRoutes(this, "/tasks");

  constructor(private readonly baseUrl: string) {}

  /** A project's tasks. */
  projectTasks(projectId: string): TaskRoutes {
    return new TaskRoutes(this, `${projectPath(projectId)}/tasks`);
  }

  /** The user's open tasks with a due date, own and assigned in projects, soonest first. */
  upcoming(nextToken?: string): Promise<TaskPage> {
    return this.json("GET", `/upcoming${query({ next_token: nextToken })}`);
  }

  listAll(status: Status, nextToken?: string): Promise<TaskPage> {
    return this.json("GET", `/admin/tasks${query({ status, next_token: nextToken })}`);
  }

  /** Every project the user belongs to (following every page: a user has few). */
  async projects(): Promise<Project[]> {
    return this.all<Project>("/projects", "projects");
  }

  createProject(name: string): Promise<Project> {
    return this.json("POST", "/projects", { name });
  }

  renameProject(projectId: string, name: string): Promise<Project> {
    return this.json("PATCH", projectPath(projectId), { name });
  }

  async deleteProject(projectId: string): Promise<void> {
    await this.send("DELETE", projectPath(projectId));
  }

  members(projectId: string): Promise<Member[]> {
    return this.all<Member>(`${projectPath(projectId)}/members`, "members");
  }

  setRole(projectId: string, userId: string, role: Role): Promise<Member> {
    return this.json("PATCH", `${projectPath(projectId)}/members/${encodeURIComponent(userId)}`, { role });
  }

  async removeMember(projectId: string, userId: string): Promise<void> {
    await this.send("DELETE", `${projectPath(projectId)}/members/${encodeURIComponent(userId)}`);
  }

  invite(projectId: string, email: string, role: Role): Promise<Invitation> {
    return this.json("POST", `${projectPath(projectId)}/invitations`, { email, role });
  }

  /** The project's pending invitations (its owners only). */
  projectInvitations(projectId: string): Promise<Invitation[]> {
    return this.all<Invitation>(`${projectPath(projectId)}/invitations`, "invitations");
  }

  /** The invitations addressed to the signed-in user's e-mail address. */
  myInvitations(): Promise<Invitation[]> {
    return this.all<Invitation>("/invitations", "invitations");
  }

  acceptInvitation(invitationId: string): Promise<Member> {
    return this.json("POST", `/invitations/${encodeURIComponent(invitationId)}/accept`);
  }

  /** Declines an invitation (its addressee) or revokes it (the project's owner). */
  async deleteInvitation(invitationId: string): Promise<void> {
    await this.send("DELETE", `/invitations/${encodeURIComponent(invitationId)}`);
  }

  /** The user's own webhooks, or a project's (its owners only). */
  async webhooks(projectId?: string): Promise<Webhook[]> {
    const page = await this.json<{ webhooks: Webhook[] }>("GET", `/webhooks${query({ project_id: projectId })}`);
    return page.webhooks;
  }

  createWebhook(url: string, events: EventType[], projectId?: string): Promise<WebhookWithSecret> {
    return this.json("POST", "/webhooks", { url, events, ...(projectId ? { project_id: projectId } : {}) });
  }

  async deleteWebhook(webhookId: string): Promise<void> {
    await this.send("DELETE", `/webhooks/${encodeURIComponent(webhookId)}`);
  }

  /** The endpoint's recent delivery attempts, newest first. */
  async deliveries(webhookId: string): Promise<DeliveryAttempt[]> {
    const page = await this.json<{ deliveries: DeliveryAttempt[] }>(
      "GET",
      `/webhooks/${encodeURIComponent(webhookId)}/deliveries`,
    );
    return page.deliveries;
  }

  /** Every item of a paged list, whose items are under `key`. */
  private async all<T>(path: string, key: string): Promise<T[]> {
    const items: T[] = [];
    let next: string | undefined;
    do {
      const page = await this.json<Record<string, unknown>>("GET", `${path}${query({ next_token: next })}`);
      items.push(...((page[key] as T[] | undefined) ?? []));
      next = (page.next_token as string | null | undefined) ?? undefined;
    } while (next);
    return items;
  }

  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.send(method, path, body);
    return (await response.json()) as T;
  }

  async send(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Response> {
    let response = await this.attempt(method, path, body, headers, false);
    if (response.status === 401) {
      // The token may have expired in flight or been revoked: refresh once, then give up.
      response = await this.attempt(method, path, body, headers, true);
      if (response.status === 401) throw new SessionExpired();
    }
    if (!response.ok) throw await apiError(response);
    return response;
  }

  private async attempt(
    method: string,
    path: string,
    body: unknown,
    headers: Record<string, string>,
    forceRefresh: boolean,
  ): Promise<Response> {
    const token = await idToken(forceRefresh);
    const init: RequestInit = {
      method,
      headers: { ...headers, Authorization: token },
      cache: "no-store",
    };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      (init.headers as Record<string, string>)["Content-Type"] = "application/json";
    }
    return fetch(`${this.baseUrl.replace(/\/+$/, "")}${path}`, init);
  }
}

/** The current ID token; Amplify refreshes it first when it has expired. */
export async function idToken(forceRefresh: boolean): Promise<string> {
  let token: string | undefined;
  try {
    token = (await fetchAuthSession({ forceRefresh })).tokens?.idToken?.toString();
  } catch {
    throw new SessionExpired();
  }
  if (!token) throw new SessionExpired();
  return token;
}

async function apiError(response: Response): Promise<ApiError> {
  let code: string | undefined;
  let message = "";
  try {
    const body = (await response.json()) as { code?: string; message?: string };
    code = body.code;
    message = body.message ?? "";
  } catch {
    // Not JSON (e.g. a proxy's error page): the status alone decides the message.
  }
  return new ApiError(response.status, code, message);
}

function projectPath(projectId: string): string {
  return `/projects/${encodeURIComponent(projectId)}`;
}

function query(params: Record<string, string | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value) search.set(key, value);
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}
