"""Lambda triggers in the local user pool, end to end: the example trigger function
(crates/example-triggers) served by `cargo lambda watch` on a free port, a fresh `taskapi
serve --lambda-endpoint` in front of it, and every trigger source driven through real
clients (boto3, the AWS CLI, amazon-cognito-identity-js). The function writes each event it
gets to a log, so the events' shapes are checked as well as their effects."""

import base64
import json
import os
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path

import boto3
import pytest
import requests
from botocore.exceptions import ClientError
from pycognito.aws_srp import AWSSRP

from conftest import (
    ACCESS_KEY_ID,
    REGION,
    ROOT,
    SECRET_ACCESS_KEY,
    aws_credentials,
    outbox_code,
    start_server,
    stop_server,
)
from test_hosted_ui import (
    CALLBACK,
    Browser,
    authorize_url,
    code_from,
    pkce_pair,
    sign_in_through_pages,
    token_request,
)

FUNCTION = "cognito-triggers"
ARN = f"arn:aws:lambda:us-east-1:123456789012:function:{FUNCTION}"
PASSWORD = "TestPass123!"
LEGACY_PASSWORD = "LegacyPass123!"
#: Every trigger but PreTokenGeneration, which each pool sets in its own version.
LIFECYCLE = {
    name: ARN
    for name in [
        "PreSignUp", "PostConfirmation", "PreAuthentication", "PostAuthentication",
        "CustomMessage", "UserMigration", "DefineAuthChallenge", "CreateAuthChallenge",
        "VerifyAuthChallengeResponse",
    ]
}
FLOWS = [
    "ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_CUSTOM_AUTH",
    "ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Watch:
    """`cargo lambda watch` serving the example function, and the log of its events."""

    def __init__(self, url: str, log: Path):
        self.url = url
        self.log = log

    def events(self, source: str) -> list[dict]:
        if not self.log.exists():
            return []
        lines = self.log.read_text().splitlines()
        return [e for e in map(json.loads, lines) if e["triggerSource"] == source]

    def last(self, source: str, user_name: str | None = None) -> dict:
        found = [e for e in self.events(source) if user_name in (None, e["userName"])]
        assert found, f"no {source} event for {user_name}"
        return found[-1]


@pytest.fixture(scope="module")
def watch(tmp_path_factory):
    cargo_lambda = shutil.which("cargo-lambda", path=str(ROOT / ".venv/bin")) or shutil.which(
        "cargo-lambda"
    )
    if cargo_lambda is None:
        pytest.fail("cargo-lambda is missing: run scripts/install-test-tools.sh")
    work = tmp_path_factory.mktemp("triggers")
    port = free_port()
    log = work / "events.jsonl"
    with open(work / "watch.log", "ab") as out:
        process = subprocess.Popen(
            [
                cargo_lambda, "lambda", "watch", "--ignore-changes", "--quiet",
                "-p", "taskapi-example-triggers", "--bin", FUNCTION,
                "-A", "127.0.0.1", "-P", str(port), "--env-var", f"TRIGGER_LOG={log}",
            ],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "CARGO_BUILD_JOBS": os.environ.get("CARGO_BUILD_JOBS", "1")},
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        # The first invocation builds and starts the function.
        deadline = time.monotonic() + 600
        while True:
            try:
                answer = requests.post(
                    f"{url}/2015-03-31/functions/{FUNCTION}/invocations",
                    json={"triggerSource": "PostAuthentication_Authentication", "userName": "warm-up",
                          "request": {"userAttributes": {}}, "response": {}},
                    timeout=600,
                )
                if answer.status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"cargo lambda watch did not serve the function:\n"
                            f"{(work / 'watch.log').read_text()}")
            time.sleep(0.5)
        yield Watch(url, log)
    finally:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()


