"""The web app in a real browser: Debian's chromium (/usr/bin/chromium, installed by
scripts/install-test-tools.sh) driven by Playwright, against a fresh `taskapi serve`.

Every screen is scanned with axe-core (injected from node_modules) and must have no serious
or critical violation; every screen is saved as a PNG under target/web-screenshots/. A
missing browser, Playwright or axe-core is a failure, never a skip."""

import os
import re
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Page, expect, sync_playwright

from conftest import ROOT, cognito_client, new_email, outbox_code, start_server, stop_server

CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "node_modules/axe-core/axe.min.js"
SCREENSHOTS = ROOT / "target/web-screenshots"
PASSWORD = "TestPass123!"
# Chromium as root on a closed network: no sandbox (Playwright adds it), no phoning home.
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

expect.set_options(timeout=15_000)


# ---- fixtures ------------------------------------------------------------------------------


def serve(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("web-data")
    process, server = start_server(data_dir, data_dir.parent / f"{data_dir.name}.log")
    yield server
    stop_server(process)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One server for the module's tests; each uses accounts of its own."""
    yield from serve(tmp_path_factory)


@pytest.fixture
def fresh_server(tmp_path_factory):
    """A server of its own, for a test that sees every user's tasks."""
    yield from serve(tmp_path_factory)


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/install-test-tools.sh")
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: run scripts/install-test-tools.sh")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def context(browser):
    # The hosted UI's local listener has a self-signed certificate.
    context = browser.new_context(ignore_https_errors=True, viewport={"width": 1000, "height": 800})
    yield context
    context.close()


# ---- helpers -------------------------------------------------------------------------------


def cognito(server):
    """A boto3 client signing with the key pair every test server trusts."""
    return cognito_client(server)






def confirmed_user(server, tag: str) -> str:
    """A confirmed account made through the pool's API, for tests about other screens."""
    email = new_email(tag)
    client = cognito(server)
    client.sign_up(ClientId=server.client_id, Username=email, Password=PASSWORD)
    client.confirm_sign_up(
        ClientId=server.client_id, Username=email, ConfirmationCode=outbox_code(server, email, "sign-up")
    )
    return email


def api_token(server, email: str) -> str:
    result = cognito(server).initiate_auth(
        ClientId=server.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD},
    )
    return result["AuthenticationResult"]["IdToken"]


