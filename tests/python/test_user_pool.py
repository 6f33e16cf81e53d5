"""The local user pool of `taskapi serve`, driven by real Cognito clients: the AWS CLI for the
seed tutorial's steps, boto3 for the rest, and plain HTTP for the API that trusts its tokens."""

import base64
import json
import os
import re
import sqlite3
import subprocess
import uuid

import pytest
import requests
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes, hmac, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from conftest import (
    ACCESS_KEY_ID,
    REGION,
    SECRET_ACCESS_KEY,
    cognito_call,
    cognito_client,
    new_email,
    outbox_code,
)

PASSWORD = "TestPass123!"
SEED_POLICY = (
    '{"PasswordPolicy":{"MinimumLength":10,"RequireUppercase":true,'
    '"RequireLowercase":true,"RequireNumbers":true,"RequireSymbols":false}}'
)


# ---- helpers ------------------------------------------------------------------------------


def aws_env() -> dict:
    env = dict(os.environ)
    env.update(
        AWS_ACCESS_KEY_ID=ACCESS_KEY_ID,
        AWS_SECRET_ACCESS_KEY=SECRET_ACCESS_KEY,
        AWS_DEFAULT_REGION=REGION,
        AWS_PAGER="",
    )
    env.pop("AWS_PROFILE", None)
    return env