@pytest.fixture(scope="module")
def server(watch, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("taskapi-triggers")
    process, server = start_server(
        data_dir, data_dir.parent / f"{data_dir.name}.log", "--lambda-endpoint", watch.url
    )
    yield server
    stop_server(process)


def admin(server):
    return boto3.client("cognito-idp", endpoint_url=server.base_url, **aws_credentials())


def make_pool(server, token_version: str = "V1_0", hide: bool = False) -> tuple[str, str]:
    """A pool with every trigger set to the example function; returns (pool id, client id)."""
    idp = admin(server)
    pool = idp.create_user_pool(
        PoolName=f"triggers-{uuid.uuid4().hex[:6]}",
        UsernameAttributes=["email"],
        AutoVerifiedAttributes=["email"],
        LambdaConfig={
            **LIFECYCLE,
            "PreTokenGenerationConfig": {"LambdaArn": ARN, "LambdaVersion": token_version},
        },
    )["UserPool"]
    client = idp.create_user_pool_client(
        UserPoolId=pool["Id"],
        ClientName="app",
        ExplicitAuthFlows=FLOWS,
        PreventUserExistenceErrors="ENABLED" if hide else "LEGACY",
    )["UserPoolClient"]
    return pool["Id"], client["ClientId"]


@pytest.fixture(scope="module")
def pool(server):
    return make_pool(server)


def email(tag: str) -> str:
    return f"user-{uuid.uuid4().hex[:8]}+{tag}@example.com"


def claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def error_of(call) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


def sign_in(server, client_id: str, name: str, password: str = PASSWORD) -> dict:
    return admin(server).initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": name, "PASSWORD": password},
    )


def confirmed_user(server, pool, tag: str = "ok") -> str:
    pool_id, client_id = pool
    name = email(tag)
    admin(server).sign_up(ClientId=client_id, Username=name, Password=PASSWORD)
    admin(server).admin_confirm_sign_up(UserPoolId=pool_id, Username=name)
    return name


def aws_cli(server, *args: str) -> subprocess.CompletedProcess:
    aws = shutil.which("aws", path=str(ROOT / ".venv/bin")) or shutil.which("aws")
    if aws is None:
        pytest.fail("the AWS CLI is missing: run scripts/install-test-tools.sh")
    env = {k: v for k, v in os.environ.items() if k != "AWS_PROFILE"}
    env.update(AWS_ACCESS_KEY_ID=ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET_ACCESS_KEY,
               AWS_DEFAULT_REGION=REGION, AWS_PAGER="")
    return subprocess.run(
        [aws, "cognito-idp", *args, "--endpoint-url", server.base_url, "--output", "json"],
        capture_output=True, text=True, env=env, timeout=120,
    )


# PreSignUp

def test_pre_sign_up_confirms_the_user_and_gets_cognitos_event(server, watch, pool):
    pool_id, client_id = pool
    name = email("autoconfirm")
    answer = admin(server).sign_up(
        ClientId=client_id, Username=name, Password=PASSWORD,
        UserAttributes=[{"Name": "name", "Value": "Ann"}],
    )
    assert answer["UserConfirmed"] is True
    assert "CodeDeliveryDetails" not in answer, "a confirmed user is sent no code"
    user = admin(server).admin_get_user(UserPoolId=pool_id, Username=name)
    assert user["UserStatus"] == "CONFIRMED"
    event = watch.last("PreSignUp_SignUp", answer["UserSub"])
    assert event["version"] == "1"
    assert event["region"] == "us-east-1"
    assert event["userPoolId"] == pool_id
    assert event["callerContext"]["clientId"] == client_id
    assert event["request"]["userAttributes"]["email"] == name
    assert event["request"]["userAttributes"]["name"] == "Ann"
    assert event["response"] == {}
    assert "AuthenticationResult" in sign_in(server, client_id, name)


