"""template.yaml with ApiType=FunctionUrl: one function behind a Function URL (AuthType NONE)
verifying the ID tokens itself, its role the union of the route functions' privileges,
reserved concurrency as the throttle, optional CloudFront; and the StatusShards parameter.
The variant (its parameters as defaults) passes cfn-lint, `sam validate` and
`sam validate --lint`. A missing tool is a failure, never a skip."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from test_template import TEMPLATE, CfnLoader, cfn_lint, functions, route_functions

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def template():
    return yaml.load(TEMPLATE.read_text(), Loader=CfnLoader)


def sam() -> str:
    found = shutil.which("sam") or str(ROOT / ".venv/bin/sam")
    if not Path(found).is_file():
        pytest.fail("sam (aws-sam-cli) is not installed: run scripts/install-test-tools.sh")
    return found


@pytest.fixture(scope="module")
def function_url_variant(tmp_path_factory):
    """template.yaml with ApiType=FunctionUrl and CloudFront on as the defaults."""
    text = TEMPLATE.read_text()
    for old, new in [
        ("    Default: Rest\n    AllowedValues: [Rest, Http, FunctionUrl]",
         "    Default: FunctionUrl\n    AllowedValues: [Rest, Http, FunctionUrl]"),
        ("  FunctionUrlCloudFront:\n    Type: String\n    Default: 'false'",
         "  FunctionUrlCloudFront:\n    Type: String\n    Default: 'true'"),
        ("  StatusShards:\n    Type: Number\n    Default: 1",
         "  StatusShards:\n    Type: Number\n    Default: 8"),
    ]:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path_factory.mktemp("variant") / "template.yaml"
    path.write_text(text)
    return path


def test_the_variant_passes_cfn_lint(function_url_variant):
    result = subprocess.run([cfn_lint(), str(function_url_variant)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("lint", [[], ["--lint"]], ids=["translate", "lint"])
def test_the_variant_passes_sam_validate(function_url_variant, lint):
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1", "SAM_CLI_TELEMETRY": "0"}
    result = subprocess.run(
        [sam(), "validate", *lint, "--template-file", str(function_url_variant)],
        capture_output=True, text=True, env=env, cwd=function_url_variant.parent,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def statements(function):
    return [
        statement
        for policy in function["Properties"]["Policies"]
        for statement in policy["Statement"]
    ]


def grants(function):
    """{(action, resource as written)} of a function's policies."""
    return {
        (action, repr(statement["Resource"]))
        for statement in statements(function)
        for action in statement["Action"]
    }


def test_one_function_behind_a_public_url_verifying_tokens_itself(template):
    url_functions = {
        name: function
        for name, function in functions(template).items()
        if function.get("Condition") == "UseFunctionUrl"
    }
    assert list(url_functions) == ["ApiFunction"]
    function = url_functions["ApiFunction"]["Properties"]
    assert function["FunctionUrlConfig"]["AuthType"] == "NONE"
    assert "Cors" not in function["FunctionUrlConfig"], "CORS is answered by the function only"
    assert function["ReservedConcurrentExecutions"] == {"Ref": "FunctionUrlConcurrency"}
    variables = function["Environment"]["Variables"]
    assert variables["TASKAPI_COGNITO_USER_POOL_ID"] == {"Ref": "UserPool"}
    assert variables["TASKAPI_JWT_AUDIENCE"] == {"Ref": "UserPoolClient"}


def test_the_url_functions_role_is_the_union_of_the_routes(template):
    union = set().union(*(grants(f) for f in route_functions(template).values()))
    assert grants(functions(template)["ApiFunction"]) == union
    assert all(action != "dynamodb:Scan" for action, _ in union)


def test_no_api_gateway_in_function_url_mode(template):
    resources = template["Resources"]
    assert resources["RestApi"]["Condition"] == "UseRestApi"
    assert resources["HttpApi"]["Condition"] == "UseHttpApi"
    assert resources["ApiInvokeRole"]["Condition"] == "UseApiGateway"
    conditions = template["Conditions"]
    assert conditions["UseApiGateway"] == {"Fn::Not": [{"Fn::Condition": "UseFunctionUrl"}]}


def test_cloudfront_is_optional_and_caches_nothing(template):
    distribution = template["Resources"]["ApiDistribution"]
    assert distribution["Condition"] == "UseCloudFront"
    behaviour = distribution["Properties"]["DistributionConfig"]["DefaultCacheBehavior"]
    assert behaviour["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # CachingDisabled
    assert behaviour["OriginRequestPolicyId"] == "b689b0a8-53d0-40ab-baf2-68738e2966ac"  # AllViewerExceptHostHeader
    assert {"PATCH", "DELETE", "POST"} <= set(behaviour["AllowedMethods"])


def test_status_shards_reach_every_function(template):
    parameter = template["Parameters"]["StatusShards"]
    assert (parameter["Default"], parameter["MinValue"], parameter["MaxValue"]) == (1, 1, 64)
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["TASKAPI_STATUS_SHARDS"] == {"Ref": "StatusShards"}
