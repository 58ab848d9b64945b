"""`python -m linkis_magic.sandbox` (sandbox/__main__.py): first line, defaults, clean exit."""

from __future__ import annotations

import getpass
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.support.sandbox import start_sandbox


class TestCommandLine:
    """The first stdout line gives the URL and how to log in."""

    def test_generated_password_is_shown_and_works(self, tmp_path: Path) -> None:
        box = start_sandbox(tmp_path, "--no-demo-data", users=None, token=None)
        try:
            first = box.output[0]
            match = re.match(
                r"Linkis sandbox listening on (http://127\.0\.0\.1:\d+) "
                r"\(log in as (\S+) with password (\S+);",
                first,
            )
            assert match, first
            url, user, password = match.groups()
            assert user == getpass.getuser().lower()
            login = requests.post(
                url + "/api/rest_j/v1/user/login",
                json={"userName": user, "password": password},
                timeout=10,
            )
            assert login.json()["status"] == 0
        finally:
            rest = box.stop()
        assert box.proc.returncode == 0, rest

    def test_given_users_hide_passwords(self, tmp_path: Path) -> None:
        box = start_sandbox(
            tmp_path, "--no-demo-data", users={"carol": "very-secret"}, token="TOK-123"
        )
        try:
            first = box.output[0]
            assert first.startswith("Linkis sandbox listening on http://127.0.0.1:")
            assert "carol" in first
            assert "very-secret" not in first and "TOK-123" not in first
        finally:
            rest = box.stop()
        assert "very-secret" not in rest and "TOK-123" not in rest

    def test_bad_user_argument_is_a_usage_error(self, tmp_path: Path) -> None:
        result = subprocess.run(
            [sys.executable, "-m", "linkis_magic.sandbox", "--user", "nopassword"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 2
        assert "NAME:PASSWORD" in result.stderr

    def test_help_documents_the_engine_idle_timeout(self) -> None:
        result = subprocess.run(
            [sys.executable, "-m", "linkis_magic.sandbox", "--help"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0
        assert "--engine-idle-timeout SECONDS" in result.stdout
        assert "default 600" in " ".join(result.stdout.split())

    def test_negative_engine_idle_timeout_is_a_usage_error(self) -> None:
        result = subprocess.run(
            [sys.executable, "-m", "linkis_magic.sandbox", "--engine-idle-timeout", "-1"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 2
        assert "--engine-idle-timeout" in result.stderr


class TestSparkConf:
    """--spark-conf KEY=VALUE: shown in --help, checked before anything starts."""

    @staticmethod
    def sandbox(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "linkis_magic.sandbox", *args],
            capture_output=True,
            text=True,
            timeout=60,
        )

    def test_help_documents_it(self) -> None:
        result = self.sandbox("--help")
        assert result.returncode == 0
        assert "--spark-conf KEY=VALUE" in result.stdout
        assert "spark.driver.host" in result.stdout

    @pytest.mark.parametrize("value", ["spark.executor.memory", "=512m", " =x", ""])
    def test_not_key_equals_value_is_a_usage_error(self, value: str) -> None:
        result = self.sandbox("--spark-master", "local[1]", "--spark-conf", value)
        assert result.returncode == 2
        assert "--spark-conf expects KEY=VALUE" in result.stderr
        assert result.stdout == ""

    def test_it_needs_spark_master(self) -> None:
        result = self.sandbox("--spark-conf", "spark.executor.memory=512m")
        assert result.returncode == 2
        assert "--spark-conf needs --spark-master" in result.stderr
        assert result.stdout == ""
