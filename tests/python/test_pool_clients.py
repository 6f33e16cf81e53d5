"""The local user pool driven by the Cognito clients apps really use, with their defaults:
pycognito (SRP sign-in, admin_authenticate, refresh, profile, deletion) with pyotp as the
authenticator app, and boto3 for every admin action and Cognito's failure types."""

import base64
import datetime
import hashlib
import hmac
import json
import time
import uuid

import boto3
import pyotp
import pytest
from botocore.exceptions import ClientError
from pycognito import Cognito
from pycognito.aws_srp import AWSSRP
from pycognito.exceptions import SoftwareTokenMFAChallengeException

from conftest import aws_credentials, new_email, outbox_code

PASSWORD = "TestPass123!"


def idp(server):
    return boto3.client("cognito-idp", endpoint_url=server.base_url, **aws_credentials())


def cognito(server, email, client_id=None, secret=None) -> Cognito:
    return Cognito(
        server.pool_id,
        client_id or server.client_id,
        username=email,
        client_secret=secret,
        boto3_client_kwargs={"endpoint_url": server.base_url, **aws_credentials()},
    )






def error_of(call) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


def confirmed_user(server, email: str, password: str = PASSWORD) -> None:
    user = cognito(server, email)
    user.register(email, password)
    user.confirm_sign_up(outbox_code(server, email, "sign-up"), username=email)


def srp_challenge(server, email, password, client_id=None):
    """Starts USER_SRP_AUTH with pycognito's client and returns it with the challenge."""
    client = idp(server)
    srp = AWSSRP(email, password, server.pool_id, client_id or server.client_id, client=client)
    challenge = client.initiate_auth(
        AuthFlow="USER_SRP_AUTH",
        AuthParameters=srp.get_auth_params(),
        ClientId=client_id or server.client_id,
    )
    assert challenge["ChallengeName"] == "PASSWORD_VERIFIER"
    return srp, challenge


def mfa_client(server) -> str:
    """An app client that also allows server-side (admin) password sign-in."""
    return idp(server).create_user_pool_client(
        UserPoolId=server.pool_id,
        ClientName=f"admin-{uuid.uuid4().hex[:6]}",
        ExplicitAuthFlows=[
            "ALLOW_ADMIN_USER_PASSWORD_AUTH",
            "ALLOW_USER_SRP_AUTH",
            "ALLOW_REFRESH_TOKEN_AUTH",
        ],
    )["UserPoolClient"]["ClientId"]


# ---- pycognito: an app's whole life ---------------------------------------------------------


def test_pycognito_signs_in_with_srp_refreshes_and_manages_the_user(taskapi):
    email = new_email("pyc")
    confirmed_user(taskapi, email)
    user = cognito(taskapi, email)
    user.authenticate(PASSWORD)  # USER_SRP_AUTH, no Session on the answer
    user.verify_tokens()  # RS256 against the pool's JWKS, issuer and audience
    first_access = user.access_token
    claims = json.loads(base64.urlsafe_b64decode(first_access.split(".")[1] + "=="))
    assert claims["iat"] and claims["origin_jti"]

    user.renew_access_token()
    assert user.access_token != first_access
    user.verify_tokens()

    user.update_profile({"name": "Ada Lovelace"})
    assert user.get_user().name == "Ada Lovelace"

    # A new address is unverified until its code is confirmed.
    moved = new_email("moved")
    user.update_profile({"email": moved})
    attrs = {a["Name"]: a["Value"] for a in idp(taskapi).get_user(AccessToken=user.access_token)["UserAttributes"]}
    assert attrs["email"] == moved and attrs["email_verified"] == "false"
    user.validate_verification(outbox_code(taskapi, moved, "verify-email"))
    attrs = {a["Name"]: a["Value"] for a in idp(taskapi).get_user(AccessToken=user.access_token)["UserAttributes"]}
    assert attrs["email_verified"] == "true"
    idp(taskapi).delete_user_attributes(AccessToken=user.access_token, UserAttributeNames=["name"])
    assert "name" not in {a["Name"] for a in idp(taskapi).get_user(AccessToken=user.access_token)["UserAttributes"]}

    moved_user = cognito(taskapi, moved)
    moved_user.authenticate(PASSWORD)
    moved_user.change_password(PASSWORD, "NewPass4567!")
    moved_user.authenticate("NewPass4567!")

    access = moved_user.access_token
    moved_user.delete_user()
    code, _ = error_of(lambda: idp(taskapi).get_user(AccessToken=access))
    assert code == "NotAuthorizedException"
    with pytest.raises(ClientError) as gone:
        cognito(taskapi, moved).authenticate("NewPass4567!")
    assert gone.value.response["Error"]["Code"] in ("NotAuthorizedException", "UserNotFoundException")


