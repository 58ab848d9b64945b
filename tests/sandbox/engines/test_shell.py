"""engines/shell.py: bash cells; stdout is a text result, stderr the error slot."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.support.wait import wait_until


class TestShellJobs:
    """Shell cells run with bash; stdout is a text result, stderr lands in the error slot."""

    def test_stdout_is_a_text_result(self, alice: Any) -> None:
        job, state = alice.run("echo one; echo 'two 二'", "shell", engine_type="shell-1")
        assert state == "Succeed"
        (path,) = alice.result_paths(job)
        assert alice.open_file(path)["fileContent"] == [["one"], ["two 二"]]

    def test_non_zero_exit_fails_and_stderr_is_an_error(self, alice: Any) -> None:
        job, state = alice.run("echo oops >&2; exit 3", "shell", engine_type="shell-1")
        assert state == "Failed"
        task = alice.task(job["taskID"])
        assert "exited with code 3" in task["errDesc"]
        log = alice.get(f"/entrance/{job['execID']}/log", fromLine=1, size=-1).json()["data"]
        assert "oops" in log["log"][0]

    def test_unknown_variables_stay_for_the_shell(self, alice: Any) -> None:
        job, state = alice.run('X=5; echo "${X}"', "shell", engine_type="shell-1")
        assert state == "Succeed"
        (path,) = alice.result_paths(job)
        assert alice.open_file(path)["fileContent"] == [["5"]]


class TestKill:
    """kill terminates the whole process group, children of the script too."""

    def test_kill_shell_kills_children(self, alice: Any, alive: Callable[[int], bool]) -> None:
        job = alice.submit("sleep 60 & echo child $!; wait", "shell", engine_type="shell-1")
        lines = alice.wait_for_log(job, "INFO child ")
        child = int(next(x for x in lines if "INFO child " in x).rsplit(" ", 1)[1])
        alice.get(f"/entrance/{job['execID']}/kill", taskID=job["taskID"])
        assert alice.wait(job, timeout=30) == "Cancelled"
        wait_until(lambda: not alive(child), timeout=10, what=f"child {child} to be killed")
