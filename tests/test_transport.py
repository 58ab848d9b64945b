"""Retries, resets, timeouts and translation of transport failures; module isolation."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading

import pytest

from linkis_magic.client import LinkisClient
from linkis_magic.errors import (
    ConfigurationError,
    ConnectionFailed,
    ProtocolError,
    TransportError,
    TransportTimeout,
)
from linkis_magic.protocol import JobStatus
from tests.support.double import ALICE_TOKEN, EXEC_ID, LinkisDouble, Reply, envelope

TOKEN = ALICE_TOKEN
STATUS = f"entrance/{EXEC_ID}/status"


def _client(gw: LinkisDouble, **kwargs: object) -> LinkisClient:
    return LinkisClient(gw.url, user="alice", token=TOKEN, **kwargs)  # type: ignore[arg-type]


class TestRetries:
    """Idempotent GETs are retried; submit and kill are never resent."""

    def test_get_retried_on_503_then_succeeds(self, gw: LinkisDouble) -> None:
        unavailable = Reply.text("<html>503 Service Unavailable</html>", status=503)
        gw.on("GET", STATUS, unavailable, unavailable, {"status": "Succeed"})
        with _client(gw, retries=3) as client:
            assert client.status(EXEC_ID) is JobStatus.SUCCEED
        assert len(gw.calls("GET", STATUS)) == 3

    def test_get_retried_after_a_reset(self, gw: LinkisDouble) -> None:
        gw.on("GET", STATUS, Reply.connection_reset(), {"status": "Running"})
        with _client(gw, retries=2) as client:
            assert client.status(EXEC_ID) is JobStatus.RUNNING
        assert len(gw.calls("GET", STATUS)) == 2

    def test_503_after_the_last_retry_quotes_the_body(self, gw: LinkisDouble) -> None:
        gw.on("GET", STATUS, Reply.text("<html>upstream down</html>", status=503))
        with _client(gw, retries=1) as client, pytest.raises(ProtocolError, match="upstream down"):
            client.status(EXEC_ID)
        assert len(gw.calls("GET", STATUS)) == 2

    def test_submit_never_resent_after_a_reset(self, gw: LinkisDouble) -> None:
        gw.on("POST", "entrance/submit", Reply.connection_reset(), {"execID": EXEC_ID, "taskID": 1})
        with _client(gw, retries=3) as client, pytest.raises(TransportError):
            client.submit("select 1", engine_type="spark-3.2.1")
        assert len(gw.calls("POST", "entrance/submit")) == 1

    def test_submit_never_resent_after_a_503(self, gw: LinkisDouble) -> None:
        gw.on("POST", "entrance/execute", Reply.text("busy", status=503), {"execID": EXEC_ID})
        with _client(gw, retries=3) as client, pytest.raises(ProtocolError):
            client.execute("select 1", engine_type="spark")
        assert len(gw.calls("POST", "entrance/execute")) == 1

    def test_kill_never_resent_after_a_reset(self, gw: LinkisDouble) -> None:
        kill = f"entrance/{EXEC_ID}/kill"
        gw.on("GET", kill, Reply.connection_reset(), envelope(message="killed"))
        with _client(gw, retries=3) as client, pytest.raises(ConnectionFailed):
            client.kill(EXEC_ID, task_id=1)
        assert len(gw.calls("GET", kill)) == 1


class TestTransportErrors:
    """Network failures become TransportError with a cause and no secret."""

    def test_refused_connection(self) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        client = LinkisClient(f"http://127.0.0.1:{port}", user="alice", token=TOKEN, retries=0)
        with client, pytest.raises(ConnectionFailed, match=f"127.0.0.1:{port}") as info:
            client.status(EXEC_ID)
        assert isinstance(info.value.__cause__, Exception)
        assert TOKEN not in str(info.value)

    def test_read_timeout(self, gw: LinkisDouble) -> None:
        release = threading.Event()

        def slow(_req: object) -> Reply:
            release.wait(5)
            return envelope({"status": "Running"})

        gw.on("GET", STATUS, slow)
        client = _client(gw, retries=0, timeout=(2.0, 0.2))
        try:
            with pytest.raises(TransportTimeout, match="timed out"):
                client.status(EXEC_ID)
        finally:
            release.set()
            client.close()

    def test_closed_client_refuses_calls(self, gw: LinkisDouble) -> None:
        client = _client(gw)
        client.close()
        with pytest.raises(ConfigurationError, match="closed"):
            client.status(EXEC_ID)
        assert gw.requests == []


class TestConstruction:
    """Constructor arguments are validated with a message saying what to fix."""

    @pytest.mark.parametrize(
        ("kwargs", "fix"),
        [
            ({"base_url": "gateway:9001"}, "http://host"),
            ({"base_url": "http://gw", "timeout": 0}, "timeout"),
            ({"base_url": "http://gw", "timeout": (1.0, float("inf"))}, "timeout"),
            ({"base_url": "http://gw", "retries": -1}, "retries"),
            ({"base_url": "http://gw", "verify": "/no/such/ca.pem"}, "CA bundle"),
            ({"base_url": "http://gw", "user": "a", "password": "p", "token": "t"}, "not both"),
            ({"base_url": "http://gw", "creator": "my-app"}, "creator"),
        ],
    )
    def test_bad_arguments(self, kwargs: dict[str, object], fix: str) -> None:
        with pytest.raises(ConfigurationError, match=fix):
            LinkisClient(**kwargs)  # type: ignore[arg-type]

    def test_defaults(self) -> None:
        with LinkisClient("http://gw:9001/api/rest_j/v1/") as client:
            assert client.base_url == "http://gw:9001"
            assert client.timeout == (5.0, 60.0)
            assert client.verify is True
            assert client.creator == "IDE"
            assert client.auth.kind == "none"

    def test_ca_bundle_path_is_accepted(self, tmp_path: object) -> None:
        from pathlib import Path

        bundle = Path(str(tmp_path)) / "ca.pem"
        bundle.write_text("-----BEGIN CERTIFICATE-----\n")
        with LinkisClient("https://gw", verify=str(bundle)) as client:
            assert client.verify == str(bundle)


class TestIsolation:
    """The client side must work in a plain script, without IPython."""

    def test_import_client_does_not_import_ipython(self) -> None:
        code = (
            "import sys, linkis_magic.client, linkis_magic.protocol, linkis_magic.errors; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('IPython', 'ipywidgets', 'ipykernel')))"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
        )
        assert out.stdout.strip() == "[]"

    def test_import_client_does_not_import_pandas(self) -> None:
        """Submitting and following jobs needs no pandas/pyarrow; reading results loads them."""
        code = (
            "import sys, linkis_magic.client, linkis_magic.job, linkis_magic.results\n"
            "heavy = lambda: sorted(m for m in ('pandas', 'pyarrow') if m in sys.modules)\n"
            "print(heavy())\n"
            "linkis_magic.results.load_results\n"
            "print(heavy())"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
        )
        assert out.stdout.split("\n")[:2] == ["[]", "['pandas', 'pyarrow']"]
