"""Webhooks under `taskapi serve`: a receiver started here verifies every delivery with the
`standardwebhooks` package (PyPI), the reference Standard Webhooks library. Retries run on
`--webhook-retry-scale 0.001` (5 ms, 300 ms, 1.8 s, ... instead of 5 s, 5 min, 30 min, ...),
so the schedule is the real one, shortened, and no test sleeps for minutes."""

import json
import os
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from standardwebhooks.webhooks import Webhook

from conftest import cognito_client, new_email, outbox_code, start_server, stop_server

PASSWORD = "TestPass123!"
SCALE = "0.001"
#: The shortened schedule's first delays (5 s and 5 min, times the scale), less the jitter
#: (a fifth either way).
FIRST_DELAY, SECOND_DELAY = 0.005 * 0.8, 0.3 * 0.8


class Receiver:
    """An HTTP endpoint on 127.0.0.1 that answers each path's requests with the statuses
    planned for it, in order (then 200), and keeps every request it got."""

    def __init__(self):
        self.plans: dict[str, list[int]] = {}
        self.delays: dict[str, float] = {}
        self.got: dict[str, list[dict]] = {}
        self.lock = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with receiver.lock:
                    plan = receiver.plans.setdefault(self.path, [])
                    status = plan.pop(0) if plan else 200
                    receiver.got.setdefault(self.path, []).append(
                        {"headers": dict(self.headers.items()), "body": body,
                         "at": time.monotonic(), "status": status}
                    )
                    receiver.lock.notify_all()
                    delay = receiver.delays.get(self.path, 0)
                time.sleep(delay)
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str, plan: list[int] = (), delay: float = 0) -> str:
        """The URL of `path`, answered with `plan`'s statuses, each after `delay` s."""
        with self.lock:
            self.plans[path] = list(plan)
            self.delays[path] = delay
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def wait(self, path: str, count: int, timeout: float = 30) -> list[dict]:
        """The first `count` requests to `path`, waiting for them up to `timeout` s."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while len(self.got.get(path, [])) < count:
                left = deadline - time.monotonic()
                assert left > 0, f"{path}: {len(self.got.get(path, []))} of {count} deliveries"
                self.lock.wait(left)
            return list(self.got[path])

    def count(self, path: str) -> int:
        with self.lock:
            return len(self.got.get(path, []))

    def close(self):
        self.server.shutdown()


def verified(secret: str, request: dict) -> dict:
    """The delivery's event, after the reference library verified its signature."""
    headers = {k.lower(): v for k, v in request["headers"].items()}
    return Webhook(secret).verify(request["body"], headers)