class App:
    """One browser tab on the app, watching for script errors and CSP violations."""

    def __init__(self, context, server):
        self.page: Page = context.new_page()
        self.server = server
        self.problems: list[str] = []
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        self.page.on(
            "console",
            lambda message: self.problems.append(f"console: {message.text}")
            if "Content Security Policy" in message.text or "Refused to" in message.text
            else None,
        )

    def open(self) -> "App":
        self.page.goto(self.server.base_url + "/")
        return self

    def heading(self, name: str):
        return self.page.get_by_role("heading", name=name, exact=True, level=2)

    def button(self, name: str, exact: bool = True):
        return self.page.get_by_role("button", name=name, exact=exact)

    def field(self, label: str):
        return self.page.get_by_label(label, exact=True)

    def task(self, title: str):
        return self.page.locator("li.task").filter(
            has=self.page.get_by_role("heading", name=title, exact=True)
        )

    def titles(self) -> list[str]:
        return self.page.locator("li.task .task-title").all_inner_texts()

    def sign_in(self, email: str, password: str = PASSWORD) -> None:
        expect(self.heading("Sign in")).to_be_visible()
        self.field("Email").fill(email)
        self.field("Password").fill(password)
        self.button("Sign in").click()
        expect(self.heading("My tasks")).to_be_visible()

    def add_task(self, title: str, description: str = "") -> None:
        self.field("Title").fill(title)
        self.field("Description").fill(description)
        self.button("Add task").click()
        expect(self.task(title)).to_be_visible()

    def check(self, screen: str) -> None:
        """Screenshot, then axe-core: no serious or critical violation, no CSP trouble."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{screen}.png"), full_page=True)
        # evaluate() runs through the DevTools protocol, which the page's CSP does not block.
        self.page.evaluate(AXE.read_text() + "\n;0")
        results = self.page.evaluate(
            "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        )
        bad = [
            f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
            for v in results
            if v["impact"] in ("serious", "critical")
        ]
        assert not bad, f"accessibility violations on {screen}:\n" + "\n".join(bad)
        assert not self.problems, "\n".join(self.problems)


# ---- the app is served --------------------------------------------------------------------


def test_the_app_is_served_with_caching_and_a_strict_policy(server):
    index = requests.get(server.base_url + "/")
    assert index.status_code == 200 and index.headers["content-type"].startswith("text/html")
    assert index.headers["cache-control"] == "no-cache"
    csp = index.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "default-src 'none'" in csp and "unsafe" not in csp
    assert "frame-ancestors 'none'" in csp
    assert index.headers["x-content-type-options"] == "nosniff"

    assets = re.findall(r'(?:src|href)="(/assets/[^"]+)"', index.text)
    assert len(assets) == 2, index.text
    for asset in assets:
        answer = requests.get(server.base_url + asset)
        assert answer.status_code == 200
        assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert re.search(r"-[A-Z0-9]{8}\.(js|css)$", asset), "asset names carry a content hash"

    callback = requests.get(server.base_url + "/callback?code=x&state=y")
    assert callback.status_code == 200 and callback.text == index.text
    assert callback.headers["cache-control"] == "no-cache"

    missing = requests.get(server.base_url + "/assets/app-NOTTHERE.js")
    assert missing.status_code == 404 and missing.json()["code"] == "no_route"


def test_config_json_names_the_local_pool_and_never_reaches_the_bundle(server):
    config = requests.get(server.base_url + "/config.json")
    assert config.status_code == 200 and config.headers["cache-control"] == "no-cache"
    body = config.json()
    assert body["userPoolId"] == server.pool_id
    assert body["userPoolClientId"] == server.client_id
    assert body["userPoolEndpoint"] == "/" and body["apiUrl"] == "/"
    bundle = "".join(p.read_text() for p in (ROOT / "web/dist").rglob("*.*"))
    assert server.pool_id not in bundle and server.client_id not in bundle


def test_the_pool_still_answers_on_the_same_root(server):
    """`POST /` is the pool's AWS JSON endpoint while `GET /` is the app."""
    answer = cognito(server).list_user_pools(MaxResults=10)
    assert server.pool_id in [p["Id"] for p in answer["UserPools"]]


# ---- journeys ----------------------------------------------------------------------------


