"""The hosted UI and OAuth 2.0 / OpenID Connect endpoints of `taskapi serve`, driven by a
maintained OIDC client (authlib) and by plain HTTP posted as a browser posts forms: cookies,
CSRF tokens, no JavaScript."""

import base64
import datetime
import hashlib
import json
import secrets
import uuid
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urljoin, urlparse

import pyotp
import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.integrations.base_client.errors import OAuthError
from authlib.jose import JsonWebKey, jwt
from authlib.oidc.core import CodeIDToken
from botocore.exceptions import ClientError
from conftest import new_email, outbox_code
from test_user_pool import cognito

PASSWORD = "TestPass123!"
CALLBACK = "http://localhost:3000/callback"
SIGNED_OUT = "http://localhost:3000/"


# ---- helpers ------------------------------------------------------------------------------


class Page(HTMLParser):
    """The forms, labels, buttons and messages of one hosted-UI page."""

    def __init__(self, html: str):
        super().__init__()
        self.forms: list[dict] = []
        self.labels: list[str] = []
        self.buttons: list[str] = []
        self.links: dict[str, str] = {}
        self.alerts: list[str] = []
        self._text_of: str | None = None
        self._href: str | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action"), "method": attrs.get("method"), "fields": {}})
        elif tag == "input" and self.forms:
            self.forms[-1]["fields"][attrs.get("name")] = attrs.get("value") or ""
        elif tag in ("label", "button"):
            self._text_of = tag
        elif tag == "a":
            self._href = attrs.get("href")
            self._text_of = "a"
        elif tag == "p" and attrs.get("role") in ("alert", "status"):
            self._text_of = "p"

    def handle_data(self, data):
        if self._text_of == "label":
            self.labels.append(data.strip())
        elif self._text_of == "button":
            self.buttons.append(data.strip())
        elif self._text_of == "a" and self._href:
            self.links[data.strip()] = self._href
        elif self._text_of == "p":
            self.alerts.append(data.strip())
        self._text_of = None

    @property
    def form(self) -> dict:
        assert len(self.forms) == 1, self.forms
        return self.forms[0]


class Browser:
    """A cookie-keeping HTTP client that submits forms the way a browser does."""

    def __init__(self, base_url: str, verify=True):
        self.base_url = base_url
        self.http = requests.Session()
        # Per request: a CA bundle in the environment would override the session's setting.
        self.verify = verify

    def get(self, url: str) -> requests.Response:
        return self.http.get(
            urljoin(self.base_url, url), allow_redirects=False, timeout=30, verify=self.verify
        )

    def submit(self, page: requests.Response, **values) -> requests.Response:
        form = Page(page.text).form
        assert form["method"] == "post"
        fields = {**form["fields"], **values}
        return self.http.post(
            urljoin(page.url, form["action"]), data=fields, allow_redirects=False, timeout=60,
            verify=self.verify,
        )

    def follow(self, response: requests.Response) -> requests.Response:
        assert response.status_code in (302, 303), (response.status_code, response.text)
        return self.get(urljoin(response.url, response.headers["Location"]))


def confirmed_user(server, email: str) -> None:
    idp = cognito(server)
    idp.sign_up(ClientId=server.client_id, Username=email, Password=PASSWORD)
    idp.confirm_sign_up(
        ClientId=server.client_id, Username=email,
        ConfirmationCode=outbox_code(server, email, "sign-up"),
    )


def at_login_page(server, tag: str) -> tuple[str, Browser, requests.Response]:
    """A confirmed user, and a browser showing the sign-in page of an authorization request."""
    email = new_email(tag)
    confirmed_user(server, email)
    browser = Browser(server.base_url)
    return email, browser, browser.follow(browser.get(authorize_url(server)))


