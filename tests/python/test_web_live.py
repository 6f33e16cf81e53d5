"""The web app stays live, in a real browser (Debian's chromium through Playwright, as in
test_web.py): two users sharing a project, and two tabs of one user, see each other's
creates, edits and deletes within a second, without reloading."""

import re
import time

import requests
from playwright.sync_api import expect

from test_web import App, api_token, browser, confirmed_user, server  # noqa: F401 (fixtures)

#: "Within a second": every cross-tab expectation waits at most this long.
WITHIN = 1_000


def signed_in_tab(context, server, email: str) -> App:
    app = App(context, server).open()
    app.sign_in(email)
    expect(app.page.locator(".live")).to_have_text("Live")
    return app


def open_project(app: App, name: str) -> None:
    app.button("Projects").click()
    app.button(f"Open tasks of {name}").click()
    expect(app.heading(name)).to_be_visible()


def edit_title(app: App, old: str, new: str) -> None:
    app.button(f"Edit: {old}").click()
    expect(app.field("Title")).to_have_value(old)
    app.field("Title").fill(new)
    app.button("Save").click()
    expect(app.task(new)).to_be_visible()


def delete(app: App, title: str) -> None:
    app.button(f"Delete: {title}").click()
    app.button("Yes, delete").click()
    expect(app.task(title)).to_have_count(0)


def share_project(server, owner: str, member: str, name: str) -> None:
    """`owner` starts project `name` and `member` joins it as an editor, through the API."""
    owner_token, member_token = api_token(server, owner), api_token(server, member)
    base = server.base_url
    project = requests.post(
        f"{base}/projects", json={"name": name}, headers={"Authorization": owner_token}, timeout=10
    ).json()["project_id"]
    invitation = requests.post(
        f"{base}/projects/{project}/invitations",
        json={"email": member, "role": "editor"},
        headers={"Authorization": owner_token},
        timeout=10,
    ).json()["invitation_id"]
    accepted = requests.post(
        f"{base}/invitations/{invitation}/accept", json={}, headers={"Authorization": member_token}, timeout=10
    )
    assert accepted.status_code == 200, accepted.text


def test_two_users_of_a_project_see_each_others_changes(server, browser):  # noqa: F811
    owner, member = confirmed_user(server, "live-owner"), confirmed_user(server, "live-member")
    share_project(server, owner, member, "Live launch")
    contexts = [browser.new_context(viewport={"width": 1000, "height": 800}) for _ in range(2)]
    try:
        alice = signed_in_tab(contexts[0], server, owner)
        bob = signed_in_tab(contexts[1], server, member)
        for app in (alice, bob):
            open_project(app, "Live launch")

        alice.add_task("Book the venue")
        expect(bob.task("Book the venue")).to_be_visible(timeout=WITHIN)
        edit_title(bob, "Book the venue", "Book the big venue")
        expect(alice.task("Book the big venue")).to_be_visible(timeout=WITHIN)
        expect(alice.task("Book the venue")).to_have_count(0)
        delete(bob, "Book the big venue")
        expect(alice.task("Book the big venue")).to_have_count(0, timeout=WITHIN)
        alice.check("live-project")
        assert not bob.problems, bob.problems
    finally:
        for context in contexts:
            context.close()


def test_two_tabs_of_one_user_stay_in_step(server, browser):  # noqa: F811
    email = confirmed_user(server, "live-tabs")
    context = browser.new_context(viewport={"width": 1000, "height": 800})
    try:
        first = signed_in_tab(context, server, email)
        second = App(context, server).open()
        expect(second.heading("My tasks")).to_be_visible()
        expect(second.page.locator(".live")).to_have_text("Live")

        first.add_task("Water the plants")
        expect(second.task("Water the plants")).to_be_visible(timeout=WITHIN)
        second.button("Mark done: Water the plants").click()
        expect(first.task("Water the plants").locator(".status")).to_have_text("Done", timeout=WITHIN)

        # Editing in one tab while the other changes the task: told at once, not on save.
        first.add_task("Call the plumber")
        expect(second.task("Call the plumber")).to_be_visible(timeout=WITHIN)
        first.button("Edit: Call the plumber").click()
        expect(first.field("Title")).to_have_value("Call the plumber")
        edit_title(second, "Call the plumber", "Call the plumber today")
        expect(first.page.get_by_text("This task was changed elsewhere while you were editing it.")).to_be_visible(
            timeout=WITHIN
        )
        expect(first.task("Call the plumber today")).to_be_visible(timeout=WITHIN)
        first.button("Reload task").click()
        expect(first.field("Title")).to_have_value("Call the plumber today")
        first.button("Cancel").click()

        delete(first, "Water the plants")
        expect(second.task("Water the plants")).to_have_count(0, timeout=WITHIN)
        second.check("live-tabs")
    finally:
        context.close()


def test_a_new_project_reaches_the_other_tab(server, browser):  # noqa: F811
    email = confirmed_user(server, "live-projects")
    context = browser.new_context(viewport={"width": 1000, "height": 800})
    try:
        first = signed_in_tab(context, server, email)
        second = App(context, server).open()
        expect(second.page.locator(".live")).to_have_text("Live")
        for app in (first, second):
            app.button("Projects").click()
            expect(app.heading("Projects")).to_be_visible()
        first.field("Project name").fill("Garden")
        first.button("Create project").click()
        expect(second.button("Open tasks of Garden")).to_be_visible(timeout=WITHIN)
    finally:
        context.close()


def test_after_a_gap_the_list_is_reloaded(server, browser):  # noqa: F811
    """Events missed while the socket was down (here: swallowed by a proxy in the page) are
    made up for by reloading the list when the server closes with 4008 and the app
    reconnects."""
    email = confirmed_user(server, "live-gap")
    context = browser.new_context(viewport={"width": 1000, "height": 800})
    swallow = {"on": False}
    sockets = []

    def proxy(page_side):
        server_side = page_side.connect_to_server()
        server_side.on_message(lambda message: None if swallow["on"] else page_side.send(message))
        sockets.append(page_side)

    context.route_web_socket(re.compile(r".*/live\?.*"), proxy)
    try:
        app = signed_in_tab(context, server, email)
        swallow["on"] = True
        created = requests.post(
            f"{server.base_url}/tasks",
            json={"title": "Made while away"},
            headers={"Authorization": api_token(server, email)},
            timeout=10,
        )
        assert created.status_code == 201
        time.sleep(0.5)
        expect(app.task("Made while away")).to_have_count(0)
        swallow["on"] = False
        sockets[-1].close(code=4008, reason="too slow: reconnect and reload")
        expect(app.task("Made while away")).to_be_visible(timeout=WITHIN * 3)
        expect(app.page.locator(".live")).to_have_text("Live")
        assert len(sockets) == 2, "reconnected once"
    finally:
        context.close()
