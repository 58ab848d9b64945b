"""The sandbox's workspace routes answer like Linkis's FsRestfulApi (docs/linkis-protocol.md §15).

Raw HTTP with plain requests (no client code): roots, directories, multipart uploads, deletes,
existence, downloads, the path rules (80025, 80026, 80010) and the upload cap.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.sandbox.conftest import Api
from tests.support.sandbox import running_sandbox


def _code(reply: requests.Response) -> int:
    code: int = reply.json()["data"]["errorMsg"]["errCode"]
    return code


def _fresh(api: Api) -> str:
    """A new directory under the user's HDFS root."""
    root = api.get("/filesystem/getUserRootPath", pathType="hdfs").json()["data"]
    path = root["userHDFSRootPath"] + "t_" + uuid.uuid4().hex[:8]
    assert api.post("/filesystem/createNewDir", {"path": path}).status_code == 200
    return path


def _upload(api: Api, directory: str, *files: tuple[str, bytes]) -> requests.Response:
    parts = [("file", (name, data, "application/octet-stream")) for name, data in files]
    return api.http.post(
        api.base + "/filesystem/upload", params={"path": directory}, files=parts, timeout=30
    )


class TestRoots:
    """getUserRootPath names each user's HDFS and local roots, as Linkis's config builds them."""

    def test_hdfs_root(self, alice: Api) -> None:
        reply = alice.get("/filesystem/getUserRootPath", pathType="hdfs")
        assert reply.status_code == 200
        assert reply.json()["data"] == {"userHDFSRootPath": "hdfs:///tmp/linkis/alice/linkis/"}

    def test_local_root_is_under_the_data_dir(self, alice: Api, sandbox: Any) -> None:
        data = alice.get("/filesystem/getUserRootPath", pathType="file").json()["data"]
        root = data["userLocalRootPath"]
        assert root.startswith("file:///") and not root.endswith("/")
        local = Path(root[len("file://") :])
        assert local.is_dir() and local.is_relative_to(sandbox.data_dir.resolve())
        assert local.name == "alice"
        assert alice.get("/filesystem/getUserRootPath").json()["data"] == data


class TestDirectories:
    """createNewDir, isExist, getDirFileTrees and deleteDirOrFile on the workspace."""

    def test_create_list_delete(self, alice: Api) -> None:
        path = _fresh(alice)
        assert alice.get("/filesystem/isExist", path=path).json()["data"] == {"isExist": True}
        assert _upload(alice, path, ("a.txt", b"hello")).status_code == 200
        assert alice.post("/filesystem/createNewDir", {"path": path + "/sub"}).status_code == 200
        tree = alice.get("/filesystem/getDirFileTrees", path=path).json()["data"]["dirFileTrees"]
        assert tree["path"] == path
        children = {c["name"]: c for c in tree["children"]}
        assert children["a.txt"]["path"] == path + "/a.txt"
        assert children["a.txt"]["isLeaf"] and children["a.txt"]["properties"]["size"] == "5"
        assert not children["sub"]["isLeaf"] and children["sub"]["properties"] == {}
        assert alice.post("/filesystem/deleteDirOrFile", {"path": path}).status_code == 200
        assert alice.get("/filesystem/isExist", path=path).json()["data"] == {"isExist": False}

    def test_existing_directory_is_80005(self, alice: Api) -> None:
        path = _fresh(alice)
        reply = alice.post("/filesystem/createNewDir", {"path": path})
        assert reply.status_code == 400 and _code(reply) == 80005

    def test_deleting_nothing_is_80008(self, alice: Api) -> None:
        reply = alice.post("/filesystem/deleteDirOrFile", {"path": _fresh(alice) + "/nothing"})
        assert reply.status_code == 400 and _code(reply) == 80008

    @pytest.mark.parametrize(
        ("path", "code"),
        [
            ("/tmp/linkis/alice/linkis/x", 80025),
            ("hdfs:///tmp/linkis/alice/linkis/../../bob/linkis/x", 80026),
            ("hdfs:///tmp/linkis/bob/linkis/x", 80010),
            ("hdfs:///tmp/linkis/alice", 80010),
            ("file:///etc/x", 80010),
            ("s3://bucket/x", 80010),
            ("", 80004),
        ],
    )
    def test_path_rules(self, alice: Api, path: str, code: int) -> None:
        for reply in (
            alice.post("/filesystem/createNewDir", {"path": path}),
            alice.post("/filesystem/deleteDirOrFile", {"path": path}),
            alice.get("/filesystem/isExist", path=path),
            _upload(alice, path, ("a.txt", b"x")),
        ):
            assert reply.status_code == 400 and _code(reply) == code, reply.text


