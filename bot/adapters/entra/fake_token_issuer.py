"""A local stand-in for Entra ID's token endpoints: client credentials and managed identity.

It answers what azure-identity asks, over HTTPS with its own certificate authority (the library
accepts only an https authority): `POST /{tenant}/oauth2/v2.0/token` with a client secret or a
certificate's signed assertion, and the App Service / Container Apps managed-identity endpoint
(`IDENTITY_ENDPOINT` with the `X-IDENTITY-HEADER` secret). Each token it issues is recorded, so a
test can see which credential got which scope and how often a token was fetched.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import ipaddress
import itertools
import ssl
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import jwt
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

IDENTITY_PATH = "/msi/token"
_SIGNING_SECRET = "fake-token-issuer-signing-key-long-enough-for-hs256"
TOKEN_LIFETIME = 3600


@dataclass(frozen=True)
class Issued:
    """One token handed out: to whom, by which proof, for what."""

    client_id: str
    proof: str  # "secret", "certificate" or "managed identity"
    scope: str
    tenant: str
    token: str


@dataclass(frozen=True)
class Certificate:
    """A client certificate as ICT would upload it to the app registration, and its PEM file."""

    pem: bytes  # private key and certificate, as CertificateCredential reads them
    der: bytes

    @property
    def sha256_thumbprint(self) -> str:
        return base64.urlsafe_b64encode(hashlib.sha256(self.der).digest()).decode().rstrip("=")

    def public_key(self) -> rsa.RSAPublicKey:
        key = x509.load_der_x509_certificate(self.der).public_key()
        assert isinstance(key, rsa.RSAPublicKey)
        return key

    @staticmethod
    def new(subject: str = "puhelinbotti") -> Certificate:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        certificate = _self_signed(key, subject)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ) + certificate.public_bytes(serialization.Encoding.PEM)
        return Certificate(pem, certificate.public_bytes(serialization.Encoding.DER))


@dataclass
class FakeTokenIssuer:
    """Knows apps by client id with a secret or a certificate, and one managed identity."""

    secrets: dict[str, str] = field(default_factory=dict)
    certificates: dict[str, Certificate] = field(default_factory=dict)
    managed_identity: str = ""
    identity_header: str = "local-identity-header"
    # The application permissions granted to each client id, carried in its tokens' `roles`.
    roles: dict[str, tuple[str, ...]] = field(default_factory=dict)
    issued: list[Issued] = field(default_factory=list)
    refused: int = 0
    unavailable: int = 0  # the next this many token requests are answered 503 (an outage)
    port: int = 0
    _runner: web.AppRunner | None = None
    _directory: tempfile.TemporaryDirectory[str] | None = None
    _counter: itertools.count[int] = field(default_factory=itertools.count)

    @property
    def authority(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def identity_endpoint(self) -> str:
        return f"https://127.0.0.1:{self.port}{IDENTITY_PATH}"

    @property
    def ca_file(self) -> str:
        """The file that makes a client trust this server (azure-core's `connection_verify`)."""
        assert self._directory is not None, "start() first"
        return str(Path(self._directory.name) / "ca.pem")

    async def start(self) -> FakeTokenIssuer:
        self._directory = tempfile.TemporaryDirectory()
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        certificate = _self_signed(key, "127.0.0.1", ip=True)
        directory = Path(self._directory.name)
        (directory / "ca.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        (directory / "key.pem").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(directory / "ca.pem", directory / "key.pem")
        app = web.Application()
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._client_credentials)
        app.router.add_get(IDENTITY_PATH, self._identity)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=context).start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._directory is not None:
            self._directory.cleanup()

    async def _client_credentials(self, request: web.Request) -> web.Response:
        form = await request.post()
        if self.unavailable > 0:
            self.unavailable -= 1
            return web.json_response(
                {"error": "temporarily_unavailable", "error_description": "AADSTS90033"},
                status=503,
            )
        client_id, scope = str(form.get("client_id", "")), str(form.get("scope", ""))
        tenant = request.match_info["tenant"]
        if form.get("grant_type") != "client_credentials" or not scope:
            return self._refuse(400, "invalid_request", "AADSTS900144: grant or scope missing")
        if "client_secret" in form:
            if self.secrets.get(client_id) != form["client_secret"]:
                return self._refuse(401, "invalid_client", "AADSTS7000215: Invalid client secret")
            return self._issue(client_id, "secret", scope, tenant)
        assertion = str(form.get("client_assertion", ""))
        if not self._assertion_holds(client_id, assertion, str(request.url)):
            return self._refuse(401, "invalid_client", "AADSTS700027: assertion not valid")
        return self._issue(client_id, "certificate", scope, tenant)

    def _assertion_holds(self, client_id: str, assertion: str, token_url: str) -> bool:
        certificate = self.certificates.get(client_id)
        if certificate is None or not assertion:
            return False
        try:
            header = jwt.get_unverified_header(assertion)
            # azure-identity keeps base64's padding on the thumbprint; Entra takes either.
            if str(header.get("x5t#S256", "")).rstrip("=") != certificate.sha256_thumbprint:
                return False
            claims = jwt.decode(
                assertion,
                certificate.public_key(),
                algorithms=["PS256", "RS256"],
                audience=token_url,
                issuer=client_id,
            )
        except jwt.PyJWTError:
            return False
        return bool(claims.get("sub") == client_id)

    async def _identity(self, request: web.Request) -> web.Response:
        if request.headers.get("X-IDENTITY-HEADER") != self.identity_header:
            return self._refuse(401, "unauthorized", "identity header missing or wrong")
        client_id = request.query.get("client_id", "")
        if not self.managed_identity or client_id != self.managed_identity:
            return self._refuse(400, "invalid_request", "no such identity on this host")
        resource = request.query.get("resource", "")
        token = self._token(client_id)
        self.issued.append(Issued(client_id, "managed identity", resource, "", token))
        return web.json_response(
            {
                "access_token": token,
                "expires_on": str(int(time.time()) + TOKEN_LIFETIME),
                "resource": resource,
                "token_type": "Bearer",
                "client_id": client_id,
            }
        )

    def _issue(self, client_id: str, proof: str, scope: str, tenant: str) -> web.Response:
        token = self._token(client_id)
        self.issued.append(Issued(client_id, proof, scope, tenant, token))
        return web.json_response(
            {"token_type": "Bearer", "expires_in": TOKEN_LIFETIME, "access_token": token}
        )

    def _token(self, client_id: str) -> str:
        """An app-only token as Entra shapes one (signed with a key nobody checks here)."""
        claims = {
            "appid": client_id,
            "roles": list(self.roles.get(client_id, ())),
            "n": next(self._counter),
            "exp": int(time.time()) + TOKEN_LIFETIME,
        }
        return jwt.encode(claims, _SIGNING_SECRET, algorithm="HS256")

    def _refuse(self, status: int, error: str, description: str) -> web.Response:
        self.refused += 1
        return web.json_response({"error": error, "error_description": description}, status=status)


def _self_signed(key: rsa.RSAPrivateKey, subject: str, *, ip: bool = False) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
    )
    if ip:
        address = ipaddress.ip_address(subject)
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(address)]), critical=False
        ).add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    return builder.sign(key, hashes.SHA256())