def claims_of(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def discovery(server) -> dict:
    response = requests.get(
        f"{server.base_url}/{server.pool_id}/.well-known/openid-configuration", timeout=10
    )
    assert response.status_code == 200
    return response.json()


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    return verifier, challenge.decode()


def authorize_url(server, **params) -> str:
    query = {
        "client_id": server.client_id,
        "redirect_uri": CALLBACK,
        "response_type": "code",
        "scope": "openid email",
        "state": "s1",
        **params,
    }
    return f"{server.base_url}/oauth2/authorize?{urlencode({k: v for k, v in query.items() if v is not None})}"


def sign_in_through_pages(browser: Browser, url: str, email: str, password: str = PASSWORD):
    """authorize -> /login -> the form posted -> the redirect back to the app."""
    to_login = browser.get(url)
    assert to_login.status_code == 302
    assert urlparse(to_login.headers["Location"]).path == "/login"
    login = browser.follow(to_login)
    assert login.status_code == 200
    return browser.submit(login, username=email, password=password)


def code_from(response: requests.Response) -> str:
    assert response.status_code == 302, response.text
    location = response.headers["Location"]
    assert location.startswith(CALLBACK), location
    query = parse_qs(urlparse(location).query)
    assert "error" not in query, query
    return query["code"][0]


def token_request(server, **data) -> requests.Response:
    return requests.post(f"{server.base_url}/oauth2/token", data=data, timeout=30)


def user_with_code(server, tag: str, **params) -> tuple[str, str]:
    """A confirmed user who just signed in through the pages: the verifier and the code."""
    email = new_email(tag)
    confirmed_user(server, email)
    verifier, challenge = pkce_pair()
    browser = Browser(server.base_url)
    response = sign_in_through_pages(
        browser,
        authorize_url(server, code_challenge=challenge, code_challenge_method="S256", **params),
        email,
    )
    return verifier, code_from(response)


# ---- the full code flow with PKCE, by an OIDC library --------------------------------------


def test_code_flow_with_pkce_from_discovery_to_logout(taskapi):
    server = taskapi
    email = new_email("oidc")
    confirmed_user(server, email)
    meta = discovery(server)
    assert meta["issuer"] == f"{server.base_url}/{server.pool_id}"
    assert meta["authorization_endpoint"] == f"{server.base_url}/oauth2/authorize"
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert "code" in meta["response_types_supported"]

    client = OAuth2Session(
        server.client_id,
        scope="openid email profile",
        redirect_uri=CALLBACK,
        code_challenge_method="S256",
        token_endpoint_auth_method="none",
    )
    verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(16)
    url, state = client.create_authorization_url(
        meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )
    browser = Browser(server.base_url)
    back = sign_in_through_pages(browser, url, email)
    session_cookie = next(c for c in browser.http.cookies if c.name == "cognito")
    assert session_cookie.has_nonstandard_attr("HttpOnly")
    assert not session_cookie.secure  # plain HTTP; the HTTPS listener's test checks Secure
    assert parse_qs(urlparse(back.headers["Location"]).query)["state"] == [state]

    token = client.fetch_token(
        meta["token_endpoint"],
        authorization_response=back.headers["Location"],
        code_verifier=verifier,
    )
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 3600
    assert {"id_token", "access_token", "refresh_token"} <= token.keys()

    # The ID token verifies against the JWKS, with nonce and at_hash (authlib checks both).
    keys = JsonWebKey.import_key_set(requests.get(meta["jwks_uri"], timeout=10).json())
    id_claims = jwt.decode(
        token["id_token"],
        keys,
        claims_cls=CodeIDToken,
        claims_options={"iss": {"values": [meta["issuer"]]}},
        claims_params={
            "nonce": nonce,
            "client_id": server.client_id,
            "access_token": token["access_token"],
        },
    )
    id_claims.validate()
    assert "at_hash" in id_claims and id_claims["nonce"] == nonce
    assert id_claims["email"] == email and id_claims["token_use"] == "id"
    access = claims_of(token["access_token"])
    assert access["scope"].split() == ["openid", "email", "profile"]
    assert access["version"] == 2 and access["username"] == id_claims["cognito:username"]
    assert access["client_id"] == server.client_id

    # The REST API accepts the ID token exactly as one from InitiateAuth.
    created = requests.post(
        f"{server.base_url}/tasks",
        json={"title": "from the hosted UI"},
        headers={"Authorization": token["id_token"]},
        timeout=10,
    )
    assert created.status_code == 201, created.text

    info = client.get(meta["userinfo_endpoint"], timeout=10)
    assert info.status_code == 200
    assert info.json()["email"] == email and info.json()["sub"] == id_claims["sub"]
    assert info.json()["email_verified"] is True

    # A live session goes straight back with a new code, no form.
    again = browser.get(authorize_url(server))
    assert again.status_code == 302 and code_from(again)

    refreshed = client.refresh_token(meta["token_endpoint"])
    assert claims_of(refreshed["access_token"])["scope"] == access["scope"]
    assert claims_of(refreshed["access_token"])["origin_jti"] == access["origin_jti"]
    # The same refresh token works with the Cognito API, as Amplify refreshes there.
    api_refresh = cognito(server).initiate_auth(
        ClientId=server.client_id,
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": token["refresh_token"]},
    )["AuthenticationResult"]
    assert claims_of(api_refresh["AccessToken"])["scope"] == access["scope"]

    revoked = client.revoke_token(
        meta["revocation_endpoint"], token=token["refresh_token"], token_type_hint="refresh_token"
    )
    assert revoked.status_code == 200 and revoked.text == ""
    assert token_request(
        server, grant_type="refresh_token", client_id=server.client_id,
        refresh_token=token["refresh_token"],
    ).json()["error"] == "invalid_grant"
    stale = requests.get(
        meta["userinfo_endpoint"],
        headers={"Authorization": f"Bearer {refreshed['access_token']}"},
        timeout=10,
    )
    assert stale.status_code == 401
    assert 'error="invalid_token"' in stale.headers["WWW-Authenticate"]

    out = browser.get(
        f"/logout?{urlencode({'client_id': server.client_id, 'logout_uri': SIGNED_OUT})}"
    )
    assert out.status_code == 302 and out.headers["Location"] == SIGNED_OUT
    after = browser.get(authorize_url(server))
    assert urlparse(after.headers["Location"]).path == "/login"


def test_access_token_without_openid_is_refused_at_user_info_and_admin_scope_needed_for_get_user(taskapi):
    server = taskapi
    verifier, code = user_with_code(server, "scopes", scope="openid email")
    tokens = token_request(
        server, grant_type="authorization_code", client_id=server.client_id, code=code,
        redirect_uri=CALLBACK, code_verifier=verifier,
    ).json()
    # Without aws.cognito.signin.user.admin the Cognito API refuses the access token.
    with pytest.raises(ClientError) as refused:
        cognito(server).get_user(AccessToken=tokens["access_token"])
    assert refused.value.response["Error"]["Code"] == "NotAuthorizedException"
    missing = requests.get(f"{server.base_url}/oauth2/userInfo", timeout=10)
    assert missing.status_code == 400
    assert 'error="invalid_request"' in missing.headers["WWW-Authenticate"]


# ---- the failure paths ---------------------------------------------------------------------


def test_wrong_verifier_and_reused_code_are_invalid_grant(taskapi):
    server = taskapi
    verifier, code = user_with_code(server, "pkce")
    wrong = token_request(
        server, grant_type="authorization_code", client_id=server.client_id, code=code,
        redirect_uri=CALLBACK, code_verifier=pkce_pair()[0],
    )
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    # The failed attempt spent the code: even the right verifier is refused now.
    spent = token_request(
        server, grant_type="authorization_code", client_id=server.client_id, code=code,
        redirect_uri=CALLBACK, code_verifier=verifier,
    )
    assert spent.json()["error"] == "invalid_grant"

    verifier, code = user_with_code(server, "reuse")
    exchange = dict(
        grant_type="authorization_code", client_id=server.client_id, code=code,
        redirect_uri=CALLBACK, code_verifier=verifier,
    )
    assert token_request(server, **exchange).status_code == 200
    reused = token_request(server, **exchange)
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"

    missing_verifier = user_with_code(server, "noverifier")[1]
    refused = token_request(
        server, grant_type="authorization_code", client_id=server.client_id,
        code=missing_verifier, redirect_uri=CALLBACK,
    )
    assert refused.json()["error"] == "invalid_grant"


def test_redirect_uri_mismatch_never_redirects(taskapi):
    server = taskapi
    for bad in ("https://evil.example.com/callback", "http://localhost:3000/callback/x", None):
        response = requests.get(
            authorize_url(server, redirect_uri=bad or ""), allow_redirects=False, timeout=10
        )
        assert response.status_code == 400
        assert "Location" not in response.headers
        assert "text/html" in response.headers["Content-Type"]
    # At the token endpoint, a code is bound to the redirect_uri it was issued for.
    verifier, code = user_with_code(server, "redirect")
    response = token_request(
        server, grant_type="authorization_code", client_id=server.client_id, code=code,
        redirect_uri="https://tasks.example.com/callback", code_verifier=verifier,
    )
    assert response.json()["error"] == "invalid_grant"


def test_bad_authorization_parameters_go_back_to_the_app_as_errors(taskapi):
    server = taskapi
    cases = [
        ({"scope": "openid phone"}, "invalid_scope"),
        ({"scope": "email"}, "invalid_scope"),
        ({"code_challenge": pkce_pair()[1], "code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": pkce_pair()[1], "code_challenge_method": None}, "invalid_request"),
        ({"response_type": None}, "invalid_request"),
        ({"response_type": "token"}, "unauthorized_client"),
        ({"response_type": "id_token"}, "unsupported_response_type"),
        ({"identity_provider": "Google"}, "invalid_request"),
    ]
    for params, error in cases:
        response = requests.get(authorize_url(server, **params), allow_redirects=False, timeout=10)
        assert response.status_code == 302, (params, response.text)
        location = response.headers["Location"]
        assert location.startswith(CALLBACK)
        query = parse_qs(urlparse(location).query)
        assert query["error"] == [error], (params, query)
        assert query["state"] == ["s1"]


def test_unknown_client_and_wrong_secret_are_invalid_client(taskapi, secret_client):
    server = taskapi
    page = requests.get(
        authorize_url(server, client_id="nosuchclient0000000000000"), allow_redirects=False,
        timeout=10,
    )
    assert page.status_code == 400 and "Location" not in page.headers
    unknown = token_request(
        server, grant_type="authorization_code", client_id="nosuchclient0000000000000",
        code="x", redirect_uri=CALLBACK,
    )
    assert unknown.status_code in (400, 401) and unknown.json()["error"] == "invalid_client"
    wrong = requests.post(
        f"{server.base_url}/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(secret_client["ClientId"], "not-the-secret"),
        timeout=10,
    )
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    no_secret = token_request(
        server, grant_type="client_credentials", client_id=secret_client["ClientId"]
    )
    assert no_secret.json()["error"] == "invalid_client"
    unsupported = token_request(server, grant_type="password", client_id=server.client_id)
    assert unsupported.json()["error"] == "unsupported_grant_type"
    not_a_form = requests.post(
        f"{server.base_url}/oauth2/token", json={"grant_type": "client_credentials"}, timeout=10
    )
    assert not_a_form.status_code == 400 and not_a_form.json()["error"] == "invalid_request"


def test_forms_without_a_valid_csrf_token_are_refused(taskapi):
    server = taskapi
    email, browser, login = at_login_page(server, "csrf")
    form = Page(login.text).form
    action = urljoin(login.url, form["action"])
    for csrf in (None, "forged", form["fields"]["_csrf"] + "x"):
        data = {"username": email, "password": PASSWORD}
        if csrf is not None:
            data["_csrf"] = csrf
        refused = browser.http.post(action, data=data, allow_redirects=False, timeout=30)
        assert refused.status_code == 403 and "Location" not in refused.headers
    # Another browser's token (no matching cookie) is refused too.
    stranger = requests.post(
        action, data={**form["fields"], "username": email, "password": PASSWORD},
        allow_redirects=False, timeout=30,
    )
    assert stranger.status_code == 403
    assert code_from(browser.submit(login, username=email, password=PASSWORD))


def test_wrong_password_unconfirmed_and_disabled_users_stay_on_the_login_page(taskapi):
    server = taskapi
    email, browser, login = at_login_page(server, "rules")
    wrong = browser.submit(login, username=email, password="Wrong" + PASSWORD)
    assert wrong.status_code == 400
    assert "Incorrect username or password." in Page(wrong.text).alerts
    cognito(server).admin_disable_user(UserPoolId=server.pool_id, Username=email)
    disabled = browser.submit(wrong, username=email, password=PASSWORD)
    assert "User is disabled." in Page(disabled.text).alerts

    pending = new_email("unconfirmed")
    cognito(server).sign_up(ClientId=server.client_id, Username=pending, Password=PASSWORD)
    confirm = browser.submit(disabled, username=pending, password=PASSWORD)
    page = Page(confirm.text)
    assert "Confirmation code" in page.labels and page.buttons == ["Confirm"]


# ---- client_credentials and the pool's OAuth settings --------------------------------------


@pytest.fixture(scope="module")
def resource_server(taskapi):
    return cognito(taskapi).create_resource_server(
        UserPoolId=taskapi.pool_id,
        Identifier="tasks-api",
        Name="Task API",
        Scopes=[
            {"ScopeName": "read", "ScopeDescription": "Read tasks"},
            {"ScopeName": "write", "ScopeDescription": "Write tasks"},
        ],
    )["ResourceServer"]


@pytest.fixture(scope="module")
def secret_client(taskapi, resource_server):
    return cognito(taskapi).create_user_pool_client(
        UserPoolId=taskapi.pool_id,
        ClientName="machine",
        GenerateSecret=True,
        AllowedOAuthFlows=["client_credentials"],
        AllowedOAuthScopes=["tasks-api/read"],
        AllowedOAuthFlowsUserPoolClient=True,
    )["UserPoolClient"]


def test_client_credentials_with_a_resource_server_scope(taskapi, secret_client):
    server = taskapi
    meta = discovery(server)
    for method in ("client_secret_basic", "client_secret_post"):
        client = OAuth2Session(
            secret_client["ClientId"], secret_client["ClientSecret"],
            scope="tasks-api/read", token_endpoint_auth_method=method,
        )
        token = client.fetch_token(meta["token_endpoint"], grant_type="client_credentials")
        assert "id_token" not in token and "refresh_token" not in token
        claims = claims_of(token["access_token"])
        assert claims["scope"] == "tasks-api/read" and claims["token_use"] == "access"
        assert claims["sub"] == secret_client["ClientId"] == claims["client_id"]
        assert claims["iss"] == meta["issuer"] and claims["version"] == 2
    # No scope asked: all of the client's resource-server scopes.
    everything = requests.post(
        meta["token_endpoint"], data={"grant_type": "client_credentials"},
        auth=(secret_client["ClientId"], secret_client["ClientSecret"]), timeout=10,
    )
    assert claims_of(everything.json()["access_token"])["scope"] == "tasks-api/read"
    client = OAuth2Session(
        secret_client["ClientId"], secret_client["ClientSecret"], scope="tasks-api/write"
    )
    with pytest.raises(OAuthError) as refused:
        client.fetch_token(meta["token_endpoint"], grant_type="client_credentials")
    assert refused.value.error == "invalid_scope"
    # The public web client may not use client_credentials at all.
    public = token_request(server, grant_type="client_credentials", client_id=server.client_id)
    assert public.json()["error"] == "unauthorized_client"


def test_resource_servers_domains_and_client_oauth_validation(taskapi, resource_server):
    server = taskapi
    idp = cognito(server)
    pool = server.pool_id
    assert idp.describe_resource_server(UserPoolId=pool, Identifier="tasks-api")[
        "ResourceServer"] == resource_server
    listed = idp.list_resource_servers(UserPoolId=pool, MaxResults=10)["ResourceServers"]
    assert [r["Identifier"] for r in listed] == ["tasks-api"]
    extra = idp.create_resource_server(UserPoolId=pool, Identifier="extra", Name="Extra")
    assert extra["ResourceServer"]["Scopes"] == []
    updated = idp.update_resource_server(
        UserPoolId=pool, Identifier="extra", Name="Extra 2",
        Scopes=[{"ScopeName": "x", "ScopeDescription": "X"}],
    )["ResourceServer"]
    assert updated["Name"] == "Extra 2" and updated["Scopes"][0]["ScopeName"] == "x"
    idp.delete_resource_server(UserPoolId=pool, Identifier="extra")
    with pytest.raises(ClientError) as gone:
        idp.describe_resource_server(UserPoolId=pool, Identifier="extra")
    assert gone.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as twice:
        idp.create_resource_server(UserPoolId=pool, Identifier="tasks-api", Name="Again")
    assert twice.value.response["Error"]["Code"] == "InvalidParameterException"

    prefix = f"tasks-{uuid.uuid4().hex[:8]}"
    idp.create_user_pool_domain(Domain=prefix, UserPoolId=pool)
    described = idp.describe_user_pool_domain(Domain=prefix)["DomainDescription"]
    assert described["UserPoolId"] == pool and described["Status"] == "ACTIVE"
    with pytest.raises(ClientError) as second:
        idp.create_user_pool_domain(Domain=f"{prefix}-2", UserPoolId=pool)
    assert second.value.response["Error"]["Code"] == "InvalidParameterException"
    with pytest.raises(ClientError) as bad_name:
        idp.create_user_pool_domain(Domain="Not_Valid", UserPoolId=pool)
    assert bad_name.value.response["Error"]["Code"] == "InvalidParameterException"
    idp.delete_user_pool_domain(Domain=prefix, UserPoolId=pool)
    assert idp.describe_user_pool_domain(Domain=prefix)["DomainDescription"] == {}

    def refused(**settings) -> str:
        with pytest.raises(ClientError) as error:
            idp.create_user_pool_client(UserPoolId=pool, ClientName="bad", **settings)
        return error.value.response["Error"]["Code"]

    assert refused(AllowedOAuthFlows=["password"]) == "InvalidParameterException"
    assert refused(
        GenerateSecret=True, AllowedOAuthFlows=["code", "client_credentials"],
        AllowedOAuthScopes=["tasks-api/read"], CallbackURLs=[CALLBACK],
        AllowedOAuthFlowsUserPoolClient=True,
    ) == "InvalidOAuthFlowException"
    assert refused(
        AllowedOAuthFlows=["client_credentials"], AllowedOAuthScopes=["tasks-api/read"],
        AllowedOAuthFlowsUserPoolClient=True,
    ) == "InvalidOAuthFlowException"
    assert refused(
        AllowedOAuthFlows=["code"], AllowedOAuthScopes=["openid", "tasks-api/nope"],
        CallbackURLs=[CALLBACK], AllowedOAuthFlowsUserPoolClient=True,
    ) == "ScopeDoesNotExistException"
    assert refused(
        AllowedOAuthFlows=["code"], AllowedOAuthScopes=["openid"],
        CallbackURLs=["http://example.com/callback"], AllowedOAuthFlowsUserPoolClient=True,
    ) == "InvalidParameterException"
    assert refused(
        AllowedOAuthFlows=["code"], AllowedOAuthScopes=["openid"], CallbackURLs=[CALLBACK],
        DefaultRedirectURI="https://elsewhere.example.com/", AllowedOAuthFlowsUserPoolClient=True,
    ) == "InvalidParameterException"

    default = idp.describe_user_pool_client(UserPoolId=pool, ClientId=server.client_id)[
        "UserPoolClient"]
    assert default["AllowedOAuthFlows"] == ["code"]
    assert default["AllowedOAuthScopes"] == ["openid", "email", "profile"]
    assert default["CallbackURLs"][:2] == ["https://tasks.example.com/callback", CALLBACK]
    assert f"{server.base_url}/callback" in default["CallbackURLs"]
    assert default["AllowedOAuthFlowsUserPoolClient"] is True


def test_implicit_flow_returns_tokens_in_the_fragment(taskapi):
    server = taskapi
    implicit = cognito(server).create_user_pool_client(
        UserPoolId=server.pool_id,
        ClientName="implicit",
        AllowedOAuthFlows=["implicit"],
        AllowedOAuthScopes=["openid", "email"],
        CallbackURLs=[CALLBACK],
        AllowedOAuthFlowsUserPoolClient=True,
    )["UserPoolClient"]["ClientId"]
    email = new_email("implicit")
    confirmed_user(server, email)
    browser = Browser(server.base_url)
    back = sign_in_through_pages(
        browser, authorize_url(server, client_id=implicit, response_type="token", nonce="n-1"),
        email,
    )
    assert back.status_code == 302
    location = urlparse(back.headers["Location"])
    assert location.query == ""
    fragment = parse_qs(location.fragment)
    assert fragment["token_type"] == ["Bearer"] and fragment["state"] == ["s1"]
    assert "refresh_token" not in fragment
    assert claims_of(fragment["id_token"][0])["nonce"] == "n-1"
    assert claims_of(fragment["access_token"][0])["client_id"] == implicit


# ---- sign-up, confirmation and password pages ----------------------------------------------


def test_sign_up_confirm_and_sign_in_through_the_pages_only(taskapi):
    server = taskapi
    email = new_email("pages")
    browser = Browser(server.base_url)
    login = browser.follow(browser.get(authorize_url(server)))
    page = Page(login.text)
    assert page.labels == ["Email", "Password"] and page.buttons == ["Sign in"]
    assert set(page.form["fields"]) == {"_csrf", "username", "password"}

    signup = browser.get(page.links["Need an account? Sign up"])
    page = Page(signup.text)
    assert page.labels == ["Email", "Password"] and page.buttons == ["Sign up"]
    weak = browser.submit(signup, username=email, password="short")
    assert weak.status_code == 400 and Page(weak.text).alerts
    confirm = browser.submit(weak, username=email, password=PASSWORD)
    page = Page(confirm.text)
    assert page.labels == ["Email", "Confirmation code"] and page.buttons == ["Confirm"]

    wrong = browser.submit(confirm, username=email, code="000000")
    assert wrong.status_code == 400
    signed_up = browser.submit(wrong, username=email, code=outbox_code(server, email, "sign-up"))
    page = Page(signed_up.text)
    assert page.buttons == ["Sign in"] and any("confirmed" in a for a in page.alerts)
    assert code_from(browser.submit(signed_up, username=email, password=PASSWORD))


def test_forgot_password_through_the_pages(taskapi):
    server = taskapi
    email, browser, login = at_login_page(server, "forgot")
    forgot = browser.get(Page(login.text).links["Forgot your password?"])
    page = Page(forgot.text)
    assert page.labels == ["Email"] and page.buttons == ["Reset password"]
    reset = browser.submit(forgot, username=email)
    page = Page(reset.text)
    assert page.labels == ["Email", "Confirmation code", "New password"]
    assert page.buttons == ["Reset password"]
    new_password = "NewPass456!x"
    done = browser.submit(
        reset, username=email, code=outbox_code(server, email, "forgot-password"),
        new_password=new_password,
    )
    assert done.status_code == 200
    assert code_from(browser.submit(done, username=email, password=new_password))


def test_admin_created_user_chooses_a_password_on_the_new_password_form(taskapi):
    server = taskapi
    email = new_email("admin")
    cognito(server).admin_create_user(
        UserPoolId=server.pool_id, Username=email, TemporaryPassword="TempPass123!x",
        MessageAction="SUPPRESS",
    )
    browser = Browser(server.base_url)
    form = sign_in_through_pages(browser, authorize_url(server), email, "TempPass123!x")
    page = Page(form.text)
    assert "New password" in page.labels and "new_password" in page.form["fields"]
    weak = browser.submit(form, new_password="weak")
    assert weak.status_code == 400 and Page(weak.text).alerts
    assert code_from(browser.submit(weak, new_password="Chosen123!pass"))
    status = cognito(server).admin_get_user(UserPoolId=server.pool_id, Username=email)
    assert status["UserStatus"] == "CONFIRMED"


def test_sign_in_asks_for_the_authenticator_code_when_mfa_is_on(taskapi):
    server = taskapi
    idp = cognito(server)
    idp.set_user_pool_mfa_config(
        UserPoolId=server.pool_id,
        SoftwareTokenMfaConfiguration={"Enabled": True},
        MfaConfiguration="OPTIONAL",
    )
    email = new_email("mfa")
    confirmed_user(server, email)
    access = idp.initiate_auth(
        ClientId=server.client_id, AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD},
    )["AuthenticationResult"]["AccessToken"]
    app = pyotp.TOTP(idp.associate_software_token(AccessToken=access)["SecretCode"])
    idp.verify_software_token(AccessToken=access, UserCode=app.now())
    idp.set_user_mfa_preference(
        AccessToken=access, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True}
    )

    browser = Browser(server.base_url)
    asked = sign_in_through_pages(browser, authorize_url(server), email)
    page = Page(asked.text)
    assert page.labels == ["Email", "Code"] and page.buttons == ["Sign in"]
    # The current step's code was spent on verification; one step of skew is allowed.
    next_code = app.at(datetime.datetime.now() + datetime.timedelta(seconds=30))
    wrong = "123456" if next_code != "123456" else "654321"
    refused = browser.submit(asked, code=wrong)
    assert refused.status_code == 400 and Page(refused.text).buttons == ["Sign in"]
    again = browser.submit(refused, username=email, password=PASSWORD)
    assert code_from(browser.submit(again, code=next_code))


