"""LinkisClient's workspace calls against a loopback double: what goes on the wire (§15).

The double records every request, so these check the exact shapes: fully qualified paths,
``../`` refused before sending, the streamed multipart upload (parts named ``file``, the
directory as the ``path`` query parameter), and Linkis's HTTP-200 ``error(错误):`` downloads.
"""

from __future__ import annotations

import io
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest

from linkis_magic.client import LinkisClient
from linkis_magic.errors import ConfigurationError, GatewayError, RequestFailedError
from tests.support.double import LinkisDouble, Reply, Request, dir_tree_data, error

ROOT = "hdfs:///tmp/linkis/alice/linkis/"


def multipart(req: Request) -> list[tuple[str, str | None, bytes]]:
    """(name, filename, content) of each part of a multipart/form-data request body."""
    ctype = req.header("Content-Type") or ""
    assert ctype.startswith("multipart/form-data; boundary="), ctype
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {ctype}\r\n\r\n".encode() + req.body
    )
    assert message.is_multipart()
    return [
        (str(p.get_param("name", header="content-disposition")), p.get_filename(),
         p.get_payload(decode=True))
        for p in message.iter_parts()
    ]  # fmt: skip


class TestPaths:
    """Paths are sent fully qualified; anything else is refused before a request is made."""

    @pytest.mark.parametrize(
        "path",
        ["/tmp/linkis/alice/x", "tmp/x", "", "hdfs:///tmp/linkis/alice/linkis/../../bob",
         "file:///tmp/linkis/alice/..", "http://x/y", "hdfs:///a\nb"],
    )  # fmt: skip
    def test_refused_before_sending(
        self, gw: LinkisDouble, client: LinkisClient, path: str
    ) -> None:
        for call in (client.files, client.exists, client.mkdir, client.delete, client.download):
            with pytest.raises(ConfigurationError):
                call(path)
        assert gw.calls() == []

    def test_user_root_asks_for_the_path_type(self, gw: LinkisDouble, client: LinkisClient) -> None:
        gw.on("GET", "filesystem/getUserRootPath", {"userHDFSRootPath": ROOT})
        assert client.user_root("hdfs") == ROOT
        assert gw.calls("GET", "filesystem/getUserRootPath")[0].param("pathType") == "hdfs"
        with pytest.raises(ConfigurationError):
            client.user_root("s3")  # type: ignore[arg-type]

    def test_json_bodies(self, gw: LinkisDouble, client: LinkisClient) -> None:
        gw.on("POST", "filesystem/createNewDir", {})
        gw.on("POST", "filesystem/deleteDirOrFile", {})
        gw.on("GET", "filesystem/isExist", {"isExist": True})
        client.mkdir(ROOT + "d")
        client.delete(ROOT + "d")
        assert client.exists(ROOT + "d") is True
        assert gw.calls("POST", "filesystem/createNewDir")[0].json() == {"path": ROOT + "d"}
        assert gw.calls("POST", "filesystem/deleteDirOrFile")[0].json() == {"path": ROOT + "d"}
        assert gw.calls("GET", "filesystem/isExist")[0].param("path") == ROOT + "d"

    def test_files_lists_one_level(self, gw: LinkisDouble, client: LinkisClient) -> None:
        gw.on("GET", "filesystem/getDirFileTrees", dir_tree_data(ROOT + "d", ["a.csv", "b.csv"]))
        entries = client.files(ROOT + "d")
        assert entries is not None and [e.name for e in entries] == ["a.csv", "b.csv"]

    def test_existing_directory_is_the_gateways_error(
        self, gw: LinkisDouble, client: LinkisClient
    ) -> None:
        gw.on("POST", "filesystem/createNewDir", error("The created folder name:x is duplicated",
                                                       err_code=80005))  # fmt: skip
        with pytest.raises(GatewayError) as info:
            client.mkdir(ROOT + "x")
        assert info.value.err_code == 80005


