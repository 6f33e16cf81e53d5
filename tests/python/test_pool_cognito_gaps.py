"""Places where moto's Cognito test suite found the local pool departing from Cognito, each
checked as Cognito behaves: pools listed per region, `email_verified` read regardless of
case, and DescribeUserPool's `Domain`, `EmailConfiguration` and
`VerificationMessageTemplate`."""

import uuid

import boto3

from conftest import ACCESS_KEY_ID, SECRET_ACCESS_KEY


def client(server, region: str):
    return boto3.client(
        "cognito-idp", endpoint_url=server.base_url, region_name=region,
        aws_access_key_id=ACCESS_KEY_ID, aws_secret_access_key=SECRET_ACCESS_KEY,
    )


def test_list_user_pools_lists_the_signed_regions_pools_only(taskapi):
    west = client(taskapi, "us-west-2")
    name = f"west-{uuid.uuid4().hex[:6]}"
    pool_id = west.create_user_pool(PoolName=name)["UserPool"]["Id"]
    assert pool_id.startswith("us-west-2_")
    listed = west.list_user_pools(MaxResults=60)["UserPools"]
    assert [p["Name"] for p in listed] == [name]
    east = [p["Id"] for p in client(taskapi, "us-east-1").list_user_pools(MaxResults=60)["UserPools"]]
    assert taskapi.pool_id in east and pool_id not in east


def test_email_verified_true_in_any_case_counts(taskapi):
    idp = client(taskapi, "us-east-1")
    pool_id = idp.create_user_pool(PoolName="verified-case")["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="c")["UserPoolClient"][
        "ClientId"
    ]
    name = str(uuid.uuid4())
    idp.admin_create_user(
        UserPoolId=pool_id, Username=name,
        UserAttributes=[{"Name": "email", "Value": "test@test.com"},
                        {"Name": "email_verified", "Value": "True"}],
    )
    idp.admin_set_user_password(UserPoolId=pool_id, Username=name, Password="secretP2ss!",
                                Permanent=True)
    delivery = idp.forgot_password(ClientId=client_id, Username=name)["CodeDeliveryDetails"]
    assert delivery == {"Destination": "t***@t***", "DeliveryMedium": "EMAIL",
                        "AttributeName": "email"}


def test_describe_user_pool_reports_domain_and_message_settings(taskapi):
    idp = client(taskapi, "us-east-1")
    pool_id = idp.create_user_pool(PoolName="described")["UserPool"]["Id"]
    described = idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    assert "Domain" not in described
    assert described["EmailConfiguration"] == {"EmailSendingAccount": "COGNITO_DEFAULT"}
    assert described["VerificationMessageTemplate"] == {"DefaultEmailOption": "CONFIRM_WITH_CODE"}
    domain = f"d-{uuid.uuid4().hex[:10]}"
    idp.create_user_pool_domain(UserPoolId=pool_id, Domain=domain)
    assert idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]["Domain"] == domain
    custom = {"EmailSendingAccount": "DEVELOPER", "SourceArn":
              "arn:aws:ses:us-east-1:123456789012:identity/a@example.com"}
    pool_id = idp.create_user_pool(PoolName="ses", EmailConfiguration=custom)["UserPool"]["Id"]
    assert idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]["EmailConfiguration"] == custom


def schema_of(described: dict) -> dict:
    return {a["Name"]: a for a in described["SchemaAttributes"]}


def test_the_schema_as_cognito_describes_and_checks_it(taskapi):
    idp = client(taskapi, "us-east-1")
    try:
        idp.create_user_pool(PoolName="no-type", Schema=[{"Name": "custom"}])
        raise AssertionError("a custom attribute without AttributeDataType was accepted")
    except idp.exceptions.InvalidParameterException as refused:
        assert refused.response["Error"]["Message"] == (
            "Invalid AttributeDataType input, consider using the provided AttributeDataType enum."
        )
    pool = idp.create_user_pool(
        PoolName="schema",
        Schema=[
            {"Name": "email", "Required": True},
            {"Name": "banana", "AttributeDataType": "String", "DeveloperOnlyAttribute": True},
        ],
    )["UserPool"]
    described = schema_of(pool)
    assert described["email"]["Required"] is True
    assert described["email"]["AttributeDataType"] == "String"
    assert described["dev:custom:banana"]["DeveloperOnlyAttribute"] is True
    assert "custom:banana" not in described
    assert described["birthdate"]["StringAttributeConstraints"] == {
        "MinLength": "10", "MaxLength": "10",
    }
    try:
        idp.add_custom_attributes(
            UserPoolId=pool["Id"],
            CustomAttributes=[{"Name": "banana", "AttributeDataType": "String"}],
        )
        raise AssertionError("a second custom:banana was accepted")
    except idp.exceptions.InvalidParameterException as refused:
        assert refused.response["Error"]["Message"] == (
            "custom:banana: Existing attribute already has name dev:custom:banana."
        )


def test_deleting_attributes_outside_the_schema_is_refused(taskapi):
    idp = client(taskapi, "us-east-1")
    pool_id = idp.create_user_pool(PoolName="delete-attrs")["UserPool"]["Id"]
    name = str(uuid.uuid4())
    idp.admin_create_user(UserPoolId=pool_id, Username=name,
                          UserAttributes=[{"Name": "nickname", "Value": "Joe"}])
    try:
        idp.admin_delete_user_attributes(UserPoolId=pool_id, Username=name,
                                         UserAttributeNames=["nickname", "custom:foo", "custom:bar"])
        raise AssertionError("attributes outside the schema were accepted")
    except idp.exceptions.InvalidParameterException as refused:
        assert refused.response["Error"]["Message"] == (
            "Invalid user attributes: user.custom:foo: Attribute does not exist in the schema.\n"
            "user.custom:bar: Attribute does not exist in the schema.\n"
        )
    attributes = idp.admin_get_user(UserPoolId=pool_id, Username=name)["UserAttributes"]
    assert {"Name": "nickname", "Value": "Joe"} in attributes, "nothing was deleted"