# ---- the HTTPS listener --------------------------------------------------------------------


def test_https_listener_serves_the_same_endpoints_with_secure_cookies_and_cors(taskapi):
    server = taskapi
    assert server.hosted_ui, "taskapi serve printed no hosted UI domain"
    base = f"https://{server.hosted_ui}"
    cert = str(server.data_dir / "hosted-ui-cert.pem")
    meta = requests.get(
        f"{base}/{server.pool_id}/.well-known/openid-configuration", verify=cert, timeout=10
    ).json()
    assert meta["token_endpoint"] == f"{base}/oauth2/token"
    assert meta["issuer"] == f"{server.base_url}/{server.pool_id}"

    email = new_email("https")
    confirmed_user(server, email)
    browser = Browser(base, verify=cert)
    verifier, challenge = pkce_pair()
    url = authorize_url(server, code_challenge=challenge, code_challenge_method="S256")
    back = sign_in_through_pages(browser, url.replace(server.base_url, base), email)
    assert any(c.name == "cognito" and c.secure for c in browser.http.cookies)
    assert all(c.secure for c in browser.http.cookies)

    # Amplify's token request from another origin: a preflight with x-amz-user-agent.
    preflight = requests.options(
        meta["token_endpoint"],
        headers={
            "Origin": "http://localhost:3000",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-amz-user-agent",
        },
        verify=cert, timeout=10,
    )
    assert preflight.status_code == 200
    assert "x-amz-user-agent" in preflight.headers["Access-Control-Allow-Headers"].lower()
    tokens = requests.post(
        meta["token_endpoint"],
        data={"grant_type": "authorization_code", "code": code_from(back),
              "client_id": server.client_id, "redirect_uri": CALLBACK, "code_verifier": verifier},
        headers={"Origin": "http://localhost:3000", "x-amz-user-agent": "aws-amplify/6"},
        verify=cert, timeout=10,
    )
    assert tokens.status_code == 200 and tokens.headers["Access-Control-Allow-Origin"]
    assert claims_of(tokens.json()["access_token"])["username"]
