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
import { showSignIn } from "./auth-screens";
import { type AppConfig, absolute, loadConfig } from "./config";
import { setSessionExpiredHandler } from "./dom";
import { describe } from "./errors";
import { Shell } from "./shell";
import { showTasks } from "./tasks-screen";

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

async function main(): Promise<void> {
  const main = document.getElementById("app")!;
  let config: AppConfig;
  try {
    config = await loadConfig();
  } catch (error) {
    main.replaceChildren(Object.assign(document.createElement("p"), { className: "error", role: "alert", textContent: describe(error) }));
    return;
  }
  configureAmplify(config);
  const shell = new Shell(config, { signIn: showSignIn, tasks: showTasks, admin: showAdmin });
  setSessionExpiredHandler((message) => shell.signedOut(message));

  if (window.location.pathname === "/callback") {
    // Amplify completes the code flow on load and reports through Hub.
    shell.mount("Signing you in…");
    Hub.listen("auth", ({ payload }) => {
      if (payload.event === "signInWithRedirect") {
        window.history.replaceState(null, "", "/");
        void shell.signedIn();
      } else if (payload.event === "signInWithRedirect_failure") {
        window.history.replaceState(null, "", "/");
        shell.signedOut(`Sign-in with the hosted UI failed: ${describe(payload.data?.error)}`);
      }
    });
    return;
  }
  if (await shell.restore()) await shell.signedIn();
  else shell.signedOut();
}

void main();
