"""template.yaml: cfn-lint (1.58 or newer) passes, and the template holds what the design
asks for: the seed's table and pool, one least-privilege function per route, both API
types. A missing cfn-lint is a failure, never a skip."""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import requests
import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"

# Every route of the REST API, as (method, path).
ROUTES = {
    ("GET", "/tasks"),
    ("POST", "/tasks"),
    ("GET", "/tasks/{taskId}"),
    ("GET", "/upcoming"),
    ("PATCH", "/tasks/{taskId}"),
    ("DELETE", "/tasks/{taskId}"),
    ("GET", "/admin/tasks"),
    ("GET", "/openapi.json"),
    ("GET", "/projects"),
    ("POST", "/projects"),
    ("GET", "/projects/{projectId}"),
    ("PATCH", "/projects/{projectId}"),
    ("DELETE", "/projects/{projectId}"),
    ("GET", "/projects/{projectId}/members"),
    ("PATCH", "/projects/{projectId}/members/{userId}"),
    ("DELETE", "/projects/{projectId}/members/{userId}"),
    ("GET", "/projects/{projectId}/invitations"),
    ("POST", "/projects/{projectId}/invitations"),
    ("GET", "/projects/{projectId}/tasks"),
    ("POST", "/projects/{projectId}/tasks"),
    ("GET", "/projects/{projectId}/tasks/{taskId}"),
    ("PATCH", "/projects/{projectId}/tasks/{taskId}"),
    ("DELETE", "/projects/{projectId}/tasks/{taskId}"),
    ("GET", "/invitations"),
    ("DELETE", "/invitations/{invitationId}"),
    ("POST", "/invitations/{invitationId}/accept"),
    ("GET", "/webhooks"),
    ("POST", "/webhooks"),
    ("GET", "/webhooks/{webhookId}"),
    ("DELETE", "/webhooks/{webhookId}"),
    ("GET", "/webhooks/{webhookId}/deliveries"),
    ("POST", "/webhooks/{webhookId}/rotate-secret"),
}
# The functions of the taskapi-events binary, and which of its roles each is.
EVENT_FUNCTIONS = {
    "LiveSocketFunction": "websocket",
    "LiveFanOutFunction": "fanout",
    "WebhookRouterFunction": "webhook-router",
    "WebhookDeliveryFunction": "webhook-delivery",
}
READ_ACTIONS = {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:DescribeTable"}


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
    gsi = table["GlobalSecondaryIndexes"][0]
    assert gsi["IndexName"] == "GSI1" and gsi["Projection"] == {"ProjectionType": "ALL"}
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] == {
        "Fn::If": ["PointInTimeRecoveryOn", True, False]
    }


def test_pitr_and_deletion_protection_are_parameters_on_by_default(template):
    table = template["Resources"]["TasksTable"]["Properties"]
    assert table["DeletionProtectionEnabled"] == {"Fn::If": ["DeletionProtectionOn", True, False]}
    for parameter, condition in [
        ("PointInTimeRecovery", "PointInTimeRecoveryOn"),
        ("DeletionProtection", "DeletionProtectionOn"),
    ]:
        assert template["Parameters"][parameter]["Default"] == "true"
        assert template["Parameters"][parameter]["AllowedValues"] == ["true", "false"]
        assert template["Conditions"][condition] == {
            "Fn::Equals": [{"Ref": parameter}, "true"]
        }


