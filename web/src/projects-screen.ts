/**
 * Shared projects: the invitations waiting for the user (accept or decline), the user's
 * projects with their role (open one's tasks, see its members), and a form to start one.
 * A project's page lists its members; its owners also change roles, remove members, invite
 * by e-mail, revoke invitations, rename and delete the project. Controls a role may not
 * use are not shown.
 */
import { type Invitation, type Member, type Project, ROLES, type Role } from "./api";
import { Notice, button, field, h, input, onSubmit, select, whileBusy } from "./dom";
import type { Shell } from "./shell";
import { showProjectTasks } from "./tasks-screen";
import { showWebhooks } from "./webhooks-screen";

export function showProjects(shell: Shell): void {
  const notice = new Notice();
  const invitations = h("ul", { class: "invitations", "aria-label": "Invitations for you" });
  const projects = h("ul", { class: "projects", "aria-label": "Your projects" });
  const name = input({ type: "text", name: "name", required: true, maxlength: "100" });
  const create = h(
    "form",
    { class: "project-form", novalidate: true },
    h("h3", {}, "Start a project"),
    field("Project name", name),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Create project")),
  );
  onSubmit(create, notice, "Creating the project…", async () => {
    const project = await shell.api.createProject(name.value.trim());
    name.value = "";
    projects.append(projectItem(shell, project));
    notice.info(`Created “${project.name}”.`);
  });

  const page = h("div", {}, notice.element, invitations, create, projects);
  shell.mount("Projects", page);
  const load = () =>
    whileBusy(page, notice, "Loading your projects…", async () => {
      const [waiting, mine] = await Promise.all([shell.api.myInvitations(), shell.api.projects()]);
      invitations.replaceChildren(...waiting.map((invitation) => invitationItem(shell, invitation, notice)));
      invitations.hidden = waiting.length === 0;
      projects.replaceChildren(...mine.map((project) => projectItem(shell, project)));
      if (!mine.length) notice.info("You are in no project yet. Start one, or accept an invitation.");
    });
  // A project renamed, deleted, joined or left (here or elsewhere): the list is read again.
  shell.watchLive({
    event: (event) => {
      if (event.type.startsWith("project.") || event.type.startsWith("member.")) void load();
    },
    resync: () => void load(),
  });
  void load();
}

function projectItem(shell: Shell, project: Project): HTMLLIElement {
  const open = button("Open tasks", { "aria-label": `Open tasks of ${project.name}` });
  open.addEventListener("click", () => showProjectTasks(shell, project));
  const members = button("Members", { "aria-label": `Members of ${project.name}` });
  members.addEventListener("click", () => showProject(shell, project));
  return h(
    "li",
    { class: "project", "data-id": project.project_id },
    h("h3", {}, project.name),
    h("p", { class: "role" }, `Your role: ${roleLabel(project.role)}`),
    h("div", { class: "actions" }, open, members),
  );
}

function invitationItem(shell: Shell, invitation: Invitation, notice: Notice): HTMLLIElement {
  const accept = button("Accept", { class: "primary", "aria-label": `Accept the invitation to ${invitation.project_name}` });
  const decline = button("Decline", { "aria-label": `Decline the invitation to ${invitation.project_name}` });
  const item = h(
    "li",
    { class: "invitation" },
    h("p", {}, `You are invited to “${invitation.project_name}” as ${roleLabel(invitation.role).toLowerCase()}.`),
    h("div", { class: "actions" }, accept, decline),
  );
  accept.addEventListener("click", () => {
    void whileBusy(item, notice, "Joining…", async () => {
      await shell.api.acceptInvitation(invitation.invitation_id);
      showProjects(shell);
    });
  });
  decline.addEventListener("click", () => {
    void whileBusy(item, notice, "Declining…", async () => {
      await shell.api.deleteInvitation(invitation.invitation_id);
      item.remove();
      notice.info(`Declined the invitation to “${invitation.project_name}”.`);
    });
  });
  return item;
}

/** One project's members, and for its owners everything that manages it. */
function showProject(shell: Shell, project: Project): void {
  const notice = new Notice();
  const owner = project.role === "owner";
  const members = h("ul", { class: "members", "aria-label": "Members" });
  const pending = h("ul", { class: "invitations", "aria-label": "Pending invitations" });
  const openTasks = button("Open tasks");
  openTasks.addEventListener("click", () => showProjectTasks(shell, project));
  const webhooks = owner ? button("Webhooks", { "aria-label": `Webhooks of ${project.name}` }) : null;
  webhooks?.addEventListener("click", () => showWebhooks(shell, project));
  const page = h(
    "div",
    {},
    notice.element,
    h("div", { class: "actions" }, openTasks, webhooks),
    h("h3", {}, "Members"),
    members,
    owner ? inviteForm(shell, project, notice, pending) : null,
    owner ? h("h3", {}, "Pending invitations") : null,
    owner ? pending : null,
    owner ? renameForm(shell, project, notice) : null,
    owner ? deleteControl(shell, project, notice) : null,
  );
  shell.mount(`Members of ${project.name}`, page);
  void whileBusy(page, notice, "Loading the members…", async () => {
    const list = await shell.api.members(project.project_id);
    members.replaceChildren(...list.map((member) => memberItem(shell, project, member, notice)));
    if (owner) {
      const invitations = await shell.api.projectInvitations(project.project_id);
      pending.replaceChildren(...invitations.map((invitation) => pendingItem(shell, invitation, notice)));
    }
  });
}

