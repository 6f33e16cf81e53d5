"""Fixtures shared by the Python tests: a real `taskapi serve` process on a free port."""

import json
import os
import queue
import re
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ROOT = Path(__file__).resolve().parents[2]

#: The access key pair `taskapi serve` is started with and trusts for signed (admin) user
#: pool actions; every client that makes admin calls signs with the same pair.
ACCESS_KEY_ID = "AKIATASKAPITESTS0001"
SECRET_ACCESS_KEY = "taskapi-tests-secret-access-key-0001"
REGION = "us-east-1"


def aws_credentials() -> dict:
    """boto3 client keyword arguments for the key pair the test server trusts."""
    return {
        "aws_access_key_id": ACCESS_KEY_ID,
        "aws_secret_access_key": SECRET_ACCESS_KEY,
        "region_name": REGION,
    }


@dataclass
class Server:
    """A running `taskapi serve`: where it listens, where its state lives, its default pool."""

    base_url: str
    data_dir: Path
    pool_id: str
    client_id: str
    log: Path
    # host:port of the hosted UI's HTTPS listener.
    hosted_ui: str | None = None


def _binary() -> str:
    path = os.environ.get("TASKAPI_BIN", str(ROOT / "target/debug/taskapi"))
    if not Path(path).is_file():
        pytest.fail(f"taskapi binary not found at {path}: run `cargo build -p taskapi` first")
    return path


def start_server(data_dir: Path, log: Path, *args: str) -> tuple[subprocess.Popen, Server]:
    """Starts the binary (with extra `args`) and waits for its `taskapi listening on` line."""
    with open(log, "ab") as log_file:
        process = subprocess.Popen(
            [
                _binary(), "serve", "--addr", "127.0.0.1:0",
                "--hosted-ui-addr", "127.0.0.1:0", "--data-dir", str(data_dir), *args,
            ],
            stdout=subprocess.PIPE,
            stderr=log_file,
            text=True,
            env={
                **os.environ,
                "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
                "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
            },
        )
    lines: queue.Queue = queue.Queue()

    def pump():
        # Keeps reading after startup so the server never blocks on a full pipe.
        for line in process.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    seen = {}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            if process.poll() is not None:
                break
            continue
        if m := re.match(r"user pool id: (\S+)", line):
            seen["pool_id"] = m.group(1)
        elif m := re.match(r"app client id: (\S+)", line):
            seen["client_id"] = m.group(1)
        elif m := re.match(r"hosted UI domain: (\S+)", line):
            seen["hosted_ui"] = m.group(1)
        elif m := re.match(r"taskapi listening on (http://\S+)", line):
            seen["base_url"] = m.group(1)
            break
    if "base_url" not in seen or "pool_id" not in seen or "client_id" not in seen:
        process.kill()
        process.wait()
        pytest.fail(f"taskapi serve did not start (saw {seen}); log:\n{log.read_text()}")
    return process, Server(data_dir=data_dir, log=log, **seen)


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def new_email(tag: str) -> str:
    """A fresh address, so tests sharing a server never meet each other's accounts."""
    return f"{tag}-{uuid.uuid4().hex[:8]}@example.com"


def outbox_code(server: Server, to: str, purpose: str) -> str:
    """The newest code the server's outbox holds for `to` and `purpose` (e.g. `sign-up`)."""
    lines = (server.data_dir / "outbox.jsonl").read_text().splitlines()
    found = [m for m in map(json.loads, lines) if m["to"] == to and m["purpose"] == purpose]
    assert found, f"no {purpose} message for {to} in the outbox"
    return found[-1]["code"]


@pytest.fixture(scope="module")
def taskapi(tmp_path_factory) -> Server:
    """One server per test module, with its own fresh data directory."""
    data_dir = tmp_path_factory.mktemp("taskapi-data")
    process, server = start_server(data_dir, data_dir.parent / f"{data_dir.name}.log")
    yield server
    stop_server(process)


def cognito_call(
    server: Server,
    action: str,
    body: dict,
    credentials: tuple[str, str] | None = (ACCESS_KEY_ID, SECRET_ACCESS_KEY),
    signer=SigV4Auth,
) -> requests.Response:
    """POSTs one Cognito action as plain HTTP, SigV4-signed by botocore with `credentials`
    (unsigned when None); `signer` may be a SigV4Auth subclass that signs differently."""
    url = f"{server.base_url}/"
    data = json.dumps(body)
    headers = {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": f"AWSCognitoIdentityProviderService.{action}",
    }
    if credentials is not None:
        request = AWSRequest(method="POST", url=url, data=data, headers=headers)
        signer(Credentials(*credentials), "cognito-idp", REGION).add_auth(request)
        headers = dict(request.headers.items())
    return requests.post(url, data=data, headers=headers, timeout=60)


def cognito_client(
    server: Server, credentials: tuple[str, str] = (ACCESS_KEY_ID, SECRET_ACCESS_KEY), config=None
):
    """A boto3 Cognito client of `server`, signing with `credentials`."""
    key, secret = credentials
    return boto3.client(
        "cognito-idp",
        endpoint_url=server.base_url,
        region_name=REGION,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=config,
    )
