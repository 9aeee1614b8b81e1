"""Schemathesis hook: signs every call as an EdgeVault organization (RFC 9421, ed25519).

Loaded with SCHEMATHESIS_HOOKS=edgevault_signing (scripts/conformance sets it up). The key
comes from the organization key file named by EDGEVAULT_ORG_KEY (`vault-cli org keygen`).

The signature is made over the request exactly as it goes on the wire: the hook wraps the
HTTP adapter of `requests`, so method, path, query and body are the prepared, final ones.
Covered components follow docs/PROTOCOL.md "HTTP Message Signatures": "@method" "@path", "@query" when there is a query,
"content-digest" (RFC 9530 sha-256) when there is a body; parameters created, keyid, nonce, alg.
"""
import base64
import hashlib
import json
import os
import secrets
import time
from urllib.parse import urlsplit

import nacl.signing
import requests.adapters


def _b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


with open(os.environ["EDGEVAULT_ORG_KEY"], encoding="utf-8") as f:
    _KEY_FILE = json.load(f)
_SIGNING_KEY = nacl.signing.SigningKey(_b64url_decode(_KEY_FILE["signingSeed"]))
_KEY_ID = _KEY_FILE["keyId"]


def sign(request):
    """Adds Content-Digest, Signature-Input and Signature to a prepared request."""
    url = urlsplit(request.url)
    body = request.body or b""
    if isinstance(body, str):
        body = body.encode("utf-8")
    components = [("@method", request.method.upper()), ("@path", url.path or "/")]
    if url.query:
        components.append(("@query", "?" + url.query))
    if body:
        digest = "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode() + ":"
        request.headers["Content-Digest"] = digest
        components.append(("content-digest", digest))
    params = "(" + " ".join(f'"{name}"' for name, _ in components) + ")"
    params += f';created={int(time.time())};keyid="{_KEY_ID}";nonce="{secrets.token_urlsafe(16)}";alg="ed25519"'
    base = "".join(f'"{name}": {value}\n' for name, value in components) + f'"@signature-params": {params}'
    signature = _SIGNING_KEY.sign(base.encode("utf-8")).signature
    request.headers["Signature-Input"] = "sig1=" + params
    request.headers["Signature"] = "sig1=:" + base64.b64encode(signature).decode() + ":"


_send = requests.adapters.HTTPAdapter.send


def _signed_send(self, request, *args, **kwargs):
    sign(request)
    return _send(self, request, *args, **kwargs)


requests.adapters.HTTPAdapter.send = _signed_send
