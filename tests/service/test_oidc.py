"""Officers' JWTs from the bureau's identity provider, verified against its JWKS (a key made here,
served from loopback through the issuer's discovery document, or handed over directly)."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from conftest import bearer
from joserfc import jwt
from joserfc.jwk import RSAKey

from engine.service.settings import OidcSettings

AUDIENCE = "shuangtan"


@pytest.fixture(scope="module")
def key():
    return RSAKey.generate_key(2048, parameters={"kid": "bureau-1"}, private=True)


@pytest.fixture
def issuer(key):
    """A discovery document and a JWKS on 127.0.0.1 (an ephemeral port)."""
    served = {"fetches": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            base = f"http://127.0.0.1:{self.server.server_port}"
            if self.path == "/.well-known/openid-configuration":
                body = {"issuer": base, "jwks_uri": f"{base}/jwks"}
            elif self.path == "/jwks":
                served["fetches"] += 1
                body = {"keys": [key.as_dict(private=False)]}
            else:
                self.send_response(404)
                self.end_headers()
                return
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    served["url"] = f"http://127.0.0.1:{server.server_port}"
    yield served
    server.shutdown()


def _token(key, iss, sub="wang", aud=AUDIENCE, exp_in=300, kid="bureau-1"):
    now = int(time.time())
    claims = {"iss": iss, "aud": aud, "preferred_username": sub, "iat": now, "exp": now + exp_in}
    return jwt.encode({"alg": "RS256", "kid": kid}, claims, key)


def test_a_valid_jwt_acts_as_the_account_it_names(make_client, service_url, key, issuer):
    oidc = OidcSettings(issuer=issuer["url"], audience=AUDIENCE)
    client = make_client(service_url, oidc=oidc)
    r = client.get("/v1/applications", headers=bearer(_token(key, issuer["url"])))
    assert r.status_code == 200, r.text
    r = client.post("/v1/applications", content=b"{}", headers=bearer(_token(key, issuer["url"], sub="li")))
    assert r.status_code == 422 and r.json()["submission"]["submitted_by"] == "li"
    assert issuer["fetches"] == 1  # the key set is kept, not fetched per request


@pytest.mark.parametrize(
    "change",
    [
        {"aud": "someone-else"},
        {"exp_in": -3600},
        {"sub": "qinghe"},  # an enterprise account: never through the bureau's provider
        {"sub": "nobody"},
        {"kid": "unknown"},
    ],
)
def test_bad_jwts_are_401(make_client, service_url, key, issuer, change):
    client = make_client(service_url, oidc=OidcSettings(issuer=issuer["url"], audience=AUDIENCE))
    r = client.get("/v1/applications", headers=bearer(_token(key, issuer["url"], **change)))
    assert r.status_code == 401 and r.json()["code"] == "unauthenticated"


def test_another_issuer_and_another_key_are_401(make_client, service_url, key):
    other = RSAKey.generate_key(2048, parameters={"kid": "bureau-1"}, private=True)
    jwks = {"keys": [key.as_dict(private=False)]}
    client = make_client(service_url, oidc=OidcSettings(issuer="https://idp.example", audience=AUDIENCE), jwks=jwks)
    assert client.get("/v1/applications", headers=bearer(_token(key, "https://idp.example"))).status_code == 200
    assert client.get("/v1/applications", headers=bearer(_token(key, "https://evil.example"))).status_code == 401
    assert client.get("/v1/applications", headers=bearer(_token(other, "https://idp.example"))).status_code == 401
    assert client.get("/v1/applications", headers=bearer("eyJ.bad.jwt")).status_code == 401