def test_pycognito_admin_authenticate_and_new_password_challenge(taskapi):
    client_id = mfa_client(taskapi)
    email = new_email("adm")
    idp(taskapi).admin_create_user(
        UserPoolId=taskapi.pool_id, Username=email, TemporaryPassword="Temp0rary123", MessageAction="SUPPRESS"
    )
    # SRP sign-in with the temporary password leads to NEW_PASSWORD_REQUIRED.
    user = cognito(taskapi, email, client_id)
    user.new_password_challenge("Temp0rary123", PASSWORD)
    user.verify_tokens()

    admin = cognito(taskapi, email, client_id)
    admin.admin_authenticate(PASSWORD)  # AdminInitiateAuth, ADMIN_NO_SRP_AUTH
    admin.verify_tokens()
    code, message = error_of(lambda: cognito(taskapi, email, client_id).admin_authenticate("Wrong123456"))
    assert (code, message) == ("NotAuthorizedException", "Incorrect username or password.")


def test_totp_mfa_with_an_authenticator_app(taskapi):
    client = idp(taskapi)
    client.set_user_pool_mfa_config(
        UserPoolId=taskapi.pool_id,
        SoftwareTokenMfaConfiguration={"Enabled": True},
        MfaConfiguration="OPTIONAL",
    )
    assert client.get_user_pool_mfa_config(UserPoolId=taskapi.pool_id)["MfaConfiguration"] == "OPTIONAL"
    email = new_email("totp")
    confirmed_user(taskapi, email)
    user = cognito(taskapi, email)
    user.authenticate(PASSWORD)  # no factor yet: OPTIONAL lets the user in
    secret = user.associate_software_token()
    app = pyotp.TOTP(secret)
    code, _ = error_of(lambda: client.verify_software_token(AccessToken=user.access_token, UserCode="000000" if app.now() != "000000" else "111111"))
    assert code == "EnableSoftwareTokenMFAException"
    assert user.verify_software_token(app.now())
    user.set_user_mfa_preference(False, True, "SOFTWARE_TOKEN")
    settings = client.get_user(AccessToken=user.access_token)
    assert settings["UserMFASettingList"] == ["SOFTWARE_TOKEN_MFA"]

    def challenged() -> Cognito:
        fresh = cognito(taskapi, email)
        with pytest.raises(SoftwareTokenMFAChallengeException):
            fresh.authenticate(PASSWORD)
        return fresh

    # The next step's code (one step of skew is allowed); the current one was used above.
    next_code = app.at(datetime.datetime.now() + datetime.timedelta(seconds=30))
    fresh = challenged()
    wrong = "123456" if next_code != "123456" else "654321"
    with pytest.raises(ClientError) as mismatch:
        fresh.respond_to_software_token_mfa_challenge(wrong)
    assert mismatch.value.response["Error"]["Code"] == "CodeMismatchException"
    fresh = challenged()
    fresh.respond_to_software_token_mfa_challenge(next_code)
    fresh.verify_tokens()
    again = challenged()
    with pytest.raises(ClientError) as reused:
        again.respond_to_software_token_mfa_challenge(next_code)
    assert reused.value.response["Error"]["Code"] == "ExpiredCodeException"

    # The administrator can turn the factor off again.
    client.admin_set_user_mfa_preference(
        UserPoolId=taskapi.pool_id, Username=email, SoftwareTokenMfaSettings={"Enabled": False}
    )
    cognito(taskapi, email).authenticate(PASSWORD)


# ---- SRP failure paths, as Cognito types them -------------------------------------------------