def test_client_metadata_and_validation_data_reach_the_functions(server, watch, pool):
    pool_id, client_id = pool
    name = email("meta")
    answer = admin(server).sign_up(
        ClientId=client_id, Username=name, Password=PASSWORD,
        ClientMetadata={"autoConfirm": "yes"},
        ValidationData=[{"Name": "invite", "Value": "abc"}],
    )
    assert answer["UserConfirmed"] is True, "the function read ClientMetadata"
    event = watch.last("PreSignUp_SignUp", answer["UserSub"])
    assert event["request"]["clientMetadata"] == {"autoConfirm": "yes"}
    assert event["request"]["validationData"] == {"invite": "abc"}
    # InitiateAuth's ClientMetadata is PreAuthentication's validationData, as in Cognito.
    admin(server).initiate_auth(
        ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": name, "PASSWORD": PASSWORD}, ClientMetadata={"device": "cli"},
    )
    pre = watch.last("PreAuthentication_Authentication", answer["UserSub"])
    assert pre["request"]["validationData"] == {"device": "cli"}
    assert "clientMetadata" not in pre["request"]
    # RespondToAuthChallenge's reaches the challenge functions as clientMetadata.
    idp = admin(server)
    start = idp.initiate_auth(ClientId=client_id, AuthFlow="CUSTOM_AUTH",
                              AuthParameters={"USERNAME": name})
    idp.respond_to_auth_challenge(
        ClientId=client_id, ChallengeName="CUSTOM_CHALLENGE", Session=start["Session"],
        ChallengeResponses={"USERNAME": name, "ANSWER": "42"}, ClientMetadata={"step": "2"},
    )
    verify = watch.last("VerifyAuthChallengeResponse_Authentication", answer["UserSub"])
    assert verify["request"]["clientMetadata"] == {"step": "2"}
    define = watch.last("DefineAuthChallenge_Authentication", answer["UserSub"])
    assert define["request"]["clientMetadata"] == {"step": "2"}


def test_pre_sign_up_verifies_the_email(server, pool):
    pool_id, client_id = pool
    name = email("autoverify")
    assert admin(server).sign_up(ClientId=client_id, Username=name, Password=PASSWORD)["UserConfirmed"]
    attributes = admin(server).admin_get_user(UserPoolId=pool_id, Username=name)["UserAttributes"]
    assert {"Name": "email_verified", "Value": "true"} in attributes


def test_a_refused_sign_up_is_cognitos_error_and_stores_nothing(server, pool):
    pool_id, client_id = pool
    name = email("reject")
    result = aws_cli(server, "sign-up", "--client-id", client_id, "--username", name,
                     "--password", PASSWORD)
    assert result.returncode != 0
    assert "UserLambdaValidationException" in result.stderr
    assert "PreSignUp failed with error Sign-ups from this address are closed." in result.stderr
    code, _ = error_of(lambda: admin(server).admin_get_user(UserPoolId=pool_id, Username=name))
    assert code == "UserNotFoundException"
    users = admin(server).list_users(UserPoolId=pool_id, Filter=f'email = "{name}"')["Users"]
    assert users == []


def test_admin_create_user_runs_pre_sign_up_and_custom_message(server, watch, pool):
    pool_id, _ = pool
    code, message = error_of(lambda: admin(server).admin_create_user(
        UserPoolId=pool_id, Username=email("reject"),
    ))
    assert code == "UserLambdaValidationException"
    assert message == "PreSignUp failed with error Sign-ups from this address are closed."
    name = email("invited")
    admin(server).admin_create_user(UserPoolId=pool_id, Username=name, TemporaryPassword="Temp-Pass123!")
    assert watch.events("PreSignUp_AdminCreateUser")[-1]["callerContext"]["clientId"] == \
        "CLIENT_ID_NOT_APPLICABLE"
    invitation = outbox_messages(server, name, "invitation")[-1]
    assert invitation["subject"] == "Your Tasks code"
    assert "Temp-Pass123!" in invitation["message"]
    assert "CustomMessage_AdminCreateUser" in invitation["message"]


# CustomMessage and PostConfirmation

def outbox_messages(server, to: str, purpose: str) -> list[dict]:
    lines = (server.data_dir / "outbox.jsonl").read_text().splitlines()
    return [m for m in map(json.loads, lines) if m["to"] == to and m["purpose"] == purpose]


