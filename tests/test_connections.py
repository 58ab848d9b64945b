"""connections.toml and linkis-cli properties files: parsing, precedence, refusals, no leaks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from linkis_magic.config import Settings
from linkis_magic.connections import (
    ConnectionsFile,
    connections_path,
    load_connections,
    read_cli_properties,
)
from linkis_magic.errors import ConfigurationError
from linkis_magic.job import SubmitRequest, execute_body, submit_body

SECRET = "Tok-5e1d-s3cr3t"
PROPS = """\
# the platform team's file
wds.linkis.client.common.gatewayUrl=http://127.0.0.1:9001
wds.linkis.client.common.authStrategy=token
wds.linkis.client.common.tokenKey=Validation-Code
wds.linkis.client.common.tokenValue={secret}
wds.linkis.client.common.submitUser = carol
wds.linkis.client.common.proxyUser : etl
wds.linkis.client.common.creator=LINKISCLI
wds.linkis.client.common.connectionTimeout=30000
wds.linkis.client.common.readTimeout=\\
  45000
wds.linkis.client.label.engineType=hive-2.3.3
"""


def write(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


class TestProfiles:
    """A profile is a settings layer between the environment and %config."""

    def test_profile_over_environment(self, tmp_path: Path) -> None:
        path = write(
            tmp_path / "c.toml",
            'default = "prod"\n[prod]\ngateway_url = "https://prod.example:9001"\n'
            'user = "alice"\ntoken_env = "PROD_TOKEN"\ncreator = "NB"\nverify = false\n'
            'read_timeout = 90\nproxy_user = "etl"\n[staging]\nuser = "bob"\n',
        )
        found = load_connections(path)
        assert found.default == "prod" and list(found.profiles) == ["prod", "staging"]
        env = Settings.from_env({"LINKIS_USER": "zed", "LINKIS_ENGINE": "hive-2.3.3"})
        settings = found.get("prod").apply(env, {"PROD_TOKEN": SECRET})
        assert settings.gateway_url == "https://prod.example:9001"
        assert settings.user == "alice" and settings.engine == "hive-2.3.3"
        assert settings.token is not None and settings.token.reveal() == SECRET
        assert (settings.verify, settings.read_timeout, settings.proxy_user) == (False, 90, "etl")
        assert settings.origin("user").startswith("connection prod (")
        assert settings.origin("engine") == "$LINKIS_ENGINE"
        assert SECRET not in repr(settings) + repr(found) + repr(found.get("prod"))
        assert found.get("prod").auth == "token ($PROD_TOKEN)"

    def test_a_profile_login_replaces_the_environment_token(self, tmp_path: Path) -> None:
        path = write(tmp_path / "c.toml", '[p]\nuser = "bob"\npassword_env = "BOB_PW"\n')
        env = Settings.from_env({"LINKIS_USER": "alice", "LINKIS_TOKEN": "T"})
        settings = load_connections(path).get("p").apply(env, {"BOB_PW": "pw"})
        assert settings.auth_kind == "password" and settings.token is None

    def test_missing_env_variable(self, tmp_path: Path) -> None:
        path = write(tmp_path / "c.toml", '[p]\nuser = "a"\ntoken_env = "NOT_SET_ANYWHERE"\n')
        with pytest.raises(ConfigurationError, match=r"\$NOT_SET_ANYWHERE .* not set"):
            load_connections(path).get("p").apply(Settings(), {})

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ('[p]\nuser = "a"\nuser = "b"\n', r"not valid TOML: .*line 3"),
            ("[p]\ngateway_url = \n", r"not valid TOML: .*line 2"),
            ('[p]\nhost = "x"\n', r"unknown key\(s\) host"),
            ('default = "nope"\n[p]\nuser = "a"\n', r"default = 'nope' names no profile"),
            ('user = "a"\n', r"is not a profile"),
            ("[p]\nread_timeout = 'slow'\n", r"read_timeout must be a int or float"),
            ('[p]\ngateway_url = "ftp://x"\n', r"\[p\]: .*gateway"),
            ('[p]\ntoken = "a"\ntoken_env = "B"\n', r"token or token_env, not both"),
            ('[p]\nproxy_user = "a-b"\n', r"proxy_user must be"),
        ],
    )
    def test_bad_files_say_what_and_where(self, tmp_path: Path, text: str, message: str) -> None:
        path = write(tmp_path / "c.toml", text)
        with pytest.raises(ConfigurationError, match=message) as info:
            load_connections(path)
        assert str(path) in str(info.value)

    def test_unknown_profile_lists_the_known_ones(self, tmp_path: Path) -> None:
        path = write(tmp_path / "c.toml", "[prod]\n[dev]\n")
        with pytest.raises(ConfigurationError, match=r"no connection named 'qa'.*prod, dev"):
            load_connections(path).get("qa")

    @pytest.mark.skipif(os.name == "nt", reason="POSIX file modes")
    @pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
    def test_secret_in_a_readable_file_is_refused(self, tmp_path: Path, mode: int) -> None:
        path = write(tmp_path / "c.toml", f'[p]\nuser = "a"\ntoken = "{SECRET}"\n', mode)
        with pytest.raises(ConfigurationError, match=r"chmod 600 .*token_env") as info:
            load_connections(path)
        assert SECRET not in str(info.value)
        path.chmod(0o600)
        assert load_connections(path).get("p").auth == "token (in file)"

    def test_readable_file_without_secrets_is_fine(self, tmp_path: Path) -> None:
        path = write(tmp_path / "c.toml", '[p]\nuser = "a"\ntoken_env = "X"\n', 0o644)
        assert load_connections(path).get("p").user == "a"

    def test_no_file(self, tmp_path: Path) -> None:
        found = load_connections(tmp_path / "absent.toml")
        assert found.path is None and not found.profiles
        with pytest.raises(ConfigurationError, match="there is no connections file"):
            found.get("prod")

    def test_path_from_environment_and_platformdirs(self, tmp_path: Path) -> None:
        given = tmp_path / "mine.toml"
        assert connections_path({"LINKIS_MAGIC_CONNECTIONS": str(given)}) == given
        default = connections_path({})
        assert default.name == "connections.toml" and "linkis-magic" in str(default)

    def test_file_is_reread_when_it_changes(self, tmp_path: Path) -> None:
        path = write(tmp_path / "c.toml", "[a]\n")
        watched = ConnectionsFile(path)
        assert list(watched.load().profiles) == ["a"]
        write(path, "[a]\n[b]\n")
        assert list(watched.load().profiles) == ["a", "b"]
        write(path, "[a\n")
        with pytest.raises(ConfigurationError, match="line 1"):
            watched.load()
        with pytest.raises(ConfigurationError, match="line 1"):  # every time, not only once
            watched.load()


class TestLinkisCli:
    """A profile may take everything from a linkis-cli properties file (§17's mapping)."""

    def test_properties_syntax(self, tmp_path: Path) -> None:
        path = write(
            tmp_path / "x.properties",
            "! comment\na = 1\nb:2\nc 3\nd=x\\\n   y\ne=caf\\u00e9\n  # indented comment\n",
        )
        assert read_cli_properties(path) == {"a": "1", "b": "2", "c": "3", "d": "xy", "e": "café"}

    def test_token_strategy(self, tmp_path: Path) -> None:
        props = write(tmp_path / "linkis-cli.properties", PROPS.format(secret=SECRET))
        path = write(tmp_path / "c.toml", '[cli]\nlinkis_cli_conf = "linkis-cli.properties"\n')
        profile = load_connections(path).get("cli")
        settings = profile.apply(Settings(), {})
        assert settings.gateway_url == "http://127.0.0.1:9001"
        assert settings.user == "carol"  # submitUser is the Token-User; tokenKey is ignored
        assert settings.token is not None and settings.token.reveal() == SECRET
        assert settings.password is None and settings.proxy_user == "etl"
        assert (settings.creator, settings.engine) == ("LINKISCLI", "hive-2.3.3")
        assert (settings.connect_timeout, settings.read_timeout) == (30.0, 45.0)
        assert profile.cli_conf == props and profile.auth == "token (in file)"

    def test_static_strategy_and_profile_keys_on_top(self, tmp_path: Path) -> None:
        write(
            tmp_path / "cli.properties",
            "wds.linkis.client.common.gatewayUrl=http://127.0.0.1:9001\n"
            "wds.linkis.client.common.authStrategy=static\n"
            "wds.linkis.client.common.tokenKey=alice\n"
            f"wds.linkis.client.common.tokenValue={SECRET}\n",
        )
        path = write(
            tmp_path / "c.toml",
            '[cli]\nlinkis_cli_conf = "cli.properties"\ncreator = "NB"\n'
            '[other]\nlinkis_cli_conf = "cli.properties"\ntoken_env = "T"\n',
        )
        found = load_connections(path)
        settings = found.get("cli").apply(Settings(), {})
        assert (settings.user, settings.creator, settings.auth_kind) == ("alice", "NB", "password")
        assert settings.password is not None and settings.password.reveal() == SECRET
        other = found.get("other").apply(Settings(), {"T": "tok"})
        assert other.auth_kind == "token" and other.password is None

    @pytest.mark.skipif(os.name == "nt", reason="POSIX file modes")
    def test_readable_properties_with_a_secret_is_refused(self, tmp_path: Path) -> None:
        write(tmp_path / "cli.properties", PROPS.format(secret=SECRET), 0o644)
        path = write(tmp_path / "c.toml", '[cli]\nlinkis_cli_conf = "cli.properties"\n')
        with pytest.raises(ConfigurationError, match=r"cli.properties holds a token .*chmod 600"):
            load_connections(path)

    @pytest.mark.parametrize(
        ("extra", "message"),
        [
            ("wds.linkis.client.common.authStrategy=ldap\n", "authStrategy 'ldap' is not"),
            (
                "wds.linkis.client.common.tokenKey=alice\n"
                "wds.linkis.client.common.submitUser=bob\n",
                r"submitUser \(bob\) must equal tokenKey \(alice\)",
            ),
            ("wds.linkis.client.common.readTimeout=soon\n", "must be milliseconds"),
        ],
    )
    def test_bad_properties(self, tmp_path: Path, extra: str, message: str) -> None:
        write(tmp_path / "cli.properties", extra)
        path = write(tmp_path / "c.toml", '[cli]\nlinkis_cli_conf = "cli.properties"\n')
        with pytest.raises(ConfigurationError, match=message):
            load_connections(path)


class TestProxyUser:
    """proxy_user is sent as executeUser and names the userCreator label (as linkis-cli)."""

    def test_submit_body(self) -> None:
        proxied = SubmitRequest(code="select 1", engine_type="spark-2.4.3", execute_user="etl")
        body = submit_body(proxied, user="alice", creator="IDE")
        assert body["executeUser"] == "etl"
        assert body["labels"]["userCreator"] == "etl-IDE"
        request = SubmitRequest(code="select 1", engine_type="spark-2.4.3")
        plain = submit_body(request, user="alice", creator="IDE")
        with pytest.raises(ConfigurationError, match="executeUser"):
            execute_body(proxied, creator="IDE")
        assert "executeUser" not in plain and plain["labels"]["userCreator"] == "alice-IDE"
