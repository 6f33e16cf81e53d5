"""Issue 19, the local user pool under attack (round two), through real clients: each test
is an attack that worked before its fix, and asserts what the victim gets now."""

import datetime
import http.client
import json
import time
from urllib.parse import urlparse

import pyotp
import pytest
import requests
from botocore.exceptions import ClientError
from pycognito.aws_srp import AWSSRP
from conftest import new_email, outbox_code, start_server, stop_server
from test_hosted_ui import (
    PASSWORD, Browser, Page, authorize_url, code_from, confirmed_user, sign_in_through_pages,
)
from test_user_pool import cognito


def error_code(call) -> str:
    with pytest.raises(ClientError) as refused:
        call()
    return refused.value.response["Error"]["Code"]


# ---- 1: attributes the pool never declared, and attributes without end ---------------------


def test_sign_up_refuses_undeclared_custom_attributes_and_oversized_profiles(taskapi):
    idp = cognito(taskapi)
    email = new_email("attrs")

    def sign_up(attributes):
        return lambda: idp.sign_up(
            ClientId=taskapi.client_id, Username=email, Password=PASSWORD,
            UserAttributes=attributes,
        )

    undeclared = [{"Name": f"custom:a{n}", "Value": "x" * 2048} for n in range(10)]
    assert error_code(sign_up(undeclared)) == "InvalidParameterException"
    standard = [{"Name": n, "Value": "x" * 2048} for n in ("name", "nickname", "address", "profile", "website")]
    assert error_code(sign_up(standard)) == "InvalidParameterException"
    # Nothing of either was stored: the address is still free.
    idp.sign_up(ClientId=taskapi.client_id, Username=email, Password=PASSWORD)


# ---- 4: a stolen session does not outlive a reset or "sign out everywhere" -----------------


def signed_in_everywhere(server, email: str) -> dict:
    """A confirmed user signed in twice: by password (tokens) and through the hosted UI
    (a browser with a session cookie)."""
    confirmed_user(server, email)
    tokens = cognito(server).initiate_auth(
        ClientId=server.client_id, AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    browser = Browser(server.base_url)
    code_from(sign_in_through_pages(browser, authorize_url(server), email))
    return {"tokens": tokens, "browser": browser}


def assert_every_session_ended(server, session: dict) -> None:
    idp = cognito(server)
    tokens = session["tokens"]
    assert error_code(lambda: idp.initiate_auth(
        ClientId=server.client_id, AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]},
    )) == "NotAuthorizedException"
    assert error_code(lambda: idp.get_user(AccessToken=tokens["AccessToken"])) == "NotAuthorizedException"
    # The browser's hosted-UI cookie no longer mints codes: it is sent to sign in again.
    again = session["browser"].get(authorize_url(server))
    assert again.status_code == 302 and urlparse(again.headers["Location"]).path == "/login", again.headers


def reset_by_the_owner(server, email):
    idp = cognito(server)
    idp.forgot_password(ClientId=server.client_id, Username=email)
    idp.confirm_forgot_password(
        ClientId=server.client_id, Username=email, Password="N3wPassword!!",
        ConfirmationCode=outbox_code(server, email, "forgot-password"),
    )


def revoke_the_refresh_token(server, email, session):
    response = requests.post(
        f"{server.base_url}/oauth2/revoke",
        data={"token": session["tokens"]["RefreshToken"], "client_id": server.client_id},
        timeout=10,
    )
    assert response.status_code == 200, response.text


ENDINGS = {
    "ConfirmForgotPassword": lambda server, email, _: reset_by_the_owner(server, email),
    "AdminSetUserPassword": lambda server, email, _: cognito(server).admin_set_user_password(
        UserPoolId=server.pool_id, Username=email, Password="N3wPassword!!", Permanent=True
    ),
    "AdminResetUserPassword": lambda server, email, _: cognito(server).admin_reset_user_password(
        UserPoolId=server.pool_id, Username=email
    ),
    "GlobalSignOut": lambda server, _, session: cognito(server).global_sign_out(
        AccessToken=session["tokens"]["AccessToken"]
    ),
    "AdminUserGlobalSignOut": lambda server, email, _: cognito(server).admin_user_global_sign_out(
        UserPoolId=server.pool_id, Username=email
    ),
    "AdminDisableUser": lambda server, email, _: cognito(server).admin_disable_user(
        UserPoolId=server.pool_id, Username=email
    ),
    "AdminDeleteUser": lambda server, email, _: cognito(server).admin_delete_user(
        UserPoolId=server.pool_id, Username=email
    ),
    "/oauth2/revoke": revoke_the_refresh_token,
}


