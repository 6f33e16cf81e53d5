"""The local user pool under attack, driven by real clients (the AWS CLI, boto3/botocore and
plain HTTP): IAM-authorized actions need a valid SigV4 signature, request-rate quotas,
lockout under concurrency, per-user code limits, no user enumeration, private files and
Cognito's input limits."""

import datetime
import json
import os
import stat
import statistics
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import boto3
import botocore.session
import pytest
from botocore import UNSIGNED
from botocore.auth import SigV4Auth
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import (
    ACCESS_KEY_ID,
    SECRET_ACCESS_KEY,
    cognito_call,
    cognito_client,
    new_email,
    outbox_code,
    start_server,
    stop_server,
)

PASSWORD = "TestPass123!"
NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"})


def client(server, credentials=(ACCESS_KEY_ID, SECRET_ACCESS_KEY), config=NO_RETRIES):
    return cognito_client(server, credentials, config)


def error_of(response) -> tuple[int, str, str]:
    body = response.json()
    return response.status_code, body.get("__type", ""), body.get("message", "")






def confirmed_user(server) -> str:
    email = new_email("user")
    cognito = client(server)
    cognito.sign_up(ClientId=server.client_id, Username=email, Password=PASSWORD)
    cognito.confirm_sign_up(
        ClientId=server.client_id,
        Username=email,
        ConfirmationCode=outbox_code(server, email, "sign-up"),
    )
    return email


def password_auth(server, username: str, password: str):
    return cognito_call(
        server,
        "InitiateAuth",
        {
            "ClientId": server.client_id,
            "AuthFlow": "USER_PASSWORD_AUTH",
            "AuthParameters": {"USERNAME": username, "PASSWORD": password},
        },
        credentials=None,
    )


class StaleSigV4(SigV4Auth):
    """botocore's signer with a clock 20 minutes slow."""

    def _modify_request_before_signing(self, request):
        stale = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=20)
        request.context["timestamp"] = stale.strftime("%Y%m%dT%H%M%SZ")
        super()._modify_request_before_signing(request)


def operations() -> tuple[list[str], list[str]]:
    """Cognito's operations from botocore's service model: (IAM-authorized, public)."""
    model = botocore.session.get_session().get_service_model("cognito-idp")
    iam, public = [], []
    for name in model.operation_names:
        op = model.operation_model(name)
        unsigned = op.auth_type == "none" or (op.auth or []) == ["smithy.api#noAuth"]
        (public if unsigned else iam).append(name)
    return iam, public


# ---- SigV4 ---------------------------------------------------------------------------------


def test_every_iam_action_needs_a_valid_signature(taskapi):
    iam, public = operations()
    assert {"AdminAddUserToGroup", "ListUsers", "CreateUserPool", "AdminDisableUser"} <= set(iam)
    assert len(public) >= 30
    body = {"UserPoolId": taskapi.pool_id, "Username": "nobody@example.com", "GroupName": "admins"}
    for action in iam:
        answers = {
            "unsigned": cognito_call(taskapi, action, body, credentials=None),
            "wrong secret": cognito_call(taskapi, action, body, (ACCESS_KEY_ID, "not-the-secret")),
            "unknown key": cognito_call(taskapi, action, body, ("AKIAUNKNOWNKEY000000", "x")),
            "stale date": cognito_call(taskapi, action, body, signer=StaleSigV4),
        }
        kinds = {case: error_of(r)[:2] for case, r in answers.items()}
        assert kinds == {
            "unsigned": (400, "MissingAuthenticationTokenException"),
            "wrong secret": (400, "InvalidSignatureException"),
            "unknown key": (400, "UnrecognizedClientException"),
            "stale date": (400, "InvalidSignatureException"),
        }, action
        assert error_of(answers["stale date"])[2].startswith("Signature expired: ")
    # Public actions never ask for credentials.
    for action in public:
        response = cognito_call(taskapi, action, {}, credentials=None)
        assert error_of(response)[1] != "MissingAuthenticationTokenException", action