def test_srp_failures(taskapi):
    email = new_email("srpfail")
    confirmed_user(taskapi, email)
    client = idp(taskapi)

    # Wrong password: the signature does not verify.
    srp, challenge = srp_challenge(taskapi, email, "WrongPass123")
    answer = srp.process_challenge(challenge["ChallengeParameters"], {"USERNAME": email})
    code, message = error_of(
        lambda: client.respond_to_auth_challenge(
            ClientId=taskapi.client_id, ChallengeName="PASSWORD_VERIFIER", ChallengeResponses=answer
        )
    )
    assert (code, message) == ("NotAuthorizedException", "Incorrect username or password.")

    # The right answer works once; replaying its SECRET_BLOCK does not.
    srp, challenge = srp_challenge(taskapi, email, PASSWORD)
    answer = srp.process_challenge(challenge["ChallengeParameters"], {"USERNAME": email})
    respond = lambda: client.respond_to_auth_challenge(
        ClientId=taskapi.client_id, ChallengeName="PASSWORD_VERIFIER", ChallengeResponses=answer
    )
    assert "AccessToken" in respond()["AuthenticationResult"]
    code, message = error_of(respond)
    assert code == "NotAuthorizedException" and "session is expired" in message

    # SECRET_HASH is enforced for a client with a secret, on SRP as on every flow.
    made = client.create_user_pool_client(
        UserPoolId=taskapi.pool_id, ClientName="with-secret", GenerateSecret=True,
        ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]
    code, _ = error_of(
        lambda: client.initiate_auth(
            ClientId=made["ClientId"], AuthFlow="USER_SRP_AUTH",
            AuthParameters={"USERNAME": email, "SRP_A": format(srp.large_a_value, "x")},
        )
    )
    assert code == "NotAuthorizedException"
    with_secret = cognito(taskapi, email, made["ClientId"], made["ClientSecret"])
    with_secret.authenticate(PASSWORD)
    with_secret.renew_access_token()
    refreshed = client.get_tokens_from_refresh_token(
        ClientId=made["ClientId"], ClientSecret=made["ClientSecret"], RefreshToken=with_secret.refresh_token
    )
    assert refreshed["AuthenticationResult"]["AccessToken"]
    code, _ = error_of(
        lambda: client.get_tokens_from_refresh_token(ClientId=made["ClientId"], RefreshToken=with_secret.refresh_token)
    )
    assert code == "NotAuthorizedException"


# ---- boto3: the admin actions ----------------------------------------------------------------