def test_the_whole_journey(server, context):
    app = App(context, server).open()
    page = app.page
    expect(app.heading("Sign in")).to_be_visible()
    app.check("sign-in")

    app.button("Create an account").click()
    expect(app.heading("Create an account")).to_be_visible()
    email = new_email("journey")
    app.field("Email").fill(email)
    app.field("Password").fill("short")
    app.button("Sign up").click()
    expect(page.get_by_role("alert")).to_contain_text("password does not meet the policy")
    app.field("Password").fill(PASSWORD)
    app.check("sign-up")
    app.button("Sign up").click()

    expect(app.heading("Confirm your account")).to_be_visible()
    app.field("Confirmation code").fill("000000")
    app.button("Confirm").click()
    expect(page.get_by_role("alert")).to_contain_text("confirmation code is not correct")
    app.field("Confirmation code").fill(outbox_code(server, email, "sign-up"))
    app.check("confirm")
    app.button("Confirm").click()

    expect(page.get_by_text("Your account is confirmed. Sign in.")).to_be_visible()
    expect(app.field("Email")).to_have_value(email)
    app.field("Password").fill("WrongPass123!")
    app.button("Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Incorrect email or password.")
    app.sign_in(email)
    expect(page.get_by_text(f"Signed in as {email}")).to_be_visible()
    expect(page.get_by_text("You have no tasks yet")).to_be_visible()
    app.check("tasks-empty")

    app.add_task("Buy milk", "Two litres")
    app.add_task("Write report")
    # The third one with the keyboard alone: Title, Description, Status, Due (its date and
    # time parts, left empty), Priority, then "Add task".
    app.field("Title").focus()
    page.keyboard.type("Call Alice")
    page.keyboard.press("Tab")
    page.keyboard.type("About the offsite")
    page.keyboard.press("Tab")
    expect(app.field("Status")).to_be_focused()
    page.keyboard.press("Tab")
    expect(app.field("Due")).to_be_focused()
    for _ in range(10):
        page.keyboard.press("Tab")
        if app.field("Priority").evaluate("element => element === document.activeElement"):
            break
    expect(app.field("Priority")).to_be_focused()
    page.keyboard.press("Tab")
    expect(app.button("Add task")).to_be_focused()
    page.keyboard.press("Enter")
    expect(app.task("Call Alice")).to_be_visible()
    assert app.titles() == ["Buy milk", "Write report", "Call Alice"]

    app.task("Buy milk").get_by_role("button", name="Edit").click()
    expect(page.get_by_role("heading", name="Edit task")).to_be_visible()
    expect(app.field("Title")).to_have_value("Buy milk")
    app.check("task-edit")
    app.field("Title").fill("Buy oat milk")
    app.field("Status").select_option(label="In progress")
    app.button("Save").click()
    expect(app.task("Buy oat milk")).to_contain_text("In progress")
    expect(app.button("Add task")).to_be_visible()

    app.task("Write report").get_by_role("button", name="Mark").click()
    expect(app.task("Write report")).to_contain_text("Done")

    app.field("Show").select_option(label="Done")
    expect(page.locator("li.task")).to_have_count(1)
    assert app.titles() == ["Write report"]
    app.field("Show").select_option(label="Pending")
    expect(page.locator("li.task")).to_have_count(1)
    assert app.titles() == ["Call Alice"]
    app.field("Show").select_option(label="All")
    expect(page.locator("li.task")).to_have_count(3)
    app.check("tasks")

    page.reload()
    expect(app.heading("My tasks")).to_be_visible()
    expect(page.locator("li.task")).to_have_count(3)
    assert app.titles() == ["Buy oat milk", "Write report", "Call Alice"]

    app.task("Call Alice").get_by_role("button", name="Delete").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Delete this task?")
    app.check("delete-confirmation")
    dialog.get_by_role("button", name="Cancel").click()
    expect(app.task("Call Alice")).to_be_visible()
    expect(app.task("Call Alice").get_by_role("button", name="Delete")).to_be_focused()
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    app.task("Call Alice").get_by_role("button", name="Delete").click()
    page.get_by_role("dialog").get_by_role("button", name="Yes, delete").click()
    expect(app.task("Call Alice")).to_have_count(0)
    expect(page.locator("li.task")).to_have_count(2)

    app.button("Sign out").click()
    expect(app.heading("Sign in")).to_be_visible()
    page.reload()
    expect(app.heading("Sign in")).to_be_visible()
    assert not app.problems, app.problems


def test_planning_due_dates_priorities_and_upcoming(server, context):
    """Due dates and priorities through the forms, "Overdue" and "Due today" cues, the list
    sorted by due date, and the Upcoming screen (marking a task done there removes it)."""
    email = confirmed_user(server, "planning")
    token = api_token(server, email)
    now = datetime.now().astimezone()
    end_of_today = now.replace(hour=23, minute=59, second=59, microsecond=0)
    later_today = min(now + timedelta(minutes=5), end_of_today)
    for body in [
        {"title": "Overdue report", "due_at": "2020-01-01T09:00:00Z", "priority": "high"},
        {"title": "Today call", "due_at": later_today.isoformat()},
        {"title": "Someday"},
    ]:
        created = requests.post(server.base_url + "/tasks", json=body, headers={"Authorization": token})
        assert created.status_code == 201, created.text
    app = App(context, server).open()
    page = app.page
    app.sign_in(email)
    expect(app.task("Overdue report").locator(".cue")).to_have_text("Overdue")
    expect(app.task("Overdue report")).to_contain_text("High priority")
    expect(app.task("Today call").locator(".cue")).to_have_text("Due today")
    expect(app.task("Someday").locator(".planning")).to_have_count(0)

    app.field("Title").fill("Plan the trip")
    app.field("Due").fill("2030-06-01T09:30")
    app.field("Priority").select_option(label="Urgent")
    app.button("Add task").click()
    expect(app.task("Plan the trip")).to_contain_text("Urgent priority")
    expect(app.task("Plan the trip").locator("time").first).to_have_attribute(
        "datetime", re.compile(r"^2030-06-0[12]T\d\d:30:00\.000000Z$")
    )
    app.check("tasks-planning")

    app.field("Sort by").select_option(label="Due date")
    expect(page.locator("li.task")).to_have_count(4)
    assert app.titles() == ["Overdue report", "Today call", "Plan the trip", "Someday"]

    app.task("Plan the trip").get_by_role("button", name="Edit").click()
    expect(app.field("Due")).to_have_value("2030-06-01T09:30")
    expect(app.field("Priority")).to_have_value("urgent")
    app.field("Due").fill("")
    app.button("Save").click()
    expect(app.task("Plan the trip")).not_to_contain_text("Due")

    app.button("Upcoming").click()
    expect(app.heading("Upcoming")).to_be_visible()
    expect(page.locator("li.task")).to_have_count(2)
    assert app.titles() == ["Overdue report", "Today call"]
    app.check("upcoming")
    app.task("Overdue report").get_by_role("button", name="Mark done").click()
    expect(page.locator("li.task")).to_have_count(1)
    assert app.titles() == ["Today call"]

    app.button("My tasks").click()
    expect(app.task("Overdue report")).to_contain_text("Done")
    expect(app.task("Overdue report").locator(".cue")).to_have_count(0)
    assert not app.problems, app.problems


