"""Users are confined to their own jobs, result directories and logs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

FS_ENDPOINTS = ("/filesystem/getDirFileTrees", "/filesystem/openFile", "/filesystem/openLog")


def _denied(reply: Any) -> None:
    assert reply.status_code == 400, reply.text
    assert reply.json()["data"]["errorMsg"]["errCode"] == 80010


def _local(uri: str) -> Path:
    assert uri.startswith("file://")
    return Path(uri[len("file://") :])


@pytest.fixture(scope="module")
def bobs_job(bob: Any) -> dict[str, Any]:
    job, state = bob.run("select 'bob secret' as s")
    assert state == "Succeed"
    task = bob.task(job["taskID"])
    return {**job, "task": task, "file": bob.result_paths(job)[0]}


class TestPathConfinement:
    """Filesystem endpoints only serve the caller's result and log directories."""

    def test_other_users_results_and_log_are_denied(self, alice: Any, bobs_job: Any) -> None:
        _denied(alice.get("/filesystem/getDirFileTrees", path=bobs_job["task"]["resultLocation"]))
        _denied(alice.get("/filesystem/openFile", path=bobs_job["file"]))
        _denied(alice.get("/filesystem/fileInfo", path=bobs_job["file"]))
        _denied(alice.get("/filesystem/openLog", path=bobs_job["task"]["logPath"]))
        export = alice.get("/filesystem/resultsetToExcel", path=bobs_job["file"])
        assert export.status_code == 200 and export.text.startswith("error(错误):")
        assert "bob secret" not in export.text

    def test_owner_can_read(self, bob: Any, bobs_job: Any) -> None:
        assert bob.open_file(bobs_job["file"])["fileContent"] == [["bob secret"]]

    def test_dot_dot_traversal_is_denied(self, alice: Any, bobs_job: Any) -> None:
        job, _ = alice.run("select 1")
        own = alice.task(job["taskID"])["resultLocation"]
        sneaky = own + "/../../../bob/" + bobs_job["file"].rsplit("/bob/", 1)[1]
        for endpoint in FS_ENDPOINTS:
            _denied(alice.get(endpoint, path=sneaky))
        _denied(alice.get("/filesystem/openFile", path=own + "/../../../../../../etc/passwd"))

    def test_paths_outside_the_data_dir_are_denied(self, alice: Any) -> None:
        for endpoint in FS_ENDPOINTS:
            _denied(alice.get(endpoint, path="file:///etc/passwd"))
        _denied(alice.get("/filesystem/getDirFileTrees", path="hdfs:///tmp/linkis/alice"))

    def test_date_level_directory_is_not_listable(self, alice: Any, sandbox: Any) -> None:
        job, _ = alice.run("select 1")
        location = alice.task(job["taskID"])["resultLocation"]
        creator_dir = location.rsplit("/", 2)[0]  # .../<date>/IDE: lists every user
        _denied(alice.get("/filesystem/getDirFileTrees", path=creator_dir))

    def test_symlink_escape_is_denied(self, alice: Any, bobs_job: Any) -> None:
        job, _ = alice.run("select 1")
        own_dir = _local(alice.task(job["taskID"])["resultLocation"])
        link = own_dir / "_9.dolphin"
        os.symlink(_local(bobs_job["file"]), link)
        link_uri = alice.task(job["taskID"])["resultLocation"] + "/_9.dolphin"
        _denied(alice.get("/filesystem/openFile", path=link_uri))
        dir_link = own_dir / "elsewhere"
        os.symlink(_local(bobs_job["task"]["resultLocation"]), dir_link)
        _denied(alice.get("/filesystem/getDirFileTrees", path=f"{link_uri[:-11]}/elsewhere"))

    def test_path_without_scheme_is_80025(self, alice: Any) -> None:
        reply = alice.get("/filesystem/openFile", path="/etc/passwd")
        assert reply.status_code == 400
        assert reply.json()["data"]["errorMsg"]["errCode"] == 80025

    def test_missing_path_is_80004(self, alice: Any) -> None:
        reply = alice.get("/filesystem/openFile")
        assert reply.json()["data"]["errorMsg"]["errCode"] == 80004

    def test_missing_directory_is_null_tree(self, alice: Any) -> None:
        job, _ = alice.run("select 1")
        location = alice.task(job["taskID"])["resultLocation"]
        reply = alice.get("/filesystem/getDirFileTrees", path=location + "/nothing-here")
        assert reply.status_code == 200
        assert reply.json()["data"]["dirFileTrees"] is None

    def test_empty_result_file_is_a_206_warning(self, alice: Any) -> None:
        job, _ = alice.run("select 1")
        location = alice.task(job["taskID"])["resultLocation"]
        (_local(location) / "_5.dolphin").write_bytes(b"")
        reply = alice.get("/filesystem/openFile", path=location + "/_5.dolphin")
        assert reply.status_code == 206
        body = reply.json()
        assert body["status"] == 4
        assert body["data"]["errorMsg"]["errCode"] == 51000
        assert body["message"].startswith("Warning code(警告码): 51000")


class TestJobOwnership:
    """Jobs of other users cannot be read, listed or killed."""

    def test_jobhistory_get_of_other_user(self, alice: Any, bobs_job: Any) -> None:
        reply = alice.get(f"/jobhistory/{bobs_job['taskID']}/get")
        assert reply.status_code == 400
        assert "no permission" in reply.json()["message"]

    def test_jobhistory_list_excludes_other_users(self, alice: Any, bobs_job: Any) -> None:
        tasks = alice.get("/jobhistory/list", pageSize=1000).json()["data"]["tasks"]
        assert bobs_job["taskID"] not in {t["taskID"] for t in tasks}
        assert {t["umUser"] for t in tasks} <= {"alice"}

    def test_log_of_other_user(self, alice: Any, bobs_job: Any) -> None:
        reply = alice.get(f"/entrance/{bobs_job['execID']}/log", fromLine=1)
        assert reply.status_code == 400
        assert "no permission" in reply.json()["message"]

    def test_kill_of_other_user(self, alice: Any, bob: Any) -> None:
        job = bob.submit("import time\ntime.sleep(20)", "python", "python-python3")
        try:
            reply = alice.get(f"/entrance/{job['execID']}/kill", taskID=job["taskID"])
            assert reply.status_code == 400
            assert "no permission to kill" in reply.json()["message"]
            forced = alice.get("/entrance/exec_id_bogus/kill", taskID=job["taskID"])
            assert forced.status_code == 400
            assert bob.get(f"/entrance/{job['execID']}/status").json()["data"]["status"] in {
                "Inited",
                "Scheduled",
                "Running",
            }
        finally:
            bob.get(f"/entrance/{job['execID']}/kill", taskID=job["taskID"])
        assert bob.wait(job) == "Cancelled"