class TestUpload:
    """A streamed multipart POST: one part named `file`, the directory as `path`."""

    def test_multipart_shape(self, gw: LinkisDouble, client: LinkisClient, tmp_path: Path) -> None:
        gw.on("POST", "filesystem/upload", {})
        local = tmp_path / "scores.csv"
        local.write_bytes(b"a,b\n1,2\n" * 1000)
        seen: list[tuple[int, int]] = []
        uri = client.upload(local, ROOT + "d", on_progress=lambda s, t: seen.append((s, t)))
        assert uri == ROOT + "d/scores.csv"
        (req,) = gw.calls("POST", "filesystem/upload")
        assert req.param("path") == ROOT + "d"
        assert int(req.header("Content-Length") or 0) == len(req.body)
        assert multipart(req) == [("file", "scores.csv", local.read_bytes())]
        assert seen[-1] == (8000, 8000) and all(t == 8000 for _, t in seen)

    def test_refusal_is_the_gateways_message(
        self, gw: LinkisDouble, client: LinkisClient, tmp_path: Path
    ) -> None:
        message = "The user: alice has no permission to view the contents of the directory:x"
        gw.on("POST", "filesystem/upload", error(message, err_code=80010))
        local = tmp_path / "f.txt"
        local.write_text("x")
        with pytest.raises(GatewayError) as info:
            client.upload(local, ROOT + "d")
        assert info.value.err_code == 80010 and "no permission" in str(info.value)

    def test_a_missing_local_file_sends_nothing(
        self, gw: LinkisDouble, client: LinkisClient, tmp_path: Path
    ) -> None:
        with pytest.raises(ConfigurationError):
            client.upload(tmp_path / "nope.csv", ROOT)
        assert gw.calls() == []

    def test_relogin_resends_the_whole_body(
        self, gw: LinkisDouble, client: LinkisClient, tmp_path: Path
    ) -> None:
        gw.on("GET", "filesystem/isExist", {"isExist": False})
        client.exists(ROOT + "x")  # logged in
        gw.expire_sessions()
        gw.on("POST", "filesystem/upload", {})
        local = tmp_path / "f.bin"
        local.write_bytes(b"z" * 5000)
        client.upload(local, ROOT)
        uploads = gw.calls("POST", "filesystem/upload")
        assert len(uploads) == 2  # refused once (HTTP 401), sent again after the login
        assert multipart(uploads[-1]) == [("file", "f.bin", b"z" * 5000)]


class TestDownload:
    """POST {path, charset}; bytes back, or Linkis's `error(错误):` text with HTTP 200."""

    def test_bytes(self, gw: LinkisDouble, client: LinkisClient, tmp_path: Path) -> None:
        body = bytes(range(256)) * 100
        gw.on(
            "POST", "filesystem/download", Reply(body=body, content_type="application/octet-stream")
        )
        assert client.download(ROOT + "f.bin") == body
        assert gw.calls("POST", "filesystem/download")[0].json() == {
            "path": ROOT + "f.bin", "charset": "utf-8"
        }  # fmt: skip
        target = tmp_path / "f.bin"
        assert client.download(ROOT + "f.bin", target) == len(body)
        assert target.read_bytes() == body

    def test_error_text_with_http_200(
        self, gw: LinkisDouble, client: LinkisClient, tmp_path: Path
    ) -> None:
        text = "error(错误):error code(错误码): 80011, error message(错误信息): Downloaded file: x"
        gw.on("POST", "filesystem/download", Reply.text(text))
        target = tmp_path / "out.bin"
        with pytest.raises(RequestFailedError) as info:
            client.download(ROOT + "x", target)
        assert info.value.err_code == 80011 and "Downloaded file" in str(info.value)
        assert not target.exists() and list(tmp_path.iterdir()) == []