def test_custom_message_writes_the_code_message_and_confirmation_runs_post_confirmation(
    server, watch, pool
):
    pool_id, client_id = pool
    name = email("plain")
    sub = admin(server).sign_up(ClientId=client_id, Username=name, Password=PASSWORD)["UserSub"]
    message = outbox_messages(server, name, "sign-up")[-1]
    assert message["subject"] == "Your Tasks code"
    assert message["message"] == (
        f"Hello {sub}, your code is {message['code']} (CustomMessage_SignUp)"
    )
    event = watch.last("CustomMessage_SignUp", sub)
    assert event["request"]["codeParameter"] == "{####}"
    assert event["request"]["usernameParameter"] == "{username}"
    admin(server).resend_confirmation_code(ClientId=client_id, Username=name)
    assert "CustomMessage_ResendCode" in outbox_messages(server, name, "sign-up")[-1]["message"]

    admin(server).confirm_sign_up(
        ClientId=client_id, Username=name, ConfirmationCode=outbox_code(server, name, "sign-up")
    )
    event = watch.last("PostConfirmation_ConfirmSignUp", sub)
    assert event["request"]["userAttributes"]["sub"] == sub
    assert event["request"]["userAttributes"]["cognito:user_status"] == "CONFIRMED"
    assert event["request"]["userAttributes"]["email_verified"] == "true"

    admin(server).forgot_password(ClientId=client_id, Username=name)
    reset = outbox_messages(server, name, "forgot-password")[-1]
    assert "CustomMessage_ForgotPassword" in reset["message"]
    admin(server).confirm_forgot_password(
        ClientId=client_id, Username=name, ConfirmationCode=reset["code"], Password="NewPass123!x"
    )
    assert watch.last("PostConfirmation_ConfirmForgotPassword", sub)
    assert "AuthenticationResult" in sign_in(server, client_id, name, "NewPass123!x")


def test_a_failing_post_confirmation_is_reported_and_the_confirmation_stands(server, pool):
    pool_id, client_id = pool
    name = email("postfail")
    admin(server).sign_up(ClientId=client_id, Username=name, Password=PASSWORD)
    code, message = error_of(lambda: admin(server).confirm_sign_up(
        ClientId=client_id, Username=name, ConfirmationCode=outbox_code(server, name, "sign-up"),
    ))
    assert code == "UserLambdaValidationException"
    assert message == "PostConfirmation failed with error The profile could not be written."
    user = admin(server).admin_get_user(UserPoolId=pool_id, Username=name)
    assert user["UserStatus"] == "CONFIRMED"


# Pre and post authentication

def test_pre_and_post_authentication_run_around_each_sign_in(server, watch, pool):
    pool_id, client_id = pool
    name = confirmed_user(server, pool)
    sub = admin(server).admin_get_user(UserPoolId=pool_id, Username=name)["Username"]
    before = len(watch.events("PostAuthentication_Authentication"))
    assert "AuthenticationResult" in sign_in(server, client_id, name)
    pre = watch.last("PreAuthentication_Authentication", sub)
    assert pre["request"]["userNotFound"] is False
    assert pre["request"]["userAttributes"]["email"] == name
    assert len(watch.events("PostAuthentication_Authentication")) == before + 1
    # A wrong password fails before PostAuthentication.
    code, _ = error_of(lambda: sign_in(server, client_id, name, "Wrong-Pass123!"))
    assert code == "NotAuthorizedException"
    assert len(watch.events("PostAuthentication_Authentication")) == before + 1


def test_pre_authentication_refuses_a_sign_in(server, pool):
    _, client_id = pool
    name = confirmed_user(server, pool, "blocked")
    code, message = error_of(lambda: sign_in(server, client_id, name))
    assert code == "UserLambdaValidationException"
    assert message == "PreAuthentication failed with error This account is blocked."


def test_srp_sign_in_runs_the_triggers(server, watch, pool):
    pool_id, client_id = pool
    name = confirmed_user(server, pool)
    srp = AWSSRP(username=name, password=PASSWORD, pool_id=pool_id, client_id=client_id,
                 client=admin(server))
    tokens = srp.authenticate_user()["AuthenticationResult"]
    id_token = claims(tokens["IdToken"])
    assert id_token["tenant"] == "acme"
    assert watch.last("PreAuthentication_Authentication", id_token["cognito:username"])
    assert watch.last("PostAuthentication_Authentication", id_token["cognito:username"])

    blocked = confirmed_user(server, pool, "blocked")
    srp = AWSSRP(username=blocked, password=PASSWORD, pool_id=pool_id, client_id=client_id,
                 client=admin(server))
    code, message = error_of(srp.authenticate_user)
    assert code == "UserLambdaValidationException"
    assert message == "PreAuthentication failed with error This account is blocked."


