"""routes/linkismanager.py: listUserEngines items in Linkis's exact shape, only the caller's,
and killEngineConn's answers to bad bodies (docs/linkis-protocol.md §14.2, §14.3)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sandbox.nodes import ENGINECONN, instance, label

PY = "python-python3"

NODE_KEYS = {
    "serviceInstance",
    "owner",
    "nodeStatus",
    "labels",
    "nodeResource",
    "startTime",
    "updateTime",
    "ticketId",
    "mark",
    "identifier",
    "nodeTaskInfo",
    "nodeOverLoadInfo",
    "nodeHealthyInfo",
    "nodeDescription",
    "emnode",
    "score",
    "lock",
    "ecMetrics",
    "params",
}
EMNODE_KEYS = NODE_KEYS - {"lock", "ecMetrics", "params", "emnode"}
LABEL_KEYS = {"labelKey", "stringValue", "feature", "featureKey", "empty"}
LOAD_KEYS = {"memory", "cores", "instances", "instance"}
NPE = "operation failed(操作失败)s！the reason(原因)：NullPointerException: "


@pytest.fixture(scope="module")
def python_engine(alice: Any) -> tuple[dict[str, Any], int]:
    """alice's python engine (creator Shape) after one job that printed its pid."""
    job, state = alice.run(
        "import os\nprint(os.getpid())", "python", engine_type=PY, userCreator="alice-Shape"
    )
    assert state == "Succeed"
    (path,) = alice.result_paths(job)
    pid = int(alice.open_file(path)["fileContent"][0][0])
    (engine,) = alice.engines("Shape")
    return engine, pid


class TestListUserEngines:
    """Engine nodes with every key Linkis serializes; no top-level engineType."""

    def test_item_keys(self, alice: Any, python_engine: Any) -> None:
        engine, _ = python_engine
        reply = alice.get("/linkisManager/listUserEngines").json()
        assert reply["method"] == "/api/linkisManager/listUserEngines"
        assert reply["status"] == 0 and reply["message"] == "OK"
        assert set(engine) == NODE_KEYS
        assert "engineType" not in engine
        assert engine["serviceInstance"] == {
            "applicationName": ENGINECONN,
            "instance": instance(engine),
            "registryTimestamp": 0,
            "mappingPorts": None,
            "mappingHost": None,
        }
        host, _, port = instance(engine).rpartition(":")
        assert host and port.isdigit()
        assert engine["owner"] == "alice"
        assert engine["nodeStatus"] == "Unlock"
        assert engine["mark"] == "process"
        assert engine["score"] == 0.0
        assert engine["lock"] is None and engine["ecMetrics"] is None and engine["params"] is None
        assert isinstance(engine["startTime"], int) and isinstance(engine["updateTime"], int)
        assert engine["startTime"] <= engine["updateTime"]
        assert isinstance(engine["ticketId"], str) and engine["ticketId"]
        assert engine["nodeTaskInfo"] == {
            "runningTasks": 0,
            "pendingTasks": 0,
            "succeedTasks": 1,
            "failedTasks": 0,
            "tasks": 0,
        }
        assert engine["nodeHealthyInfo"] == {"nodeHealthy": "Healthy", "msg": ""}
        assert set(engine["nodeOverLoadInfo"]) == {
            "maxMemory",
            "usedMemory",
            "systemCPUUsed",
            "systemLeftMemory",
        }

    def test_labels(self, python_engine: Any) -> None:
        engine, _ = python_engine
        assert [x["labelKey"] for x in engine["labels"]] == [
            "engineType",
            "userCreator",
            "engineInstance",
        ]
        assert all(set(x) >= LABEL_KEYS and "value" not in x for x in engine["labels"])
        assert all(x["featureKey"] == "feature" and x["empty"] is False for x in engine["labels"])
        assert label(engine, "engineType") == {
            "labelKey": "engineType",
            "stringValue": PY,
            "feature": "CORE",
            "featureKey": "feature",
            "empty": False,
            "engineType": "python",
            "version": "python3",
        }
        user_creator = label(engine, "userCreator")
        assert user_creator["stringValue"] == "alice-Shape"
        assert (user_creator["user"], user_creator["creator"]) == ("alice", "Shape")
        assert user_creator["modifiable"] is True and user_creator["feature"] == "CORE"
        own = label(engine, "engineInstance")
        assert own["stringValue"] == f"{ENGINECONN}-{instance(engine)}"
        assert own["serviceName"] == ENGINECONN and own["instance"] == instance(engine)
        assert own["serviceInstance"] == engine["serviceInstance"]

    def test_python_engine_is_its_process(self, python_engine: Any) -> None:
        """identifier is the engine's pid; used memory is what that process holds."""
        engine, pid = python_engine
        assert engine["identifier"] == str(pid)
        resource = engine["nodeResource"]
        assert resource["resourceType"] == "LoadInstance"
        for key in ("maxResource", "minResource", "usedResource", "lockedResource"):
            assert set(resource[key]) == LOAD_KEYS, key
        assert resource["expectedResource"] is None
        asked, used = resource["maxResource"], resource["usedResource"]
        assert asked == resource["minResource"]
        assert asked["cores"] == 1 and asked["instances"] == asked["instance"] == 1
        assert 0 < used["memory"] < asked["memory"]  # a measured resident set, not the request
        assert resource["leftResource"]["memory"] == asked["memory"] - used["memory"]
        assert resource["lockedResource"] == {
            "memory": 0,
            "cores": 0,
            "instances": 0,
            "instance": 0,
        }
        assert resource["createTime"] == engine["startTime"]
        for key in ("maxApps", "numPendingApps", "numActiveApps"):
            assert resource[key] is None

    def test_emnode(self, python_engine: Any, sandbox: Any) -> None:
        engine, _ = python_engine
        emnode = engine["emnode"]
        assert set(emnode) == EMNODE_KEYS
        assert emnode["serviceInstance"]["applicationName"] == "linkis-cg-engineconnmanager"
        assert emnode["serviceInstance"]["instance"] == sandbox.url.split("//", 1)[1]
        assert emnode["serviceInstance"]["mappingPorts"] == "null"
        assert emnode["serviceInstance"]["mappingHost"] == "null"
        assert emnode["mark"] == "process" and emnode["score"] == 0.0
        assert isinstance(emnode["owner"], str) and isinstance(emnode["startTime"], int)
        for key in EMNODE_KEYS - {"serviceInstance", "owner", "mark", "score", "startTime"}:
            assert emnode[key] is None, key

    def test_only_the_callers_engines(self, alice: Any, bob: Any) -> None:
        job, _ = bob.run("select 1", userCreator="bob-Listed")
        engine, _ = bob.engine_of(job)
        assert engine in [instance(e) for e in bob.engines()]
        assert {e["owner"] for e in bob.engines()} == {"bob"}
        assert engine not in [instance(e) for e in alice.engines()]
        assert {e["owner"] for e in alice.engines()} <= {"alice"}

    def test_needs_a_login(self, anonymous: Any) -> None:
        reply = anonymous.get("/linkisManager/listUserEngines")
        assert reply.status_code == 401 and reply.json()["status"] == -1


