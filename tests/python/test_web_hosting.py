"""The web app on AWS: template.yaml's hosting (a private bucket behind CloudFront with
origin access control, HTTPS only, security headers, the CloudFront URL among the app
client's callback and logout URLs) and scripts/deploy-web.sh, run for real with the AWS CLI
against moto server (S3, CloudFront, CloudFormation) started on a free port."""

import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import boto3
import pytest
import requests
import yaml

from test_template import CfnLoader

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"


@pytest.fixture(scope="module")
def template():
    return yaml.load(TEMPLATE.read_text(), Loader=CfnLoader)


def test_the_bucket_is_private_and_only_cloudfront_reads_it(template):
    resources = template["Resources"]
    bucket = resources["WebBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert len(bucket["PublicAccessBlockConfiguration"]) == 4
    assert "WebsiteConfiguration" not in bucket, "served through CloudFront, never as a website"
    statements = resources["WebBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    allow = [s for s in statements if s["Effect"] == "Allow"]
    assert len(allow) == 1 and allow[0]["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow[0]["Action"] == "s3:GetObject"
    assert "AWS:SourceArn" in allow[0]["Condition"]["StringEquals"]
    deny = [s for s in statements if s["Effect"] == "Deny"]
    assert deny and deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_cloudfront_uses_origin_access_control_https_and_security_headers(template):
    resources = template["Resources"]
    oac = resources["WebOriginAccessControl"]["Properties"]["OriginAccessControlConfig"]
    assert oac["SigningBehavior"] == "always" and oac["OriginAccessControlOriginType"] == "s3"
    config = resources["WebDistribution"]["Properties"]["DistributionConfig"]
    (origin,) = config["Origins"]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": "WebOriginAccessControl.Id"}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    behavior = config["DefaultCacheBehavior"]
    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behavior["AllowedMethods"] == ["GET", "HEAD"]
    assert behavior["ResponseHeadersPolicyId"] == {"Ref": "WebSecurityHeaders"}
    headers = resources["WebSecurityHeaders"]["Properties"]["ResponseHeadersPolicyConfig"][
        "SecurityHeadersConfig"
    ]
    csp = headers["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"]
    assert "script-src 'self';" in csp and "frame-ancestors 'none'" in csp and "unsafe" not in csp
    assert {"StrictTransportSecurity", "ContentTypeOptions", "FrameOptions"} <= set(headers)


def test_the_cloudfront_url_is_a_callback_and_an_output(template):
    client = template["Resources"]["UserPoolClient"]["Properties"]
    callbacks = json.dumps(client["CallbackURLs"])
    logouts = json.dumps(client["LogoutURLs"])
    assert "https://${WebDistribution.DomainName}/callback" in callbacks
    assert "https://${WebDistribution.DomainName}/" in logouts
    assert '"Ref": "CallbackUrls"' in callbacks and '"Ref": "LogoutUrls"' in logouts
    outputs = template["Outputs"]
    assert outputs["WebUrl"]["Value"] == {"Fn::Sub": "https://${WebDistribution.DomainName}"}
    assert {"WebBucketName", "WebDistributionId"} <= set(outputs)


# ---- scripts/deploy-web.sh against moto --------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def moto():
    binary = shutil.which("moto_server") or str(ROOT / ".venv/bin/moto_server")
    if not Path(binary).is_file():
        pytest.fail("moto_server is not installed: run scripts/install-test-tools.sh")
    port = free_port()
    process = subprocess.Popen(
        [binary, "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(url + "/moto-api/", timeout=1)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("moto_server did not start")
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def aws_env(endpoint: str) -> dict:
    env = dict(os.environ)
    env.update(
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ENDPOINT_URL=endpoint,
        AWS_PAGER="",
        PATH=f"{ROOT / '.venv/bin'}:{env['PATH']}",
    )
    env.pop("AWS_PROFILE", None)
    return env


def deploy_web(endpoint: str, stack: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ROOT / "scripts/deploy-web.sh"), stack],
        env=aws_env(endpoint),
        capture_output=True,
        text=True,
        timeout=300,
    )


def client(service: str, endpoint: str):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def stack_with_outputs(endpoint: str, name: str, outputs: dict[str, str]) -> None:
    """A stack whose outputs are those `sam deploy` of template.yaml gives."""
    body = {
        "Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    client("cloudformation", endpoint).create_stack(StackName=name, TemplateBody=json.dumps(body))


def test_deploy_web_uploads_the_bundle_and_a_config_from_the_stack(moto):
    s3 = client("s3", moto)
    s3.create_bucket(Bucket="web-bucket")
    distribution = client("cloudfront", moto).create_distribution(
        DistributionConfig={
            "CallerReference": "test",
            "Comment": "",
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {"Id": "web-bucket", "DomainName": "web-bucket.s3.amazonaws.com", "S3OriginConfig": {"OriginAccessIdentity": ""}}
                ],
            },
            "DefaultCacheBehavior": {"TargetOriginId": "web-bucket", "ViewerProtocolPolicy": "redirect-to-https"},
        }
    )["Distribution"]
    stack_with_outputs(
        moto,
        "tasks",
        {
            "UserPoolId": "eu-west-1_AbC123xyZ",
            "UserPoolClientId": "client123",
            "ApiUrl": "https://abc.execute-api.eu-west-1.amazonaws.com/prod",
            "HostedUiDomain": "https://tasks.auth.eu-west-1.amazoncognito.com",
            "WebBucketName": "web-bucket",
            "WebDistributionId": distribution["Id"],
            "WebUrl": f"https://{distribution['DomainName']}",
        },
    )

    result = deploy_web(moto, "tasks")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"the app is at https://{distribution['DomainName']}" in result.stdout

    config = s3.get_object(Bucket="web-bucket", Key="config.json")
    assert config["CacheControl"] == "no-cache" and config["ContentType"] == "application/json"
    assert json.loads(config["Body"].read()) == {
        "userPoolId": "eu-west-1_AbC123xyZ",
        "userPoolClientId": "client123",
        "apiUrl": "https://abc.execute-api.eu-west-1.amazonaws.com/prod",
        "oauth": {
            "domain": "tasks.auth.eu-west-1.amazoncognito.com",
            "scopes": ["openid", "email", "profile"],
            "redirectSignIn": ["/callback"],
            "redirectSignOut": ["/"],
        },
    }
    index = (ROOT / "web/dist/index.html").read_bytes()
    for key in ("index.html", "callback"):
        page = s3.get_object(Bucket="web-bucket", Key=key)
        assert page["Body"].read() == index
        assert page["CacheControl"] == "no-cache" and page["ContentType"].startswith("text/html")
    for asset in (ROOT / "web/dist/assets").iterdir():
        uploaded = s3.get_object(Bucket="web-bucket", Key=f"assets/{asset.name}")
        assert uploaded["Body"].read() == asset.read_bytes()
        assert uploaded["CacheControl"] == "public, max-age=31536000, immutable"
    invalidations = client("cloudfront", moto).list_invalidations(DistributionId=distribution["Id"])
    assert invalidations["InvalidationList"]["Quantity"] == 1


def test_deploy_web_refuses_a_stack_without_the_web_outputs(moto):
    stack_with_outputs(moto, "not-taskapi", {"Something": "else"})
    result = deploy_web(moto, "not-taskapi")
    assert result.returncode != 0
    assert "the stack has no output" in result.stderr
    assert "upload" not in result.stderr, "nothing is uploaded"