def test_boto3_is_refused_without_the_right_key_and_served_with_it(taskapi):
    calls = {
        "list_users": {"UserPoolId": taskapi.pool_id},
        "admin_add_user_to_group": {
            "UserPoolId": taskapi.pool_id,
            "Username": "nobody@example.com",
            "GroupName": "admins",
        },
        "admin_disable_user": {"UserPoolId": taskapi.pool_id, "Username": "nobody@example.com"},
        "create_user_pool": {"PoolName": "attacker"},
        "describe_user_pool": {"UserPoolId": taskapi.pool_id},
    }
    unsigned = client(taskapi, config=Config(signature_version=UNSIGNED, retries={"total_max_attempts": 1}))
    wrong = client(taskapi, (ACCESS_KEY_ID, "wrong-secret"))
    unknown = client(taskapi, ("AKIAUNKNOWNKEY000000", SECRET_ACCESS_KEY))
    for method, params in calls.items():
        for refused, expected in [
            (unsigned, "MissingAuthenticationTokenException"),
            (wrong, "InvalidSignatureException"),
            (unknown, "UnrecognizedClientException"),
        ]:
            with pytest.raises(ClientError) as excinfo:
                getattr(refused, method)(**params)
            assert excinfo.value.response["Error"]["Code"] == expected, method
    # The environment's pair (the one the tests gave the server) is trusted.
    users = client(taskapi).list_users(UserPoolId=taskapi.pool_id)
    assert "Users" in users
    # So is the generated one, read from the data directory as a profile.
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = str(taskapi.data_dir / "credentials")
    try:
        generated = boto3.Session(profile_name="taskapi-local").client(
            "cognito-idp", endpoint_url=taskapi.base_url, region_name="us-east-1"
        )
        assert generated.describe_user_pool(UserPoolId=taskapi.pool_id)["UserPool"]["Id"] == taskapi.pool_id
    finally:
        del os.environ["AWS_SHARED_CREDENTIALS_FILE"]


