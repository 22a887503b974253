#!/usr/bin/env python3
"""Signs a shop's logged-in customer for the chat widget (docs/WIDGET.md, "Signed identity").

Run on the shop's server, never in the browser: the secret must stay there.

    python3 widget_identity.py SECRET CUSTOMER_ID [NAME] [EMAIL]

prints a token to put in the embed tag's data-identity attribute. Standard library only.
"""
import base64, hashlib, hmac, json, sys, time


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def widget_identity(secret: str, customer_id: str, name: str = None, email: str = None, lifetime: int = 300) -> str:
    header = {"alg": "HS256", "typ": "JWT"}
    claims = {"sub": str(customer_id), "exp": int(time.time()) + lifetime}  # at most 600 seconds ahead
    if name:
        claims["name"] = name
    if email:
        claims["email"] = email
    signing_input = b64url(json.dumps(header, separators=(",", ":")).encode()) + "." + \
        b64url(json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode())
    signature = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64url(signature)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit("usage: widget_identity.py SECRET CUSTOMER_ID [NAME] [EMAIL]")
    print(widget_identity(sys.argv[1], sys.argv[2], *sys.argv[3:5]))