def test_forgot_password(server, context):
    email = confirmed_user(server, "forgot")
    app = App(context, server).open()
    app.button("Forgot password?").click()
    expect(app.heading("Reset your password")).to_be_visible()
    app.field("Email").fill(email)
    app.check("forgot-password")
    app.button("Send code").click()
    expect(app.heading("Choose a new password")).to_be_visible()
    app.field("Confirmation code").fill(outbox_code(app.server, email, "forgot-password"))
    app.field("New password").fill("NewPass456789")
    app.check("reset-password")
    app.button("Set new password").click()
    expect(app.page.get_by_text("Your password was changed")).to_be_visible()
    app.sign_in(email, "NewPass456789")


def test_a_change_made_elsewhere_gives_412_and_an_offer_to_reload(server, context, browser):
    email = confirmed_user(server, "conflict")
    mine = App(context, server).open()
    mine.sign_in(email)
    mine.add_task("Plan the trip", "Draft")

    other_context = browser.new_context()
    try:
        other = App(other_context, server).open()
        other.sign_in(email)
        mine.task("Plan the trip").get_by_role("button", name="Edit").click()
        expect(mine.field("Title")).to_have_value("Plan the trip")

        other.task("Plan the trip").get_by_role("button", name="Edit").click()
        expect(other.field("Title")).to_have_value("Plan the trip")
        other.field("Title").fill("Plan the trip to Rome")
        other.button("Save").click()
        expect(other.task("Plan the trip to Rome")).to_be_visible()
    finally:
        other_context.close()

    mine.field("Description").fill("My draft")
    mine.button("Save").click()
    alert = mine.page.get_by_role("alert")
    expect(alert).to_contain_text("changed elsewhere since you opened it")
    mine.check("conflict")
    mine.button("Reload task").click()
    expect(mine.field("Title")).to_have_value("Plan the trip to Rome")
    expect(mine.field("Description")).to_have_value("Draft")
    mine.field("Description").fill("My draft")
    mine.button("Save").click()
    expect(mine.task("Plan the trip to Rome")).to_contain_text("My draft")


def test_admins_see_every_users_tasks(fresh_server, context):
    server = fresh_server
    owner = confirmed_user(server, "owner")
    title = f"Owner's task {uuid.uuid4().hex[:6]}"
    created = requests.post(
        server.base_url + "/tasks", json={"title": title}, headers={"Authorization": api_token(server, owner)}
    )
    assert created.status_code == 201, created.text
    admin = confirmed_user(server, "admin")
    cognito(server).admin_add_user_to_group(
        UserPoolId=server.pool_id, Username=admin, GroupName="admins"
    )

    app = App(context, server).open()
    app.sign_in(admin)
    app.button("All users' tasks").click()
    expect(app.heading("All users' tasks")).to_be_visible()
    expect(app.task(title)).to_be_visible()
    expect(app.task(title).get_by_role("button")).to_have_count(0)
    app.check("admin")
    app.field("Show").select_option(label="Done")
    expect(app.page.get_by_text("No user has a task with this status.")).to_be_visible()


def test_non_admins_have_no_admin_view(server, context):
    app = App(context, server).open()
    app.sign_in(confirmed_user(server, "plain"))
    expect(app.button("Sign out")).to_be_visible()
    expect(app.button("All users' tasks")).to_have_count(0)