def test_post_authentication_failure_issues_no_tokens(server, pool):
    _, client_id = pool
    name = confirmed_user(server, pool, "postauthfail")
    code, message = error_of(lambda: sign_in(server, client_id, name))
    assert code == "UserLambdaValidationException"
    assert message == "PostAuthentication failed with error Sign-in audit unavailable."


# PreTokenGeneration

def test_pre_token_generation_v1_changes_the_id_token(server, watch, pool):
    pool_id, client_id = pool
    name = confirmed_user(server, pool, "groups+suppress")
    admin(server).create_group(UserPoolId=pool_id, GroupName=f"g-{uuid.uuid4().hex[:4]}")
    tokens = sign_in(server, client_id, name)["AuthenticationResult"]
    id_token, access = claims(tokens["IdToken"]), claims(tokens["AccessToken"])
    assert id_token["tenant"] == "acme"
    assert id_token["source"] == "TokenGeneration_Authentication"
    assert "email" not in id_token, "suppressed"
    assert id_token["cognito:groups"] == ["from-trigger"]
    assert access["cognito:groups"] == ["from-trigger"]
    assert "tenant" not in access, "V1 leaves the access token's claims"
    event = watch.last("TokenGeneration_Authentication", id_token["cognito:username"])
    assert event["version"] == "1"
    assert "scopes" not in event["request"]
    assert event["request"]["groupConfiguration"]["groupsToOverride"] == []
    refreshed = admin(server).initiate_auth(
        ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]},
    )["AuthenticationResult"]
    assert claims(refreshed["IdToken"])["source"] == "TokenGeneration_RefreshTokens"


def test_pre_token_generation_v2_changes_both_tokens_and_scopes(server, watch):
    v2 = make_pool(server, "V2_0")
    name = confirmed_user(server, v2)
    tokens = sign_in(server, v2[1], name)["AuthenticationResult"]
    id_token, access = claims(tokens["IdToken"]), claims(tokens["AccessToken"])
    assert id_token["tenant"] == "acme"
    assert access["tenant"] == "acme"
    assert access["roles"] == ["reader", "writer"]
    assert access["scope"].split() == ["aws.cognito.signin.user.admin", "tasks/read"]
    assert access["token_use"] == "access" and access["client_id"] == v2[1]
    event = watch.last("TokenGeneration_Authentication", id_token["cognito:username"])
    assert event["version"] == "2"
    assert event["request"]["scopes"] == ["aws.cognito.signin.user.admin"]


# UserMigration

def test_user_migration_on_sign_in(server, watch, pool):
    pool_id, client_id = pool
    name = f"legacy-{uuid.uuid4().hex[:8]}@example.com"
    code, _ = error_of(lambda: sign_in(server, client_id, name, "Wrong-Pass123!"))
    assert code == "UserNotFoundException"
    code, _ = error_of(lambda: admin(server).admin_get_user(UserPoolId=pool_id, Username=name))
    assert code == "UserNotFoundException", "a refused migration stores nothing"

    tokens = sign_in(server, client_id, name, LEGACY_PASSWORD)["AuthenticationResult"]
    assert claims(tokens["IdToken"])["name"] == "Migrated User"
    event = watch.last("UserMigration_Authentication", name)
    assert event["request"]["password"] == LEGACY_PASSWORD
    user = admin(server).admin_get_user(UserPoolId=pool_id, Username=name)
    assert user["UserStatus"] == "CONFIRMED"
    # Now a user of the pool: its password is the pool's, no migration runs again.
    migrations = len(watch.events("UserMigration_Authentication"))
    assert "AuthenticationResult" in sign_in(server, client_id, name, LEGACY_PASSWORD)
    assert len(watch.events("UserMigration_Authentication")) == migrations


