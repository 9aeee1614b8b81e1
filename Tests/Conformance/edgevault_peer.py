"""The peer share store's operations for the schemathesis hook (docs/PROTOCOL.md "Fragments").

The vault under test has a peer added (scripts/conformance: `vault-cli peer add` with the
witness key from EDGEVAULT_PEER_WITNESS_SEED, hex, for the log EDGEVAULT_PEER_ORIGIN). Calls
to /v1/peer/... are signed as that peer (keyid = its origin, its witness key), covering the
share headers; GET /v1/peer/sets is signed as the person who owns the peer's shares
(keyid owner:<RFC 7638 thumbprint>, key from EDGEVAULT_PEER_OWNER_SEED). `seed(url)` stores one
share (KEPT, n 0) and its set's leaf before the run; every other generated case of each
operation is replaced by a valid call (a new share, the kept share, its audit, its leaf), the
others are sent as generated (and refused).
"""
import base64
import hashlib
import json
import os
import secrets
import time
from urllib.parse import urlsplit

import nacl.signing

_SEED = bytes.fromhex(os.environ["EDGEVAULT_PEER_WITNESS_SEED"]) if os.environ.get("EDGEVAULT_PEER_WITNESS_SEED") else None
_ORIGIN = os.environ.get("EDGEVAULT_PEER_ORIGIN", "")
_OWNER = nacl.signing.SigningKey(bytes.fromhex(os.environ["EDGEVAULT_PEER_OWNER_SEED"])) if os.environ.get("EDGEVAULT_PEER_OWNER_SEED") else None
PREFIX = hashlib.sha256(_ORIGIN.encode()).hexdigest()[:16]
KEPT = PREFIX + "-c0ffee"
_SHARE_HEADERS = ("edgevault-share-k", "edgevault-share-n", "edgevault-set-size", "edgevault-owner-key")
_calls = {}


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def enabled():
    return _SEED is not None and _OWNER is not None


def _owner_key_id():
    x = _b64url(bytes(_OWNER.verify_key))
    jwk = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"), sort_keys=True).encode()
    return "owner:" + _b64url(hashlib.sha256(jwk).digest())


def identity(request):
    """The key, keyid and headers to cover for a call to /v1/peer/...: the peer's witness key
    (keyid its origin, the share headers), or listing sets the owner's (keyid owner:…)."""
    if request.method.upper() == "GET" and urlsplit(request.url).path == "/v1/peer/sets":
        return _OWNER, _owner_key_id(), ()
    return nacl.signing.SigningKey(_SEED), _ORIGIN, _SHARE_HEADERS


def _share_headers(size):
    return {"EdgeVault-Share-K": "2", "EdgeVault-Share-N": "3", "EdgeVault-Set-Size": str(size),
            "EdgeVault-Owner-Key": _b64url(bytes(_OWNER.verify_key)), "Signature": "x"}


def _leaf():
    leaf = {"type": "fragments.placed", "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "salt": _b64url(secrets.token_bytes(16)),
            "storageIndex": KEPT, "codec": "rs-isal/1", "k": 2, "n": 3, "size": 32, "sha256": "", "shares": []}
    return json.dumps({"leafIndex": 1, "leaf": base64.b64encode(json.dumps(leaf).encode()).decode()}).encode()


def seed(base_url, send):
    """Stores share 0 of KEPT and its leaf (`send(method, url, headers, body)` signs and sends)."""
    send("PUT", f"{base_url}/v1/peer/shares/{KEPT}/0", _share_headers(32), secrets.token_bytes(16))
    send("PUT", f"{base_url}/v1/peer/sets/{KEPT}", {"Content-Type": "application/json", "Signature": "x"}, _leaf())


def map_case(context, case):
    operation = context.operation
    if not enabled() or operation is None or not operation.path.startswith("/v1/peer/"):
        return case
    key = (operation.method.upper(), operation.path)
    _calls[key] = _calls.get(key, 0) + 1
    if _calls[key] % 2 == 0:
        return case
    headers = dict(case.headers or {})
    if key == ("PUT", "/v1/peer/shares/{storageIndex}/{n}"):
        case.path_parameters = {"storageIndex": PREFIX + "-" + secrets.token_hex(8), "n": 1}
        case.headers = {**headers, **_share_headers(32)}
        case.body = secrets.token_bytes(16)
    elif key in (("GET", "/v1/peer/shares/{storageIndex}/{n}"), ("POST", "/v1/peer/shares/{storageIndex}/{n}/audit")):
        case.path_parameters = {"storageIndex": KEPT, "n": 0}
        if key[0] == "POST":
            case.body = secrets.token_bytes(32)
    elif key == ("PUT", "/v1/peer/sets/{storageIndex}"):
        case.path_parameters = {"storageIndex": KEPT}
        case.body = json.loads(_leaf())
    return case