def test_an_expired_access_token_is_refreshed_without_the_user_noticing(server, context):
    """Two hours on in the browser, the tokens have expired: the next action refreshes them
    with GetTokensFromRefreshToken and goes on, with no sign-in screen and no error."""
    email = confirmed_user(server, "refresh")
    context.clock.install()
    app = App(context, server).open()
    app.sign_in(email)
    app.add_task("Before expiry")

    targets: list[str] = []
    authorizations: list[str] = []

    def watch(request):
        target = request.headers.get("x-amz-target")
        if target:
            targets.append(target.split(".")[-1])
        if request.url.endswith("/tasks") and request.method == "POST":
            authorizations.append(request.headers.get("authorization", ""))

    app.page.on("request", watch)
    app.add_task("Still before expiry")
    app.page.clock.set_system_time(datetime.now() + timedelta(hours=2))
    app.add_task("After expiry")

    assert "GetTokensFromRefreshToken" in targets, targets
    assert len(authorizations) == 2 and authorizations[0] != authorizations[1]
    expect(app.heading("My tasks")).to_be_visible()
    expect(app.page.get_by_role("alert")).to_have_count(0)
    assert app.titles() == ["Before expiry", "Still before expiry", "After expiry"]


def test_a_revoked_session_asks_to_sign_in_again(server, context):
    email = confirmed_user(server, "revoked")
    app = App(context, server).open()
    app.sign_in(email)
    app.add_task("Mine")
    tokens = app.page.evaluate(
        "() => Object.fromEntries(Object.entries(localStorage).filter(([k]) => k.endsWith('.accessToken')))"
    )
    (access_token,) = tokens.values()
    cognito(server).global_sign_out(AccessToken=access_token)
    context.clock.install()
    app.page.clock.set_system_time(datetime.now() + timedelta(hours=2))
    app.field("Title").fill("After sign-out elsewhere")
    app.button("Add task").click()
    expect(app.heading("Sign in")).to_be_visible()
    expect(app.page.get_by_text("Your session has expired. Please sign in again.")).to_be_visible()


def test_sign_in_with_the_hosted_ui(server, context):
    """The code flow with PKCE through the pool's hosted UI on its HTTPS listener (a
    self-signed certificate, which this browser context accepts), back to /callback."""
    email = confirmed_user(server, "hosted")
    app = App(context, server).open()
    app.button("Sign in with the hosted UI").click()
    app.page.wait_for_url(re.compile(r"^https://[^/]+/login\?"))
    assert app.page.url.startswith(f"https://{server.hosted_ui}/")
    assert "code_challenge_method=S256" in app.page.url
    app.check("hosted-ui")
    app.page.get_by_label("Email", exact=True).fill(email)
    app.page.get_by_label("Password", exact=True).fill(PASSWORD)
    app.page.get_by_role("button", name="Sign in", exact=True).click()
    expect(app.heading("My tasks")).to_be_visible()
    expect(app.page.get_by_text(f"Signed in as {email}")).to_be_visible()
    assert app.page.url == server.base_url + "/"
    app.add_task("Made after the hosted UI")

    # Signing out ends the hosted UI's session too (its /logout), then comes back here.
    app.button("Sign out").click()
    expect(app.heading("Sign in")).to_be_visible()
    assert app.page.url.startswith(server.base_url + "/")
    app.button("Sign in with the hosted UI").click()
    app.page.wait_for_url(re.compile(r"^https://[^/]+/login\?"))