def test_the_table_has_the_sparse_due_date_indexes(template):
    """GSI2 (the Upcoming view) always; GSI3 (due-date order) unless a stack deployed before
    them is being upgraded one index per update (DueDateIndexes=UpcomingOnly)."""
    table = template["Resources"]["TasksTable"]["Properties"]
    upcoming = table["GlobalSecondaryIndexes"][1]
    assert upcoming["IndexName"] == "GSI2"
    assert [k["AttributeName"] for k in upcoming["KeySchema"]] == ["GSI2PK", "GSI2SK"]
    condition, due_order, absent = table["GlobalSecondaryIndexes"][2]["Fn::If"]
    assert condition == "HasDueOrderIndex" and absent == {"Ref": "AWS::NoValue"}
    assert due_order["IndexName"] == "GSI3"
    assert [k["AttributeName"] for k in due_order["KeySchema"]] == ["GSI3PK", "GSI3SK"]
    assert template["Parameters"]["DueDateIndexes"]["Default"] == "Both"
    reader = template["Resources"]["ListTasksFunction"]["Properties"]["Policies"][0]["Statement"]
    indexes = [statement["Resource"]["Fn::Sub"] for statement in reader[1:]]
    assert indexes == ["${TasksTable.Arn}/index/GSI2", "${TasksTable.Arn}/index/GSI3"]


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
    # The parameter's URLs, plus the web app's CloudFront URL (test_web_hosting.py).
    assert {"Ref": "CallbackUrls"} in client["CallbackURLs"]["Fn::Split"][1]["Fn::Join"][1][1]["Fn::Join"]
    assert resources["AdminsGroup"]["Properties"]["GroupName"] == admin_group_constant()