@pytest.mark.parametrize("ending", ENDINGS)
def test_a_reset_or_sign_out_everywhere_ends_every_session(taskapi, ending):
    email = new_email("stolen")
    session = signed_in_everywhere(taskapi, email)
    ENDINGS[ending](taskapi, email, session)
    assert_every_session_ended(taskapi, session)


def test_a_new_sign_in_after_a_reset_works(taskapi):
    email = new_email("fresh")
    signed_in_everywhere(taskapi, email)
    reset_by_the_owner(taskapi, email)
    browser = Browser(taskapi.base_url)
    assert code_from(sign_in_through_pages(browser, authorize_url(taskapi), email, "N3wPassword!!"))
    assert code_from(browser.get(authorize_url(taskapi))), "the new session mints codes"


# ---- 5: authenticator codes count toward the password lockout ------------------------------


def test_wrong_authenticator_codes_lock_the_account_like_wrong_passwords(taskapi):
    idp = cognito(taskapi)
    idp.set_user_pool_mfa_config(
        UserPoolId=taskapi.pool_id, SoftwareTokenMfaConfiguration={"Enabled": True},
        MfaConfiguration="OPTIONAL",
    )
    email = new_email("totp")
    confirmed_user(taskapi, email)
    access = idp.initiate_auth(
        ClientId=taskapi.client_id, AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD},
    )["AuthenticationResult"]["AccessToken"]
    app = pyotp.TOTP(idp.associate_software_token(AccessToken=access)["SecretCode"])
    idp.verify_software_token(AccessToken=access, UserCode=app.now())
    idp.set_user_mfa_preference(
        AccessToken=access, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True}
    )
    now = datetime.datetime.now()
    valid = {app.at(now + datetime.timedelta(seconds=s)) for s in (-30, 0, 30)}
    wrong = next(c for c in ("111111", "222222", "333333", "444444") if c not in valid)

    answers = []
    for _ in range(12):
        try:
            challenge = idp.initiate_auth(
                ClientId=taskapi.client_id, AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD},
            )
        except ClientError as refused:
            answers.append(refused.response["Error"]["Message"])
            continue
        assert challenge["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
        try:
            idp.respond_to_auth_challenge(
                ClientId=taskapi.client_id, ChallengeName="SOFTWARE_TOKEN_MFA",
                Session=challenge["Session"],
                ChallengeResponses={"USERNAME": email, "SOFTWARE_TOKEN_MFA_CODE": wrong},
            )
        except ClientError as refused:
            answers.append(refused.response["Error"]["Code"])
    # Five wrong codes, as with passwords; then the account is locked, password and all.
    assert answers[:4] == ["CodeMismatchException"] * 4, answers
    assert answers[-1] == "Password attempts exceeded", answers
    assert answers.count("CodeMismatchException") <= 5, answers


# ---- 6: the hosted UI's forms are under the pool's quotas ----------------------------------


@pytest.fixture
def recovery_throttled(tmp_path):
    process, server = start_server(
        tmp_path / "data", tmp_path / "server.log", "--cognito-quota", "UserAccountRecovery=2"
    )
    yield server
    stop_server(process)


def test_the_hosted_ui_forgot_password_form_is_under_the_recovery_quota(recovery_throttled):
    server = recovery_throttled
    browser = Browser(server.base_url)
    login = browser.follow(browser.get(authorize_url(server)))
    forgot = browser.get(Page(login.text).links["Forgot your password?"])
    answers = [browser.submit(forgot, username=new_email("nobody")) for _ in range(12)]
    refused = [a for a in answers if "Rate exceeded" in " ".join(Page(a.text).alerts)]
    assert refused, [Page(a.text).alerts for a in answers]
    assert all(a.status_code == 400 for a in refused)


# ---- 2: a stranger's flood leaves the pool's quota to everybody else -----------------------


def call_from(server, source: str, action: str, body: dict) -> tuple[int, dict]:
    """One unsigned Cognito action sent from the loopback address `source`."""
    url = urlparse(server.base_url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30, source_address=(source, 0))
    try:
        connection.request("POST", "/", json.dumps(body), {
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": f"AWSCognitoIdentityProviderService.{action}",
        })
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


@pytest.fixture
def sign_in_throttled(tmp_path):
    process, server = start_server(
        tmp_path / "data", tmp_path / "server.log", "--cognito-quota", "UserAuthentication=10"
    )
    yield server
    stop_server(process)


def test_made_up_refresh_tokens_from_one_address_leave_sign_ins_to_others(sign_in_throttled):
    server = sign_in_throttled
    email = new_email("victim")
    confirmed_user(server, email)
    forged = {"ClientId": server.client_id, "RefreshToken": "eyJ" + "x" * 400}
    sign_in = {
        "ClientId": server.client_id, "AuthFlow": "USER_PASSWORD_AUTH",
        "AuthParameters": {"USERNAME": email, "PASSWORD": PASSWORD},
    }
    victim = []
    flood = []
    for _ in range(5):
        flood += [call_from(server, "127.0.0.2", "GetTokensFromRefreshToken", forged)[1].get("__type") for _ in range(25)]
        status, body = call_from(server, "127.0.0.3", "InitiateAuth", sign_in)
        victim.append(status if status != 200 else "AuthenticationResult" in body)
    assert victim == [True] * 5, victim
    assert flood.count("TooManyRequestsException") > 60, flood


# ---- 7: a stranger cannot jam the owner's recovery ------------------------------------------


def test_a_strangers_requests_and_wrong_codes_leave_the_owners_recovery_working(taskapi):
    email = new_email("owner")
    confirmed_user(taskapi, email)
    cid = taskapi.client_id
    stranger = [
        call_from(taskapi, "127.0.0.2", "ForgotPassword", {"ClientId": cid, "Username": email})[1].get("__type")
        for _ in range(6)
    ]
    assert stranger[-1] == "LimitExceededException", stranger
    wrong = {"ClientId": cid, "Username": email, "ConfirmationCode": "000000", "Password": "Str4nger!!"}
    guesses = [call_from(taskapi, "127.0.0.2", "ConfirmForgotPassword", wrong)[1].get("__type") for _ in range(6)]
    assert guesses == ["CodeMismatchException"] * 5 + ["LimitExceededException"], guesses

    # The owner, from their own address: a code, and it works.
    status, body = call_from(taskapi, "127.0.0.3", "ForgotPassword", {"ClientId": cid, "Username": email})
    assert status == 200, body
    right = {**wrong, "ConfirmationCode": outbox_code(taskapi, email, "forgot-password"), "Password": "Own3rPass!!"}
    status, body = call_from(taskapi, "127.0.0.3", "ConfirmForgotPassword", right)
    assert status == 200, body
    cognito(taskapi).initiate_auth(
        ClientId=cid, AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": "Own3rPass!!"},
    )


# ---- also: abandoned SRP sign-ins cost no disk ----------------------------------------------


def data_bytes(server) -> int:
    return sum(f.stat().st_size for f in server.data_dir.iterdir() if f.name.startswith("userpool.sqlite3"))


def test_abandoned_srp_sign_ins_write_nothing_to_disk(taskapi):
    email = new_email("srp")
    confirmed_user(taskapi, email)
    params = AWSSRP(email, PASSWORD, taskapi.pool_id, taskapi.client_id, client=cognito(taskapi)).get_auth_params()
    before = data_bytes(taskapi)
    for n in range(300):
        start = {"ClientId": taskapi.client_id, "AuthFlow": "USER_SRP_AUTH", "AuthParameters": params}
        status, body = call_from(taskapi, f"127.0.0.{2 + n % 4}", "InitiateAuth", start)
        # The sign-in quota (as Cognito's) is not what this test is about: on a fast machine
        # 300 calls outrun it, so a refused call waits for the quota and goes again.
        for _ in range(50):
            if body.get("__type") != "TooManyRequestsException":
                break
            time.sleep(0.1)
            status, body = call_from(taskapi, f"127.0.0.{2 + n % 4}", "InitiateAuth", start)
        assert status == 200 and body["ChallengeName"] == "PASSWORD_VERIFIER", body
    # 300 challenges used to write about 1.5 MB (5 KB each with the WAL's page images).
    assert data_bytes(taskapi) - before < 64 * 1024
    # SRP sign-in itself still works: pycognito completes one.
    srp = AWSSRP(email, PASSWORD, taskapi.pool_id, taskapi.client_id, client=cognito(taskapi))
    tokens = srp.authenticate_user()
    assert "IdToken" in tokens["AuthenticationResult"]
