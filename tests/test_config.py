"""Settings precedence and validation, secrets kept out of reprs, and the sandbox state file."""

from __future__ import annotations

import pytest

from linkis_magic._validate import check_engine
from linkis_magic.config import Settings
from linkis_magic.errors import ConfigurationError


class TestSettings:
    """Environment over defaults, explicit values over the environment, validated once."""

    def test_defaults(self) -> None:
        s = Settings.from_env({})
        assert (s.gateway_url, s.engine, s.creator, s.display, s.verify) == (
            None,
            "spark-2.4.3",
            "IDE",
            "auto",
            True,
        )

    def test_environment_then_overrides(self) -> None:
        env = {
            "LINKIS_GATEWAY_URL": "http://gw:9001/",
            "LINKIS_USER": "alice",
            "LINKIS_PASSWORD": "pw",
            "LINKIS_ENGINE": "hive-2.3.3",
            "LINKIS_CREATOR": "NB",
            "LINKIS_DISPLAY": "TEXT",
            "LINKIS_VERIFY": "/etc/ca.pem",
            "LINKIS_TOKEN": "",
        }
        s = Settings.from_env(env)
        assert s.gateway_url == "http://gw:9001"
        assert (s.user, s.engine, s.creator, s.display) == ("alice", "hive-2.3.3", "NB", "text")
        assert s.verify == "/etc/ca.pem" and s.token is None and s.auth_kind == "password"
        t = s.merged(engine="spark-3.2.1", user=None, verify="false", token="tok")
        assert (t.engine, t.user, t.verify, t.auth_kind) == ("spark-3.2.1", "alice", False, "token")

    @pytest.mark.parametrize(
        ("field", "value", "needle"),
        [
            ("engine", "spark", "'spark-2.4.3'"),
            ("engine", "python", "'python-python3'"),
            ("engine", "-1", "engine label"),
            ("creator", "my-app", "letters, digits"),
            ("display", "fancy", "auto, widget, text, none"),
            ("gateway_url", "gw:9001", "http://"),
            ("read_timeout", 0, "positive"),
        ],
    )
    def test_bad_values_say_what_to_fix(self, field: str, value: object, needle: str) -> None:
        with pytest.raises(ConfigurationError) as info:
            Settings().merged(**{field: value})
        assert needle in str(info.value)

    def test_gateway_outage_timeout_from_env_to_client(self) -> None:
        """$LINKIS_GATEWAY_OUTAGE_TIMEOUT is read as seconds, kept with its origin and passed
        to the client; a value that is no number says so."""
        assert Settings.from_env({}).gateway_outage_timeout == 300
        s = Settings.from_env({"LINKIS_GATEWAY_OUTAGE_TIMEOUT": " 45 "})
        assert s.gateway_outage_timeout == 45.0
        assert s.origin("gateway_outage_timeout") == "$LINKIS_GATEWAY_OUTAGE_TIMEOUT"
        assert s.client_kwargs()["gateway_outage_timeout"] == 45.0
        for raw in ("soon", "0", "-3"):
            with pytest.raises(ConfigurationError, match="gateway_outage_timeout must be"):
                Settings.from_env({"LINKIS_GATEWAY_OUTAGE_TIMEOUT": raw})

    def test_unknown_setting(self) -> None:
        with pytest.raises(ConfigurationError, match="unknown setting"):
            Settings().merged(colour="red")

    def test_engine_for_run_types(self) -> None:
        s = Settings()
        assert s.engine_for("sql") == "spark-2.4.3"
        assert s.engine_for("python") == "python-python3"
        assert s.engine_for("sh") == "shell-1"
        assert Settings(engine="python-python2").engine_for("py") == "python-python2"
        assert Settings(engine=" trino-371 ").engine == "trino-371"
        assert check_engine("trino-371") == "trino-371"

    def test_secrets_never_in_repr(self) -> None:
        s = Settings(user="alice", password="pw-SECRET", token="tok-SECRET")
        for text in (repr(s), str(s), str(s.describe())):
            assert "SECRET" not in text
            assert "alice" in text
        assert s.client_kwargs()["password"].reveal() == "pw-SECRET"
