#!/usr/bin/env python3
"""Regenerates the byte-exact JWT test vector with google-auth (PyPI).

    pip install google-auth cryptography
    python3 gcp-credentials/scripts/make-jwt-vector.py

The RSA test key (tests/data/test-key.pem) is generated once, only if it is missing; it is a
throwaway key for tests, valid nowhere. The service account key file wrapping it and the vector
(tests/data/jwt-vector.json: the claims, iat and the JWT google-auth signs) are rewritten each
run. RS256 signatures are deterministic, so the Rust test compares the JWT byte for byte.
"""

import datetime
import json
import pathlib
from unittest import mock

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import _helpers
from google.oauth2 import service_account

DATA = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data"
KEY = DATA / "test-key.pem"
KEY_FILE = DATA / "service-account.json"
VECTOR = DATA / "jwt-vector.json"

IAT = 1_700_000_000
SCOPES = [
    "https://www.googleapis.com/auth/cloud-healthcare",
    "https://www.googleapis.com/auth/cloud-platform",
]


def main():
    DATA.mkdir(parents=True, exist_ok=True)
    if not KEY.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        KEY.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    info = {
        "type": "service_account",
        "project_id": "dicomweb-test",
        "private_key_id": "0123456789abcdef0123456789abcdef01234567",
        "private_key": KEY.read_text(),
        "client_email": "dicomweb-test@dicomweb-test.iam.gserviceaccount.com",
        "client_id": "100000000000000000001",
        # A token_uri other than Google's: the assertion's aud must stay Google's constant.
        "token_uri": "http://127.0.0.1:9/token",
    }
    KEY_FILE.write_text(json.dumps(info, indent=2) + "\n")

    credentials = service_account.Credentials.from_service_account_info(info, scopes=SCOPES)
    fixed_now = datetime.datetime.fromtimestamp(IAT, tz=datetime.timezone.utc).replace(tzinfo=None)
    with mock.patch.object(_helpers, "utcnow", return_value=fixed_now):
        jwt = credentials._make_authorization_grant_assertion()
    jwt = jwt.decode("ascii") if isinstance(jwt, bytes) else jwt

    import google.auth

    VECTOR.write_text(
        json.dumps(
            {
                "generator": "google-auth " + google.auth.__version__,
                "iat": IAT,
                "scopes": SCOPES,
                "jwt": jwt,
            },
            indent=2,
        )
        + "\n"
    )
    print(jwt)


if __name__ == "__main__":
    main()