function memberItem(shell: Shell, project: Project, member: Member, notice: Notice): HTMLLIElement {
  const self = member.user_id === shell.user?.sub;
  const item = h("li", { class: "member", "data-id": member.user_id }, h("span", { class: "email" }, member.email));
  if (project.role === "owner") {
    const role = select(ROLES, member.role);
    role.setAttribute("aria-label", `Role of ${member.email}`);
    role.addEventListener("change", () => {
      void whileBusy(item, notice, "Changing the role…", async () => {
        try {
          await shell.api.setRole(project.project_id, member.user_id, role.value as Role);
          notice.info(`${member.email} is now ${roleLabel(role.value as Role).toLowerCase()}.`);
        } catch (error) {
          role.value = member.role;
          throw error;
        }
        member.role = role.value as Role;
      });
    });
    item.append(role);
  } else {
    item.append(h("span", { class: "role" }, ` (${roleLabel(member.role)})`));
  }
  if (project.role === "owner" || self) {
    const label = self ? "Leave project" : "Remove";
    const remove = button(label, { "aria-label": self ? `Leave project ${project.name}` : `Remove ${member.email}` });
    remove.addEventListener("click", () => {
      void whileBusy(item, notice, self ? "Leaving…" : "Removing…", async () => {
        await shell.api.removeMember(project.project_id, member.user_id);
        if (self) showProjects(shell);
        else {
          item.remove();
          notice.info(`Removed ${member.email}.`);
        }
      });
    });
    item.append(remove);
  }
  return item;
}

function inviteForm(shell: Shell, project: Project, notice: Notice, pending: HTMLElement): HTMLFormElement {
  const email = input({ type: "email", name: "email", required: true, autocomplete: "off" });
  const role = select(ROLES, "editor");
  const form = h(
    "form",
    { class: "invite-form", novalidate: true },
    h("h3", {}, "Invite someone"),
    field("E-mail address", email),
    field("Role", role),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Send invitation")),
  );
  onSubmit(form, notice, "Inviting…", async () => {
    const invitation = await shell.api.invite(project.project_id, email.value.trim(), role.value as Role);
    email.value = "";
    pending.append(pendingItem(shell, invitation, notice));
    notice.info(`Invited ${invitation.email}.`);
  });
  return form;
}

function pendingItem(shell: Shell, invitation: Invitation, notice: Notice): HTMLLIElement {
  const revoke = button("Revoke", { "aria-label": `Revoke the invitation of ${invitation.email}` });
  const item = h(
    "li",
    { class: "invitation" },
    h("span", {}, `${invitation.email} (${roleLabel(invitation.role)})`),
    revoke,
  );
  revoke.addEventListener("click", () => {
    void whileBusy(item, notice, "Revoking…", async () => {
      await shell.api.deleteInvitation(invitation.invitation_id);
      item.remove();
      notice.info(`Revoked the invitation of ${invitation.email}.`);
    });
  });
  return item;
}

function renameForm(shell: Shell, project: Project, notice: Notice): HTMLFormElement {
  const name = input({ type: "text", name: "name", required: true, maxlength: "100", value: project.name });
  const form = h(
    "form",
    { class: "rename-form", novalidate: true },
    h("h3", {}, "Rename the project"),
    field("Project name", name),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Rename")),
  );
  onSubmit(form, notice, "Renaming…", async () => {
    const renamed = await shell.api.renameProject(project.project_id, name.value.trim());
    project.name = renamed.name;
    notice.info(`Renamed to “${renamed.name}”.`);
  });
  return form;
}

function deleteControl(shell: Shell, project: Project, notice: Notice): HTMLElement {
  const dialog = h("dialog", { "aria-labelledby": "delete-project-heading" });
  const open = button("Delete project", { class: "danger" });
  const yes = h("button", { type: "button", class: "danger" }, "Yes, delete");
  const no = button("Cancel");
  dialog.append(
    h("h3", { id: "delete-project-heading" }, "Delete this project?"),
    h("p", {}, `“${project.name}”, its tasks, members and invitations will be deleted. This cannot be undone.`),
    h("div", { class: "actions" }, yes, no),
  );
  const section = h("div", { class: "danger-zone" }, open, dialog);
  dialog.onclose = () => open.focus();
  open.addEventListener("click", () => {
    dialog.showModal();
    no.focus();
  });
  no.addEventListener("click", () => dialog.close());
  yes.addEventListener("click", () => {
    dialog.close();
    void whileBusy(section, notice, "Deleting the project…", async () => {
      await shell.api.deleteProject(project.project_id);
      showProjects(shell);
    });
  });
  return section;
}

function roleLabel(role: Role): string {
  return ROLES.find((r) => r.value === role)?.label ?? role;
}