class Api:
    def __init__(self, base_url: str, token: str):
        self.base_url, self.token = base_url, token

    def __call__(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        return requests.request(method, f"{self.base_url}{path}", headers=headers,
                                timeout=30, **kwargs)


def sign_in(server, email: str | None = None) -> tuple[str, Api, str]:
    """A confirmed user of the server's pool (a new one unless `email` is given): their
    sub, an API client with their ID token, and their e-mail."""
    cognito = cognito_client(server)
    if email is None:
        email = new_email("hooks")
        cognito.sign_up(ClientId=server.client_id, Username=email, Password=PASSWORD)
        code = outbox_code(server, email, "sign-up")
        cognito.confirm_sign_up(ClientId=server.client_id, Username=email, ConfirmationCode=code)
    tokens = cognito.initiate_auth(
        ClientId=server.client_id, AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    sub = cognito.get_user(AccessToken=tokens["AccessToken"])["UserAttributes"]
    sub = next(a["Value"] for a in sub if a["Name"] == "sub")
    return sub, Api(server.base_url, tokens["IdToken"]), email


@pytest.fixture(scope="module")
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("webhooks")
    process, server = start_server(
        data_dir, data_dir.parent / f"{data_dir.name}.log",
        "--allow-private-webhooks", "--webhook-retry-scale", SCALE,
    )
    yield server
    stop_server(process)


def add_webhook(api: Api, url: str, **fields) -> dict:
    created = api("POST", "/webhooks", json={"url": url, **fields})
    assert created.status_code == 201, created.text
    hook = created.json()
    assert hook["secret"].startswith("whsec_")
    return hook


def deliveries(api: Api, hook: dict) -> list[dict]:
    listed = api("GET", f"/webhooks/{hook['webhook_id']}/deliveries")
    assert listed.status_code == 200, listed.text
    return listed.json()["deliveries"]


def settled(api: Api, hook: dict, count: int, timeout: float = 15) -> list[dict]:
    """The endpoint's attempts, once `count` are recorded."""
    deadline = time.monotonic() + timeout
    while True:
        found = deliveries(api, hook)
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def test_failed_deliveries_come_again_with_the_same_id_after_the_delays(server, receiver):
    _, api, _ = sign_in(server)
    url = receiver.url("/retried", plan=[500, 503])
    hook = add_webhook(api, url, events=["task.created"])
    assert api("POST", "/tasks", json={"title": "ship it"}).status_code == 201

    first, second, third = receiver.wait("/retried", 3)
    events = [verified(hook["secret"], request) for request in (first, second, third)]
    assert {request["headers"]["webhook-id"] for request in (first, second, third)} == {
        events[0]["id"]
    }, "every attempt carries the event's id"
    assert events[0]["type"] == "task.created" and events[0]["data"]["title"] == "ship it"
    assert events[0] == events[1] == events[2], "the same body every time"
    assert second["at"] - first["at"] >= FIRST_DELAY
    assert third["at"] - second["at"] >= SECOND_DELAY

    attempts = settled(api, hook, 3)
    assert [a["status_code"] for a in attempts] == [200, 503, 500], "newest first"
    assert [a["attempt"] for a in attempts] == [3, 2, 1]
    assert attempts[0]["next_attempt_at"] is None
    assert all(a["next_attempt_at"] for a in attempts[1:])
    assert {a["event_id"] for a in attempts} == {events[0]["id"]}


def test_the_event_filter_and_the_owner_only_hear_their_own(server, receiver):
    _, api, _ = sign_in(server)
    _, stranger, _ = sign_in(server)
    deleted_only = add_webhook(api, receiver.url("/deleted-only"), events=["task.deleted"])
    created = api("POST", "/tasks", json={"title": "filtered"}).json()
    assert stranger("POST", "/tasks", json={"title": "not mine"}).status_code == 201
    assert api("DELETE", f"/tasks/{created['task_id']}").status_code == 204
    (request,) = receiver.wait("/deleted-only", 1)
    event = verified(deleted_only["secret"], request)
    assert (event["type"], event["data"]) == ("task.deleted", {"task_id": created["task_id"]})
    time.sleep(0.5)
    assert receiver.count("/deleted-only") == 1, "nothing else: not created, not the stranger's"


def test_a_slow_endpoint_holds_up_only_its_own_deliveries(server, receiver):
    _, api, _ = sign_in(server)
    add_webhook(api, receiver.url("/slow", delay=3))
    add_webhook(api, receiver.url("/fast"))
    started = time.monotonic()
    for n in range(6):
        assert api("POST", "/tasks", json={"title": f"task {n}"}).status_code == 201
    receiver.wait("/fast", 6, timeout=2.5)
    assert time.monotonic() - started < 2.9, "the fast endpoint did not wait for the slow"
    # At most 4 attempts are in flight to one endpoint: the slow one has the others queued.
    assert receiver.count("/slow") <= 4
    receiver.wait("/slow", 6, timeout=20)


def test_a_410_disables_the_endpoint(server, receiver):
    _, api, _ = sign_in(server)
    hook = add_webhook(api, receiver.url("/gone", plan=[410]))
    assert api("POST", "/tasks", json={"title": "one"}).status_code == 201
    receiver.wait("/gone", 1)
    (attempt,) = settled(api, hook, 1)
    assert (attempt["status_code"], attempt["next_attempt_at"]) == (410, None)
    shown = api("GET", f"/webhooks/{hook['webhook_id']}").json()
    assert shown["disabled"] is True and "410" in shown["disabled_reason"]
    assert api("POST", "/tasks", json={"title": "two"}).status_code == 201
    time.sleep(0.5)
    assert receiver.count("/gone") == 1, "a disabled endpoint receives nothing more"


def test_a_rotated_secret_signs_beside_the_old_one(server, receiver):
    _, api, _ = sign_in(server)
    hook = add_webhook(api, receiver.url("/rotated"))
    rotated = api("POST", f"/webhooks/{hook['webhook_id']}/rotate-secret")
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["secret"]
    assert new_secret != hook["secret"] and rotated.json()["previous_secret_until"]
    assert "secret" not in api("GET", f"/webhooks/{hook['webhook_id']}").json()
    assert api("POST", "/tasks", json={"title": "rotated"}).status_code == 201
    (request,) = receiver.wait("/rotated", 1)
    assert len(request["headers"]["webhook-signature"].split(" ")) == 2
    assert verified(new_secret, request) == verified(hook["secret"], request)


@pytest.mark.parametrize("url", [
    "http://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/",
    "http://169.254.10.10/hook",
    "http://0.0.0.0/hook",
    "ftp://127.0.0.1/hook",
    "not a url",
])
def test_metadata_and_link_local_urls_are_refused_even_for_local_development(server, url):
    _, api, _ = sign_in(server)
    refused = api("POST", "/webhooks", json={"url": url})
    assert refused.status_code == 400, refused.text
    assert refused.json()["code"] == "invalid_webhook_url"
    assert api("GET", "/webhooks").json()["count"] == 0


def test_private_and_loopback_urls_are_refused_without_the_development_flag(tmp_path):
    process, strict = start_server(tmp_path / "data", tmp_path / "strict.log")
    try:
        _, api, _ = sign_in(strict)
        for url in ["https://10.0.0.7/hook", "https://127.0.0.1:9/hook",
                    "https://localhost/hook", "https://[::1]/hook", "https://192.168.1.1/",
                    "http://93.184.216.34/plain-http"]:
            refused = api("POST", "/webhooks", json={"url": url})
            assert refused.status_code == 400, f"{url}: {refused.text}"
            assert refused.json()["code"] == "invalid_webhook_url", url
        assert api("GET", "/webhooks").json()["count"] == 0
    finally:
        stop_server(process)


def test_project_webhooks_are_the_owners_alone(server, receiver):
    _, alice, _ = sign_in(server)
    bob_sub, bob, bob_email = sign_in(server)
    _, carol, _ = sign_in(server)
    project = alice("POST", "/projects", json={"name": "hooked"}).json()["project_id"]
    invitation = alice("POST", f"/projects/{project}/invitations",
                       json={"email": bob_email, "role": "editor"}).json()
    assert bob("POST", f"/invitations/{invitation['invitation_id']}/accept").status_code == 200

    url = receiver.url("/project")
    for caller, status in [(bob, 403), (carol, 404)]:
        refused = caller("POST", "/webhooks", json={"url": url, "project_id": project})
        assert refused.status_code == status, refused.text
        assert caller("GET", f"/webhooks?project_id={project}").status_code == status
    hook = add_webhook(alice, url, project_id=project)
    assert hook["project_id"] == project

    created = bob("POST", f"/projects/{project}/tasks", json={"title": "by bob"})
    assert created.status_code == 201, created.text
    (request,) = receiver.wait("/project", 1)
    event = verified(hook["secret"], request)
    assert (event["type"], event["project_id"]) == ("task.created", project)

    mine = add_webhook(alice, receiver.url("/alice-own"))
    for other in (bob, carol):
        for path in (f"/webhooks/{hook['webhook_id']}", f"/webhooks/{mine['webhook_id']}",
                     f"/webhooks/{mine['webhook_id']}/deliveries"):
            assert other("GET", path).status_code == 404, path
        assert other("DELETE", f"/webhooks/{mine['webhook_id']}").status_code == 404
        assert other("POST", f"/webhooks/{mine['webhook_id']}/rotate-secret").status_code == 404
    assert alice("GET", f"/webhooks/{mine['webhook_id']}").status_code == 200
    assert alice("GET", "/webhooks").json()["count"] == 1, "personal list: not the project's"
    assert alice("GET", f"/webhooks?project_id={project}").json()["count"] == 1
    assert alice("DELETE", f"/webhooks/{hook['webhook_id']}").status_code == 204
    assert alice("GET", f"/webhooks/{hook['webhook_id']}").status_code == 404


def test_a_pending_retry_is_delivered_after_kill_9(tmp_path, receiver):
    data_dir = tmp_path / "data"
    args = ("--allow-private-webhooks", "--webhook-retry-scale", SCALE)
    process, first = start_server(data_dir, tmp_path / "first.log", *args)
    try:
        _, api, email = sign_in(first)
        # Two failures, then the third attempt is due 1.8 s (30 min scaled) later.
        hook = add_webhook(api, receiver.url("/survivor", plan=[500, 500]))
        assert api("POST", "/tasks", json={"title": "survives"}).status_code == 201
        receiver.wait("/survivor", 2)
        pending = settled(api, hook, 2)
        assert pending[0]["next_attempt_at"], "the retry is scheduled"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert receiver.count("/survivor") == 2

    process, second = start_server(data_dir, tmp_path / "second.log", *args)
    try:
        requests_seen = receiver.wait("/survivor", 3, timeout=20)
        event = verified(hook["secret"], requests_seen[2])
        assert requests_seen[2]["headers"]["webhook-id"] == requests_seen[0]["headers"]["webhook-id"]
        assert event["data"]["title"] == "survives"
        _, api, _ = sign_in(second, email)
        assert settled(api, hook, 3)[0]["status_code"] == 200
    finally:
        stop_server(process)


def test_bad_requests_are_clear_400s_and_the_cap_a_409(server, receiver):
    _, api, _ = sign_in(server)
    url = receiver.url("/capped")
    for body, code in [
        ({"url": url, "events": ["task.exploded"]}, "invalid_events"),
        ({"url": url, "colour": "red"}, None),
        ({"events": []}, None),
        ({"url": url, "project_id": "not/an/id"}, "invalid_projectId"),
    ]:
        refused = api("POST", "/webhooks", json=body)
        assert refused.status_code == 400, f"{body}: {refused.text}"
        if code:
            assert refused.json()["code"] == code, refused.text
    assert api("GET", "/webhooks/not%23an%23id").status_code == 400
    assert api("GET", "/webhooks?project_id=").status_code == 400
    assert api("GET", "/webhooks").json()["count"] == 0, "nothing was stored"

    for _ in range(10):
        add_webhook(api, url, events=["task.updated", "task.updated"])
    refused = api("POST", "/webhooks", json={"url": url})
    assert refused.status_code == 409 and refused.json()["code"] == "too_many_webhooks"
    listed = api("GET", "/webhooks").json()
    assert listed["count"] == 10
    assert all(hook["events"] == ["task.updated"] for hook in listed["webhooks"])
