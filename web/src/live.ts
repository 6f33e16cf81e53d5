/**
 * Live updates: one WebSocket per tab to `liveUrl` (`/live` under `taskapi serve`, the
 * WebSocket API on AWS), carrying the events of the user's own tasks and of their projects.
 * The screen on show watches it; on every (re)connection the screen reloads its lists, since
 * events sent while the socket was down are gone. Reconnects with growing delays; the header
 * says when the app is offline.
 */
import { idToken } from "./api";
import { type AppConfig } from "./config";
import { h } from "./dom";

/** An event as the server sends it (docs/live.md). */
export interface LiveEvent {
  id: string;
  type:
    | "task.created"
    | "task.updated"
    | "task.deleted"
    | "project.updated"
    | "project.deleted"
    | "member.added"
    | "member.updated"
    | "member.removed";
  at: string;
  project_id: string | null;
  // The task, project or member; a deleted one's id only.
  data: Record<string, unknown>;
}

/** What the screen on show does with the socket. */
export interface LiveWatcher {
  event(event: LiveEvent): void;
  /** The socket (re)opened: events may have been missed, reload what is shown. */
  resync(): void;
}

/** Close codes after which reconnecting at once is right (docs/live.md). */
const RECONNECT_AT_ONCE = new Set([4001, 4008, 4009]);
const FIRST_DELAY_MS = 500;
const LONGEST_DELAY_MS = 30_000;

export class Live {
  /** "Live" or "Offline", in the header; announced politely when it changes (no `status`
   * role: that is the screens' progress line). */
  readonly indicator = h("span", { class: "live", "aria-live": "polite" });
  private socket: WebSocket | null = null;
  private watcher: LiveWatcher | null = null;
  private delay = FIRST_DELAY_MS;
  private retry: number | undefined;
  private stopped = true;
  private readonly url: URL;

  constructor(config: Required<Pick<AppConfig, "liveUrl">>) {
    // A relative URL is the page's host; ws: or wss: as the page is http: or https:.
    this.url = new URL(config.liveUrl, window.location.href);
    if (this.url.protocol === "http:") this.url.protocol = "ws:";
    if (this.url.protocol === "https:") this.url.protocol = "wss:";
    this.online = this.online.bind(this);
  }

  start(): void {
    this.stopped = false;
    window.addEventListener("online", this.online);
    this.show(false);
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    window.removeEventListener("online", this.online);
    window.clearTimeout(this.retry);
    this.socket?.close(1000, "signed out");
    this.socket = null;
    this.indicator.replaceChildren();
  }

  /** The screen now on show; it replaces the one before. */
  watch(watcher: LiveWatcher | null): void {
    this.watcher = watcher;
  }

  private online(): void {
    if (this.socket) return;
    window.clearTimeout(this.retry);
    this.delay = FIRST_DELAY_MS;
    void this.connect();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    let token: string;
    try {
      token = await idToken(false);
    } catch {
      // Signed out meanwhile: the shell stops this.
      return;
    }
    const url = new URL(this.url);
    url.searchParams.set("token", token);
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.onopen = () => {
      this.delay = FIRST_DELAY_MS;
      this.show(true);
      this.watcher?.resync();
    };
    socket.onmessage = (message) => {
      let event: LiveEvent;
      try {
        event = JSON.parse(String(message.data)) as LiveEvent;
      } catch {
        return;
      }
      if (typeof event.type === "string" && event.type.includes(".")) this.watcher?.event(event);
    };
    socket.onclose = (closed) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.show(false);
      if (this.stopped) return;
      const wait = RECONNECT_AT_ONCE.has(closed.code) ? 0 : this.delay;
      this.delay = Math.min(this.delay * 2, LONGEST_DELAY_MS);
      // Jitter, so a restarted server is not met by every tab at the same instant.
      this.retry = window.setTimeout(() => void this.connect(), wait * (0.75 + Math.random() / 2));
    };
  }

  private show(live: boolean): void {
    this.indicator.className = live ? "live live-on" : "live live-off";
    this.indicator.textContent = live ? "Live" : "Offline: reconnecting…";
  }
}
