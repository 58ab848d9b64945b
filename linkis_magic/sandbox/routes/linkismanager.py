"""`/linkisManager/*`: the caller's engine connections, and killing one of them.

`listUserEngines` answers the caller's engines (never anyone else's, §14.2) as engine-node
objects with every key Linkis's manager serializes, from `engineconns.EngineConns`;
`killEngineConn` stops one of the caller's engines (§14.3), with master's answers for bad
bodies and unknown instances. Section numbers (§) refer to docs/linkis-protocol.md.
"""

from __future__ import annotations

import json
import os
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from linkis_magic.sandbox.auth import CurrentUser
from linkis_magic.sandbox.engineconns import ECM_APP, ENGINECONN_APP, EngineConns, EngineView
from linkis_magic.sandbox.errors import ApiError, envelope, linkis_error, operation_failed
from linkis_magic.sandbox.routes import json_body
from linkis_magic.sandbox.state import GatewayDep

router = APIRouter()

_NPE = "NullPointerException: "
"""Linkis's text for the null its controller dereferences (§14.3: match only the prefix)."""


# -- listUserEngines (§14.2) -------------------------------------------------------------------


def _service_instance(app: str, instance: str, unset: str | None) -> dict[str, Any]:
    return {
        "applicationName": app,
        "instance": instance,
        "registryTimestamp": 0,
        "mappingPorts": unset,
        "mappingHost": unset,
    }


def _label(key: str, value: str, feature: str, **typed: Any) -> dict[str, Any]:
    """A label as Jackson writes it from its getters: no `value` key (§14.2)."""
    return {
        "labelKey": key,
        "stringValue": value,
        "feature": feature,
        "featureKey": "feature",
        "empty": False,
        **typed,
    }


def _labels(view: EngineView) -> list[dict[str, Any]]:
    key = view.key
    service = _service_instance(ENGINECONN_APP, view.instance, None)
    return [
        _label("engineType", key.engine_type, "CORE", engineType=key.engine, version=key.version),
        _label(
            "userCreator",
            f"{key.user}-{key.creator}",
            "CORE",
            user=key.user,
            creator=key.creator,
            modifiable=True,
        ),
        _label(
            "engineInstance",
            f"{ENGINECONN_APP}-{view.instance}",
            "OPTIONAL",
            serviceName=ENGINECONN_APP,
            instance=view.instance,
            serviceInstance=service,
        ),
    ]


def _load(memory: int, cores: int, instances: int) -> dict[str, int]:
    """A `LoadInstance` resource (`instance` repeats `instances`, §14.2)."""
    return {"memory": memory, "cores": cores, "instances": instances, "instance": instances}


def _node_resource(view: EngineView) -> dict[str, Any]:
    """What the engine asked for (max = min) and uses (measured where possible)."""
    foot = view.footprint
    used_memory = foot.memory if foot.used_memory is None else foot.used_memory
    return {
        "id": view.serial,
        "resourceType": "LoadInstance",
        "maxResource": _load(foot.memory, foot.cores, 1),
        "minResource": _load(foot.memory, foot.cores, 1),
        "usedResource": _load(used_memory, foot.cores, 1),
        "lockedResource": _load(0, 0, 0),
        "expectedResource": None,
        "leftResource": _load(max(foot.memory - used_memory, 0), 0, 0),
        "createTime": view.start_ms,
        "updateTime": view.update_ms,
        "maxApps": None,
        "numPendingApps": None,
        "numActiveApps": None,
    }