def test_schema_messages_are_cognitos(taskapi):
    idp = client(taskapi, "us-east-1")
    for schema, message in [
        ([{"Name": "banana", "AttributeDataType": "String", "Required": True}],
         "Required custom attributes are not supported currently."),
        ([{"Name": "email", "AttributeDataType": "Number"}],
         "You can not change AttributeDataType or set developerOnlyAttribute for standard "
         "schema attribute email"),
        ([{"Name": "email", "DeveloperOnlyAttribute": True}],
         "You can not change AttributeDataType or set developerOnlyAttribute for standard "
         "schema attribute email"),
    ]:
        try:
            idp.create_user_pool(PoolName="bad-schema", Schema=schema)
            raise AssertionError(f"{schema} was accepted")
        except idp.exceptions.InvalidParameterException as refused:
            assert refused.response["Error"]["Message"] == message


def test_identity_providers_are_created_described_updated_listed_and_deleted(taskapi):
    idp = client(taskapi, "us-west-2")
    pool_id = idp.create_user_pool(PoolName="federated")["UserPool"]["Id"]
    details = {"client_id": "fb-app", "client_secret": "s3cret", "authorize_scopes": "email"}
    created = idp.create_identity_provider(
        UserPoolId=pool_id, ProviderName="Facebook", ProviderType="Facebook",
        ProviderDetails=details, AttributeMapping={"email": "email"}, IdpIdentifiers=["fb"],
    )["IdentityProvider"]
    assert created["UserPoolId"] == pool_id and created["ProviderType"] == "Facebook"
    assert created["ProviderDetails"] == details
    assert created["AttributeMapping"] == {"email": "email"}
    try:
        idp.create_identity_provider(UserPoolId=pool_id, ProviderName="Facebook",
                                     ProviderType="Facebook", ProviderDetails=details)
        raise AssertionError("a second provider of the same name was accepted")
    except idp.exceptions.DuplicateProviderException:
        pass
    for bad_type, bad_name in [("MySpace", "Other"), ("Google", "_hidden")]:
        try:
            idp.create_identity_provider(UserPoolId=pool_id, ProviderName=bad_name,
                                         ProviderType=bad_type, ProviderDetails={})
            raise AssertionError(f"{bad_type} {bad_name} was accepted")
        except idp.exceptions.InvalidParameterException:
            pass
    for i in range(6):
        idp.create_identity_provider(UserPoolId=pool_id, ProviderName=f"oidc-{i}",
                                     ProviderType="OIDC", ProviderDetails={"client_id": str(i)})
    first = idp.list_identity_providers(UserPoolId=pool_id, MaxResults=5)
    assert len(first["Providers"]) == 5
    rest = idp.list_identity_providers(UserPoolId=pool_id, MaxResults=5,
                                       NextToken=first["NextToken"])
    assert len(rest["Providers"]) == 2 and "NextToken" not in rest

    updated = idp.update_identity_provider(
        UserPoolId=pool_id, ProviderName="Facebook", AttributeMapping={"username": "sub"},
    )["IdentityProvider"]
    assert updated["AttributeMapping"] == {"username": "sub"}
    assert updated["ProviderDetails"] == details, "members left out keep their values"
    by_identifier = idp.get_identity_provider_by_identifier(UserPoolId=pool_id, IdpIdentifier="fb")
    assert by_identifier["IdentityProvider"]["ProviderName"] == "Facebook"

    idp.delete_identity_provider(UserPoolId=pool_id, ProviderName="Facebook")
    for call in (
        lambda: idp.describe_identity_provider(UserPoolId=pool_id, ProviderName="Facebook"),
        lambda: idp.delete_identity_provider(UserPoolId=pool_id, ProviderName="Facebook"),
        lambda: idp.update_identity_provider(UserPoolId="us-west-2_nope", ProviderName="x",
                                             ProviderDetails={}),
    ):
        try:
            call()
            raise AssertionError("a missing provider or pool was found")
        except idp.exceptions.ResourceNotFoundException:
            pass


def test_a_malformed_pool_id_is_a_validation_error(taskapi):
    idp = client(taskapi, "us-east-1")
    for malformed in ["foo", "us-east-1_", "us-east-1_a.b"]:
        try:
            idp.describe_user_pool(UserPoolId=malformed)
            raise AssertionError(f"{malformed} was looked up")
        except idp.exceptions.InvalidParameterException as refused:
            assert refused.response["Error"]["Message"] == (
                f"1 validation error detected: Value '{malformed}' at 'userPoolId' failed to "
                "satisfy constraint: Member must satisfy regular expression pattern: "
                "[\\w-]+_[0-9a-zA-Z]+"
            )
    try:
        idp.describe_user_pool(UserPoolId="us-east-1_FooBar123")
        raise AssertionError("a pool that does not exist was found")
    except idp.exceptions.ResourceNotFoundException as missing:
        assert missing.response["Error"]["Message"] == "User pool us-east-1_FooBar123 does not exist."