def aws(server, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Runs `aws cognito-idp <args> --endpoint-url <server>`."""
    result = subprocess.run(
        ["aws", "cognito-idp", *args, "--endpoint-url", server.base_url],
        capture_output=True,
        text=True,
        env=aws_env(),
        timeout=120,
    )
    if check and result.returncode != 0:
        pytest.fail(f"aws {' '.join(args)} failed:\n{result.stderr}")
    return result


def aws_json(server, *args: str) -> dict:
    return json.loads(aws(server, *args, "--output", "json").stdout)


def cognito(server):
    return cognito_client(server)






def error_code(excinfo) -> tuple[str, str]:
    err = excinfo.value.response["Error"]
    return err["Code"], err["Message"]


def confirmed_user(server, client, email: str, password: str = PASSWORD) -> None:
    client.sign_up(ClientId=server.client_id, Username=email, Password=password)
    code = outbox_code(server, email, "sign-up")
    client.confirm_sign_up(ClientId=server.client_id, Username=email, ConfirmationCode=code)


def sign_in(server, client, email: str, password: str = PASSWORD) -> dict:
    result = client.initiate_auth(
        ClientId=server.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": password},
    )
    return result["AuthenticationResult"]


def b64url_decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt_parts(token: str) -> tuple[dict, dict]:
    header, payload, _ = token.split(".")
    return json.loads(b64url_decode(header)), json.loads(b64url_decode(payload))


def get_tasks(server, token: str) -> requests.Response:
    return requests.get(f"{server.base_url}/tasks", headers={"Authorization": token}, timeout=10)


# ---- the seed tutorial's steps, with the AWS CLI -------------------------------------------


def test_seed_step_2_creates_a_pool_and_client_that_behave_like_cognitos(taskapi):
    pool = aws_json(
        taskapi,
        "create-user-pool",
        "--pool-name", "task-app-users",
        "--auto-verified-attributes", "email",
        "--username-attributes", "email",
        "--policies", SEED_POLICY,
    )["UserPool"]
    assert re.fullmatch(r"us-east-1_[0-9A-Za-z]{9}", pool["Id"])
    assert pool["Policies"]["PasswordPolicy"]["MinimumLength"] == 10
    assert pool["Policies"]["PasswordPolicy"]["RequireSymbols"] is False
    assert pool["UsernameAttributes"] == ["email"]

    client = aws_json(
        taskapi,
        "create-user-pool-client",
        "--user-pool-id", pool["Id"],
        "--client-name", "task-app-web",
        "--no-generate-secret",
        "--explicit-auth-flows", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH",
        "--supported-identity-providers", "COGNITO",
        "--callback-urls", '["https://tasks.example.com/callback","http://localhost:3000/callback"]',
        "--allowed-o-auth-flows", "code",
        "--allowed-o-auth-scopes", "openid", "email", "profile",
        "--allowed-o-auth-flows-user-pool-client",
    )["UserPoolClient"]
    assert re.fullmatch(r"[a-z0-9]{26}", client["ClientId"])
    assert client["AllowedOAuthFlows"] == ["code"]
    assert "ClientSecret" not in client

    # The seed's client allows SRP only, so Step 5's USER_PASSWORD_AUTH is refused as
    # Cognito refuses it (the default client adds that flow for the CLI).
    email = new_email("seed2")
    aws(taskapi, "sign-up", "--client-id", client["ClientId"], "--username", email,
        "--password", PASSWORD)
    aws(taskapi, "admin-confirm-sign-up", "--user-pool-id", pool["Id"], "--username", email)
    refused = aws(
        taskapi, "initiate-auth", "--client-id", client["ClientId"],
        "--auth-flow", "USER_PASSWORD_AUTH",
        "--auth-parameters", f"USERNAME={email},PASSWORD={PASSWORD}",
        check=False,
    )
    assert refused.returncode != 0
    assert "InvalidParameterException" in refused.stderr
    assert "USER_PASSWORD_AUTH flow not enabled for this client" in refused.stderr

    # Tokens of this other pool are valid Cognito tokens, but not for this API.
    cli_client = aws_json(
        taskapi, "create-user-pool-client", "--user-pool-id", pool["Id"],
        "--client-name", "cli", "--explicit-auth-flows", "ALLOW_USER_PASSWORD_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
    )["UserPoolClient"]
    other = aws_json(
        taskapi, "initiate-auth", "--client-id", cli_client["ClientId"],
        "--auth-flow", "USER_PASSWORD_AUTH",
        "--auth-parameters", f"USERNAME={email},PASSWORD={PASSWORD}",
    )["AuthenticationResult"]
    assert get_tasks(taskapi, other["IdToken"]).status_code == 401


def test_seed_step_5_sign_up_confirm_sign_in_and_use_the_api(taskapi):
    email = new_email("seed5")
    signed_up = aws_json(
        taskapi, "sign-up", "--client-id", taskapi.client_id,
        "--username", email, "--password", PASSWORD,
    )
    assert signed_up["UserConfirmed"] is False
    assert signed_up["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"

    code = outbox_code(taskapi, email, "sign-up")
    assert re.fullmatch(r"\d{6}", code)
    assert f"outbox: to={email} purpose=sign-up code={code}" in taskapi.log.read_text()
    aws(taskapi, "confirm-sign-up", "--client-id", taskapi.client_id,
        "--username", email, "--confirmation-code", code)

    token = aws(
        taskapi, "initiate-auth", "--client-id", taskapi.client_id,
        "--auth-flow", "USER_PASSWORD_AUTH",
        "--auth-parameters", f"USERNAME={email},PASSWORD={PASSWORD}",
        "--query", "AuthenticationResult.IdToken", "--output", "text",
    ).stdout.strip()
    assert token.count(".") == 2

    created = requests.post(
        f"{taskapi.base_url}/tasks",
        headers={"Authorization": token, "Content-Type": "application/json"},
        data=json.dumps({"title": "Ship feature X", "status": "pending"}),
        timeout=10,
    )
    assert created.status_code == 201, created.text
    listed = get_tasks(taskapi, token)
    assert listed.status_code == 200, listed.text
    assert [t["title"] for t in listed.json()["tasks"]] == ["Ship feature X"]
    assert get_tasks(taskapi, f"Bearer {token}").status_code == 200


# ---- tokens ---------------------------------------------------------------------------------


def test_log_lines_in_a_file_carry_no_colour_codes(taskapi):
    """stderr is a file here, not a terminal: colour codes would only clutter it."""
    requests.get(f"{taskapi.base_url}/openapi.json", timeout=10)
    log = taskapi.log.read_text()
    assert "taskapi" in log or "INFO" in log, log
    assert "\x1b[" not in log, log[:500]


def test_tokens_match_cognitos_and_forgeries_are_refused(taskapi):
    client = cognito(taskapi)
    email = new_email("tokens")
    confirmed_user(taskapi, client, email)
    result = sign_in(taskapi, client, email)
    assert result["ExpiresIn"] == 3600 and result["TokenType"] == "Bearer"
    assert result["RefreshToken"].startswith(
        "eyJjdHkiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiUlNBLU9BRVAifQ."
    )
    id_header, id_claims = jwt_parts(result["IdToken"])
    access_header, access_claims = jwt_parts(result["AccessToken"])
    assert set(id_header) == {"kid", "alg"} and id_header["alg"] == "RS256"
    assert id_header["kid"] != access_header["kid"]
    assert len(base64.b64decode(id_header["kid"])) == 32

    issuer = f"{taskapi.base_url}/{taskapi.pool_id}"
    assert id_claims["iss"] == issuer and access_claims["iss"] == issuer
    assert id_claims["aud"] == taskapi.client_id
    assert id_claims["token_use"] == "id" and access_claims["token_use"] == "access"
    assert id_claims["email"] == email and id_claims["email_verified"] is True
    assert id_claims["cognito:username"] == id_claims["sub"] == access_claims["username"]
    assert id_claims["exp"] - id_claims["iat"] == 3600
    for claim in ("auth_time", "jti", "origin_jti", "event_id"):
        assert claim in id_claims and claim in access_claims
    assert access_claims["scope"] == "aws.cognito.signin.user.admin"
    assert access_claims["client_id"] == taskapi.client_id and "aud" not in access_claims

    config = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=10).json()
    assert config["issuer"] == issuer
    jwks = requests.get(config["jwks_uri"], timeout=10).json()
    keys = {k["kid"]: k for k in jwks["keys"]}
    assert set(keys) == {id_header["kid"], access_header["kid"]}

    def public_key(jwk):
        numbers = rsa.RSAPublicNumbers(
            int.from_bytes(b64url_decode(jwk["e"]), "big"),
            int.from_bytes(b64url_decode(jwk["n"]), "big"),
        )
        return numbers.public_key()

    for token, header in ((result["IdToken"], id_header), (result["AccessToken"], access_header)):
        signing_input, signature = token.rsplit(".", 1)
        public_key(keys[header["kid"]]).verify(
            b64url_decode(signature), signing_input.encode(), padding.PKCS1v15(), hashes.SHA256()
        )

    assert get_tasks(taskapi, result["IdToken"]).status_code == 200
    # An access token where the API needs an ID token.
    assert get_tasks(taskapi, result["AccessToken"]).status_code == 401
    # alg none.
    head = b64url(json.dumps({"alg": "none", "kid": id_header["kid"]}).encode())
    payload = result["IdToken"].split(".")[1]
    assert get_tasks(taskapi, f"{head}.{payload}.").status_code == 401
    # HS256 keyed with the public key.
    pem = public_key(keys[id_header["kid"]]).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    head = b64url(json.dumps({"alg": "HS256", "kid": id_header["kid"]}).encode())
    mac = hmac.HMAC(pem, hashes.SHA256())
    mac.update(f"{head}.{payload}".encode())
    assert get_tasks(taskapi, f"{head}.{payload}.{b64url(mac.finalize())}").status_code == 401
    # Tampered payload.
    tampered = dict(id_claims, sub=str(uuid.uuid4()))
    h, _, s = result["IdToken"].split(".")
    assert get_tasks(taskapi, f"{h}.{b64url(json.dumps(tampered).encode())}.{s}").status_code == 401
    # A foreign key with the pool's kid.
    foreign = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    signature = foreign.sign(f"{h}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256())
    assert get_tasks(taskapi, f"{h}.{payload}.{b64url(signature)}").status_code == 401


# ---- boto3: the account lifecycle ----------------------------------------------------------


def test_forgot_password_and_change_password(taskapi):
    client = cognito(taskapi)
    email = new_email("forgot")
    confirmed_user(taskapi, client, email)
    sent = client.forgot_password(ClientId=taskapi.client_id, Username=email)
    assert sent["CodeDeliveryDetails"]["Destination"].endswith("***")
    code = outbox_code(taskapi, email, "forgot-password")
    client.confirm_forgot_password(
        ClientId=taskapi.client_id, Username=email, ConfirmationCode=code, Password="NewPass4567"
    )
    with pytest.raises(ClientError) as excinfo:
        sign_in(taskapi, client, email)
    assert error_code(excinfo) == ("NotAuthorizedException", "Incorrect username or password.")
    tokens = sign_in(taskapi, client, email, "NewPass4567")

    with pytest.raises(ClientError) as excinfo:
        client.change_password(
            AccessToken=tokens["AccessToken"], PreviousPassword="NotMyPass123",
            ProposedPassword="Another789Pw",
        )
    assert error_code(excinfo)[0] == "NotAuthorizedException"
    client.change_password(
        AccessToken=tokens["AccessToken"], PreviousPassword="NewPass4567",
        ProposedPassword="Another789Pw",
    )
    sign_in(taskapi, client, email, "Another789Pw")
    me = client.get_user(AccessToken=tokens["AccessToken"])
    assert {"Name": "email", "Value": email} in me["UserAttributes"]


def test_refresh_then_global_sign_out_revokes_the_refresh_token(taskapi):
    client = cognito(taskapi)
    email = new_email("refresh")
    confirmed_user(taskapi, client, email)
    tokens = sign_in(taskapi, client, email)

    def refresh():
        return client.initiate_auth(
            ClientId=taskapi.client_id, AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]},
        )["AuthenticationResult"]

    refreshed = refresh()
    assert "RefreshToken" not in refreshed
    assert get_tasks(taskapi, refreshed["IdToken"]).status_code == 200

    client.global_sign_out(AccessToken=tokens["AccessToken"])
    with pytest.raises(ClientError) as excinfo:
        refresh()
    assert error_code(excinfo) == ("NotAuthorizedException", "Refresh Token has been revoked")
    with pytest.raises(ClientError) as excinfo:
        client.get_user(AccessToken=refreshed["AccessToken"])
    assert error_code(excinfo) == ("NotAuthorizedException", "Access Token has been revoked")

    # RevokeToken ends one session.
    again = sign_in(taskapi, client, email)
    client.revoke_token(Token=again["RefreshToken"], ClientId=taskapi.client_id)
    with pytest.raises(ClientError) as excinfo:
        client.initiate_auth(
            ClientId=taskapi.client_id, AuthFlow="REFRESH_TOKEN",
            AuthParameters={"REFRESH_TOKEN": again["RefreshToken"]},
        )
    assert error_code(excinfo)[0] == "NotAuthorizedException"


def test_admin_created_user_sets_a_password_and_admins_see_all_tasks(taskapi):
    client = cognito(taskapi)
    email = new_email("admin")
    created = client.admin_create_user(
        UserPoolId=taskapi.pool_id, Username=email, TemporaryPassword="TempPass1234",
        UserAttributes=[{"Name": "email_verified", "Value": "true"}],
    )["User"]
    assert created["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    assert outbox_code(taskapi, email, "invitation") == "TempPass1234"

    challenge = client.initiate_auth(
        ClientId=taskapi.client_id, AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": "TempPass1234"},
    )
    assert challenge["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    assert json.loads(challenge["ChallengeParameters"]["requiredAttributes"]) == []
    assert json.loads(challenge["ChallengeParameters"]["userAttributes"])["email"] == email
    done = client.respond_to_auth_challenge(
        ClientId=taskapi.client_id, ChallengeName="NEW_PASSWORD_REQUIRED",
        Session=challenge["Session"],
        ChallengeResponses={"USERNAME": email, "NEW_PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    assert client.admin_get_user(UserPoolId=taskapi.pool_id, Username=email)["UserStatus"] == "CONFIRMED"

    admin_tasks = f"{taskapi.base_url}/admin/tasks?status=pending"
    plain = requests.get(admin_tasks, headers={"Authorization": done["IdToken"]}, timeout=10)
    assert plain.status_code == 403, plain.text

    client.admin_add_user_to_group(UserPoolId=taskapi.pool_id, Username=email, GroupName="admins")
    groups = client.admin_list_groups_for_user(UserPoolId=taskapi.pool_id, Username=email)
    assert [g["GroupName"] for g in groups["Groups"]] == ["admins"]
    admin = sign_in(taskapi, client, email)
    assert jwt_parts(admin["IdToken"])[1]["cognito:groups"] == ["admins"]
    seen = requests.get(admin_tasks, headers={"Authorization": admin["IdToken"]}, timeout=10)
    assert seen.status_code == 200, seen.text

    client.admin_remove_user_from_group(
        UserPoolId=taskapi.pool_id, Username=email, GroupName="admins"
    )
    demoted = sign_in(taskapi, client, email)
    assert "cognito:groups" not in jwt_parts(demoted["IdToken"])[1]
    again = requests.get(admin_tasks, headers={"Authorization": demoted["IdToken"]}, timeout=10)
    assert again.status_code == 403


# ---- boto3: the rules ----------------------------------------------------------------------


def test_weak_passwords_are_refused_with_cognitos_reasons(taskapi):
    client = cognito(taskapi)
    cases = {
        "Short1abc": "Password did not conform with policy: Password not long enough",
        "nouppercase123": "Password did not conform with policy: Password must have uppercase characters",
        "NOLOWERCASE123": "Password did not conform with policy: Password must have lowercase characters",
        "NoDigitsAtAll": "Password did not conform with policy: Password must have numeric characters",
    }
    for password, message in cases.items():
        with pytest.raises(ClientError) as excinfo:
            client.sign_up(ClientId=taskapi.client_id, Username=new_email("weak"), Password=password)
        assert error_code(excinfo) == ("InvalidPasswordException", message)
        assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_wrong_and_expired_codes(taskapi):
    client = cognito(taskapi)
    email = new_email("codes")
    client.sign_up(ClientId=taskapi.client_id, Username=email, Password=PASSWORD)
    with pytest.raises(ClientError) as excinfo:
        client.initiate_auth(
            ClientId=taskapi.client_id, AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD},
        )
    assert error_code(excinfo) == ("UserNotConfirmedException", "User is not confirmed.")

    code = outbox_code(taskapi, email, "sign-up")
    wrong = "111111" if code == "000000" else "000000"
    with pytest.raises(ClientError) as excinfo:
        client.confirm_sign_up(ClientId=taskapi.client_id, Username=email, ConfirmationCode=wrong)
    assert error_code(excinfo) == (
        "CodeMismatchException", "Invalid verification code provided, please try again."
    )

    # Let the code's 24 hours pass: move its expiry into the past, as time would.
    with sqlite3.connect(taskapi.data_dir / "userpool.sqlite3") as db:
        db.execute("PRAGMA busy_timeout = 5000")
        changed = db.execute(
            "UPDATE codes SET expires_at = 0 WHERE code = ? AND purpose = 'sign-up'", (code,)
        ).rowcount
    assert changed == 1
    with pytest.raises(ClientError) as excinfo:
        client.confirm_sign_up(ClientId=taskapi.client_id, Username=email, ConfirmationCode=code)
    assert error_code(excinfo) == (
        "ExpiredCodeException", "Invalid code provided, please request a code again."
    )

    client.resend_confirmation_code(ClientId=taskapi.client_id, Username=email)
    fresh = outbox_code(taskapi, email, "sign-up")
    client.confirm_sign_up(ClientId=taskapi.client_id, Username=email, ConfirmationCode=fresh)
    sign_in(taskapi, client, email)


def test_disabled_users_cannot_sign_in_and_unknown_users_are_not_revealed(taskapi):
    client = cognito(taskapi)
    email = new_email("disabled")
    confirmed_user(taskapi, client, email)
    tokens = sign_in(taskapi, client, email)
    client.admin_disable_user(UserPoolId=taskapi.pool_id, Username=email)
    with pytest.raises(ClientError) as excinfo:
        sign_in(taskapi, client, email)
    assert error_code(excinfo) == ("NotAuthorizedException", "User is disabled.")
    with pytest.raises(ClientError) as excinfo:
        client.initiate_auth(
            ClientId=taskapi.client_id, AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]},
        )
    assert error_code(excinfo)[0] == "NotAuthorizedException"
    client.admin_enable_user(UserPoolId=taskapi.pool_id, Username=email)
    sign_in(taskapi, client, email)

    # The default client has PreventUserExistenceErrors=ENABLED, as in template.yaml.
    with pytest.raises(ClientError) as excinfo:
        sign_in(taskapi, client, new_email("nobody"))
    assert error_code(excinfo) == ("NotAuthorizedException", "Incorrect username or password.")


def test_unknown_actions_are_named_in_the_error(taskapi):
    response = cognito_call(taskapi, "AdminLinkProviderForUser", {})
    assert response.status_code == 400
    assert response.headers["x-amzn-ErrorType"] == "UnknownOperationException"
    assert "AdminLinkProviderForUser" in response.json()["message"]
    pools = cognito(taskapi).list_user_pools(MaxResults=60)["UserPools"]
    assert taskapi.pool_id in [p["Id"] for p in pools]
