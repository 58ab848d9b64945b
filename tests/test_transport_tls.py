"""TLS certificates are verified by default; a custom CA bundle (verify=PATH) is honoured."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from linkis_magic.client import LinkisClient
from linkis_magic.config import Settings
from linkis_magic.errors import TransportError

LIST = {"method": "/api/jobhistory/list", "status": 0, "message": "OK",
        "data": {"tasks": [], "totalPage": 0}}  # fmt: skip


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by itself (so it is also the CA bundle)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "linkis-test")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture(scope="module")
def https_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """An HTTPS loopback server answering jobhistory/list; yields (url, CA bundle path)."""
    cert, key = self_signed(tmp_path_factory.mktemp("tls"))

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            body = json.dumps(LIST).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}", cert
    server.shutdown()
    server.server_close()


class TestVerification:
    """An unknown certificate is refused unless the user names its CA (or opts out)."""

    def test_on_by_default(self, https_gateway: tuple[str, Path]) -> None:
        url, _ = https_gateway
        assert Settings().verify is True
        with LinkisClient(url, user="alice", token="T", retries=0) as client:
            assert client.verify is True
            with pytest.raises(TransportError, match=r"(?i)certificate"):
                client.tasks()

    def test_custom_ca_bundle(self, https_gateway: tuple[str, Path]) -> None:
        url, ca = https_gateway
        with LinkisClient(url, user="alice", token="T", verify=str(ca)) as client:
            assert client.tasks().total == 0

    def test_ca_bundle_from_the_environment(self, https_gateway: tuple[str, Path]) -> None:
        url, ca = https_gateway
        settings = Settings.from_env({"LINKIS_VERIFY": str(ca)})
        assert settings.verify == str(ca)
        with LinkisClient(url, user="alice", token="T", verify=settings.verify) as client:
            assert client.tasks().total == 0