def test_admin_passwords_attributes_and_sessions(taskapi):
    client = idp(taskapi)
    pool = taskapi.pool_id
    email = new_email("boto")
    confirmed_user(taskapi, email)

    client.admin_set_user_password(UserPoolId=pool, Username=email, Password="Temp0rary999", Permanent=False)
    assert client.admin_get_user(UserPoolId=pool, Username=email)["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    client.admin_set_user_password(UserPoolId=pool, Username=email, Password="Perm4nent999", Permanent=True)
    assert client.admin_get_user(UserPoolId=pool, Username=email)["UserStatus"] == "CONFIRMED"
    code, _ = error_of(
        lambda: client.admin_set_user_password(UserPoolId=pool, Username=email, Password="short", Permanent=True)
    )
    assert code == "InvalidPasswordException"
    user = cognito(taskapi, email)
    user.authenticate("Perm4nent999")

    # As on Cognito, a custom attribute must be declared before anyone writes it.
    code, _ = error_of(lambda: client.admin_update_user_attributes(
        UserPoolId=pool, Username=email, UserAttributes=[{"Name": "custom:team", "Value": "blue"}],
    ))
    assert code == "InvalidParameterException"
    client.add_custom_attributes(
        UserPoolId=pool, CustomAttributes=[{"Name": "team", "AttributeDataType": "String"}],
    )
    client.admin_update_user_attributes(
        UserPoolId=pool, Username=email,
        UserAttributes=[{"Name": "given_name", "Value": "Grace"}, {"Name": "custom:team", "Value": "blue"}],
    )
    client.admin_delete_user_attributes(UserPoolId=pool, Username=email, UserAttributeNames=["custom:team"])
    attrs = {a["Name"]: a["Value"] for a in client.admin_get_user(UserPoolId=pool, Username=email)["UserAttributes"]}
    assert attrs["given_name"] == "Grace" and "custom:team" not in attrs

    client.admin_user_global_sign_out(UserPoolId=pool, Username=email)
    code, _ = error_of(lambda: client.get_user(AccessToken=user.access_token))
    assert code == "NotAuthorizedException"

    client.admin_reset_user_password(UserPoolId=pool, Username=email)
    assert client.admin_get_user(UserPoolId=pool, Username=email)["UserStatus"] == "RESET_REQUIRED"
    code, _ = error_of(
        lambda: client.initiate_auth(
            ClientId=taskapi.client_id, AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": "Perm4nent999"},
        )
    )
    assert code == "PasswordResetRequiredException"
    client.confirm_forgot_password(
        ClientId=taskapi.client_id, Username=email,
        ConfirmationCode=outbox_code(taskapi, email, "forgot-password"), Password="Reset4567890",
    )
    cognito(taskapi, email).authenticate("Reset4567890")

    # Server-side auth with the challenge answered through AdminRespondToAuthChallenge.
    client_id = mfa_client(taskapi)
    invited = new_email("invited")
    client.admin_create_user(UserPoolId=pool, Username=invited, TemporaryPassword="Temp0rary123", MessageAction="SUPPRESS")
    challenge = client.admin_initiate_auth(
        UserPoolId=pool, ClientId=client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": invited, "PASSWORD": "Temp0rary123"},
    )
    assert challenge["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    done = client.admin_respond_to_auth_challenge(
        UserPoolId=pool, ClientId=client_id, ChallengeName="NEW_PASSWORD_REQUIRED", Session=challenge["Session"],
        ChallengeResponses={"USERNAME": invited, "NEW_PASSWORD": PASSWORD},
    )
    refresh = done["AuthenticationResult"]["RefreshToken"]
    again = client.admin_initiate_auth(
        UserPoolId=pool, ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": refresh}
    )
    assert again["AuthenticationResult"]["AccessToken"]


def test_admin_groups(taskapi):
    client = idp(taskapi)
    pool = taskapi.pool_id
    name = f"team-{uuid.uuid4().hex[:6]}"
    client.create_group(UserPoolId=pool, GroupName=name, Description="first", Precedence=3)
    assert client.get_group(UserPoolId=pool, GroupName=name)["Group"]["Description"] == "first"
    client.update_group(UserPoolId=pool, GroupName=name, Description="second")
    group = client.get_group(UserPoolId=pool, GroupName=name)["Group"]
    assert (group["Description"], group["Precedence"]) == ("second", 3)
    assert name in [g["GroupName"] for g in client.list_groups(UserPoolId=pool)["Groups"]]
    email = new_email("member")
    confirmed_user(taskapi, email)
    client.admin_add_user_to_group(UserPoolId=pool, Username=email, GroupName=name)
    members = client.list_users_in_group(UserPoolId=pool, GroupName=name)["Users"]
    assert [u["Attributes"] for u in members if {"Name": "email", "Value": email} in u["Attributes"]]
    client.delete_group(UserPoolId=pool, GroupName=name)
    code, _ = error_of(lambda: client.get_group(UserPoolId=pool, GroupName=name))
    assert code == "ResourceNotFoundException"
    assert client.admin_list_groups_for_user(UserPoolId=pool, Username=email)["Groups"] == [
        g for g in client.admin_list_groups_for_user(UserPoolId=pool, Username=email)["Groups"] if g["GroupName"] != name
    ]


def test_admin_pools_and_clients(taskapi):
    client = idp(taskapi)
    pool = client.create_user_pool(
        PoolName="scratch",
        AccountRecoverySetting={"RecoveryMechanisms": [{"Name": "admin_only", "Priority": 1}]},
    )["UserPool"]
    client.update_user_pool(
        UserPoolId=pool["Id"],
        Policies={"PasswordPolicy": {"MinimumLength": 6, "RequireUppercase": False,
                                     "RequireLowercase": False, "RequireNumbers": False,
                                     "RequireSymbols": False}},
    )
    described = client.describe_user_pool(UserPoolId=pool["Id"])["UserPool"]
    assert described["Policies"]["PasswordPolicy"]["MinimumLength"] == 6
    app = client.create_user_pool_client(
        UserPoolId=pool["Id"], ClientName="legacy", ExplicitAuthFlows=["USER_PASSWORD_AUTH"]
    )["UserPoolClient"]
    updated = client.update_user_pool_client(
        UserPoolId=pool["Id"], ClientId=app["ClientId"], ClientName="renamed",
        ExplicitAuthFlows=["ADMIN_NO_SRP_AUTH", "USER_PASSWORD_AUTH"],
    )["UserPoolClient"]
    assert updated["ClientName"] == "renamed"

    # Legacy flow names also allow SRP and refresh, as in Cognito.
    client.sign_up(ClientId=app["ClientId"], Username="legacy-user", Password="simple")
    client.admin_confirm_sign_up(UserPoolId=pool["Id"], Username="legacy-user")
    legacy = Cognito(pool["Id"], app["ClientId"], username="legacy-user",
                     boto3_client_kwargs={"endpoint_url": taskapi.base_url, **aws_credentials()})
    legacy.authenticate("simple")
    legacy.renew_access_token()
    legacy.admin_authenticate("simple")

    # admin_only account recovery: users cannot reset their own password.
    code, _ = error_of(lambda: client.forgot_password(ClientId=app["ClientId"], Username="legacy-user"))
    assert code == "NotAuthorizedException"
    code, _ = error_of(lambda: client.list_users(UserPoolId=pool["Id"], Filter='locale = "en"'))
    assert code == "InvalidParameterException"

    client.delete_user_pool_client(UserPoolId=pool["Id"], ClientId=app["ClientId"])
    code, _ = error_of(lambda: client.describe_user_pool_client(UserPoolId=pool["Id"], ClientId=app["ClientId"]))
    assert code == "ResourceNotFoundException"
    client.delete_user_pool(UserPoolId=pool["Id"])
    code, _ = error_of(lambda: client.describe_user_pool(UserPoolId=pool["Id"]))
    assert code == "ResourceNotFoundException"


def test_browser_preflight_reaches_the_pool_through_taskapi_serve(taskapi):
    import requests

    preflight = requests.options(
        f"{taskapi.base_url}/",
        headers={
            "Origin": "http://localhost:5173",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "cache-control,content-type,x-amz-target,x-amz-user-agent",
        },
        timeout=10,
    )
    assert preflight.ok
    assert preflight.headers["access-control-allow-headers"] == (
        "cache-control,content-type,x-amz-target,x-amz-user-agent"
    )
    failed = requests.post(
        f"{taskapi.base_url}/",
        headers={"Origin": "http://localhost:5173",
                 "X-Amz-Target": "AWSCognitoIdentityProviderService.GetUser"},
        data='{"AccessToken":"nope"}',
        timeout=10,
    )
    assert failed.status_code == 400
    assert "x-amzn-errortype" in failed.headers["access-control-expose-headers"].lower()


def test_required_mfa_is_set_up_during_sign_in(taskapi):
    """With MFA ON, a user without a factor sets one up at sign-in (MFA_SETUP), as boto3
    apps (and amazon-cognito-identity-js's mfaSetup callback) do it."""
    west = boto3.client("cognito-idp", endpoint_url=taskapi.base_url, **{**aws_credentials(), "region_name": "eu-west-1"})
    pool = west.create_user_pool(PoolName="mfa-on")["UserPool"]
    assert pool["Id"].startswith("eu-west-1_") and ":eu-west-1:" in pool["Arn"]
    west.set_user_pool_mfa_config(
        UserPoolId=pool["Id"], SoftwareTokenMfaConfiguration={"Enabled": True}, MfaConfiguration="ON"
    )
    assert west.describe_user_pool(UserPoolId=pool["Id"])["UserPool"]["MfaConfiguration"] == "ON"
    app = west.create_user_pool_client(
        UserPoolId=pool["Id"], ClientName="app",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_TOKEN_EXCHANGE_DELEGATION"],
    )["UserPoolClient"]
    west.admin_create_user(UserPoolId=pool["Id"], Username="mfa-user", TemporaryPassword="Temp0rary123!", MessageAction="SUPPRESS")
    west.admin_set_user_password(UserPoolId=pool["Id"], Username="mfa-user", Password="Perm4nent123!", Permanent=True)
    start = lambda: west.initiate_auth(
        ClientId=app["ClientId"], AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "mfa-user", "PASSWORD": "Perm4nent123!"},
    )
    setup = start()
    assert setup["ChallengeName"] == "MFA_SETUP"
    associated = west.associate_software_token(Session=setup["Session"])
    app_totp = pyotp.TOTP(associated["SecretCode"])
    used = app_totp.at(time.time())
    verified = west.verify_software_token(Session=associated["Session"], UserCode=used)
    assert verified["Status"] == "SUCCESS"
    done = west.respond_to_auth_challenge(
        ClientId=app["ClientId"], ChallengeName="MFA_SETUP", Session=verified["Session"],
        ChallengeResponses={"USERNAME": "mfa-user"},
    )
    assert done["AuthenticationResult"]["AccessToken"]
    # From now on the factor is asked for.
    challenge = start()
    assert challenge["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    code, _ = error_of(
        lambda: west.respond_to_auth_challenge(
            ClientId=app["ClientId"], ChallengeName="SOFTWARE_TOKEN_MFA", Session=challenge["Session"],
            ChallengeResponses={"USERNAME": "mfa-user", "SOFTWARE_TOKEN_MFA_CODE": used},
        )
    )
    assert code == "ExpiredCodeException"  # that step's code was used to verify
    west.delete_user_pool(UserPoolId=pool["Id"])


