import { SessionExpired, describe } from "./errors";

/** A few DOM helpers, so every screen builds labelled, keyboard-usable controls the same way. */

type Attrs = Record<string, string | boolean | undefined>;
type Child = Node | string | null | undefined | false;

/** An element with attributes (`true` sets a boolean attribute) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === true) element.setAttribute(name, "");
    else if (typeof value === "string") element.setAttribute(name, value);
  }
  for (const child of children) {
    if (child) element.append(child);
  }
  return element;
}

let ids = 0;
function nextId(): string {
  ids += 1;
  return `f${ids}`;
}

/** A visible `<label>` tied to its control, and an optional hint read with it. */
export function field<T extends HTMLElement>(label: string, control: T, hint?: string): HTMLElement {
  const id = nextId();
  control.id = id;
  const wrapper = h("div", { class: "field" }, h("label", { for: id }, label), control);
  if (hint) {
    const hintId = `${id}-hint`;
    control.setAttribute("aria-describedby", hintId);
    wrapper.append(h("p", { class: "hint", id: hintId }, hint));
  }
  return wrapper;
}

export function input(attrs: Attrs): HTMLInputElement {
  return h("input", attrs);
}

export function select(options: { value: string; label: string }[], selected = ""): HTMLSelectElement {
  const element = h("select");
  for (const option of options) {
    element.append(h("option", { value: option.value, selected: option.value === selected }, option.label));
  }
  return element;
}

export function button(label: string, attrs: Attrs = {}): HTMLButtonElement {
  return h("button", { type: "button", ...attrs }, label);
}

/** A line that screen readers announce: `alert` for errors, `status` for progress. */
export class Notice {
  readonly element = h("div", { class: "notice", "aria-live": "polite" });

  error(text: string): void {
    this.element.replaceChildren(h("p", { class: "error", role: "alert" }, text));
  }

  info(text: string): void {
    this.element.replaceChildren(h("p", { class: "info", role: "status" }, text));
  }

  /** Shows an element of its own (e.g. a message with a button). */
  show(node: Node): void {
    this.element.replaceChildren(node);
  }

  clear(): void {
    this.element.replaceChildren();
  }
}

let onSessionExpired: (message: string) => void = () => {};

/** Where a screen's expired session goes: the app shows the sign-in screen. */
export function setSessionExpiredHandler(handler: (message: string) => void): void {
  onSessionExpired = handler;
}

/**
 * Runs `work` while `form` is busy: its controls are disabled and the notice says so.
 * An error ends up in the notice as one clear sentence; an expired session goes to sign-in.
 */
export async function whileBusy(
  form: HTMLElement,
  notice: Notice,
  progress: string,
  work: () => Promise<void>,
): Promise<void> {
  const controls = Array.from(
    form.querySelectorAll<HTMLButtonElement | HTMLInputElement>("button, input, select, textarea"),
  );
  const enabled = controls.filter((control) => !control.disabled);
  form.setAttribute("aria-busy", "true");
  enabled.forEach((control) => (control.disabled = true));
  const progressNode = h("p", { class: "info", role: "status" }, progress);
  notice.show(progressNode);
  try {
    await work();
    if (progressNode.isConnected) notice.clear();
  } catch (error) {
    if (error instanceof SessionExpired) onSessionExpired(error.message);
    else notice.error(describe(error));
  } finally {
    form.removeAttribute("aria-busy");
    enabled.forEach((control) => (control.disabled = false));
  }
}

/** Submitting `form` (button or Enter) runs `work` while the form is busy. */
export function onSubmit(form: HTMLFormElement, notice: Notice, progress: string, work: () => Promise<void>): void {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void whileBusy(form, notice, progress, work);
  });
}
