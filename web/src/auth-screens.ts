/**
 * The signed-out screens: sign in (SRP, Amplify's default flow), sign up, confirmation
 * code, forgot password, and the hosted-UI button (code flow with PKCE).
 */
import {
  confirmResetPassword,
  confirmSignUp,
  resendSignUpCode,
  resetPassword,
  signIn,
  signInWithRedirect,
  signUp,
} from "aws-amplify/auth";

import { Notice, button, field, h, input, onSubmit, whileBusy } from "./dom";
import type { Shell } from "./shell";

const PASSWORD_HINT = "At least 10 characters, with upper-case and lower-case letters and a number.";

function emailInput(value = ""): HTMLInputElement {
  return input({ type: "email", name: "email", autocomplete: "username", required: true, value });
}

function passwordInput(autocomplete: "current-password" | "new-password"): HTMLInputElement {
  return input({ type: "password", name: "password", autocomplete, required: true });
}

function codeInput(): HTMLInputElement {
  return input({ type: "text", name: "code", inputmode: "numeric", autocomplete: "one-time-code", required: true });
}

/** A form of labelled fields with one submit button; the browser's own checks are off,
 *  so the pool's clearer messages show. */
function authForm(submit: string, ...fields: HTMLElement[]): HTMLFormElement {
  return h(
    "form",
    { novalidate: true },
    ...fields,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, submit)),
  );
}

function linkButton(label: string, onClick: () => void): HTMLButtonElement {
  const element = button(label, { class: "link" });
  element.addEventListener("click", onClick);
  return element;
}

export function showSignIn(shell: Shell, email = "", message = ""): void {
  const notice = new Notice();
  const emailField = emailInput(email);
  const password = passwordInput("current-password");
  const form = authForm("Sign in",
    field("Email", emailField),
    field("Password", password),
  );
  onSubmit(form, notice, "Signing in…", async () => {
    const username = emailField.value.trim();
    const { nextStep } = await signIn({ username, password: password.value });
    if (nextStep.signInStep === "DONE") {
      await shell.signedIn();
    } else if (nextStep.signInStep === "CONFIRM_SIGN_UP") {
      showConfirm(shell, username, "Your account is not confirmed yet. Enter the code we sent you.");
    } else {
      notice.error("This account needs a sign-in step this app does not support. Use the hosted UI.");
    }
  });
  const others = h(
    "div",
    { class: "alternatives" },
    linkButton("Create an account", () => showSignUp(shell, emailField.value)),
    linkButton("Forgot password?", () => showForgot(shell, emailField.value)),
  );
  const hosted = shell.config.oauth
    ? h("div", { class: "hosted" }, h("p", {}, "Or use the pool's own sign-in page:"), hostedUiButton(notice))
    : null;
  shell.mount("Sign in", notice.element, form, others, hosted);
  if (message) notice.info(message);
}

function hostedUiButton(notice: Notice): HTMLButtonElement {
  const element = button("Sign in with the hosted UI");
  element.addEventListener("click", () => {
    void whileBusy(element, notice, "Opening the hosted sign-in page…", () => signInWithRedirect());
  });
  return element;
}

export function showSignUp(shell: Shell, email = ""): void {
  const notice = new Notice();
  const emailField = emailInput(email);
  const password = passwordInput("new-password");
  const form = authForm("Sign up",
    field("Email", emailField),
    field("Password", password, PASSWORD_HINT),
  );
  onSubmit(form, notice, "Creating your account…", async () => {
    const username = emailField.value.trim();
    const { nextStep } = await signUp({
      username,
      password: password.value,
      options: { userAttributes: { email: username } },
    });
    if (nextStep.signUpStep === "DONE") {
      showSignIn(shell, username, "Your account is ready. Sign in.");
    } else {
      showConfirm(shell, username, "We sent a confirmation code to your email. Enter it below.");
    }
  });
  const others = h(
    "div",
    { class: "alternatives" },
    linkButton("I already have an account", () => showSignIn(shell, emailField.value)),
  );
  shell.mount("Create an account", notice.element, form, others);
}

export function showConfirm(shell: Shell, email: string, message = ""): void {
  const notice = new Notice();
  const emailField = emailInput(email);
  const code = codeInput();
  const form = authForm("Confirm",
    field("Email", emailField),
    field("Confirmation code", code),
  );
  onSubmit(form, notice, "Confirming…", async () => {
    const username = emailField.value.trim();
    await confirmSignUp({ username, confirmationCode: code.value.trim() });
    showSignIn(shell, username, "Your account is confirmed. Sign in.");
  });
  const resend = linkButton("Send a new code", () => {
    void whileBusy(form, notice, "Sending a new code…", async () => {
      await resendSignUpCode({ username: emailField.value.trim() });
      notice.info("We sent a new code. Check your email.");
    });
  });
  const others = h(
    "div",
    { class: "alternatives" },
    resend,
    linkButton("Back to sign in", () => showSignIn(shell, emailField.value)),
  );
  shell.mount("Confirm your account", notice.element, form, others);
  if (message) notice.info(message);
}

export function showForgot(shell: Shell, email = ""): void {
  const notice = new Notice();
  const emailField = emailInput(email);
  const form = authForm("Send code",
    field("Email", emailField),
  );
  onSubmit(form, notice, "Sending a code…", async () => {
    const username = emailField.value.trim();
    await resetPassword({ username });
    showResetPassword(shell, username);
  });
  const others = h("div", { class: "alternatives" }, linkButton("Back to sign in", () => showSignIn(shell, emailField.value)));
  shell.mount("Reset your password", notice.element, form, others);
}

function showResetPassword(shell: Shell, email: string): void {
  const notice = new Notice();
  const emailField = emailInput(email);
  const code = codeInput();
  const password = passwordInput("new-password");
  const form = authForm("Set new password",
    field("Email", emailField),
    field("Confirmation code", code),
    field("New password", password, PASSWORD_HINT),
  );
  onSubmit(form, notice, "Setting your new password…", async () => {
    const username = emailField.value.trim();
    await confirmResetPassword({ username, confirmationCode: code.value.trim(), newPassword: password.value });
    showSignIn(shell, username, "Your password was changed. Sign in with the new one.");
  });
  const others = h("div", { class: "alternatives" }, linkButton("Back to sign in", () => showSignIn(shell, emailField.value)));
  shell.mount("Choose a new password", notice.element, form, others);
  notice.info("If an account exists for this email, we sent it a code.");
}
