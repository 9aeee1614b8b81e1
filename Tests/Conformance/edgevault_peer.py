"""The peer share store's operations for the schemathesis hook (docs/PROTOCOL.md "Fragments").

The vault under test has a peer added (scripts/conformance: `vault-cli peer add` with the
witness key from EDGEVAULT_PEER_WITNESS_SEED, hex, for the log EDGEVAULT_PEER_ORIGIN). Calls
to /v1/peer/... are signed as that peer (keyid = its origin, its witness key), covering the
share headers; GET /v1/peer/sets is signed as the person who owns the peer's shares
(keyid owner:<RFC 7638 thumbprint>, key from EDGEVAULT_PEER_OWNER_SEED). `seed(url)` stores one
share (KEPT, n 0) and its set's deposit before the run (a real one: a genesis leaf signed by
the owner for the peer's origin and log key, whose seed is 32 zero bytes in scripts/conformance,
a checkpoint signed by that log key and the inclusion proof); every call names the vault under
test in EdgeVault-Holder; every other generated case of each
operation is replaced by a valid call (a new share, the kept share, its audit, its leaf), the
others are sent as generated (and refused).
"""
import base64
import hashlib
import json
import os
import secrets
import time
import urllib.request
from urllib.parse import urlsplit

import nacl.signing

_SEED = bytes.fromhex(os.environ["EDGEVAULT_PEER_WITNESS_SEED"]) if os.environ.get("EDGEVAULT_PEER_WITNESS_SEED") else None
_ORIGIN = os.environ.get("EDGEVAULT_PEER_ORIGIN", "")
_OWNER = nacl.signing.SigningKey(bytes.fromhex(os.environ["EDGEVAULT_PEER_OWNER_SEED"])) if os.environ.get("EDGEVAULT_PEER_OWNER_SEED") else None
PREFIX = hashlib.sha256(_ORIGIN.encode()).hexdigest()[:16]
KEPT = PREFIX + "-c0ffee"
_SHARE_HEADERS = ("edgevault-share-k", "edgevault-share-n", "edgevault-set-size", "edgevault-owner-key")
_LOG = nacl.signing.SigningKey(bytes(32))
_calls = {}
_holders = {}


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def enabled():
    return _SEED is not None and _OWNER is not None


def _owner_key_id():
    x = _b64url(bytes(_OWNER.verify_key))
    jwk = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"), sort_keys=True).encode()
    return "owner:" + _b64url(hashlib.sha256(jwk).digest())


def _holder(url):
    """The origin of the vault at `url` (the first line of its checkpoint), asked once."""
    parts = urlsplit(url)
    base = f"{parts.scheme}://{parts.netloc}"
    if base not in _holders:
        _holders[base] = urllib.request.urlopen(base + "/v1/log/checkpoint").read().decode().split("\n")[0]
    return _holders[base]


def identity(request):
    """The key, keyid and headers to cover for a call to /v1/peer/...: the peer's witness key
    (keyid its origin, the share headers), or listing sets the owner's (keyid owner:…). Every
    call is signed for the vault it goes to (EdgeVault-Holder, set here)."""
    request.headers["EdgeVault-Holder"] = _holder(request.url)
    if request.method.upper() == "GET" and urlsplit(request.url).path == "/v1/peer/sets":
        return _OWNER, _owner_key_id(), ("edgevault-holder",)
    return nacl.signing.SigningKey(_SEED), _ORIGIN, ("edgevault-holder",) + _SHARE_HEADERS


def _share_headers(size):
    return {"EdgeVault-Share-K": "2", "EdgeVault-Share-N": "3", "EdgeVault-Set-Size": str(size),
            "EdgeVault-Owner-Key": _b64url(bytes(_OWNER.verify_key)), "Signature": "x"}


def _vkey(name, pk):
    h = hashlib.sha256(name.encode() + b"\n\x01" + pk).digest()[:4]
    return h, name + "+" + h.hex() + "+" + base64.b64encode(b"\x01" + pk).decode()


def _json(obj):
    return json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()


def _deposit():
    """A deposit that verifies (docs/PROTOCOL.md "Fragments", "Deposits"): the peer's genesis leaf
    signed by the owner, the set's leaf at index 1, a checkpoint of size 2 signed by the peer's log
    key, the inclusion proof."""
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    key_hash, log_key = _vkey(_ORIGIN, bytes(_LOG.verify_key))
    message = f"edgevault.vault/v1\n{_ORIGIN}\n{log_key}\n".encode()
    genesis = _json({"type": "vault.genesis", "time": now, "salt": _b64url(secrets.token_bytes(16)),
                     "userKeyId": _owner_key_id()[len("owner:"):], "logKey": log_key, "origin": _ORIGIN,
                     "personSignature": base64.b64encode(_OWNER.sign(message).signature).decode()})
    shares = [{"n": i, "peer": _ORIGIN, "url": "http://127.0.0.1:9", "sha256": base64.b64encode(hashlib.sha256(bytes([i])).digest()).decode()}
              for i in range(3)]
    leaf = _json({"type": "fragments.placed", "time": now, "salt": _b64url(secrets.token_bytes(16)), "storageIndex": KEPT,
                  "codec": "rs-isal/1", "k": 2, "n": 3, "size": 32, "sha256": base64.b64encode(hashlib.sha256(b"").digest()).decode(),
                  "push": "0123456789abcdef", "segment": 0, "segments": 1, "shares": shares})
    lh = lambda b: hashlib.sha256(b"\x00" + b).digest()
    root = hashlib.sha256(b"\x01" + lh(genesis) + lh(leaf)).digest()
    text = f"{_ORIGIN}\n2\n{base64.b64encode(root).decode()}\n"
    note = text + "\n\u2014 " + _ORIGIN + " " + base64.b64encode(key_hash + _LOG.sign(text.encode()).signature).decode() + "\n"
    return json.dumps({"leafIndex": 1, "leaf": base64.b64encode(leaf).decode(), "genesis": base64.b64encode(genesis).decode(),
                       "checkpoint": note, "proof": [base64.b64encode(lh(genesis)).decode()]}).encode()


def seed(base_url, send):
    """Stores share 0 of KEPT and its deposit (`send(method, url, headers, body)` signs and sends)."""
    send("PUT", f"{base_url}/v1/peer/shares/{KEPT}/0", _share_headers(32), secrets.token_bytes(16))
    send("PUT", f"{base_url}/v1/peer/sets/{KEPT}", {"Content-Type": "application/json", "Signature": "x"}, _deposit())


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
    elif key == ("PUT", "/v1/peer/recovery-share"):
        case.body = {"type": "edgevault.recovery-share/v1", "vault": _ORIGIN, "holder": os.environ.get("EDGEVAULT_VAULT_ORIGIN", ""),
                     "group": 3, "member": 1, "sealed": base64.b64encode(secrets.token_bytes(120)).decode()}
    elif key == ("DELETE", "/v1/peer/sets/{storageIndex}"):
        case.path_parameters = {"storageIndex": PREFIX + "-" + secrets.token_hex(8)}  # never KEPT: the others still need it
    elif key == ("PUT", "/v1/peer/sets/{storageIndex}"):
        case.path_parameters = {"storageIndex": KEPT}
        case.body = json.loads(_deposit())
    return case