def test_pool_schema_is_checked_and_described(taskapi):
    client = idp(taskapi)
    for bad in (
        [{"Name": "team", "AttributeDataType": "String",
          "StringAttributeConstraints": {"MinLength": "10", "MaxLength": "2"}}],
        [{"Name": "has space", "AttributeDataType": "String"}],
        [{"Name": "level", "AttributeDataType": "Integer"}],
        [{"Name": "email_verified", "AttributeDataType": "String"}],
        [{"Name": "age", "AttributeDataType": "Number",
          "NumberAttributeConstraints": {"MinValue": "9", "MaxValue": "1"}}],
    ):
        code, _ = error_of(lambda: client.create_user_pool(PoolName="bad-schema", Schema=bad))
        assert code == "InvalidParameterException", bad
    pool = client.create_user_pool(
        PoolName="schema",
        Schema=[
            {"Name": "email", "AttributeDataType": "String", "Required": True, "Mutable": True},
            {"Name": "team", "AttributeDataType": "String",
             "StringAttributeConstraints": {"MinLength": "1", "MaxLength": "32"}},
        ],
    )["UserPool"]
    described = {a["Name"]: a for a in client.describe_user_pool(UserPoolId=pool["Id"])["UserPool"]["SchemaAttributes"]}
    assert described["email"]["Required"] is True
    assert described["sub"]["Mutable"] is False and described["sub"]["Required"] is True
    assert described["custom:team"]["StringAttributeConstraints"]["MaxLength"] == "32"
    client.delete_user_pool(UserPoolId=pool["Id"])