class TestOtherUsers:
    """No route lets alice see or change bob's workspace."""

    def test_bobs_workspace_is_closed_to_alice(self, alice: Api, bob: Api) -> None:
        bobs = _fresh(bob)
        assert _upload(bob, bobs, ("secret.txt", b"bob's")).status_code == 200
        local_root = bob.get("/filesystem/getUserRootPath").json()["data"]["userLocalRootPath"]
        for path in (bobs, bobs + "/secret.txt", local_root):
            assert _code(alice.get("/filesystem/getDirFileTrees", path=path)) == 80010
            assert _code(alice.get("/filesystem/isExist", path=path)) == 80010
            assert _code(alice.post("/filesystem/deleteDirOrFile", {"path": path})) == 80010
            assert _code(_upload(alice, path, ("x.txt", b"x"))) == 80010
            download = alice.post("/filesystem/download", {"path": path})
            assert download.status_code == 200 and download.text.startswith("error(错误):")
            assert "80010" in download.text and "bob's" not in download.text
        assert bob.get("/filesystem/isExist", path=bobs + "/secret.txt").json()["data"]["isExist"]

    def test_symlink_out_of_the_workspace_is_denied(self, alice: Api, bob: Api) -> None:
        bobs = _fresh(bob)
        assert _upload(bob, bobs, ("secret.txt", b"bob's")).status_code == 200
        root = alice.get("/filesystem/getUserRootPath").json()["data"]["userLocalRootPath"]
        link = Path(root[len("file://") :]) / f"link_{uuid.uuid4().hex[:6]}"
        bob_local = bob.get("/filesystem/getUserRootPath").json()["data"]["userLocalRootPath"]
        link.symlink_to(Path(bob_local[len("file://") :]))
        reply = alice.get("/filesystem/getDirFileTrees", path=f"{root}/{link.name}")
        assert _code(reply) == 80010


class TestUpload:
    """Multipart parts named `file` land in the directory `path`; overwrite rules per scheme."""

    def test_several_parts_in_one_request(self, alice: Api) -> None:
        path = _fresh(alice)
        reply = _upload(alice, path, ("a.bin", b"\x00\x01"), ("b.bin", b"\xff" * 70_000))
        assert reply.status_code == 200 and reply.json()["status"] == 0
        got = alice.post("/filesystem/download", {"path": path + "/b.bin"})
        assert got.status_code == 200 and got.content == b"\xff" * 70_000
        assert "attachment;filename=b.bin" in got.headers["Content-Disposition"]

    def test_path_as_a_form_field(self, alice: Api) -> None:
        path = _fresh(alice)
        reply = alice.http.post(
            alice.base + "/filesystem/upload",
            data={"path": path},
            files=[("file", ("f.txt", b"form", "text/plain"))],
            timeout=30,
        )
        assert reply.status_code == 200, reply.text
        assert alice.post("/filesystem/download", {"path": path + "/f.txt"}).content == b"form"

    def test_existing_local_file_is_an_error(self, alice: Api) -> None:
        root = alice.get("/filesystem/getUserRootPath").json()["data"]["userLocalRootPath"]
        name = f"x_{uuid.uuid4().hex[:6]}.txt"
        assert _upload(alice, root, (name, b"first")).status_code == 200
        again = _upload(alice, root, (name, b"second"))
        assert again.status_code == 400 and again.json()["status"] == 1
        assert "create new file error" in again.json()["message"]
        assert alice.post("/filesystem/download", {"path": f"{root}/{name}"}).content == b"first"

    def test_existing_hdfs_file_is_overwritten(self, alice: Api) -> None:
        path = _fresh(alice)
        assert _upload(alice, path, ("f.txt", b"first")).status_code == 200
        assert _upload(alice, path, ("f.txt", b"second")).status_code == 200
        assert alice.post("/filesystem/download", {"path": path + "/f.txt"}).content == b"second"

    def test_missing_directory_is_an_error(self, alice: Api) -> None:
        reply = _upload(alice, _fresh(alice) + "/not_made", ("f.txt", b"x"))
        assert reply.status_code == 400 and "No such directory" in reply.json()["message"]

    def test_no_file_part(self, alice: Api) -> None:
        reply = alice.http.post(
            alice.base + "/filesystem/upload",
            params={"path": _fresh(alice)},
            files=[("other", ("f.txt", b"x"))],
            timeout=30,
        )
        assert reply.status_code == 400 and "'file'" in reply.json()["message"]


class TestDownload:
    """download answers the bytes, or Linkis's `error(错误):` text with HTTP 200."""

    def test_missing_file_is_error_text(self, alice: Api) -> None:
        reply = alice.post("/filesystem/download", {"path": _fresh(alice) + "/none.txt"})
        assert reply.status_code == 200
        assert reply.headers["Content-Type"].startswith("text/plain")
        assert reply.text.startswith("error(错误):") and "80011" in reply.text

    def test_path_without_scheme_is_error_text(self, alice: Api) -> None:
        reply = alice.post("/filesystem/download", {"path": "/etc/passwd"})
        assert reply.status_code == 200 and "80025" in reply.text


class TestUploadCap:
    """--upload-max-bytes refuses a bigger request with status 1 and writes nothing."""

    def test_cap(self, login: Any) -> None:
        with running_sandbox("--upload-max-bytes", "4096") as box:
            api = login(box, "alice")
            path = _fresh(api)
            refused = _upload(api, path, ("big.bin", b"x" * 10_000))
            assert refused.status_code == 400 and refused.json()["status"] == 1
            assert "exceeds the configured maximum (4096)" in refused.json()["message"]
            assert not api.get("/filesystem/isExist", path=path + "/big.bin").json()["data"][
                "isExist"
            ]
            assert _upload(api, path, ("small.bin", b"x" * 1000)).status_code == 200
