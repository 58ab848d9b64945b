"""`/filesystem/*` writes: the user's roots, directories, uploads, deletes, downloads (§15).

Same rules as Linkis's `FsRestfulApi` (docs/linkis-protocol.md §15): every path is a URI with a
scheme (80025), without `../` (80026), inside the caller's own directories (80010); the JSON
routes read `path` from the body. What differs by filesystem is kept: an upload over an
existing `file://` file fails, over an `hdfs://` one it overwrites; the target directory of
an upload must exist (`createNewDir` first, 80005 if it already does).

The upload cap is Spring's multipart `max-request-size` (500 MB shipped; `--upload-max-bytes`
lowers it); a request above it is drained and refused with status 1 before any file is
written. `download` answers like resultsetToExcel: the bytes, or `text/plain`
`error(错误):...` with HTTP 200.
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from linkis_magic.sandbox.auth import CurrentUser
from linkis_magic.sandbox.errors import ApiError, backend_method, envelope, linkis_error
from linkis_magic.sandbox.routes import json_body
from linkis_magic.sandbox.routes.filesystem import user_path
from linkis_magic.sandbox.state import GatewayDep

router = APIRouter()

_COPY_CHUNK = 1 << 20


def _ok(request: Request, data: dict[str, Any] | None = None) -> JSONResponse:
    return envelope(backend_method(request), 0, "OK", data or {})


@router.get("/filesystem/getUserRootPath")
def user_root_path(request: Request, user: CurrentUser, gateway: GatewayDep) -> JSONResponse:
    """`userHDFSRootPath` for pathType=hdfs, else `userLocalRootPath`; created on first use."""
    workspace = gateway.workspace
    local, hdfs = workspace.roots(user)
    if (request.query_params.get("pathType") or "").lower() == "hdfs":
        hdfs.mkdir(parents=True, exist_ok=True)
        return _ok(request, {"userHDFSRootPath": workspace.hdfs_root_uri(user)})
    local.mkdir(parents=True, exist_ok=True)
    return _ok(request, {"userLocalRootPath": workspace.local_root_uri(user)})


@router.post("/filesystem/createNewDir")
async def create_new_dir(request: Request, user: CurrentUser, gateway: GatewayDep) -> JSONResponse:
    raw = (await json_body(request)).get("path")
    path = user_path(gateway, raw if isinstance(raw, str) else None, user)
    if path.exists():
        raise linkis_error(
            80005,
            f"The created folder name:{raw} is duplicated(创建的文件夹名:{raw} 重复)",
            instance=gateway.instance,
        )
    path.mkdir(parents=True)
    return _ok(request)


@router.post("/filesystem/deleteDirOrFile")
async def delete_dir_or_file(
    request: Request, user: CurrentUser, gateway: GatewayDep
) -> JSONResponse:
    raw = (await json_body(request)).get("path")
    path = user_path(gateway, raw if isinstance(raw, str) else None, user)
    if not path.exists() and not path.is_symlink():
        raise linkis_error(
            80008,
            "The deleted file or folder does not exist(删除的文件or文件夹不存在)!",
            instance=gateway.instance,
        )
    if path.is_dir() and not path.is_symlink():
        await run_in_threadpool(shutil.rmtree, path)
    else:
        path.unlink()
    return _ok(request)


@router.get("/filesystem/isExist")
def is_exist(request: Request, user: CurrentUser, gateway: GatewayDep) -> JSONResponse:
    path = user_path(gateway, request.query_params.get("path"), user)
    return _ok(request, {"isExist": path.exists()})


# -- upload ----------------------------------------------------------------------------------


async def _drain(request: Request) -> None:
    """Read and drop the rest of a refused body, so the client reads the reply instead of
    a connection reset halfway through its upload."""
    async for _ in request.stream():
        pass


def _too_large(size: int, cap: int) -> ApiError:
    return ApiError(
        1,
        "Maximum upload size exceeded; the request was rejected because its size "
        f"({size}) exceeds the configured maximum ({cap})",
    )


def _save(part: UploadFile, target: Path, overwrite: bool, shown: str) -> int:
    """Copy one spooled part to its target; an existing local file is an error, as on Linkis."""
    try:
        with open(target, "wb" if overwrite else "xb") as out:
            part.file.seek(0)
            shutil.copyfileobj(part.file, out, _COPY_CHUNK)
            return out.tell()
    except FileExistsError:
        raise ApiError(
            1, f"operation failed(操作失败)s！the reason(原因)：create new file error! path:{shown}"
        ) from None
    except BaseException:
        with contextlib.suppress(OSError):
            target.unlink()
        raise


@router.post("/filesystem/upload")
async def upload(request: Request, user: CurrentUser, gateway: GatewayDep) -> JSONResponse:
    """Multipart parts named `file` into the directory `path` (query or form field)."""
    cap = gateway.config.upload_max_bytes
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > cap:
        await _drain(request)
        raise _too_large(int(length), cap)
    form = await request.form(max_files=10_000)
    try:
        raw = request.query_params.get("path") or form.get("path")
        raw = raw if isinstance(raw, str) else None
        directory = user_path(gateway, raw, user)
        parts = [p for p in form.getlist("file") if isinstance(p, UploadFile)]
        total = sum(p.size or 0 for p in parts)
        if total > cap:  # a chunked body has no Content-Length to check first
            raise _too_large(total, cap)
        if not parts:
            raise ApiError(1, "Required request part 'file' is not present")
        assert raw is not None
        if not directory.is_dir():
            raise ApiError(
                1,
                "operation failed(操作失败)s！the reason(原因)：create new file error! "
                f"No such directory: {raw}",
            )
        overwrite = raw.startswith("hdfs://")  # HDFS overwrites, the local filesystem refuses
        for part in parts:
            name = part.filename or ""
            if not name or "/" in name or "\\" in name or name in (".", ".."):
                raise ApiError(1, f"upload: bad file name {name!r}")
            shown = raw.rstrip("/") + "/" + name
            await run_in_threadpool(_save, part, directory / name, overwrite, shown)
    finally:
        await form.close()
    return _ok(request)


# -- download --------------------------------------------------------------------------------


def _download_error(exc: Exception) -> str:
    if isinstance(exc, ApiError):
        return exc.message
    return str(exc)


@router.post("/filesystem/download")
async def download(request: Request, user: CurrentUser, gateway: GatewayDep) -> Response:
    """The file's bytes as an attachment, or `error(错误):...` text with HTTP 200 (§15.1)."""
    try:
        body = await json_body(request)
        raw = body.get("path")
        path = user_path(gateway, raw if isinstance(raw, str) else None, user)
        if not path.is_file():
            raise linkis_error(
                80011,
                f"Downloaded file: {raw} does not exist(下载的文件:{raw}不存在)",
                instance=gateway.instance,
            )
    except Exception as exc:
        return _error_reply(exc)
    disposition = f"attachment;filename={path.name}".encode().decode("latin-1")
    return FileResponse(
        path, media_type="application/octet-stream", headers={"Content-Disposition": disposition}
    )


def _error_reply(exc: Exception) -> PlainTextResponse:
    return PlainTextResponse(
        f"error(错误):{_download_error(exc)}", status_code=200, media_type="text/plain"
    )