class TestPushRefused:
    """A refused upload fails the push with the gateway's message and deletes its directory."""

    def test_upload_refused(self, gw: LinkisDouble, client: LinkisClient) -> None:
        gw.on("GET", "datasource/tables", {"tables": []})
        gw.on("GET", "filesystem/getUserRootPath", {"userHDFSRootPath": ROOT})
        gw.on("POST", "filesystem/createNewDir", {})
        gw.on("POST", "filesystem/upload", error("no permission", err_code=80010))
        gw.on("POST", "filesystem/deleteDirOrFile", {})
        frame = pd.DataFrame({"x": [1, 2, 3]})
        with pytest.raises(GatewayError) as info:
            client.push(frame, "db.t", engine_type="spark-2.4.3")
        assert info.value.err_code == 80010
        made = gw.calls("POST", "filesystem/createNewDir")[0].json()["path"]
        assert made.startswith(ROOT + "linkis_magic_push_")
        assert gw.calls("POST", "filesystem/deleteDirOrFile")[0].json() == {"path": made}
        assert gw.calls("POST", "entrance/submit") == []
        (upload,) = gw.calls("POST", "filesystem/upload")
        assert upload.param("path") == made
        ((name, filename, content),) = multipart(upload)
        assert (name, filename) == ("file", "part_00000.parquet")
        assert pq.read_table(io.BytesIO(content)).to_pandas()["x"].tolist() == [1, 2, 3]

    def test_without_a_metadata_service_the_job_decides(
        self, gw: LinkisDouble, client: LinkisClient
    ) -> None:
        # datasource/tables is not scripted: the double answers 404, as a gateway without
        # the metadata service does; the push goes on (the CREATE fails if the table exists)
        gw.on("GET", "filesystem/getUserRootPath", {"userHDFSRootPath": ROOT})
        gw.on("POST", "filesystem/createNewDir", {})
        gw.on("POST", "filesystem/upload", error("size", err_code=80021))
        gw.on("POST", "filesystem/deleteDirOrFile", {})
        with pytest.raises(GatewayError):
            client.push(pd.DataFrame({"x": [1]}), "t", engine_type="spark-2.4.3")
        assert len(gw.calls("GET", "datasource/tables")) == 1
        assert len(gw.calls("POST", "filesystem/deleteDirOrFile")) == 1

    def test_create_on_an_existing_table_uploads_nothing(
        self, gw: LinkisDouble, client: LinkisClient
    ) -> None:
        gw.on("GET", "datasource/tables", {"tables": [{"tableName": "t", "databaseName": "db"}]})
        with pytest.raises(ConfigurationError, match="already exists"):
            client.push(pd.DataFrame({"x": [1]}), "db.t", engine_type="spark-2.4.3")
        assert [c.route for c in gw.calls() if c.route.startswith("filesystem")] == []

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"engine_type": "hive-2.3.3"}, "push needs a Spark engine, -e spark-"),
            ({"engine_type": "spark-2.4.3", "mode": "merge"}, "mode must be one of"),
            ({"engine_type": "spark-2.4.3", "partition": "ds"}, "--partition expects K=V"),
        ],
    )
    def test_usage_errors_send_nothing(
        self, gw: LinkisDouble, client: LinkisClient, kwargs: dict[str, Any], message: str
    ) -> None:
        with pytest.raises(ConfigurationError, match=message):
            client.push(pd.DataFrame({"x": [1]}), "db.t", **kwargs)
        assert gw.calls() == []

    @pytest.mark.parametrize(
        ("frame", "table"),
        [
            (pd.DataFrame({"a b": [1]}), "t"),
            (pd.DataFrame({"a": [1], "A": [2]}), "t"),
            (pd.DataFrame(), "t"),
            (pd.DataFrame({"a": [1]}), "a.b.c"),
            (pd.DataFrame({"a": [1]}), "t-1"),
            ([1, 2], "t"),
        ],
    )
    def test_bad_frames_and_names(
        self, gw: LinkisDouble, client: LinkisClient, frame: Any, table: str
    ) -> None:
        with pytest.raises(ConfigurationError):
            client.push(frame, table, engine_type="spark-2.4.3")
        assert gw.calls() == []
