"""Moving data between a laptop and DynamoDB, with real clients: the seed's own Python
handlers write a table on moto server; DynamoDB's own export of it (ExportTableToPointInTime,
as moto implements it) imports into `taskapi serve`'s SQLite store, where the API shows the
tasks; and our export loads into a new table with DynamoDB's ImportTable, item for item."""

import gzip
import json
import os
import socket
import subprocess
import time
import uuid
from datetime import datetime
from pathlib import Path

import boto3
import pytest
import requests

from conftest import ROOT, _binary, cognito_client, new_email, outbox_code

PASSWORD = "TestPass123!"
TABLE = "TaskApp"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def moto():
    """moto server on a free port of 127.0.0.1 (DynamoDB and S3), stopped after."""
    program = ROOT / ".venv/bin/moto_server"
    port = free_port()
    process = subprocess.Popen(
        [str(program) if program.exists() else "moto_server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            requests.get(f"{url}/moto-api/", timeout=1)
            break
        except requests.ConnectionError:
            assert process.poll() is None, "moto_server exited"
            assert time.monotonic() < deadline, "moto_server did not listen"
            time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(timeout=10)


def aws(moto: str, service: str):
    return boto3.client(
        service, endpoint_url=moto, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
    )


def run_taskapi(moto: str, *args: str) -> str:
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL_DYNAMODB": moto,
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "TABLE_NAME": TABLE,
    }
    done = subprocess.run([_binary(), *args], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"taskapi {args}: {done.stdout}\n{done.stderr}"
    return done.stdout


def seed_handlers(moto: str):
    """The seed's create_task.py and update_task.py, as written there, on moto's table."""
    table = boto3.resource(
        "dynamodb", endpoint_url=moto, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
    ).Table(TABLE)

    def create_task(event, context):
        user_id = event['requestContext']['authorizer']['claims']['sub']
        body = json.loads(event['body'])
        task_id = str(uuid.uuid4())
        now = datetime.utcnow().isoformat()
        item = {
            'PK': f'USER#{user_id}',
            'SK': f'TASK#{task_id}',
            'GSI1PK': f'STATUS#{body.get("status", "pending")}',
            'GSI1SK': now,
            'task_id': task_id,
            'title': body['title'],
            'description': body.get('description', ''),
            'status': body.get('status', 'pending'),
            'created_at': now,
            'updated_at': now
        }
        table.put_item(Item=item)
        return {'statusCode': 201, 'body': json.dumps({'task_id': task_id})}

    def update_task(event, context):
        user_id = event['requestContext']['authorizer']['claims']['sub']
        task_id = event['pathParameters']['taskId']
        body = json.loads(event['body'])
        update_expr = 'SET updated_at = :now'
        expr_values = {':now': datetime.utcnow().isoformat()}
        expr_names = {}
        if 'status' in body:
            update_expr += ', #s = :status, GSI1PK = :gsi1pk'
            expr_values[':status'] = body['status']
            expr_values[':gsi1pk'] = f'STATUS#{body["status"]}'
            expr_names['#s'] = 'status'
        table.update_item(
            Key={'PK': f'USER#{user_id}', 'SK': f'TASK#{task_id}'},
            UpdateExpression=update_expr,
            ExpressionAttributeValues=expr_values,
            ExpressionAttributeNames=expr_names or None,
            ReturnValues='ALL_NEW',
            ConditionExpression='attribute_exists(PK)'
        )
        return {'statusCode': 200}

    return create_task, update_task


def signed_in(server) -> tuple[str, str]:
    """A new confirmed user of the local pool: their sub and ID token."""
    cognito = cognito_client(server)
    email = new_email("mover")
    sub = cognito.sign_up(ClientId=server.client_id, Username=email, Password=PASSWORD)["UserSub"]
    code = outbox_code(server, email, "sign-up")
    cognito.confirm_sign_up(ClientId=server.client_id, Username=email, ConfirmationCode=code)
    tokens = cognito.initiate_auth(
        ClientId=server.client_id, AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    return sub, tokens["IdToken"]


def wait_for(describe, status_key: str) -> dict:
    deadline = time.monotonic() + 30
    while True:
        description = describe()
        if description[status_key] != "IN_PROGRESS":
            return description
        assert time.monotonic() < deadline, description
        time.sleep(0.2)


def test_the_seeds_table_moves_to_the_laptop_and_ours_imports_with_import_table(
    moto, taskapi, tmp_path
):
    def taskapi_cli(*args: str) -> str:
        return run_taskapi(moto, *args)

    taskapi_cli("table", "create")
    sub, token = signed_in(taskapi)
    create_task, update_task = seed_handlers(moto)
    claims = {"requestContext": {"authorizer": {"claims": {"sub": sub}}}}
    first = json.loads(create_task(
        {**claims, "body": json.dumps({"title": 42})}, None)["body"])["task_id"]
    second = json.loads(create_task(
        {**claims, "body": json.dumps({"title": "Ship", "description": "it"})}, None
    )["body"])["task_id"]
    update_task({**claims, "pathParameters": {"taskId": second},
                 "body": json.dumps({"status": "done"})}, None)

    # DynamoDB's own export of the seed's table (moto's ExportTableToPointInTime).
    dynamodb, s3 = aws(moto, "dynamodb"), aws(moto, "s3")
    dynamodb.update_continuous_backups(
        TableName=TABLE,
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
    )
    s3.create_bucket(Bucket="exports")
    table_arn = dynamodb.describe_table(TableName=TABLE)["Table"]["TableArn"]
    export_arn = dynamodb.export_table_to_point_in_time(
        TableArn=table_arn, S3Bucket="exports", S3Prefix="seed", ExportFormat="DYNAMODB_JSON",
    )["ExportDescription"]["ExportArn"]
    described = wait_for(
        lambda: dynamodb.describe_export(ExportArn=export_arn)["ExportDescription"],
        "ExportStatus",
    )
    assert described["ExportStatus"] == "COMPLETED", described
    data = [o["Key"] for o in s3.list_objects_v2(Bucket="exports", Prefix="seed")["Contents"]
            if o["Key"].endswith(".gz")]
    assert len(data) == 1, data
    exported = tmp_path / "seed-export.json.gz"
    exported.write_bytes(s3.get_object(Bucket="exports", Key=data[0])["Body"].read())

    # Into the running server's SQLite store, twice: the second run changes nothing.
    summary = taskapi_cli("import", "--quiet", "--data-dir", str(taskapi.data_dir),
                          "--in", str(exported))
    assert "2 lines read; 2 written" in summary, summary
    summary = taskapi_cli("import", "--quiet", "--data-dir", str(taskapi.data_dir),
                          "--in", str(exported))
    assert "0 written, 2 unchanged" in summary, summary
    listed = requests.get(f"{taskapi.base_url}/tasks", headers={"Authorization": token},
                          timeout=10)
    assert listed.status_code == 200, listed.text
    tasks = {t["task_id"]: t for t in listed.json()["tasks"]}
    assert tasks[first]["title"] == "42" and tasks[first]["description"] == ""
    assert tasks[second]["status"] == "done" and tasks[second]["description"] == "it"
    assert tasks[second]["created_at"].endswith("Z")

    # Ours, into a new table with DynamoDB's ImportTable: the same items come out.
    ours = tmp_path / "ours.jsonl"
    taskapi_cli("export", "--quiet", "--data-dir", str(taskapi.data_dir), "--out", str(ours))
    lines = ours.read_text().splitlines()
    s3.put_object(Bucket="exports", Key="ours/data.json", Body=ours.read_bytes())
    string = lambda name: {"AttributeName": name, "AttributeType": "S"}  # noqa: E731
    imported = dynamodb.import_table(
        S3BucketSource={"S3Bucket": "exports", "S3KeyPrefix": "ours/"},
        InputFormat="DYNAMODB_JSON",
        InputCompressionType="NONE",
        TableCreationParameters={
            "TableName": "TaskAppImported",
            "AttributeDefinitions": [string(n) for n in ("PK", "SK", "GSI1PK", "GSI1SK")],
            "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"},
                          {"AttributeName": "SK", "KeyType": "RANGE"}],
            "BillingMode": "PAY_PER_REQUEST",
            "GlobalSecondaryIndexes": [{
                "IndexName": "GSI1",
                "KeySchema": [{"AttributeName": "GSI1PK", "KeyType": "HASH"},
                              {"AttributeName": "GSI1SK", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "ALL"},
            }],
        },
    )["ImportTableDescription"]["ImportArn"]
    described = wait_for(
        lambda: dynamodb.describe_import(ImportArn=imported)["ImportTableDescription"],
        "ImportStatus",
    )
    assert described["ImportStatus"] == "COMPLETED", described
    scanned = dynamodb.scan(TableName="TaskAppImported")["Items"]
    canonical = lambda item: json.dumps(item, sort_keys=True)  # noqa: E731
    assert sorted(canonical(i) for i in scanned) == sorted(
        canonical(json.loads(line)["Item"]) for line in lines
    )
    # Our own file of the table ImportTable made is the file it was made from.
    copy = tmp_path / "copy.jsonl.gz"
    taskapi_cli("export", "--quiet", "--store", "dynamodb", "--table-name", "TaskAppImported",
                "--out", str(copy))
    assert sorted(gzip.decompress(copy.read_bytes()).decode().splitlines()) == sorted(lines)
    assert Path(str(copy) + ".partial").exists() is False


#: The columns Cognito's GetCSVHeader answers for a pool without custom attributes (AWS
#: documentation, "Creating the user import .csv file").
COGNITO_CSV_HEADER = [
    "name", "given_name", "family_name", "middle_name", "nickname", "preferred_username",
    "profile", "picture", "website", "email", "email_verified", "gender", "birthdate",
    "zoneinfo", "locale", "phone_number", "phone_number_verified", "address", "updated_at",
    "cognito:mfa_enabled", "cognito:username",
]


def test_export_users_writes_the_csv_of_cognitos_user_import_jobs(taskapi, tmp_path):
    import csv

    cognito = cognito_client(taskapi)
    sub, _ = signed_in(taskapi)
    email = cognito.admin_get_user(UserPoolId=taskapi.pool_id, Username=sub)["UserAttributes"]
    email = next(a["Value"] for a in email if a["Name"] == "email")
    header = cognito.get_csv_header(UserPoolId=taskapi.pool_id)
    assert header["UserPoolId"] == taskapi.pool_id
    assert header["CSVHeader"] == COGNITO_CSV_HEADER

    out = tmp_path / "users.csv"
    done = subprocess.run(
        [_binary(), "export-users", "--data-dir", str(taskapi.data_dir), "--out", str(out)],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "Passwords cannot be moved" in done.stderr
    with out.open(newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == COGNITO_CSV_HEADER
    users = [dict(zip(rows[0], row)) for row in rows[1:]]
    mine = next(u for u in users if u["email"] == email)
    assert mine["cognito:username"] == email
    assert mine["email_verified"] == "true"
    assert mine["cognito:mfa_enabled"] == "false"
    assert mine["phone_number_verified"] == "false"

    missing = subprocess.run(
        [_binary(), "export-users", "--data-dir", str(taskapi.data_dir), "--pool-name", "nope",
         "--out", "-"], capture_output=True, text=True, timeout=60,
    )
    assert missing.returncode != 0 and "no pool is named nope" in missing.stderr