def test_phone_numbers_as_usernames(taskapi):
    client = idp(taskapi)
    pool = client.create_user_pool(PoolName="phones", UsernameAttributes=["phone_number"])["UserPool"]
    app = client.create_user_pool_client(UserPoolId=pool["Id"], ClientName="app")["UserPoolClient"]
    code, message = error_of(lambda: client.sign_up(ClientId=app["ClientId"], Username="555-1234", Password="Passw0rd!x"))
    assert (code, message) == ("InvalidParameterException", "Username should be a phone number.")
    made = client.sign_up(ClientId=app["ClientId"], Username="+15555550123", Password="Passw0rd!x")
    client.admin_confirm_sign_up(UserPoolId=pool["Id"], Username="+15555550123")
    user = client.admin_get_user(UserPoolId=pool["Id"], Username="+15555550123")
    assert user["Username"] == made["UserSub"]
    phone = Cognito(pool["Id"], app["ClientId"], username="+15555550123",
                    boto3_client_kwargs={"endpoint_url": taskapi.base_url, **aws_credentials()})
    phone.authenticate("Passw0rd!x")
    code, _ = error_of(lambda: client.sign_up(ClientId=app["ClientId"], Username="+15555550123", Password="Passw0rd!x"))
    assert code == "UsernameExistsException"
    code, _ = error_of(lambda: client.create_user_pool(PoolName="bad", UsernameAttributes=["nickname"]))
    assert code == "InvalidParameterException"
    client.delete_user_pool(UserPoolId=pool["Id"])