def aws_cli(server, env: dict, *args: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    base.update(AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="", AWS_MAX_ATTEMPTS="1", **env)
    return subprocess.run(
        ["aws", "cognito-idp", *args, "--endpoint-url", server.base_url, "--output", "json"],
        capture_output=True,
        text=True,
        env=base,
        timeout=120,
    )


def test_the_aws_cli_signs_with_the_generated_profile_or_is_refused(taskapi):
    credentials = taskapi.data_dir / "credentials"
    text = credentials.read_text()
    assert "[taskapi-local]" in text and "aws_secret_access_key" in text
    profile = {"AWS_SHARED_CREDENTIALS_FILE": str(credentials), "AWS_PROFILE": "taskapi-local"}
    listed = aws_cli(taskapi, profile, "list-users", "--user-pool-id", taskapi.pool_id)
    assert listed.returncode == 0, listed.stderr
    assert "Users" in json.loads(listed.stdout)
    env_pair = {"AWS_ACCESS_KEY_ID": ACCESS_KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY}
    assert aws_cli(taskapi, env_pair, "list-user-pools", "--max-results", "10").returncode == 0
    for env, args, expected in [
        (env_pair, ["--no-sign-request"], "MissingAuthenticationTokenException"),
        ({**env_pair, "AWS_SECRET_ACCESS_KEY": "wrong"}, [], "InvalidSignatureException"),
        ({**env_pair, "AWS_ACCESS_KEY_ID": "AKIAUNKNOWNKEY000000"}, [], "UnrecognizedClientException"),
    ]:
        refused = aws_cli(
            taskapi, env, "admin-add-user-to-group", "--user-pool-id", taskapi.pool_id,
            "--username", "nobody@example.com", "--group-name", "admins", *args,
        )
        assert refused.returncode != 0
        assert expected in refused.stderr, refused.stderr


# ---- private files ---------------------------------------------------------------------------


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_data_directory_and_every_file_in_it_are_private(taskapi):
    assert mode(taskapi.data_dir) == 0o700
    names = {p.name for p in taskapi.data_dir.iterdir()}
    assert {"credentials", "userpool.sqlite3", "userpool.sqlite3-wal", "tasks.sqlite3", "outbox.jsonl"} <= names
    for path in taskapi.data_dir.iterdir():
        assert mode(path) == 0o600, path


def test_a_readable_data_directory_is_tightened_with_a_log_line(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o755)
    os.chmod(data_dir, 0o755)
    leftover = data_dir / "tasks.sqlite3-shm"
    leftover.write_bytes(b"")
    os.chmod(leftover, 0o644)
    log = tmp_path / "server.log"
    process, server = start_server(data_dir, log)
    try:
        assert mode(data_dir) == 0o700
        assert all(mode(p) == 0o600 for p in data_dir.iterdir())
        assert "restricted to 600" in log.read_text() and "restricted to 700" in log.read_text()
    finally:
        stop_server(process)


# ---- lockout, codes, enumeration -------------------------------------------------------------


def burst(server, username: str, password: str, n: int) -> list[str]:
    with ThreadPoolExecutor(n) as pool:
        responses = list(pool.map(lambda _: password_auth(server, username, password), range(n)))
    return [error_of(r)[2] if r.status_code != 200 else "ok" for r in responses]


def test_a_burst_of_wrong_passwords_evaluates_at_most_five(taskapi):
    known = confirmed_user(taskapi)
    unknown = new_email("nobody")
    for name in (known, unknown):
        # One address may send half the pool's 120 sign-ins a second: a second apart, each
        # burst of 50 is within its share.
        time.sleep(1)
        answers = burst(taskapi, name, "WrongPass123", 50)
        # Five guesses are evaluated: four answered as wrong, the fifth locks; the other 45
        # meet the lock without being evaluated.
        assert answers.count("Incorrect username or password.") == 4, (name, answers)
        assert answers.count("Password attempts exceeded") == 46, (name, answers)
        # Locked: even the right password is refused now, for both alike.
        assert error_of(password_auth(taskapi, name, PASSWORD))[1:] == (
            "NotAuthorizedException",
            "Password attempts exceeded",
        )


def test_code_limits_hold_per_user_and_look_the_same_for_unknown_users(taskapi):
    cognito = client(taskapi)
    known, unknown = confirmed_user(taskapi), new_email("nobody")
    for name in (known, unknown):
        # A second apart: one address may send half the pool's 30 recoveries a second.
        time.sleep(1)
        for _ in range(5):
            sent = cognito.forgot_password(ClientId=taskapi.client_id, Username=name)
            details = sent["CodeDeliveryDetails"]
            assert (details["DeliveryMedium"], details["AttributeName"]) == ("EMAIL", "email")
            assert details["Destination"] == f"{name[0]}***@e***"
        with pytest.raises(ClientError) as excinfo:
            cognito.forgot_password(ClientId=taskapi.client_id, Username=name)
        assert excinfo.value.response["Error"] == {
            "Code": "LimitExceededException",
            "Message": "Attempt limit exceeded, please try after some time.",
        }
        wrong = {"ClientId": taskapi.client_id, "Username": name, "Password": "NewPass1234"}
        kinds = []
        for _ in range(6):
            try:
                cognito.confirm_forgot_password(ConfirmationCode="000000", **wrong)
                kinds.append("ok")
            except ClientError as error:
                kinds.append(error.response["Error"]["Code"])
        assert kinds == ["CodeMismatchException"] * 5 + ["LimitExceededException"], name
    # The real code is refused too once the hour's guesses are spent.
    code = outbox_code(taskapi, known, "forgot-password")
    with pytest.raises(ClientError) as excinfo:
        cognito.confirm_forgot_password(
            ClientId=taskapi.client_id, Username=known, ConfirmationCode=code, Password="NewPass1234"
        )
    assert excinfo.value.response["Error"]["Code"] == "LimitExceededException"


def answer(response) -> tuple:
    """What a response reveals, with the one part that names the caller's own input masked."""
    body = response.json()
    details = body.get("CodeDeliveryDetails")
    if details:
        details["Destination"] = details["Destination"][1:]
    return response.status_code, body


def test_known_and_unknown_users_get_identical_answers(taskapi):
    cid = taskapi.client_id
    known, unknown = confirmed_user(taskapi), new_email("nobody")
    # This address's share of the recovery quota, spent by the test before, refills.
    time.sleep(1)

    def ask(action, **members):
        return {
            who: answer(cognito_call(taskapi, action, {"ClientId": cid, "Username": name, **members}, None))
            for who, name in (("known", known), ("unknown", unknown))
        }

    for action, members in [
        ("ResendConfirmationCode", {}),
        ("ForgotPassword", {}),
        ("ConfirmSignUp", {"ConfirmationCode": "123456"}),
        ("ConfirmForgotPassword", {"ConfirmationCode": "123456", "Password": "weak"}),
        ("ConfirmForgotPassword", {"ConfirmationCode": "123456", "Password": "NewPass1234"}),
    ]:
        answers = ask(action, **members)
        assert answers["known"] == answers["unknown"], (action, answers)
    signed_in = {
        who: answer(password_auth(taskapi, name, "WrongPass123"))
        for who, name in (("known", known), ("unknown", unknown))
    }
    assert signed_in["known"] == signed_in["unknown"]


def test_unknown_users_take_as_long_to_refuse_as_known_ones(taskapi):
    """A side channel, not a speed check: the medians must be of the same order (a dummy
    hash), where an unknown user used to be refused in half the time."""
    known_users = [confirmed_user(taskapi) for _ in range(3)]

    def timed(name):
        started = time.perf_counter()
        response = password_auth(taskapi, name, "WrongPass123")
        assert error_of(response)[2] == "Incorrect username or password."
        return time.perf_counter() - started

    # Interleaved, so that a change of load on the machine meets both kinds alike.
    known, unknown = [], []
    for name in known_users * 3:
        known.append(timed(name))
        unknown.append(timed(new_email("nobody")))
    ratio = statistics.median(known) / statistics.median(unknown)
    assert 0.6 < ratio < 1.6, (known, unknown)


# ---- quotas ----------------------------------------------------------------------------------


@pytest.fixture
def throttled(tmp_path):
    data_dir = tmp_path / "data"
    process, server = start_server(data_dir, tmp_path / "server.log", "--cognito-quota", "UserCreation=4")
    yield server
    stop_server(process)


def test_a_pool_past_its_quota_gets_too_many_requests(throttled):
    weak = {"ClientId": throttled.client_id, "Password": "weak", "Username": "a@example.com"}
    kinds = [error_of(cognito_call(throttled, "SignUp", weak, None))[1] for _ in range(10)]
    # The pool's 4 a second, of which one address may use half.
    assert "TooManyRequestsException" not in kinds[:2], kinds
    assert "TooManyRequestsException" in kinds
    # boto3 reads the answer as Cognito's throttling error (retries are off here).
    codes = []
    for _ in range(5):
        try:
            client(throttled).sign_up(ClientId=throttled.client_id, Username=new_email("x"), Password="weak")
        except ClientError as error:
            codes.append(error.response["Error"]["Code"])
    assert "TooManyRequestsException" in codes
    # Other categories, and other pools, keep their own allowance.
    assert error_of(password_auth(throttled, "nobody@example.com", "x"))[1] == "NotAuthorizedException"
    cognito = client(throttled)
    other = cognito.create_user_pool(PoolName="other")["UserPool"]["Id"]
    other_client = cognito.create_user_pool_client(UserPoolId=other, ClientName="c")["UserPoolClient"]["ClientId"]
    cognito.sign_up(ClientId=other_client, Username="someone", Password="Other-Pass-123")


# ---- input limits ----------------------------------------------------------------------------


def test_inputs_beyond_cognitos_limits_are_refused(taskapi):
    cognito = client(taskapi)

    def sign_up_error(username, attributes=()):
        with pytest.raises(ClientError) as excinfo:
            cognito.sign_up(
                ClientId=taskapi.client_id,
                Username=username,
                Password=PASSWORD,
                UserAttributes=list(attributes),
            )
        return excinfo.value.response["Error"]["Code"]

    long_name = [{"Name": "name", "Value": "x" * 2049}]
    assert sign_up_error(new_email("long"), long_name) == "InvalidParameterException"
    for bad in ["a@@b.com", "a@b.com\x00", "<script>alert(1)</script>@x.com", "a" * 120 + "@example.com"]:
        assert sign_up_error(bad) == "InvalidParameterException", bad
    ok = cognito.sign_up(
        ClientId=taskapi.client_id,
        Username=new_email("fine"),
        Password=PASSWORD,
        UserAttributes=[{"Name": "name", "Value": "x" * 2048}],
    )
    assert ok["UserConfirmed"] is False
    huge = {"ClientId": taskapi.client_id, "Username": new_email("huge"), "Password": "x" * 200_000}
    assert error_of(cognito_call(taskapi, "SignUp", huge, None))[:2] == (400, "InvalidParameterException")
