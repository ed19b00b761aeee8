"""SCRAM-SHA-256 password authentication, the server's side (RFC 5802, RFC 7677), as PostgreSQL
runs it: the user is the startup packet's (libpq sends an empty `n=`), no channel binding.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

MECHANISM = "SCRAM-SHA-256"
ITERATIONS = 4096


def _hmac(key: bytes, message: bytes) -> bytes:
    return hmac.digest(key, message, "sha256")


def _attributes(message: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in message.split(",") if "=" in part)


@dataclass
class ScramExchange:
    """One sign-in: the client's first message in, the server's first message out, then the
    client's proof checked and the server's signature out."""

    password: str
    salt: bytes = b""
    nonce: str = ""
    gs2_header: str = ""
    client_first_bare: str = ""
    server_first: str = ""

    def first(self, client_first: str) -> str:
        """The server-first-message answering the client-first-message."""
        header, _, bare = client_first.partition(",")
        authzid, _, bare = bare.partition(",")
        if header not in ("n", "y") or not bare.startswith("n="):
            raise ValueError("channel binding is not supported")
        self.gs2_header = f"{header},{authzid},"
        self.client_first_bare = bare
        self.salt = secrets.token_bytes(16)
        self.nonce = _attributes(bare)["r"] + secrets.token_urlsafe(18)
        salt = base64.b64encode(self.salt).decode()
        self.server_first = f"r={self.nonce},s={salt},i={ITERATIONS}"
        return self.server_first

    def final(self, client_final: str) -> str | None:
        """The server-final-message if the client's proof holds, else None."""
        without_proof, _, proof_part = client_final.rpartition(",p=")
        given = _attributes(without_proof)
        channel = base64.b64encode(self.gs2_header.encode()).decode()
        if given.get("c") != channel or given.get("r") != self.nonce:
            return None
        salted = hashlib.pbkdf2_hmac("sha256", self.password.encode(), self.salt, ITERATIONS)
        client_key = _hmac(salted, b"Client Key")
        stored_key = hashlib.sha256(client_key).digest()
        auth_message = f"{self.client_first_bare},{self.server_first},{without_proof}".encode()
        signature = _hmac(stored_key, auth_message)
        try:
            proof = base64.b64decode(proof_part, validate=True)
        except ValueError:
            return None
        recovered = bytes(a ^ b for a, b in zip(proof, signature, strict=False))
        if len(proof) != len(signature) or not hmac.compare_digest(
            hashlib.sha256(recovered).digest(), stored_key
        ):
            return None
        server_signature = _hmac(_hmac(salted, b"Server Key"), auth_message)
        return "v=" + base64.b64encode(server_signature).decode()