def admin_group_constant() -> str:
    """The group the router admits to /admin/tasks: `ADMIN_GROUP` in the domain crate, the
    one place the name is written in Rust; the template's group must carry the same name."""
    source = (ROOT / "crates/domain/src/lib.rs").read_text()
    (name,) = re.findall(r'pub const ADMIN_GROUP: &str = "([^"]+)";', source)
    return name


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
    assert globals_["Architectures"] == [{"Ref": "Architecture"}]
    assert globals_["Handler"] == "bootstrap"
    for name, function in functions(template).items():
        # The live updates' functions are the second binary; every other one the API's.
        binary = "taskapi-events" if name in EVENT_FUNCTIONS else "taskapi-lambda"
        assert function["Metadata"] == {
            "BuildMethod": "rust-cargolambda",
            "BuildProperties": {"Binary": binary},
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
            # The webhook routes also read the key their sealed secrets are under.
            reads = READ_ACTIONS | {"secretsmanager:GetSecretValue"}
            assert actions <= reads, f"{name} serves a GET route but may {actions - reads}"


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


def venv_tool(name: str) -> str:
    found = shutil.which(name) or str(ROOT / ".venv/bin" / name)
    if not Path(found).is_file():
        pytest.fail(f"{name} is not installed: run scripts/install-test-tools.sh")
    return found


def test_sam_validate_lint_passes():
    """SAM's own check: the SAM transform runs, and cfn-lint on the result."""
    result = subprocess.run(
        [venv_tool("sam"), "validate", "--lint", "--template-file", str(TEMPLATE)],
        capture_output=True,
        text=True,
        env={**os.environ, "SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": "us-east-1"},
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def resources(template):
    return template["Resources"]


def alarms(resources):
    return [r["Properties"] for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"]


def test_every_function_has_an_errors_and_a_throttles_alarm(template, resources):
    for name in functions(template):
        for metric in ("Errors", "Throttles"):
            matching = [
                alarm
                for alarm in alarms(resources)
                if alarm.get("Namespace") == "AWS/Lambda"
                and alarm.get("MetricName") == metric
                and alarm["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": name}}]
            ]
            assert len(matching) == 1, f"{name}: {len(matching)} alarms on {metric}"
            assert matching[0]["Threshold"] == 1 and matching[0]["TreatMissingData"] == "notBreaching"


def test_the_api_and_the_table_have_alarms(resources):
    props = {name: r["Properties"] for name, r in resources.items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    assert props["ApiLatencyAlarm"]["ExtendedStatistic"] == "p99"
    assert props["ApiLatencyAlarm"]["Threshold"] == {"Ref": "LatencyAlarmMs"}
    rate = [m for m in props["Api5xxAlarm"]["Metrics"] if m.get("ReturnData")]
    assert len(rate) == 1 and "errors / requests" in rate[0]["Expression"]
    throttles = {m["MetricStat"]["Metric"]["MetricName"] for m in props["TableThrottlesAlarm"]["Metrics"] if "MetricStat" in m}
    assert throttles == {"ReadThrottleEvents", "WriteThrottleEvents"}
    operations = {
        d["Value"]
        for m in props["TableSystemErrorsAlarm"]["Metrics"]
        if "MetricStat" in m
        for d in m["MetricStat"]["Metric"]["Dimensions"]
        if d["Name"] == "Operation"
    }
    assert {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "TransactWriteItems"} <= operations


def test_alarms_notify_the_optional_topic(resources):
    assert alarms(resources)
    for alarm in alarms(resources):
        for actions in ("AlarmActions", "OKActions"):
            assert alarm[actions] == {"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}


def test_tracing_is_on(template):
    assert template["Globals"]["Function"]["Tracing"] == "Active"
    assert template["Resources"]["RestApi"]["Properties"]["TracingEnabled"] is True


def test_access_logs_are_json(template):
    rest = template["Resources"]["RestApi"]["Properties"]["AccessLogSetting"]
    http = template["Resources"]["HttpApi"]["Properties"]["AccessLogSettings"]
    for setting in (rest, http):
        assert setting["DestinationArn"] == {"Fn::GetAtt": "ApiAccessLogGroup.Arn"}
        fields = json.loads(setting["Format"])
        assert {"requestId", "status", "latencyMs", "route", "sub"} <= set(fields), fields
        assert fields["requestId"] == "$context.requestId"
    group = template["Resources"]["ApiAccessLogGroup"]["Properties"]
    assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_functions_log_json(template):
    assert template["Globals"]["Function"]["LoggingConfig"]["LogFormat"] == "JSON"


def test_stages_are_throttled_by_the_parameters(template):
    rate, burst = {"Ref": "ThrottlingRateLimit"}, {"Ref": "ThrottlingBurstLimit"}
    (rest,) = template["Resources"]["RestApi"]["Properties"]["MethodSettings"]
    assert (rest["ResourcePath"], rest["HttpMethod"]) == ("/*", "*")
    assert (rest["ThrottlingRateLimit"], rest["ThrottlingBurstLimit"]) == (rate, burst)
    http = template["Resources"]["HttpApi"]["Properties"]["DefaultRouteSettings"]
    assert (http["ThrottlingRateLimit"], http["ThrottlingBurstLimit"]) == (rate, burst)


def test_reserved_concurrency_is_a_parameter(template):
    assert template["Parameters"]["ReservedConcurrency"]["Default"] == 0
    assert template["Globals"]["Function"]["ReservedConcurrentExecutions"] == {
        "Fn::If": ["HasReservedConcurrency", {"Ref": "ReservedConcurrency"}, {"Ref": "AWS::NoValue"}]
    }


def test_the_table_expires_idempotency_records_by_the_stores_attribute(template):
    ttl = template["Resources"]["TasksTable"]["Properties"]["TimeToLiveSpecification"]
    store = (ROOT / "crates/store-dynamodb/src/idempotency.rs").read_text()
    (attribute,) = re.findall(r'pub const TTL_ATTRIBUTE: &str = "(\w+)";', store)
    assert ttl == {"AttributeName": attribute, "Enabled": True}


def test_create_may_read_the_idempotency_record(template):
    actions = actions_of(functions(template)["CreateTaskFunction"])
    assert {"dynamodb:PutItem", "dynamodb:GetItem"} <= actions


def test_the_dashboard_is_valid_json_on_every_api_gateway_alarm(template, resources):
    """The dashboard (API Gateway front doors only) shows every alarm but the Function URL
    function's, which exist only when the dashboard does not."""
    body, variables = template["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    names = set(re.findall(r"\$\{([A-Za-z0-9:.]+)\}", body))
    # Every placeholder is a variable of the Sub, a resource (or its Arn), or a pseudo parameter.
    for name in names:
        target = name.removesuffix(".Arn")
        assert name in variables or target in resources or name.startswith("AWS::"), name
    filled = re.sub(r"\$\{ApiDimensions\}", '"ApiId","x","Stage","prod"', body)
    filled = re.sub(r"\$\{[A-Za-z0-9:.]+\}", "x", filled)
    dashboard = json.loads(filled)
    (alarm_widget,) = [w for w in dashboard["widgets"] if w["type"] == "alarm"]
    shown = alarm_widget["properties"]["alarms"]
    behind_api_gateway = [
        r for r in resources.values()
        if r["Type"] == "AWS::CloudWatch::Alarm" and r.get("Condition") != "UseFunctionUrl"
    ]
    assert len(shown) == len(behind_api_gateway)
    assert template["Resources"]["Dashboard"]["Condition"] == "UseApiGateway"


def test_architecture_is_a_parameter_arm64_by_default(template):
    parameter = template["Parameters"]["Architecture"]
    assert parameter["Default"] == "arm64" and set(parameter["AllowedValues"]) == {"arm64", "x86_64"}


def _header_set(value: str) -> set[str]:
    return {name.strip().lower() for name in value.strip("'").split(",") if name.strip()}


def test_cors_headers_are_the_routers(template, taskapi):
    """API Gateway answers the preflight (and, on an HTTP API, every CORS header) itself: its
    lists must be the router's, or a header that works locally fails behind the gateway."""
    origin = {"Origin": "https://app.example.com"}
    preflight = requests.options(
        f"{taskapi.base_url}/tasks",
        headers={**origin, "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type"},
        timeout=10,
    )
    router_allows = _header_set(preflight.headers["access-control-allow-headers"])
    router_methods = _header_set(preflight.headers["access-control-allow-methods"])
    answer = requests.get(f"{taskapi.base_url}/openapi.json", headers=origin, timeout=10)
    router_exposes = _header_set(answer.headers["access-control-expose-headers"])
    assert {"idempotency-key", "if-none-match"} <= router_allows, router_allows
    assert {"retry-after", "idempotent-replayed"} <= router_exposes, router_exposes

    resources = template["Resources"]
    rest = resources["RestApi"]["Properties"]
    assert _header_set(rest["Cors"]["AllowHeaders"]) == router_allows
    assert _header_set(rest["Cors"]["AllowMethods"]) == router_methods
    for response in rest["GatewayResponses"].values():
        headers = response["ResponseParameters"]["Headers"]
        assert _header_set(headers["Access-Control-Allow-Headers"]) == router_allows

    http = resources["HttpApi"]["Properties"]["CorsConfiguration"]
    assert {h.lower() for h in http["AllowHeaders"]} == router_allows
    assert {h.lower() for h in http["ExposeHeaders"]} == router_exposes
    assert {m.lower() for m in http["AllowMethods"]} == router_methods


def statements(function):
    return [statement for policy in function["Properties"]["Policies"] for statement in policy["Statement"]]


def test_each_event_function_is_its_role_of_the_binary(template):
    for name, role in EVENT_FUNCTIONS.items():
        variables = functions(template)[name]["Properties"]["Environment"]["Variables"]
        assert variables["TASKAPI_EVENTS_FUNCTION"] == role, name


def test_the_live_updates_are_a_websocket_api_on_the_socket_function(resources):
    api = resources["LiveApi"]["Properties"]
    assert api["ProtocolType"] == "WEBSOCKET"
    routes = {r["Properties"]["RouteKey"]: r["Properties"] for r in resources.values() if r["Type"] == "AWS::ApiGatewayV2::Route"}
    assert set(routes) == {"$connect", "$disconnect", "$default"}
    for route in routes.values():
        assert route["Target"] == {"Fn::Sub": "integrations/${LiveIntegration}"}
    # The token is verified in the function, as Function URL mode does.
    assert routes["$connect"]["AuthorizationType"] == "NONE"
    integration = resources["LiveIntegration"]["Properties"]
    assert integration["IntegrationType"] == "AWS_PROXY"
    assert "${LiveSocketFunction.Arn}" in integration["IntegrationUri"]["Fn::Sub"]
    permission = resources["LiveSocketPermission"]["Properties"]
    assert permission["FunctionName"] == {"Ref": "LiveSocketFunction"}
    assert permission["SourceArn"]["Fn::Sub"].endswith(":${LiveApi}/*")
    variables = resources["LiveSocketFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["TASKAPI_COGNITO_USER_POOL_ID"] == {"Ref": "UserPool"}
    assert variables["TASKAPI_JWT_AUDIENCE"] == {"Ref": "UserPoolClient"}


def test_the_table_streams_both_images(resources):
    spec = resources["TasksTable"]["Properties"]["StreamSpecification"]
    assert spec == {"StreamViewType": "NEW_AND_OLD_IMAGES"}


def test_the_socket_function_may_only_keep_connection_items(template):
    (statement,) = statements(functions(template)["LiveSocketFunction"])
    assert set(statement["Action"]) == {"dynamodb:Query", "dynamodb:PutItem", "dynamodb:DeleteItem"}
    assert statement["Resource"] == {"Fn::GetAtt": "TasksTable.Arn"}


def test_the_fan_out_may_read_the_stream_and_manage_this_stages_connections_only(template):
    by_resource = {json.dumps(s["Resource"], sort_keys=True): set(s["Action"]) for s in statements(functions(template)["LiveFanOutFunction"])}
    assert by_resource == {
        json.dumps({"Fn::GetAtt": "TasksTable.Arn"}): {"dynamodb:Query", "dynamodb:DeleteItem"},
        json.dumps({"Fn::GetAtt": "TasksTable.StreamArn"}): {
            "dynamodb:DescribeStream",
            "dynamodb:GetRecords",
            "dynamodb:GetShardIterator",
            "dynamodb:ListStreams",
        },
        json.dumps(
            {"Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${LiveApi}/${StageName}/*/@connections/*"}
        ): {"execute-api:ManageConnections"},
    }
    # No SAM stream event: its managed policy would read every stream of the account.
    assert "Events" not in functions(template)["LiveFanOutFunction"]["Properties"]
    endpoint = functions(template)["LiveFanOutFunction"]["Properties"]["Environment"]["Variables"]["TASKAPI_WEBSOCKET_ENDPOINT"]
    assert endpoint == {"Fn::Sub": "https://${LiveApi}.execute-api.${AWS::Region}.amazonaws.com/${StageName}"}


def test_the_fan_out_reads_the_stream_in_retryable_batches(resources):
    mapping = resources["LiveFanOutStream"]["Properties"]
    assert mapping["FunctionName"] == {"Ref": "LiveFanOutFunction"}
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": "TasksTable.StreamArn"}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BisectBatchOnFunctionError"] is True
    assert 0 < mapping["MaximumRetryAttempts"] <= 10
    (pattern,) = mapping["FilterCriteria"]["Filters"]
    sort_keys = json.loads(pattern["Pattern"])["dynamodb"]["Keys"]["SK"]["S"]
    assert sort_keys == [{"prefix": "TASK#"}, "META", {"prefix": "MEMBER#"}]


def test_each_stream_reader_has_an_iterator_age_alarm(resources):
    watched = [a["Dimensions"] for a in alarms(resources) if a.get("MetricName") == "IteratorAge"]
    assert watched == [
        [{"Name": "FunctionName", "Value": {"Ref": "LiveFanOutFunction"}}],
        [{"Name": "FunctionName", "Value": {"Ref": "WebhookRouterFunction"}}],
    ]


def test_the_live_url_is_an_output_for_the_web_app(template):
    assert template["Outputs"]["LiveUrl"]["Value"] == {
        "Fn::Sub": "wss://${LiveApi}.execute-api.${AWS::Region}.amazonaws.com/${StageName}"
    }
    assert '"liveUrl"' in (ROOT / "scripts/deploy-web.sh").read_text()


def by_resource(function):
    return {json.dumps(s["Resource"], sort_keys=True): set(s["Action"]) for s in statements(function)}


def test_webhook_deliveries_retry_on_a_queue_then_go_to_its_dead_letter_queue(resources):
    queue = resources["WebhookQueue"]["Properties"]
    # One receive per attempt: the Standard Webhooks schedule's eight.
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": "WebhookDeadLetterQueue.Arn"},
        "maxReceiveCount": 8,
    }
    delivery = resources["WebhookDeliveryFunction"]["Properties"]
    assert queue["VisibilityTimeout"] >= 6 * delivery["Timeout"]
    # Long enough for the whole schedule (about 28 hours with jitter).
    assert queue["MessageRetentionPeriod"] >= 36 * 3600
    mapping = resources["WebhookDeliveryQueue"]["Properties"]
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": "WebhookQueue.Arn"}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    router = resources["WebhookRouterStream"]["Properties"]
    assert router["EventSourceArn"] == {"Fn::GetAtt": "TasksTable.StreamArn"}
    assert router["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert router["BisectBatchOnFunctionError"] is True
    # Never given up while the record is in the stream.
    assert (router["MaximumRetryAttempts"], router["MaximumRecordAgeInSeconds"]) == (-1, -1)
    (dead,) = [a for a in alarms(resources) if a.get("Namespace") == "AWS/SQS"]
    assert dead["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": "WebhookDeadLetterQueue.QueueName"}}]


def test_the_signing_key_is_a_generated_secret_only_webhook_code_reads(template, resources):
    secret = resources["WebhookKeySecret"]
    assert secret["Type"] == "AWS::SecretsManager::Secret"
    assert secret["Properties"]["GenerateSecretString"]["PasswordLength"] >= 32
    readers = [
        name
        for name, function in functions(template).items()
        if any(
            "secretsmanager:GetSecretValue" in statement["Action"]
            for statement in statements(function)
        )
    ]
    # The delivery opens sealed secrets; the API's webhook routes seal new ones.
    assert sorted(readers) == ["ApiFunction", "WebhookDeliveryFunction", "WebhookReadFunction", "WebhookWriteFunction"]
    for name in readers:
        (statement,) = [s for s in statements(functions(template)[name]) if "secretsmanager:GetSecretValue" in s["Action"]]
        assert statement == {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": {"Ref": "WebhookKeySecret"}}, name
        assert functions(template)[name]["Properties"]["Environment"]["Variables"]["TASKAPI_WEBHOOK_KEY_SECRET"] == {"Ref": "WebhookKeySecret"}
    variables = resources["WebhookDeliveryFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["TASKAPI_WEBHOOK_KEY_SECRET"] == {"Ref": "WebhookKeySecret"}
    assert "TASKAPI_ALLOW_PRIVATE_WEBHOOKS" not in variables, "the SSRF rule holds on AWS"


def test_the_webhook_functions_are_least_privileged(template):
    table, stream = json.dumps({"Fn::GetAtt": "TasksTable.Arn"}), json.dumps({"Fn::GetAtt": "TasksTable.StreamArn"})
    queue = json.dumps({"Fn::GetAtt": "WebhookQueue.Arn"})
    assert by_resource(functions(template)["WebhookRouterFunction"]) == {
        table: {"dynamodb:Query"},
        stream: {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"},
        queue: {"sqs:SendMessage"},
    }
    assert by_resource(functions(template)["WebhookDeliveryFunction"]) == {
        table: {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"},
        queue: {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"},
        json.dumps({"Ref": "WebhookKeySecret"}): {"secretsmanager:GetSecretValue"},
    }
    for name in ("WebhookRouterFunction", "WebhookDeliveryFunction"):
        assert "Events" not in functions(template)[name]["Properties"], name
