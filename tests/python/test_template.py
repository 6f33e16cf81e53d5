"""template.yaml: cfn-lint (1.58 or newer) passes, and the template holds what the design
asks for: the seed's table and pool, one least-privilege function per route, both API
types. A missing cfn-lint is a failure, never a skip."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"

# Every route of the REST API, as (method, path).
ROUTES = {
    ("GET", "/tasks"),
    ("POST", "/tasks"),
    ("GET", "/tasks/{taskId}"),
    ("PATCH", "/tasks/{taskId}"),
    ("DELETE", "/tasks/{taskId}"),
    ("GET", "/admin/tasks"),
    ("GET", "/openapi.json"),
}
READ_ACTIONS = {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:DescribeTable"}


def cfn_lint() -> str:
    found = shutil.which("cfn-lint") or str(ROOT / ".venv/bin/cfn-lint")
    if not Path(found).is_file():
        pytest.fail("cfn-lint is not installed: run scripts/install-test-tools.sh")
    version = subprocess.run([found, "--version"], capture_output=True, text=True).stdout
    major, minor = map(int, re.search(r"(\d+)\.(\d+)", version).groups())
    assert (major, minor) >= (1, 58), f"cfn-lint {version.strip()} is older than 1.58"
    return found


class CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation's short-form tags (!Ref, !Sub, ...) as {"Ref": ...} etc."""


def _tag(loader, suffix, node):
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


CfnLoader.add_multi_constructor("!", _tag)


@pytest.fixture(scope="module")
def template():
    return yaml.load(TEMPLATE.read_text(), Loader=CfnLoader)


def test_cfn_lint_passes():
    result = subprocess.run([cfn_lint(), str(TEMPLATE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_cfn_lint_catches_a_broken_template(tmp_path):
    """Guards against a linter that passes everything (e.g. a version that skips SAM)."""
    broken = tmp_path / "template.yaml"
    broken.write_text(TEMPLATE.read_text().replace("ProjectionType: ALL", "ProjectionType: EVERYTHING"))
    result = subprocess.run([cfn_lint(), str(broken)], capture_output=True, text=True)
    assert result.returncode != 0 and "EVERYTHING" in result.stdout, result.stdout


def test_table_is_the_seeds_with_pitr(template):
    table = template["Resources"]["TasksTable"]["Properties"]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["KeySchema"] == [
        {"AttributeName": "PK", "KeyType": "HASH"},
        {"AttributeName": "SK", "KeyType": "RANGE"},
    ]
    (gsi,) = table["GlobalSecondaryIndexes"]
    assert gsi["IndexName"] == "GSI1" and gsi["Projection"] == {"ProjectionType": "ALL"}
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True


def test_user_pool_and_client_are_the_seeds(template):
    resources = template["Resources"]
    pool = resources["UserPool"]["Properties"]
    assert pool["UserPoolName"] == "task-app-users"
    assert pool["UsernameAttributes"] == ["email"] and pool["AutoVerifiedAttributes"] == ["email"]
    assert pool["Policies"]["PasswordPolicy"] == {
        "MinimumLength": 10,
        "RequireUppercase": True,
        "RequireLowercase": True,
        "RequireNumbers": True,
        "RequireSymbols": False,
    }
    client = resources["UserPoolClient"]["Properties"]
    assert client["ClientName"] == "task-app-web" and client["GenerateSecret"] is False
    assert {"ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"} <= set(client["ExplicitAuthFlows"])
    assert client["AllowedOAuthFlows"] == ["code"]
    assert client["AllowedOAuthScopes"] == ["openid", "email", "profile"]
    assert client["CallbackURLs"] == {"Ref": "CallbackUrls"}
    assert resources["AdminsGroup"]["Properties"]["GroupName"] == "admins"


def functions(template):
    return {
        name: resource
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def route_functions(template):
    """The functions behind API Gateway (ApiType Rest or Http), one per route."""
    return {
        name: function
        for name, function in functions(template).items()
        if function.get("Condition") == "UseApiGateway"
    }


def test_every_function_is_the_arm64_cargo_lambda_binary(template):
    globals_ = template["Globals"]["Function"]
    assert globals_["Runtime"] == "provided.al2023"
    assert globals_["Architectures"] == ["arm64"]
    assert globals_["Handler"] == "bootstrap"
    for name, function in functions(template).items():
        assert function["Metadata"] == {
            "BuildMethod": "rust-cargolambda",
            "BuildProperties": {"Binary": "taskapi-lambda"},
        }, name


def routes(template, api):
    """(method, path) -> the function the API's OpenAPI document sends it to."""
    served = {}
    for path, methods in template["Resources"][api]["Properties"]["DefinitionBody"]["paths"].items():
        for method, operation in methods.items():
            uri = operation["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
            (function,) = re.findall(r"\$\{(\w+)\.Arn\}", uri)
            served[(method.upper(), path)] = function
    return served


def actions_of(function):
    return {
        action
        for policy in function["Properties"]["Policies"]
        for statement in policy["Statement"]
        for action in statement["Action"]
    }


@pytest.mark.parametrize("api", ["RestApi", "HttpApi"])
def test_each_route_has_one_least_privilege_function(template, api):
    served = routes(template, api)
    assert set(served) == ROUTES, f"{api}: routes without a function: {ROUTES - set(served)}"
    for route, name in served.items():
        actions = actions_of(functions(template)[name])
        assert "dynamodb:Scan" not in actions, name
        if route[0] == "GET":
            assert actions <= READ_ACTIONS, f"{name} serves a GET route but may {actions - READ_ACTIONS}"


def test_each_function_is_defined_once_and_serves_both_api_types(template):
    """One definition per function: the API type only decides which API's document routes to it."""
    assert set(routes(template, "RestApi").values()) == set(route_functions(template))
    assert routes(template, "RestApi") == routes(template, "HttpApi")
    for name, function in route_functions(template).items():
        assert "Events" not in function["Properties"], name


def test_the_apis_may_invoke_exactly_the_functions(template):
    (statement,) = template["Resources"]["ApiInvokeRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    assert statement["Action"] == "lambda:InvokeFunction"
    invoked = {resource["Fn::GetAtt"].split(".")[0] for resource in statement["Resource"]}
    assert invoked == set(route_functions(template))
    for api in ("RestApi", "HttpApi"):
        for methods in template["Resources"][api]["Properties"]["DefinitionBody"]["paths"].values():
            for operation in methods.values():
                integration = operation["x-amazon-apigateway-integration"]
                assert integration["credentials"] == {"Fn::GetAtt": "ApiInvokeRole.Arn"}


def test_outputs(template):
    assert {"ApiUrl", "UserPoolId", "UserPoolClientId", "TableName"} <= set(template["Outputs"])
