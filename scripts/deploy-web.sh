#!/usr/bin/env bash
# Uploads the web app to the stack's private bucket and tells CloudFront to serve it:
#   scripts/deploy-web.sh <stack-name>        (after `sam deploy`; needs the AWS CLI)
# config.json is made from the stack's outputs (pool, app client, API URL, live-updates
# WebSocket URL, hosted-UI domain), so the bundle in web/dist is the very one `taskapi serve` embeds. Hashed assets
# go first and are cached for a year; index.html (also as `callback`, where the hosted UI
# returns) and config.json last, revalidated on every load.
set -euo pipefail
cd "$(dirname "$0")/.."

stack="${1:-${STACK_NAME:-}}"
if [ -z "$stack" ]; then
  echo "usage: scripts/deploy-web.sh <stack-name>" >&2
  exit 2
fi

outputs="$(aws cloudformation describe-stacks --stack-name "$stack" \
  --query 'Stacks[0].Outputs' --output json)"
config="$(mktemp)"
trap 'rm -f "$config"' EXIT
# Prints the bucket and distribution; writes config.json.
targets="$(python3 - "$outputs" "$config" <<'PY'
import json, sys
outputs = {o["OutputKey"]: o["OutputValue"] for o in json.loads(sys.argv[1])}
missing = {"UserPoolId", "UserPoolClientId", "ApiUrl", "WebBucketName", "WebDistributionId"} - set(outputs)
if missing:
    sys.exit(f"the stack has no output {', '.join(sorted(missing))}: is it taskapi's template.yaml?")
config = {
    "userPoolId": outputs["UserPoolId"],
    "userPoolClientId": outputs["UserPoolClientId"],
    "apiUrl": outputs["ApiUrl"],
}
if "LiveUrl" in outputs:
    # The live updates' WebSocket (API Gateway); the app connects with ?token=<ID token>.
    config["liveUrl"] = outputs["LiveUrl"]
if "HostedUiDomain" in outputs:
    config["oauth"] = {
        "domain": outputs["HostedUiDomain"].removeprefix("https://"),
        "scopes": ["openid", "email", "profile"],
        # Relative to the page, i.e. the CloudFront URL the app client allows.
        "redirectSignIn": ["/callback"],
        "redirectSignOut": ["/"],
    }
with open(sys.argv[2], "w") as f:
    json.dump(config, f, indent=2)
print(outputs["WebBucketName"], outputs["WebDistributionId"])
PY
)"
read -r bucket distribution <<<"$targets"

[ -f web/dist/index.html ] || { echo "web/dist is not built (cd web && npm ci && npm run build)" >&2; exit 1; }

aws s3 cp web/dist/assets "s3://$bucket/assets" --recursive \
  --cache-control "public, max-age=31536000, immutable"
aws s3 cp "$config" "s3://$bucket/config.json" \
  --content-type "application/json" --cache-control "no-cache"
for key in index.html callback; do
  aws s3 cp web/dist/index.html "s3://$bucket/$key" \
    --content-type "text/html; charset=utf-8" --cache-control "no-cache"
done
aws cloudfront create-invalidation --distribution-id "$distribution" \
  --paths / /index.html /callback /config.json >/dev/null

url="$(python3 -c 'import json,sys; print({o["OutputKey"]: o["OutputValue"] for o in json.loads(sys.argv[1])}["WebUrl"])' "$outputs" 2>/dev/null || true)"
echo "uploaded web/dist and config.json to s3://$bucket${url:+; the app is at $url}"
