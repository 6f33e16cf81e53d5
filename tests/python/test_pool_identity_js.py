"""amazon-cognito-identity-js (npm), the library most Cognito web apps use, runs an app's
whole life against `taskapi serve` with its defaults: tests/node/identity_js_lifecycle.mjs."""

import shutil
import subprocess

import boto3
import pytest

from conftest import ROOT, aws_credentials

SCRIPT = ROOT / "tests/node/identity_js_lifecycle.mjs"


def test_amazon_cognito_identity_js_lifecycle(taskapi):
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed")
    if not (ROOT / "node_modules/amazon-cognito-identity-js").is_dir():
        pytest.fail("amazon-cognito-identity-js is missing: run scripts/install-test-tools.sh")
    # TOTP is optional in this pool, so users who set a factor up are asked for it.
    boto3.client("cognito-idp", endpoint_url=taskapi.base_url, **aws_credentials()).set_user_pool_mfa_config(
        UserPoolId=taskapi.pool_id,
        SoftwareTokenMfaConfiguration={"Enabled": True},
        MfaConfiguration="OPTIONAL",
    )
    result = subprocess.run(
        [node, str(SCRIPT), f"{taskapi.base_url}/", taskapi.pool_id, taskapi.client_id,
         str(taskapi.data_dir / "outbox.jsonl")],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    steps = [line for line in result.stdout.splitlines() if line.startswith("ok: ")]
    assert len(steps) == 11, result.stdout
