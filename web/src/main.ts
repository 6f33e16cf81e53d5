/**
 * Boot: read `/config.json`, configure Amplify Auth (pointed at the local pool through
 * `userPoolEndpoint` when the config names one), then show the tasks of the signed-in user
 * or the sign-in screen. A hosted-UI sign-in returns to `/callback`, where Amplify's OAuth
 * listener trades the code (with the PKCE verifier) for tokens.
 */
import { Amplify } from "aws-amplify";
import "aws-amplify/auth/enable-oauth-listener";
import { Hub } from "aws-amplify/utils";

import { showAdmin } from "./admin-screen";
import { showProjects } from "./projects-screen";
import { showSignIn } from "./auth-screens";
import { type AppConfig, absolute, loadConfig } from "./config";
import { setSessionExpiredHandler } from "./dom";
import { describe } from "./errors";
import { Shell } from "./shell";
import { showTasks } from "./tasks-screen";
import { showUpcoming } from "./upcoming-screen";
import { showWebhooks } from "./webhooks-screen";

function configureAmplify(config: AppConfig): void {
  const oauth = config.oauth;
  Amplify.configure({
    Auth: {
      Cognito: {
        userPoolId: config.userPoolId,
        userPoolClientId: config.userPoolClientId,
        ...(config.userPoolEndpoint ? { userPoolEndpoint: absolute(config.userPoolEndpoint) } : {}),
        loginWith: oauth
          ? {
              email: true,
              oauth: {
                domain: oauth.domain,
                scopes: oauth.scopes,
                redirectSignIn: oauth.redirectSignIn.map(absolute),
                redirectSignOut: oauth.redirectSignOut.map(absolute),
                responseType: "code",
              },
            }
          : { email: true },
      },
    },
  });
}

/** True on `/callback?code=…` (or `?error=…`): the hosted UI has sent the user back. */
function returningFromHostedUi(): boolean {
  const query = new URLSearchParams(window.location.search);
  return window.location.pathname === "/callback" && (query.has("code") || query.has("error"));
}

/** Waits for Amplify to finish the code exchange (with the PKCE verifier) it starts on load. */
function hostedUiResult(): Promise<unknown> {
  return new Promise((resolve) => {
    const stop = Hub.listen("auth", ({ payload }) => {
      if (payload.event === "signInWithRedirect") {
        stop();
        resolve(null);
      } else if (payload.event === "signInWithRedirect_failure") {
        stop();
        resolve(payload.data?.error ?? new Error("The hosted UI did not sign you in."));
      }
    });
  });
}

async function main(): Promise<void> {
  const main = document.getElementById("app")!;
  let config: AppConfig;
  try {
    config = await loadConfig();
  } catch (error) {
    const message = Object.assign(document.createElement("p"), { className: "error", textContent: describe(error) });
    message.setAttribute("role", "alert");
    main.replaceChildren(message);
    return;
  }
  // Listen before configuring: configuring starts the code exchange.
  const returning = returningFromHostedUi() ? hostedUiResult() : null;
  configureAmplify(config);
  const shell = new Shell(config, {
    signIn: showSignIn,
    tasks: showTasks,
    upcoming: showUpcoming,
    projects: showProjects,
    admin: showAdmin,
    webhooks: (shell) => showWebhooks(shell),
  });
  setSessionExpiredHandler((message) => shell.signedOut(message));

  if (returning) {
    shell.mount("Signing you in…");
    const error = await returning;
    window.history.replaceState(null, "", "/");
    if (error) shell.signedOut(`Sign-in with the hosted UI failed: ${describe(error)}`);
    else await shell.signedIn();
    return;
  }
  if (window.location.pathname !== "/") window.history.replaceState(null, "", "/");
  if (await shell.restore()) await shell.signedIn();
  else shell.signedOut();
}

void main();
