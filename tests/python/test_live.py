"""Live updates (`GET /live`) with a real WebSocket client (websocket-client) against a real
`taskapi serve`, as users of its local pool who signed up and signed in through it."""

import json
import struct
import time

import pytest
import requests
import websocket

from conftest import cognito_client, new_email, outbox_code, start_server

PASSWORD = "TestPass123!"


class Person:
    """A confirmed account of the server's pool, signed in: its ID token and `sub`."""

    def __init__(self, server, tag: str):
        self.server = server
        self.email = new_email(tag)
        pool = cognito_client(server)
        signed_up = pool.sign_up(ClientId=server.client_id, Username=self.email, Password=PASSWORD)
        self.sub = signed_up["UserSub"]
        pool.confirm_sign_up(
            ClientId=server.client_id,
            Username=self.email,
            ConfirmationCode=outbox_code(server, self.email, "sign-up"),
        )
        result = pool.initiate_auth(
            ClientId=server.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": self.email, "PASSWORD": PASSWORD},
        )
        self.token = result["AuthenticationResult"]["IdToken"]

    def call(self, method: str, path: str, body=None) -> requests.Response:
        return requests.request(
            method,
            f"{self.server.base_url}{path}",
            json=body,
            headers={"Authorization": self.token},
            timeout=10,
        )

    def socket(self) -> websocket.WebSocket:
        return websocket.create_connection(live_url(self.server, self.token), timeout=5)


def live_url(server, token: str) -> str:
    return server.base_url.replace("http://", "ws://", 1) + f"/live?token={token}"


def next_event(socket: websocket.WebSocket) -> dict:
    return json.loads(socket.recv())


def stays_quiet(socket: websocket.WebSocket) -> None:
    socket.settimeout(0.5)
    with pytest.raises(websocket.WebSocketTimeoutException):
        socket.recv()
    socket.settimeout(5)


def close_code(socket: websocket.WebSocket) -> tuple[int, str]:
    """Reads until the server's close frame: its code and reason."""
    while True:
        opcode, data = socket.recv_data(control_frame=True)
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            return struct.unpack("!H", data[:2])[0], data[2:].decode()


def shared_project(owner: Person, member: Person) -> str:
    """A project of `owner` that `member` joined as an editor: its id."""
    project = owner.call("POST", "/projects", {"name": "Shared"}).json()["project_id"]
    invitation = owner.call(
        "POST", f"/projects/{project}/invitations", {"email": member.email, "role": "editor"}
    )
    assert invitation.status_code == 201, invitation.text
    accepted = member.call("POST", f"/invitations/{invitation.json()['invitation_id']}/accept", {})
    assert accepted.status_code == 200, accepted.text
    return project


def test_config_names_the_live_url(taskapi):
    assert requests.get(f"{taskapi.base_url}/config.json", timeout=10).json()["liveUrl"] == "/live"


def test_no_valid_token_gets_401_before_the_upgrade(taskapi):
    for token in ["", "not-a-jwt", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."]:
        with pytest.raises(websocket.WebSocketBadStatusException) as refused:
            websocket.create_connection(live_url(taskapi, token), timeout=5)
        assert refused.value.status_code == 401
        assert json.loads(refused.value.resp_body) == {"message": "Unauthorized"}


def test_the_token_also_works_in_the_authorization_header(taskapi):
    alice = Person(taskapi, "header")
    url = taskapi.base_url.replace("http://", "ws://", 1) + "/live"
    socket = websocket.create_connection(url, header=[f"Authorization: Bearer {alice.token}"], timeout=5)
    created = alice.call("POST", "/tasks", {"title": "by header"}).json()
    assert next_event(socket)["data"] == created
    socket.close()


def test_own_tasks_reach_their_owner_only(taskapi):
    alice, bob = Person(taskapi, "alice"), Person(taskapi, "bob")
    alice_socket, bob_socket = alice.socket(), bob.socket()
    created = alice.call("POST", "/tasks", {"title": "errand"})
    assert created.status_code == 201
    event = next_event(alice_socket)
    assert event["type"] == "task.created" and event["project_id"] is None
    assert event["data"] == created.json()
    assert set(event) == {"id", "type", "at", "project_id", "data"}

    task_id = created.json()["task_id"]
    assert alice.call("PATCH", f"/tasks/{task_id}", {"status": "done"}).status_code == 200
    updated = next_event(alice_socket)
    assert updated["type"] == "task.updated" and updated["data"]["status"] == "done"
    assert alice.call("DELETE", f"/tasks/{task_id}").status_code == 204
    deleted = next_event(alice_socket)
    assert deleted["type"] == "task.deleted" and deleted["data"] == {"task_id": task_id}
    stays_quiet(bob_socket)
    alice_socket.close()
    bob_socket.close()


def test_members_hear_their_project_until_removed(taskapi):
    owner, member = Person(taskapi, "owner"), Person(taskapi, "member")
    member_socket = member.socket()
    project = shared_project(owner, member)
    joined = next_event(member_socket)
    assert joined["type"] == "member.added" and joined["data"]["user_id"] == member.sub

    task = owner.call("POST", f"/projects/{project}/tasks", {"title": "together"}).json()
    event = next_event(member_socket)
    assert event["type"] == "task.created" and event["project_id"] == project
    assert event["data"]["task_id"] == task["task_id"]

    removed = owner.call("DELETE", f"/projects/{project}/members/{member.sub}")
    assert removed.status_code == 204
    assert next_event(member_socket)["type"] == "member.removed"
    owner.call("POST", f"/projects/{project}/tasks", {"title": "without them"})
    stays_quiet(member_socket)
    member_socket.close()


def test_client_messages_are_answered_with_an_error_frame(taskapi):
    alice = Person(taskapi, "chatty")
    socket = alice.socket()
    socket.send('{"subscribe": "everything"}')
    answer = next_event(socket)
    assert answer["type"] == "error"
    created = alice.call("POST", "/tasks", {"title": "still routed"}).json()
    assert next_event(socket)["data"] == created
    socket.send("x" * (17 * 1024))
    # Closed with 1009; the server does not read the rest of the message, so the client may
    # meet the connection's reset before the close frame.
    try:
        assert close_code(socket)[0] == 1009
    except ConnectionResetError:
        pass


def test_sigterm_closes_sockets_with_going_away(tmp_path):
    process, server = start_server(tmp_path / "data", tmp_path / "server.log")
    try:
        alice = Person(server, "sigterm")
        socket = alice.socket()
        process.terminate()
        started = time.monotonic()
        code, reason = close_code(socket)
        assert code == 1001 and "shutting down" in reason
        assert process.wait(timeout=15) == 0
        assert time.monotonic() - started < 12, "within the grace period"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