def test_load_more_follows_next_token(server, context):
    email = confirmed_user(server, "many")
    token = api_token(server, email)
    for n in range(23):
        created = requests.post(
            server.base_url + "/tasks", json={"title": f"Task {n:02}"}, headers={"Authorization": token}
        )
        assert created.status_code == 201, created.text
    app = App(context, server).open()
    app.sign_in(email)
    expect(app.page.locator("li.task")).to_have_count(20)
    assert app.titles() == [f"Task {n:02}" for n in range(20)]
    app.button("Load more").click()
    expect(app.page.locator("li.task")).to_have_count(23)
    assert app.titles() == [f"Task {n:02}" for n in range(23)]
    expect(app.button("Load more")).to_be_hidden()
    # A new task goes at the end, now that every older one is shown.
    app.add_task("Task 23")
    assert app.titles()[-1] == "Task 23"


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (429, {"message": "Too Many Requests"}, "Too many requests. Wait a moment, then try again."),
        (503, {"message": "unavailable", "code": "unavailable"}, "The service is busy right now. Please try again in a moment."),
        (400, {"message": "title must be 1 to 200 characters", "code": "invalid_title"}, "title must be 1 to 200 characters"),
        (500, {"message": "Internal server error", "code": "internal_error"}, "The server had a problem. Please try again later."),
    ],
)
def test_api_errors_are_explained(server, context, status, body, message):
    """Answers the local server never gives on purpose (throttling, outages) are simulated at
    the network layer; the app must explain each and keep what the user typed."""
    app = App(context, server).open()
    app.sign_in(confirmed_user(server, "errors"))
    app.page.route(
        "**/tasks",
        lambda route: route.fulfill(status=status, json=body)
        if route.request.method == "POST"
        else route.continue_(),
    )
    app.field("Title").fill("Will fail")
    app.button("Add task").click()
    expect(app.page.get_by_role("alert")).to_have_text(message)
    expect(app.field("Title")).to_have_value("Will fail")
    app.check(f"error-{status}")


def test_pool_refusals_are_explained(server, context):
    disabled = confirmed_user(server, "disabled")
    cognito(server).admin_disable_user(UserPoolId=server.pool_id, Username=disabled)
    unconfirmed = new_email("unconfirmed")
    cognito(server).sign_up(ClientId=server.client_id, Username=unconfirmed, Password=PASSWORD)

    app = App(context, server).open()
    expect(app.heading("Sign in")).to_be_visible()
    app.field("Email").fill(disabled)
    app.field("Password").fill(PASSWORD)
    app.button("Sign in").click()
    expect(app.page.get_by_role("alert")).to_have_text("This account is disabled. Contact your administrator.")

    app.field("Email").fill(unconfirmed)
    app.button("Sign in").click()
    expect(app.heading("Confirm your account")).to_be_visible()
    expect(app.field("Email")).to_have_value(unconfirmed)
    app.field("Confirmation code").fill(outbox_code(server, unconfirmed, "sign-up"))
    app.button("Confirm").click()
    app.sign_in(unconfirmed)


# ---- projects: two people on one list ------------------------------------------------------


def test_two_people_share_a_project(server, browser):
    """Invite, accept, both see and change the same tasks, a viewer gets no edit controls,
    and a removed member loses the project at once."""
    owner_email, member_email = confirmed_user(server, "owner"), confirmed_user(server, "member")
    owner_context = browser.new_context(viewport={"width": 1000, "height": 800})
    member_context = browser.new_context(viewport={"width": 1000, "height": 800})
    try:
        owner = App(owner_context, server).open()
        owner.sign_in(owner_email)
        owner.button("Projects").click()
        expect(owner.heading("Projects")).to_be_visible()
        owner.field("Project name").fill("Launch")
        owner.button("Create project").click()
        expect(owner.page.get_by_role("status")).to_have_text("Created “Launch”.")
        owner.check("projects")
        owner.button("Members of Launch").click()
        expect(owner.heading("Members of Launch")).to_be_visible()
        owner.field("E-mail address").fill(member_email)
        owner.field("Role").select_option("editor")
        owner.button("Send invitation").click()
        expect(owner.page.get_by_role("status")).to_have_text(f"Invited {member_email}.")
        owner.check("project-members")

        member = App(member_context, server).open()
        member.sign_in(member_email)
        member.button("Projects").click()
        expect(member.page.get_by_text("You are invited to “Launch” as editor.")).to_be_visible()
        member.check("project-invitation")
        member.button("Accept the invitation to Launch").click()
        member.button("Open tasks of Launch").click()
        expect(member.heading("Launch")).to_be_visible()
        member.field("Title").fill("Shared task")
        member.field("Due").fill("2030-05-01T10:00")
        member.field("Assignee").select_option(label=member_email)
        member.button("Add task").click()
        expect(member.task("Shared task")).to_contain_text(f"Assigned to {member_email}")
        member.check("project-tasks")
        # Assigned to them with a due date: in their Upcoming view, until it is done.
        member.button("Upcoming").click()
        expect(member.task("Shared task")).to_contain_text("Assigned to you in a project")
        member.check("upcoming-project")

        owner.button("Open tasks").click()
        expect(owner.task("Shared task")).to_contain_text(f"Assigned to {member_email}")
        owner.button("Mark done: Shared task").click()
        expect(owner.task("Shared task").locator(".status")).to_have_text("Done")
        member.button("Upcoming").click()
        expect(member.page.get_by_text("Nothing is due.", exact=False)).to_be_visible()
        expect(member.task("Shared task")).to_have_count(0)

        # Demoted to viewer: the member reads the list, with nothing that would change it.
        owner.button("Projects").click()
        owner.button("Members of Launch").click()
        owner.page.get_by_label(f"Role of {member_email}").select_option("viewer")
        expect(owner.page.get_by_role("status")).to_have_text(f"{member_email} is now viewer.")
        member.button("Projects").click()
        member.button("Open tasks of Launch").click()
        expect(member.task("Shared task").locator(".status")).to_have_text("Done")
        expect(member.page.get_by_text("You can read this project's tasks.", exact=False)).to_be_visible()
        expect(member.button("Add task")).to_have_count(0)
        expect(member.button("Edit: Shared task")).to_have_count(0)
        member.check("project-viewer")

        # Removed: the member's open project says so at once (live updates, docs/live.md),
        # and the project is gone from their list.
        owner.button(f"Remove {member_email}").click()
        expect(owner.page.get_by_role("status")).to_have_text(f"Removed {member_email}.")
        expect(member.page.get_by_role("alert")).to_contain_text("no longer a member")
        member.button("Projects").click()
        expect(member.button("Open tasks of Launch")).to_have_count(0)
    finally:
        owner_context.close()
        member_context.close()


