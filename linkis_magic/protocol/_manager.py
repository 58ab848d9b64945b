"""Engines and resources: YARN use of a job, the caller's engine connections (§14).

``progressWithResource`` adds, next to the usual progress, either ``yarnMetrics`` (one entry per
YARN application of the job, with the job's share of the queue as fractions) or a top-level
``yarnResource: null`` when the job holds no YARN application (§14.1). ``listUserEngines`` lists
the caller's engine connections: there is no ``engineType`` key, it is the ``engineType`` label;
rows of engine managers can be mixed in and are left out here (§14.2).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from linkis_magic.protocol._values import epoch_ms, need_dict, opt_float, opt_int, opt_str

__all__ = [
    "ENGINE_APPLICATION",
    "EngineInfo",
    "Resources",
    "YarnApp",
    "parse_engines",
    "parse_resources",
]

ENGINE_APPLICATION = "linkis-cg-engineconn"  # engine rows; engine managers are another name


@dataclass(frozen=True)
class YarnApp:
    """One YARN application a job holds (memory in bytes)."""

    application_id: str
    queue: str | None
    memory: int
    cores: int
    instances: int
    status: str | None


@dataclass(frozen=True)
class Resources:
    """What a job holds on YARN; the shares are fractions of the queue (can exceed 1)."""

    apps: tuple[YarnApp, ...]
    core_share: float | None = None
    memory_share: float | None = None


def parse_resources(data: Any) -> Resources | None:
    """The ``yarnMetrics`` of a ``progressWithResource`` reply; None when the job has none.

    ``yarnResource: null`` (none) and an empty list (1.1.1-1.1.2 say so that way) both read as
    None, as does a reply without either key.
    """
    if not isinstance(data, dict):
        return None
    metrics = data.get("yarnMetrics")
    if not isinstance(metrics, dict):
        return None
    apps = []
    for item in metrics.get("yarnResource") or ():
        if not isinstance(item, dict):
            continue
        apps.append(
            YarnApp(
                application_id=opt_str(item.get("applicationId")) or "",
                queue=opt_str(item.get("queue")),
                memory=opt_int(item.get("queueMemory")) or 0,
                cores=opt_int(item.get("queueCores")) or 0,
                instances=opt_int(item.get("queueInstances")) or 0,
                status=opt_str(item.get("jobStatus")),
            )
        )
    if not apps:
        return None
    return Resources(
        apps=tuple(apps),
        core_share=_fraction(metrics.get("corePercent")),
        memory_share=_fraction(metrics.get("memoryPercent")),
    )


def _fraction(value: Any) -> float | None:
    return None if value is None else abs(opt_float(value))


@dataclass(frozen=True)
class EngineInfo:
    """One of the caller's engine connections (a Spark driver, a Hive session, ...).

    ``resources`` is the engine's used resource as Linkis reports it (its shape depends on the
    resource type, §14.2); ``memory`` and ``cores`` are read from it where present.
    """

    instance: str
    engine_type: str | None
    creator: str | None
    owner: str | None
    status: str | None
    started: datetime | None
    updated: datetime | None
    running_tasks: int | None
    memory: int | None
    cores: int | None
    resources: dict[str, Any] | None
    ticket_id: str | None
    manager: str | None


def _labels(item: dict[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    for label in item.get("labels") or ():
        if isinstance(label, dict):
            key, value = opt_str(label.get("labelKey")), opt_str(label.get("stringValue"))
            if key and value is not None:
                found[key] = value
    return found


def _resource_totals(resource: Any) -> tuple[int | None, int | None]:
    """(memory bytes, cores) from a resource object of any shape, where it says them."""
    if not isinstance(resource, dict):
        return None, None
    memory, cores = opt_int(resource.get("memory")), opt_int(resource.get("cores"))
    for part in ("loadInstanceResource", "yarnResource", "kubernetesResource"):
        inner = resource.get(part)
        if isinstance(inner, dict):
            inner_memory = opt_int(inner.get("memory", inner.get("queueMemory")))
            inner_cores = opt_int(inner.get("cores", inner.get("queueCores")))
            memory = (memory or 0) + (inner_memory or 0) if inner_memory is not None else memory
            cores = (cores or 0) + (inner_cores or 0) if inner_cores is not None else cores
    return memory, cores


def _engine(item: Any) -> EngineInfo | None:
    if not isinstance(item, dict):
        return None
    service = item.get("serviceInstance") if isinstance(item.get("serviceInstance"), dict) else {}
    assert isinstance(service, dict)
    if (opt_str(service.get("applicationName")) or ENGINE_APPLICATION) != ENGINE_APPLICATION:
        return None  # an engine manager's own row (§14.2)
    instance = opt_str(service.get("instance"))
    if not instance:
        return None
    labels = _labels(item)
    creator = labels.get("userCreator")
    node = item.get("nodeResource") if isinstance(item.get("nodeResource"), dict) else None
    used = node.get("usedResource") if node else None
    memory, cores = _resource_totals(used)
    tasks = item.get("nodeTaskInfo") if isinstance(item.get("nodeTaskInfo"), dict) else None
    manager = item.get("emnode") or item.get("emNode") or item.get("EMNode")
    manager_service = manager.get("serviceInstance") if isinstance(manager, dict) else None
    return EngineInfo(
        instance=instance,
        engine_type=labels.get("engineType"),
        creator=creator.split("-", 1)[1] if creator and "-" in creator else creator,
        owner=opt_str(item.get("owner")),
        status=opt_str(item.get("nodeStatus")),
        started=epoch_ms(item.get("startTime")),
        updated=epoch_ms(item.get("updateTime")),
        running_tasks=opt_int(tasks.get("runningTasks")) if tasks else None,
        memory=memory,
        cores=cores,
        resources=used if isinstance(used, dict) else None,
        ticket_id=opt_str(item.get("ticketId")),
        manager=opt_str(manager_service.get("instance"))
        if isinstance(manager_service, dict)
        else None,
    )


def parse_engines(data: Any) -> list[EngineInfo]:
    """``listUserEngines``: the caller's engine connections, in the server's order."""
    items = need_dict(data, "the listUserEngines reply").get("engines") or ()
    found = (_engine(item) for item in items if isinstance(items, list))
    return [e for e in found if e is not None]