def _available_memory() -> int | None:
    """MemAvailable of /proc/meminfo in bytes (Linux), else None."""
    try:
        with open("/proc/meminfo", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _overload(view: EngineView, left: int | None, cpu: float | None) -> dict[str, Any]:
    foot = view.footprint
    return {
        "maxMemory": foot.memory,
        "usedMemory": foot.memory if foot.used_memory is None else foot.used_memory,
        "systemCPUUsed": cpu,
        "systemLeftMemory": left,
    }


def _emnode(conns: EngineConns) -> dict[str, Any]:
    """The engine manager: the sandbox itself; mostly nulls, the mapping keys the string
    "null" (§14.2)."""
    node: dict[str, Any] = dict.fromkeys(
        (
            "labels",
            "nodeStatus",
            "identifier",
            "nodeResource",
            "nodeTaskInfo",
            "nodeOverLoadInfo",
            "nodeHealthyInfo",
            "ticketId",
            "nodeDescription",
            "updateTime",
        )
    )
    node.update(
        serviceInstance=_service_instance(ECM_APP, conns.ecm_instance, "null"),
        owner=conns.ecm_owner,
        mark="process",
        startTime=conns.ecm_start_ms,
        score=0.0,
    )
    return node


def engine_node(
    view: EngineView, emnode: dict[str, Any], left: int | None, cpu: float | None
) -> dict[str, Any]:
    """One `data.engines[i]` of listUserEngines (§14.2): no top-level engineType."""
    return {
        "serviceInstance": _service_instance(ENGINECONN_APP, view.instance, None),
        "owner": view.key.user,
        "nodeStatus": view.status,
        "labels": _labels(view),
        "nodeResource": _node_resource(view),
        "startTime": view.start_ms,
        "updateTime": view.update_ms,
        "ticketId": view.ticket_id,
        "mark": "process",
        "identifier": None if view.pid is None else str(view.pid),
        "nodeTaskInfo": {
            "runningTasks": view.running,
            "pendingTasks": 0,
            "succeedTasks": view.succeeded,
            "failedTasks": view.failed,
            "tasks": view.running,
        },
        "nodeOverLoadInfo": _overload(view, left, cpu),
        "nodeHealthyInfo": {"nodeHealthy": "Healthy", "msg": ""},
        "nodeDescription": None,
        "emnode": emnode,
        "score": 0.0,
        "lock": None,
        "ecMetrics": None,
        "params": None,
    }


@router.get("/linkisManager/listUserEngines")
def list_user_engines(user: CurrentUser, gateway: GatewayDep) -> JSONResponse:
    conns = gateway.engineconns
    views = conns.list(user)
    emnode = _emnode(conns)
    left = _available_memory()
    cpu = os.getloadavg()[0] / (os.cpu_count() or 1) if hasattr(os, "getloadavg") else None
    engines = [engine_node(view, emnode, left, cpu) for view in views]
    return envelope("/api/linkisManager/listUserEngines", 0, "OK", {"engines": engines})


# -- killEngineConn (§14.3) --------------------------------------------------------------------


def _text(body: dict[str, Any], key: str, instance: str) -> str:
    """A required body key as Jackson's `asText()` reads it (JSON null is "null")."""
    if key not in body:
        raise operation_failed(
            f'{_NPE}Cannot invoke "JsonNode.asText()" because the value of "{key}" is null',
            instance=instance,
        )
    value = body[key]
    return value if isinstance(value, str) else json.dumps(value)


@router.post("/linkisManager/killEngineConn")
async def kill_engine_conn(
    request: Request, user: CurrentUser, gateway: GatewayDep
) -> JSONResponse:
    body = await json_body(request)
    app_name = _text(body, "applicationName", gateway.instance)
    instance = _text(body, "instance", gateway.instance)
    for key, value in (("applicationName", app_name), ("instance", instance)):
        if not value.strip():
            raise linkis_error(
                21001, f"{key} cannot be null(请求参数{key}不能为空)", instance=gateway.instance
            )
    # the server forces applicationName to linkis-cg-engineconn and looks up the instance only
    conn = gateway.engineconns.find(instance)
    if conn is None:  # master: the engine node it reads is null (§14.3)
        raise operation_failed(
            f'{_NPE}Cannot invoke "EngineNode.getOwner()" because "engineNode" is null '
            f"(no engine {instance})",
            instance=gateway.instance,
        )
    if conn.key.user != user:
        service = f"ServiceInstance({app_name}, {instance}, 0)"
        raise ApiError(1, f"You have no permission to kill EngineConn {service}")
    await run_in_threadpool(gateway.engineconns.kill, conn, f"killed by its owner {user}")
    return envelope("/api/linkisManager/killEngineConn", 0, "Kill engineConn succeed.", {})
