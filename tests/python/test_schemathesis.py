"""The REST API against its own OpenAPI document: schemathesis generates requests from
`/openapi.json` (valid and invalid ones, every phase including the stateful one) and checks
every answer against the document; it must find nothing. A real user of the local pool signs
in for the token. Seed, example count and one worker make the run deterministic."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import cognito_client, outbox_code, start_server, stop_server

PASSWORD = "TestPass123!"


def admin_id_token(server, email: str) -> str:
    """Signs a new user up in the local pool, confirms them, adds them to the `admins`
    group (so the admin view is tested too) and signs them in."""
    client = cognito_client(server)
    client.sign_up(ClientId=server.client_id, Username=email, Password=PASSWORD)
    code = outbox_code(server, email, "sign-up")
    client.confirm_sign_up(ClientId=server.client_id, Username=email, ConfirmationCode=code)
    client.admin_add_user_to_group(UserPoolId=server.pool_id, Username=email, GroupName="admins")
    result = client.initiate_auth(
        ClientId=server.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD},
    )
    return result["AuthenticationResult"]["IdToken"]


def schemathesis_cli() -> str:
    found = shutil.which("schemathesis") or str(Path(sys.executable).parent / "schemathesis")
    if not Path(found).is_file():
        pytest.fail("schemathesis is not installed: run scripts/install-test-tools.sh")
    return found


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("schemathesis-data")
    # Generated requests come fast, many without valid tokens; the per-caller and the
    # per-address failed-authentication limits have tests of their own.
    limits_off = {"TASKAPI_RATE_LIMIT": "0", "TASKAPI_AUTH_FAILURE_LIMIT": "0"}
    os.environ.update(limits_off)
    try:
        process, server = start_server(data_dir, data_dir.parent / f"{data_dir.name}.log")
    finally:
        for name in limits_off:
            del os.environ[name]
    yield server
    stop_server(process)


def test_the_api_does_what_its_openapi_document_says(server, tmp_path):
    token = admin_id_token(server, "schemathesis@example.com")
    result = subprocess.run(
        [
            schemathesis_cli(),
            "--config-file", str(Path(__file__).with_name("schemathesis.toml")),
            "run",
            f"{server.base_url}/openapi.json",
            "--url", server.base_url,
            "--header", f"Authorization: {token}",
            "--checks", "all",
            "--phases", "examples,coverage,fuzzing,stateful",
            "--seed", "20261125",
            "--max-examples", "40",
            "--workers", "1",
            "--generation-database", "none",
            "--no-color",
            "--report", "junit",
            "--report-dir", str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=170,
        # Its crash cache goes to the test's temporary directory, not the checkout.
        cwd=tmp_path,
    )
    assert result.returncode == 0, (
        f"schemathesis found problems:\n{result.stdout[-20000:]}\n{result.stderr[-5000:]}"
    )
