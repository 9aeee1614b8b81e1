"""Schemathesis hook: signs every call as an EdgeVault organization (RFC 9421, ed25519).

Loaded with SCHEMATHESIS_HOOKS=edgevault_signing (scripts/conformance sets it up). The key
comes from the organization key file named by EDGEVAULT_ORG_KEY (`vault-cli org keygen`).

The signature is made over the request exactly as it goes on the wire: the hook wraps the
HTTP adapter of `requests`, so method, path, query and body are the prepared, final ones.
Covered components follow docs/PROTOCOL.md "HTTP Message Signatures": "@method" "@path", "@query" when there is a query,
"content-digest" (RFC 9530 sha-256) when there is a body; parameters created, keyid, nonce, alg.
A call schemathesis sends without the `Signature` header (to see it refused) stays unsigned.

POST /v1/witness/add-checkpoint: every other generated body is replaced by a valid submission
of the empty checkpoint of a C2SP log the vault witnesses (EDGEVAULT_WITNESS_LOG_SEED, hex, and
EDGEVAULT_WITNESS_LOG_ORIGIN; `vault-cli witness add-log` adds it): `old 0`, no proof, the note
signed as a C2SP signed note; the others are sent as generated (and refused).

POST /v1/requests: a generated body that fits the schema (a JWS object) is replaced by a real
access request (docs/PROTOCOL.md "Access request") for home/t with a fresh id, signed with the
same key, so that submissions get past the JWS checks and are stored; the vault's origin comes
from EDGEVAULT_VAULT_ORIGIN. Bodies that do not fit the schema are sent as generated.
"""
import base64
import hashlib
import json
import os
import secrets
import time
from urllib.parse import urlsplit

import nacl.public
import nacl.signing
import requests.adapters
import schemathesis

import edgevault_peer


def _b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _json(value):
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode()


with open(os.environ["EDGEVAULT_ORG_KEY"], encoding="utf-8") as f:
    _KEY_FILE = json.load(f)
_SIGNING_KEY = nacl.signing.SigningKey(_b64url_decode(_KEY_FILE["signingSeed"]))
_KEY_ID = _KEY_FILE["keyId"]


def sign(request):
    """Adds Content-Digest, Signature-Input and Signature to a prepared request (as the
    organization, or for /v1/peer/... as edgevault_peer says)."""
    if urlsplit(request.url).path.startswith("/v1/peer/") and edgevault_peer.enabled():
        key, key_id, headers = edgevault_peer.identity(request)
        return sign_as(request, key, key_id, headers, digest_always=True)
    return sign_as(request, _SIGNING_KEY, _KEY_ID)


def sign_as(request, key, key_id, covered_headers=(), digest_always=False):
    """Signs with `key` under `key_id`, covering "@method" "@path", "@query" when there is one,
    the named headers present and "content-digest" when there is a body (or always)."""
    url = urlsplit(request.url)
    body = request.body or b""
    if isinstance(body, str):
        body = body.encode("utf-8")
    components = [("@method", request.method.upper()), ("@path", url.path or "/")]
    if url.query:
        components.append(("@query", "?" + url.query))
    for name in covered_headers:
        value = request.headers.get(name)
        if value is not None:
            components.append((name, value.strip()))
    if body or (digest_always and request.method.upper() != "GET"):
        digest = "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode() + ":"
        request.headers["Content-Digest"] = digest
        components.append(("content-digest", digest))
    params = "(" + " ".join(f'"{name}"' for name, _ in components) + ")"
    params += f';created={int(time.time())};keyid="{key_id}";nonce="{secrets.token_urlsafe(16)}";alg="ed25519"'
    base = "".join(f'"{name}": {value}\n' for name, value in components) + f'"@signature-params": {params}'
    signature = key.sign(base.encode("utf-8")).signature
    request.headers["Signature-Input"] = "sig1=" + params
    request.headers["Signature"] = "sig1=:" + base64.b64encode(signature).decode() + ":"


_send = requests.adapters.HTTPAdapter.send


def _signed_send(self, request, *args, **kwargs):
    if "Signature" in request.headers:
        sign(request)
    return _send(self, request, *args, **kwargs)