class TestKillEngineConnErrors:
    """Bodies and instances killEngineConn refuses, as Linkis master answers them."""

    @pytest.mark.parametrize(
        "body",
        [{"instance": "127.0.0.1:1"}, {"applicationName": ENGINECONN}, {}],
        ids=["no-applicationName", "no-instance", "empty-object"],
    )
    def test_missing_key_is_a_null_pointer(self, alice: Any, body: dict[str, Any]) -> None:
        reply = alice.post("/linkisManager/killEngineConn", body)
        assert reply.status_code == 400
        data = reply.json()
        assert data["status"] == 1 and data["message"].startswith(NPE)
        assert data["data"]["errorMsg"]["errCode"] == 0

    @pytest.mark.parametrize("key", ["applicationName", "instance"])
    def test_empty_value_is_21001(self, alice: Any, key: str) -> None:
        body = {"applicationName": ENGINECONN, "instance": "127.0.0.1:1", key: ""}
        reply = alice.post("/linkisManager/killEngineConn", body)
        assert reply.status_code == 400
        data = reply.json()
        assert data["message"] == (
            f"error code(错误码): 21001, error message(错误信息): {key} cannot be null"
            f"(请求参数{key}不能为空)."
        )
        assert data["data"]["errorMsg"]["errCode"] == 21001

    def test_unknown_instance_is_a_null_pointer(self, alice: Any) -> None:
        reply = alice.kill_engine("127.0.0.1:1")
        assert reply.status_code == 400
        assert reply.json()["method"] == "/api/linkisManager/killEngineConn"
        assert reply.json()["message"].startswith(NPE)

    def test_body_must_be_json(self, alice: Any) -> None:
        reply = alice.http.post(alice.base + "/linkisManager/killEngineConn", data="nope")
        assert reply.status_code == 400 and reply.json()["status"] == 1

    def test_needs_a_login(self, anonymous: Any) -> None:
        reply = anonymous.kill_engine("127.0.0.1:1")
        assert reply.status_code == 401 and reply.json()["status"] == -1
