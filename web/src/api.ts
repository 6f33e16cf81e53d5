/**
 * The REST API client: sends the Cognito ID token as API Gateway's authorizer takes it,
 * refreshes the session once on a 401, and turns every other failure into an ApiError.
 */
import { fetchAuthSession } from "aws-amplify/auth";

import { ApiError, SessionExpired } from "./errors";

export type Status = "pending" | "in_progress" | "done";

export const STATUSES: { value: Status; label: string }[] = [
  { value: "pending", label: "Pending" },
  { value: "in_progress", label: "In progress" },
  { value: "done", label: "Done" },
];

export interface Task {
  task_id: string;
  title: string;
  description: string;
  status: Status;
  created_at: string;
  updated_at: string;
}

export interface TaskPage {
  tasks: Task[];
  count: number;
  next_token?: string | null;
}

/** A task with the ETag of the version it shows, for a conditional update. */
export interface Versioned {
  task: Task;
  etag: string | null;
}

export type TaskChanges = Partial<Pick<Task, "title" | "description" | "status">>;

export class Api {
  constructor(private readonly baseUrl: string) {}

  list(status: Status | "", nextToken?: string): Promise<TaskPage> {
    return this.json("GET", `/tasks${query({ status, next_token: nextToken })}`);
  }

  listAll(status: Status, nextToken?: string): Promise<TaskPage> {
    return this.json("GET", `/admin/tasks${query({ status, next_token: nextToken })}`);
  }

  async get(id: string): Promise<Versioned> {
    const response = await this.send("GET", `/tasks/${encodeURIComponent(id)}`);
    return { task: (await response.json()) as Task, etag: response.headers.get("ETag") };
  }

  create(task: TaskChanges): Promise<Task> {
    return this.json("POST", "/tasks", task);
  }

  /** PATCH with `If-Match`: an ApiError with status 412 when someone changed it since. */
  async update(id: string, changes: TaskChanges, etag: string | null): Promise<Versioned> {
    const headers: Record<string, string> = etag ? { "If-Match": etag } : {};
    const response = await this.send("PATCH", `/tasks/${encodeURIComponent(id)}`, changes, headers);
    const body = (await response.json()) as { task: Task };
    return { task: body.task, etag: response.headers.get("ETag") };
  }

  async remove(id: string): Promise<void> {
    await this.send("DELETE", `/tasks/${encodeURIComponent(id)}`);
  }

  private async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.send(method, path, body);
    return (await response.json()) as T;
  }

  private async send(
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
async function idToken(forceRefresh: boolean): Promise<string> {
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

function query(params: Record<string, string | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value) search.set(key, value);
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}