def test_user_migration_on_forgot_password(server, watch, pool):
    _, client_id = pool
    name = f"legacy-{uuid.uuid4().hex[:8]}@example.com"
    delivery = admin(server).forgot_password(ClientId=client_id, Username=name)
    assert delivery["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
    assert watch.last("UserMigration_ForgotPassword", name)
    admin(server).confirm_forgot_password(
        ClientId=client_id, Username=name,
        ConfirmationCode=outbox_code(server, name, "forgot-password"), Password="Chosen-Pass123",
    )
    assert "AuthenticationResult" in sign_in(server, client_id, name, "Chosen-Pass123")


# Custom authentication

def test_custom_auth_challenges_until_the_right_answer(server, watch, pool):
    _, client_id = pool
    name = confirmed_user(server, pool)
    idp = admin(server)
    start = idp.initiate_auth(ClientId=client_id, AuthFlow="CUSTOM_AUTH",
                              AuthParameters={"USERNAME": name})
    assert start["ChallengeName"] == "CUSTOM_CHALLENGE"
    assert start["ChallengeParameters"]["question"] == "What is 6 times 7?"
    username = start["ChallengeParameters"]["USERNAME"]
    wrong = idp.respond_to_auth_challenge(
        ClientId=client_id, ChallengeName="CUSTOM_CHALLENGE", Session=start["Session"],
        ChallengeResponses={"USERNAME": username, "ANSWER": "41"},
    )
    assert wrong["ChallengeName"] == "CUSTOM_CHALLENGE"
    right = idp.respond_to_auth_challenge(
        ClientId=client_id, ChallengeName="CUSTOM_CHALLENGE", Session=wrong["Session"],
        ChallengeResponses={"USERNAME": username, "ANSWER": "42"},
    )
    assert claims(right["AuthenticationResult"]["IdToken"])["email"] == name
    define = watch.last("DefineAuthChallenge_Authentication", username)
    assert [s["challengeResult"] for s in define["request"]["session"]] == [False, True]
    assert [s["challengeMetadata"] for s in define["request"]["session"]] == [
        "QUESTION-1", "QUESTION-2",
    ]
    verify = watch.last("VerifyAuthChallengeResponse_Authentication", username)
    assert verify["request"]["privateChallengeParameters"] == {"answer": "42"}
    # The session of an answered challenge is spent.
    code, _ = error_of(lambda: idp.respond_to_auth_challenge(
        ClientId=client_id, ChallengeName="CUSTOM_CHALLENGE", Session=wrong["Session"],
        ChallengeResponses={"USERNAME": username, "ANSWER": "42"},
    ))
    assert code == "NotAuthorizedException"


def test_custom_auth_fails_after_three_wrong_answers(server, pool):
    _, client_id = pool
    name = confirmed_user(server, pool)
    idp = admin(server)
    step = idp.initiate_auth(ClientId=client_id, AuthFlow="CUSTOM_AUTH",
                             AuthParameters={"USERNAME": name})
    for _ in range(2):
        step = idp.respond_to_auth_challenge(
            ClientId=client_id, ChallengeName="CUSTOM_CHALLENGE", Session=step["Session"],
            ChallengeResponses={"USERNAME": name, "ANSWER": "0"},
        )
    code, message = error_of(lambda: idp.respond_to_auth_challenge(
        ClientId=client_id, ChallengeName="CUSTOM_CHALLENGE", Session=step["Session"],
        ChallengeResponses={"USERNAME": name, "ANSWER": "0"},
    ))
    assert (code, message) == ("NotAuthorizedException", "Incorrect username or password.")


def test_custom_auth_with_amazon_cognito_identity_js(server, pool):
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed")
    pool_id, client_id = pool
    name = confirmed_user(server, pool)
    result = subprocess.run(
        [node, str(ROOT / "tests/node/identity_js_custom_auth.mjs"), f"{server.base_url}/",
         pool_id, client_id, name],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    assert result.stdout.splitlines()[-1] == f"ok: signed in as {name}"


# Failures

def test_an_answer_that_is_not_an_event_is_unrecognizable(server, pool):
    _, client_id = pool
    code, message = error_of(lambda: admin(server).sign_up(
        ClientId=client_id, Username=email("garbage"), Password=PASSWORD,
    ))
    assert (code, message) == ("InvalidLambdaResponseException", "Unrecognizable lambda output")


def test_a_trigger_that_does_not_answer_in_five_seconds_times_out(server, pool):
    pool_id, client_id = pool
    name = email("slow")
    started = time.monotonic()
    code, message = error_of(lambda: admin(server).sign_up(
        ClientId=client_id, Username=name, Password=PASSWORD,
    ))
    took = time.monotonic() - started
    assert code == "UnexpectedLambdaException"
    assert message == (
        "PreSignUp invocation failed due to error Socket timeout while invoking Lambda function."
    )
    assert 4.5 < took < 6.9, took
    code, _ = error_of(lambda: admin(server).admin_get_user(UserPoolId=pool_id, Username=name))
    assert code == "UserNotFoundException"


@pytest.mark.parametrize("endpoint", [None, "closed"])
def test_a_missing_or_unreachable_endpoint_is_named_never_a_hang(tmp_path, endpoint):
    args = []
    if endpoint == "closed":
        args = ["--lambda-endpoint", f"http://127.0.0.1:{free_port()}"]
    process, plain = start_server(tmp_path / "data", tmp_path / "server.log", *args)
    try:
        pool_id, client_id = make_pool(plain)
        started = time.monotonic()
        code, message = error_of(lambda: admin(plain).sign_up(
            ClientId=client_id, Username=email("x"), Password=PASSWORD,
        ))
        assert time.monotonic() - started < 5
        assert code == "UnexpectedLambdaException"
        assert message.startswith("PreSignUp invocation failed due to error ")
        assert "--lambda-endpoint" in message and "AWS_ENDPOINT_URL_LAMBDA" in message
        assert admin(plain).list_users(UserPoolId=pool_id)["Users"] == []
    finally:
        stop_server(process)


# LambdaConfig

def test_lambda_config_is_validated_as_cognito_does(server):
    idp = admin(server)
    code, message = error_of(lambda: idp.create_user_pool(
        PoolName="bad-arn", LambdaConfig={"PreSignUp": "my-pre-sign-up-function"},
    ))
    assert code == "InvalidParameterException"
    assert "at 'lambdaConfig.preSignUp' failed to satisfy constraint" in message
    code, message = error_of(lambda: idp.create_user_pool(
        PoolName="bad-version",
        LambdaConfig={"PreTokenGenerationConfig": {"LambdaArn": ARN, "LambdaVersion": "V9_0"}},
    ))
    assert code == "InvalidParameterException"
    assert "Member must satisfy enum value set: [V1_0, V2_0, V3_0]" in message
    pool_id = idp.create_user_pool(PoolName="good", LambdaConfig={"PreSignUp": ARN})["UserPool"]["Id"]
    code, _ = error_of(lambda: idp.update_user_pool(
        UserPoolId=pool_id, LambdaConfig={"UserMigration": "arn:aws:lambda:us-east-1:account:function:f"},
    ))
    assert code == "InvalidParameterException"
    described = idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    assert described["LambdaConfig"] == {"PreSignUp": ARN}


# The hosted UI, with the server's own pool's triggers on

def test_the_hosted_ui_runs_the_triggers(server, watch):
    admin(server).update_user_pool(
        UserPoolId=server.pool_id,
        AutoVerifiedAttributes=["email"],
        LambdaConfig={
            "PreAuthentication": ARN, "PostAuthentication": ARN, "CustomMessage": ARN,
            "PreTokenGenerationConfig": {"LambdaArn": ARN, "LambdaVersion": "V2_0"},
        },
    )
    own = (server.pool_id, server.client_id)
    name = confirmed_user(server, own)
    verifier, challenge = pkce_pair()
    browser = Browser(server.base_url)
    response = sign_in_through_pages(
        browser,
        authorize_url(server, code_challenge=challenge, code_challenge_method="S256"),
        name,
    )
    tokens = token_request(
        server, grant_type="authorization_code", client_id=server.client_id,
        code=code_from(response), redirect_uri=CALLBACK, code_verifier=verifier,
    ).json()
    id_token, access = claims(tokens["id_token"]), claims(tokens["access_token"])
    assert id_token["tenant"] == "acme" and access["tenant"] == "acme"
    assert set(access["scope"].split()) == {"openid", "email", "tasks/read"}
    event = watch.last("TokenGeneration_HostedAuth", id_token["cognito:username"])
    assert event["request"]["scopes"] == ["openid", "email"]
    assert watch.last("PostAuthentication_Authentication", id_token["cognito:username"])

    blocked = confirmed_user(server, own, "blocked")
    refused = sign_in_through_pages(Browser(server.base_url), authorize_url(server), blocked)
    assert refused.status_code == 400
    assert "PreAuthentication failed with error This account is blocked." in refused.text
