"""`python -m linkis_magic.sandbox` / `linkis-sandbox`: start the local Linkis gateway.

The first stdout line is always `Linkis sandbox listening on http://HOST:PORT ...` and is
flushed as soon as the socket listens, so parents (tests, the magic's auto-start) can read
the URL with port 0 resolved. SIGTERM/SIGINT shut down cleanly (running jobs are killed).
"""

from __future__ import annotations

import argparse
import getpass
import ipaddress
import re
import secrets
import signal
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

from linkis_magic.sandbox.app import create_app
from linkis_magic.sandbox.config import SandboxConfig

_NAME = re.compile(r"[a-z0-9_][a-z0-9_.\-]{0,63}")  # user names become directory names


def _user(value: str) -> tuple[str, str]:
    name, sep, password = value.partition(":")
    if not sep or not _NAME.fullmatch(name.strip().lower()) or not password:
        raise argparse.ArgumentTypeError(
            "--user expects NAME:PASSWORD (NAME of letters, digits, _ . -; a non-empty "
            f"password), got {value.split(':')[0]!r}:..."
        )
    return name.strip().lower(), password


def _spark_conf(value: str) -> tuple[str, str]:
    key, sep, setting = value.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(
            "--spark-conf expects KEY=VALUE, a Spark configuration key and its value "
            f"(e.g. spark.executor.memory=512m), got {value!r}"
        )
    return key.strip(), setting


def _positive(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {value!r}") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {value!r}")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="linkis-sandbox",
        description="A local Apache Linkis-compatible gateway (DuckDB SQL, Python, shell).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (default 0 = a free port)")
    parser.add_argument("--data-dir", type=Path, default=None, help="results, logs, databases")
    parser.add_argument(
        "--user",
        action="append",
        type=_user,
        default=[],
        metavar="NAME:PASSWORD",
        help="a login user (repeatable); default: your OS user with a random password",
    )
    parser.add_argument(
        "--token", action="append", default=[], help="accept Token-Code TOKEN (repeatable)"
    )
    parser.add_argument(
        "--session-timeout",
        type=_positive,
        default=3600.0,
        help="idle seconds before a login session expires (default 3600)",
    )
    parser.add_argument("--workers", type=int, default=4, help="concurrent jobs (default 4)")
    parser.add_argument(
        "--job-retention",
        type=_positive,
        default=3600.0,
        help="seconds a finished job stays queryable on the entrance endpoints (default 3600)",
    )
    parser.add_argument(
        "--job-retention-count",
        type=int,
        default=1000,
        help="finished jobs held in memory at most (default 1000)",
    )
    parser.add_argument(
        "--engine-idle-timeout",
        type=_positive,
        default=600.0,
        metavar="SECONDS",
        help="seconds a user's engine (DuckDB connection, Python process, Spark session) stays "
        "alive without a job before it stops; its next job starts a new one (default 600; 0 "
        "stops it as soon as its job ends)",
    )
    parser.add_argument(
        "--spark-master",
        default=None,
        metavar="URL",
        help="run spark-* engineTypes on real Spark (e.g. local[2]; needs the [spark] extra); "
        "without it they run on DuckDB",
    )
    parser.add_argument(
        "--spark-conf",
        action="append",
        type=_spark_conf,
        default=[],
        metavar="KEY=VALUE",
        help="Spark configuration for the sandbox's Spark application (repeatable; needs "
        "--spark-master), set after the sandbox's defaults so it overrides them, e.g. "
        "spark.driver.host=10.0.0.5 and spark.driver.bindAddress=0.0.0.0 for workers on other "
        "hosts, or spark.executor.memory=512m",
    )
    parser.add_argument(
        "--upload-max-bytes",
        type=int,
        default=500 * 1024 * 1024,
        metavar="BYTES",
        help="the largest /filesystem/upload request (default 500 MiB, Linkis's shipped "
        "multipart cap); lower it to try a client against the cap",
    )
    parser.add_argument(
        "--no-demo-data", action="store_true", help="do not create the emp/dept/sales tables"
    )
    return parser


def _default_data_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("linkis-magic")) / "sandbox"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _login_users(args: argparse.Namespace) -> tuple[dict[str, str], str | None]:
    """The --user pairs, or your OS user with a generated password (then also returned)."""
    users = dict(args.user)
    if users:
        return users, None
    generated = secrets.token_urlsafe(12)
    name = re.sub(r"[^a-z0-9_.\-]", "_", getpass.getuser().lower())
    return {name if _NAME.fullmatch(name) else "sandbox": generated}, generated


def _listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket (OSError if the address is taken or unknown)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted connections only when the
    # listening socket says it is TCP; with protocol 0 every keep-alive reply waited ~40 ms
    # for Nagle + delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(128)
    return sock


def _announce(
    args: argparse.Namespace, url: str, data_dir: Path, users: dict[str, str], generated: str | None
) -> None:
    """The first stdout line (URL and how to log in), and a warning off loopback."""
    if generated is not None:
        (name,) = users
        how = f"log in as {name} with password {generated}"
    else:
        how = "log in as " + ", ".join(sorted(users))
    if args.token:
        how += "; Token-Code auth enabled"
    print(f"Linkis sandbox listening on {url} ({how}; data in {data_dir})", flush=True)
    if not _is_loopback(args.host):
        print(
            f"WARNING: the sandbox is bound to {args.host}, reachable from other machines. "
            "It runs arbitrary SQL, Python and shell as your OS user. Use --host 127.0.0.1 "
            "unless you really mean it.",
            file=sys.stderr,
            flush=True,
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.spark_conf and not args.spark_master:
        parser.error("--spark-conf needs --spark-master (it configures the Spark engine)")
    if args.upload_max_bytes < 1:
        parser.error("--upload-max-bytes must be at least 1")
    if args.workers < 1:
        print("--workers must be at least 1", file=sys.stderr)
        return 2
    users, generated = _login_users(args)
    data_dir = (args.data_dir or _default_data_dir()).expanduser()
    if args.spark_master:
        try:
            import pyspark  # noqa: F401
        except ImportError:
            print(
                "--spark-master needs pyspark: pip install 'linkis-magic[spark]'",
                file=sys.stderr,
            )
            return 2
    try:
        sock = _listen(args.host, args.port)
    except OSError as exc:
        print(f"cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    port = sock.getsockname()[1]
    app = create_app(
        SandboxConfig(
            data_dir=data_dir,
            users=users,
            tokens=frozenset(args.token),
            session_timeout=args.session_timeout,
            workers=args.workers,
            job_retention=args.job_retention,
            job_retention_count=args.job_retention_count,
            instance=f"{args.host}:{port}",
            demo_data=not args.no_demo_data,
            spark_master=args.spark_master,
            spark_conf=dict(args.spark_conf),
            engine_idle_timeout=args.engine_idle_timeout,
            upload_max_bytes=args.upload_max_bytes,
        )
    )
    shown_host = f"[{args.host}]" if sock.family == socket.AF_INET6 else args.host
    _announce(args, f"http://{shown_host}:{port}", data_dir, users, generated)

    import uvicorn

    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    )
    # uvicorn shuts down gracefully on SIGTERM/SIGINT, then re-raises the signal against the
    # handlers that were installed before it; make those no-ops so a clean stop exits 0.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    server.run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
