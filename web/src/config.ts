/**
 * Run-time configuration, fetched from `/config.json` next to `index.html`, never baked
 * into the bundle: `taskapi serve` generates it for the local pool, and the AWS deploy
 * script writes it from the stack's outputs, so one bundle runs in both places.
 */
export interface AppConfig {
  /** The Cognito user pool id (`<region>_<id>`). */
  userPoolId: string;
  /** The app client (`task-app-web`), without a secret. */
  userPoolClientId: string;
  /** A Cognito-compatible endpoint instead of AWS's (the local pool); absent on AWS. */
  userPoolEndpoint?: string;
  /** The REST API's base URL (on AWS with the stage, e.g. `https://…/prod`). */
  apiUrl: string;
  /** The hosted UI, when the pool has a domain. */
  oauth?: {
    /** `host[:port]`; Amplify always speaks https to it. */
    domain: string;
    scopes: string[];
    redirectSignIn: string[];
    redirectSignOut: string[];
  };
  /** The live-updates WebSocket (docs/live.md); relative: the page's host, ws: or wss:. */
  liveUrl?: string;
}

/** Relative URLs in the config (e.g. `/` locally) are relative to the page's origin. */
export function absolute(url: string): string {
  return new URL(url, window.location.origin).toString();
}

export async function loadConfig(): Promise<AppConfig> {
  const response = await fetch("/config.json", { cache: "no-store" });
  if (!response.ok) {
    throw new Error(`The app's configuration could not be loaded (HTTP ${response.status}).`);
  }
  const config = (await response.json()) as AppConfig;
  if (!config.userPoolId || !config.userPoolClientId || config.apiUrl === undefined) {
    throw new Error("The app's configuration is incomplete (user pool, client or API URL).");
  }
  return config;
}
