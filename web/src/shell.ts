/**
 * The app's frame: a header with the signed-in user and navigation, and one screen at a
 * time in `<main>`. Moving to a screen focuses its heading, so keyboard and screen-reader
 * users land where the new content starts.
 */
import { fetchAuthSession, signOut } from "aws-amplify/auth";

import { Api } from "./api";
import { type AppConfig, absolute } from "./config";
import { button, h } from "./dom";
import { Live, type LiveWatcher } from "./live";

/** Who is signed in, from the ID token's claims (`sub` is the user id projects name). */
export interface User {
  sub: string;
  email: string;
  isAdmin: boolean;
}

export class Shell {
  readonly api: Api;
  user: User | null = null;
  /** The live-updates socket while someone is signed in, when the config names one. */
  private live: Live | null = null;
  private readonly main: HTMLElement;
  private readonly nav: HTMLElement;
  private readonly screens: {
    signIn: (shell: Shell, email?: string, message?: string) => void;
    tasks: (shell: Shell) => void;
    upcoming: (shell: Shell) => void;
    projects: (shell: Shell) => void;
    admin: (shell: Shell) => void;
    webhooks: (shell: Shell) => void;
  };

  constructor(readonly config: AppConfig, screens: Shell["screens"]) {
    this.api = new Api(absolute(config.apiUrl));
    this.screens = screens;
    this.main = document.getElementById("app")!;
    this.nav = document.getElementById("user")!;
  }

  mount(heading: string, ...content: (Node | null)[]): void {
    // The screen going away stops watching; the new one watches once it is built.
    this.live?.watch(null);
    const title = h("h2", { tabindex: "-1" }, heading);
    this.main.replaceChildren(title, ...content.filter((node): node is Node => node !== null));
    document.title = `${heading} · Tasks`;
    title.focus();
  }

  /** Makes `watcher` (the screen on show) receive the live events from now on. */
  watchLive(watcher: LiveWatcher): void {
    this.live?.watch(watcher);
  }

  /** Reads the session Amplify holds; `false` when nobody is signed in. */
  async restore(): Promise<boolean> {
    try {
      const { tokens } = await fetchAuthSession();
      if (!tokens?.idToken) return false;
      const claims = tokens.idToken.payload;
      const groups = (claims["cognito:groups"] as string[] | undefined) ?? [];
      this.user = {
        sub: String(claims.sub ?? ""),
        email: String(claims.email ?? claims["cognito:username"] ?? ""),
        isAdmin: groups.includes("admins"),
      };
      return true;
    } catch {
      return false;
    }
  }

  async signedIn(): Promise<void> {
    if (await this.restore()) {
      if (this.config.liveUrl && !this.live) {
        this.live = new Live({ liveUrl: this.config.liveUrl });
        this.live.start();
      }
      this.renderNav();
      this.screens.tasks(this);
    } else {
      this.signedOut("Sign-in did not complete. Please try again.");
    }
  }

  /** Back to the sign-in screen, e.g. when the session expired. */
  signedOut(message = ""): void {
    this.user = null;
    this.live?.stop();
    this.live = null;
    this.renderNav();
    this.screens.signIn(this, "", message);
  }

  private renderNav(): void {
    if (!this.user) {
      this.nav.replaceChildren();
      return;
    }
    const items: Node[] = [h("span", { class: "who" }, `Signed in as ${this.user.email}`)];
    if (this.live) items.push(this.live.indicator);
    const mine = button("My tasks");
    mine.addEventListener("click", () => this.screens.tasks(this));
    items.push(mine);
    const upcoming = button("Upcoming");
    upcoming.addEventListener("click", () => this.screens.upcoming(this));
    items.push(upcoming);
    const projects = button("Projects");
    projects.addEventListener("click", () => this.screens.projects(this));
    items.push(projects);
    const webhooks = button("Webhooks");
    webhooks.addEventListener("click", () => this.screens.webhooks(this));
    items.push(webhooks);
    if (this.user.isAdmin) {
      const all = button("All users' tasks");
      all.addEventListener("click", () => this.screens.admin(this));
      items.push(all);
    }
    const out = button("Sign out");
    out.addEventListener("click", () => {
      out.disabled = true;
      // With the hosted UI configured, Amplify also ends its session there (a redirect).
      void signOut().finally(() => this.signedOut("You are signed out."));
    });
    items.push(out);
    this.nav.replaceChildren(...items);
  }
}