def access_request():
    """A fresh, valid access request as a JWS (general JSON serialization) signed by the org key."""
    now = time.time()
    rfc3339 = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
    payload = {
        "type": "edgevault.access-request/v1", "vault": os.environ["EDGEVAULT_VAULT_ORIGIN"],
        "id": "conformance-" + secrets.token_hex(6), "org": {"name": "Conformance", "contact": ""},
        "streams": ["home/t"], "from": "2026-09-01T00:00:00Z", "to": "2026-10-01T00:00:00Z",
        "purpose": "conformance run", "access": "raw",
        "deliveryKey": _b64url(bytes(nacl.public.PrivateKey.generate().public_key)),
        "expires": rfc3339(now + 86400), "created": rfc3339(now),
    }
    public = bytes(_SIGNING_KEY.verify_key)
    header = {"alg": "Ed25519", "kid": _KEY_ID, "jwk": {"crv": "Ed25519", "kty": "OKP", "x": _b64url(public)}}
    protected, encoded = _b64url(_json(header)), _b64url(_json(payload))
    signature = _SIGNING_KEY.sign(f"{protected}.{encoded}".encode()).signature
    return {"payload": encoded, "signatures": [{"protected": protected, "signature": _b64url(signature)}]}


@schemathesis.hook
def map_body(context, body):
    operation = context.operation
    if operation is None or operation.method.upper() != "POST" or operation.path != "/v1/requests":
        return body
    fits = isinstance(body, dict) and isinstance(body.get("payload"), str) and isinstance(body.get("signatures"), list)
    return access_request() if fits else body


_MODULE = open(os.environ["EDGEVAULT_MODULE"], "rb").read() if os.environ.get("EDGEVAULT_MODULE") else None
_MODULE_NAME = "sha256:" + hashlib.sha256(_MODULE).hexdigest() if _MODULE else None


def _is_module_upload(context):
    operation = context.operation
    return operation is not None and operation.method.upper() == "PUT" and operation.path == "/v1/modules/{name}" and _MODULE


@schemathesis.serializer("application/wasm")
def wasm_serializer(ctx, value):
    """A module body is raw bytes (schemathesis has no serializer of its own for application/wasm)."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    return json.dumps(value).encode("utf-8")


_LOG_SEED = bytes.fromhex(os.environ["EDGEVAULT_WITNESS_LOG_SEED"]) if os.environ.get("EDGEVAULT_WITNESS_LOG_SEED") else None
_LOG_ORIGIN = os.environ.get("EDGEVAULT_WITNESS_LOG_ORIGIN", "")
_submissions = 0


def empty_checkpoint_submission():
    """`old 0`, no proof, and the log's checkpoint of size 0 (root: SHA-256 of nothing),
    signed as a C2SP signed note (Ed25519, key type 0x01)."""
    key = nacl.signing.SigningKey(_LOG_SEED)
    public = bytes(key.verify_key)
    key_hash = hashlib.sha256(_LOG_ORIGIN.encode() + b"\n\x01" + public).digest()[:4]
    text = f"{_LOG_ORIGIN}\n0\n{base64.b64encode(hashlib.sha256(b'').digest()).decode()}\n"
    signature = key.sign(text.encode()).signature
    note = text + "\n\u2014 " + _LOG_ORIGIN + " " + base64.b64encode(key_hash + signature).decode() + "\n"
    return "old 0\n\n" + note


@schemathesis.hook("map_case")
def map_module_case(context, case):
    """PUT /v1/modules/{name}: a generated binary body becomes a real module (EDGEVAULT_MODULE)
    under its own name, so that uploads can get past the hash and validation checks; other
    bodies are sent as generated (and refused). POST /v1/witness/add-checkpoint: every other
    string body becomes a valid submission."""
    global _submissions
    case = edgevault_peer.map_case(context, case)
    if _is_module_upload(context) and isinstance(case.body, (bytes, bytearray, str)):
        case.body = _MODULE
        case.path_parameters = {**(case.path_parameters or {}), "name": _MODULE_NAME}
    operation = context.operation
    if (operation is not None and operation.method.upper() == "POST" and operation.path == "/v1/witness/add-checkpoint"
            and _LOG_SEED and isinstance(case.body, str)):
        _submissions += 1
        if _submissions % 2 == 1:
            case.body = empty_checkpoint_submission()
    return case


requests.adapters.HTTPAdapter.send = _signed_send


def seed_peer_share(base_url):
    """scripts/conformance: the share and leaf the peer operations fetch, audit and list."""
    def send(method, url, headers, body):
        r = requests.request(method, url, headers=headers, data=body)
        if r.status_code >= 300:
            raise SystemExit(f"seeding {method} {url}: {r.status_code} {r.text}")
    edgevault_peer.seed(base_url, send)
