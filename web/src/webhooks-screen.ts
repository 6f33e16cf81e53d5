/**
 * Webhooks: the endpoints that receive the user's own task events, or a project's (its
 * owners only). Adding one shows its signing secret this once; each endpoint lists its
 * recent delivery attempts with their status, and can be deleted.
 */
import { type DeliveryAttempt, EVENT_TYPES, type EventType, type Project, type Webhook } from "./api";
import { Notice, button, field, h, input, onSubmit, whileBusy } from "./dom";
import type { Shell } from "./shell";

/** The webhooks screen: the user's own (no `project`) or the project's. */
export function showWebhooks(shell: Shell, project?: Project): void {
  const notice = new Notice();
  const secret = h("div", { class: "webhook-secret", "aria-live": "polite" });
  const list = h("ul", { class: "webhooks", "aria-label": "Webhooks" });
  const url = input({ type: "url", name: "url", required: true, maxlength: "2048", placeholder: "https://" });
  const kinds = EVENT_TYPES.map((kind) => ({ kind, box: input({ type: "checkbox", name: "events", value: kind }) }));
  const events = h(
    "fieldset",
    { class: "event-types" },
    h("legend", {}, "Events (none checked: every event)"),
    ...kinds.map(({ kind, box }) => h("label", {}, box, ` ${kind}`)),
  );
  const form = h(
    "form",
    { class: "webhook-form", novalidate: true },
    h("h3", {}, "Add a webhook"),
    field("Endpoint URL", url, "Events are POSTed here, signed as Standard Webhooks say."),
    events,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Add webhook")),
  );
  onSubmit(form, notice, "Adding the webhook…", async () => {
    const chosen = kinds.filter(({ box }) => box.checked).map(({ kind }) => kind as EventType);
    const created = await shell.api.createWebhook(url.value.trim(), chosen, project?.project_id);
    url.value = "";
    kinds.forEach(({ box }) => (box.checked = false));
    list.append(webhookItem(shell, created, notice));
    secret.replaceChildren(
      h("p", { role: "status" }, "The signing secret of the new webhook. Copy it now: it is not shown again."),
      h("code", { class: "secret" }, created.secret),
    );
  });

  const heading = project ? `Webhooks of ${project.name}` : "Webhooks";
  const page = h("div", {}, notice.element, secret, form, h("h3", {}, "Endpoints"), list);
  shell.mount(heading, page);
  void whileBusy(page, notice, "Loading the webhooks…", async () => {
    const hooks = await shell.api.webhooks(project?.project_id);
    list.replaceChildren(...hooks.map((hook) => webhookItem(shell, hook, notice)));
    if (!hooks.length) notice.info("No webhooks yet.");
  });
}

function webhookItem(shell: Shell, hook: Webhook, notice: Notice): HTMLLIElement {
  const state = hook.disabled ? `Disabled: ${hook.disabled_reason ?? ""}` : "Active";
  const which = hook.events.length ? hook.events.join(", ") : "every event";
  const history = h("div", { class: "deliveries" });
  const show = button("Deliveries", { "aria-label": `Deliveries to ${hook.url}`, "aria-expanded": "false" });
  const remove = button("Delete", { class: "danger", "aria-label": `Delete the webhook to ${hook.url}` });
  const item = h(
    "li",
    { class: "webhook", "data-id": hook.webhook_id },
    h("p", { class: "url" }, hook.url),
    h("p", { class: "events" }, `Events: ${which}`),
    h("p", { class: hook.disabled ? "state disabled" : "state" }, state),
    h("div", { class: "actions" }, show, remove),
    history,
  );
  show.addEventListener("click", () => {
    if (show.getAttribute("aria-expanded") === "true") {
      history.replaceChildren();
      show.setAttribute("aria-expanded", "false");
      return;
    }
    void whileBusy(item, notice, "Loading the deliveries…", async () => {
      history.replaceChildren(deliveryTable(await shell.api.deliveries(hook.webhook_id)));
      show.setAttribute("aria-expanded", "true");
    });
  });
  remove.addEventListener("click", () => {
    void whileBusy(item, notice, "Deleting the webhook…", async () => {
      await shell.api.deleteWebhook(hook.webhook_id);
      item.remove();
      notice.info(`Deleted the webhook to ${hook.url}.`);
    });
  });
  return item;
}

function deliveryTable(attempts: DeliveryAttempt[]): HTMLElement {
  if (!attempts.length) return h("p", {}, "No deliveries yet.");
  const rows = attempts.map((attempt) =>
    h(
      "tr",
      {},
      h("td", {}, new Date(attempt.at).toLocaleString()),
      h("td", {}, attempt.event_type),
      h("td", {}, String(attempt.attempt)),
      h("td", {}, attempt.status_code !== null ? String(attempt.status_code) : (attempt.error ?? "")),
      h("td", {}, attempt.next_attempt_at ? new Date(attempt.next_attempt_at).toLocaleString() : "—"),
    ),
  );
  return h(
    "table",
    { class: "delivery-table" },
    h("caption", {}, "Recent delivery attempts, newest first"),
    h(
      "thead",
      {},
      h("tr", {}, ...["Time", "Event", "Attempt", "Status or error", "Next attempt"].map((label) => h("th", { scope: "col" }, label))),
    ),
    h("tbody", {}, ...rows),
  );
}