def test_webhooks_personal_and_per_project(server, context):
    """Add a webhook (the secret shown once), its deliveries with their status, delete it;
    a project's owner manages the project's webhooks from its members page. The server has
    no `--allow-private-webhooks`: a private address is refused with the API's reason, and
    a public one is accepted (and, with no network here, its attempts fail)."""
    email = confirmed_user(server, "hooks")
    app = App(context, server).open()
    page = app.page
    app.sign_in(email)
    app.button("Webhooks").click()
    expect(app.heading("Webhooks")).to_be_visible()
    expect(page.get_by_text("No webhooks yet.")).to_be_visible()

    app.field("Endpoint URL").fill("https://10.1.2.3/hook")
    app.button("Add webhook").click()
    expect(page.get_by_role("alert")).to_contain_text("private address")

    app.field("Endpoint URL").fill("https://93.184.216.34/hook")
    page.get_by_label("task.created").check()
    app.button("Add webhook").click()
    hook = page.locator("li.webhook")
    expect(hook).to_have_count(1)
    expect(hook).to_contain_text("Events: task.created")
    expect(page.locator("code.secret")).to_have_text(re.compile(r"^whsec_[A-Za-z0-9+/=]{40,}$"))
    app.check("webhooks")

    app.button("My tasks").click()
    app.add_task("Announce me")
    app.button("Webhooks").click()
    expect(page.locator("code.secret")).to_have_count(0)
    deliveries = app.button("Deliveries to https://93.184.216.34/hook")
    expect(page.locator(".delivery-table tbody tr")).to_have_count(0)
    for _ in range(30):
        deliveries.click()
        if page.locator(".delivery-table tbody tr").count():
            break
        deliveries.click()
        page.wait_for_timeout(1000)
    row = page.locator(".delivery-table tbody tr").first
    expect(row).to_contain_text("task.created")
    expect(row).to_contain_text("could not connect")
    app.check("webhook-deliveries")
    app.button("Delete the webhook to https://93.184.216.34/hook").click()
    expect(page.locator("li.webhook")).to_have_count(0)

    app.button("Projects").click()
    app.field("Project name").fill("Hooked")
    app.button("Create project").click()
    app.button("Members of Hooked").click()
    app.button("Webhooks of Hooked").click()
    expect(app.heading("Webhooks of Hooked")).to_be_visible()
    app.field("Endpoint URL").fill("https://93.184.216.34/project-hook")
    app.button("Add webhook").click()
    expect(page.locator("li.webhook")).to_contain_text("Events: every event")
    app.button("Webhooks").click()
    expect(page.get_by_text("No webhooks yet.")).to_be_visible()
    assert not app.problems, app.problems
