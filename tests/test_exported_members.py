"""The public names of linkis_magic: __all__ lists every public member, and each one imports."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
import re
import subprocess
import sys
import types

import linkis_magic
import linkis_magic.job

#: Classes a public signature mentions that stay internal on purpose: the plumbing the auth
#: schemes' hooks (``before(transport)``, ...) are called with by the client itself.
INTERNAL = {"Transport", "Envelope", "AuthScheme"}
#: The IPython side: LinkisMagics' methods are the extension's wiring, not a library API.
IPYTHON_SIDE = {"LinkisMagics", "LinkisInterrupted"}


def catalog() -> dict[str, type]:
    """Every public class defined on the client side of the package, by name."""
    found: dict[str, type] = {}
    for info in pkgutil.walk_packages(linkis_magic.__path__, "linkis_magic."):
        if info.name.startswith("linkis_magic.sandbox"):
            continue
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if (
                inspect.isclass(obj)
                and not name.startswith("_")
                and obj.__module__.startswith("linkis_magic.")
                and not obj.__module__.startswith("linkis_magic.sandbox")
            ):
                found.setdefault(name, obj)
    return found


def annotations(cls: type) -> list[str]:
    """The annotations (as text) of a class's public methods, properties and fields."""
    texts: list[str] = []
    for name in dir(cls):
        if name.startswith("_") and name != "__init__":
            continue
        member = inspect.getattr_static(cls, name, None)
        if isinstance(member, property):
            member = member.fget
        elif isinstance(member, (staticmethod, classmethod)):
            member = member.__func__
        if not inspect.isfunction(member):
            continue
        sig = inspect.signature(member)
        texts += [str(p.annotation) for p in sig.parameters.values()]
        texts.append(str(sig.return_annotation))
    if dataclasses.is_dataclass(cls):
        texts += [str(f.type) for f in dataclasses.fields(cls)]
    return texts


class TestExportedMembers:
    """`__all__` is the public contract (httpx tests/test_exported_members.py style)."""

    def test_all_is_complete_and_importable(self) -> None:
        exported = set(linkis_magic.__all__)
        public = {
            name
            for name in dir(linkis_magic)
            if not name.startswith("_")
            and not isinstance(getattr(linkis_magic, name), types.ModuleType)
        }
        public.add("__version__")
        assert public == exported
        for name in linkis_magic.__all__:
            assert getattr(linkis_magic, name) is not None

    def test_members_come_from_their_home_modules(self) -> None:
        from linkis_magic import errors

        for name in errors.__all__:
            assert name in linkis_magic.__all__, name
            assert getattr(linkis_magic, name) is getattr(errors, name)
        assert linkis_magic.LinkisClient.__module__ == "linkis_magic.client"
        assert linkis_magic.Job.__module__.startswith("linkis_magic.job.")
        assert linkis_magic.Job is linkis_magic.job.Job
        assert linkis_magic.Settings.__module__ == "linkis_magic.config"

    def test_every_type_a_public_signature_uses_is_exported(self) -> None:
        """What a public method takes or returns (and what those records hold) is importable
        from linkis_magic, found by walking the signatures from the exported classes."""
        known = catalog()
        exported = set(linkis_magic.__all__)
        roots = [n for n in exported - IPYTHON_SIDE if inspect.isclass(getattr(linkis_magic, n))]
        seen: set[str] = set()
        missing: dict[str, str] = {}
        todo = list(roots)
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            for text in annotations(known.get(name) or getattr(linkis_magic, name)):
                for dotted in re.findall(r"[A-Za-z_][\w.]*", text):
                    parts = dotted.split(".")
                    root, word = parts[0], parts[-1]
                    if len(parts) > 1 and not root.startswith(("_", "linkis_magic")):
                        continue  # another library's name (requests.Session, pd.DataFrame)
                    if word in known and word not in seen and word not in INTERNAL:
                        if word not in exported:
                            missing.setdefault(word, name)
                        todo.append(word)
        assert missing == {}, "used by (name: where) but not exported"

    def test_no_helper_functions_exported(self) -> None:
        """Functions in __all__ are the extension hooks only; helpers stay in their modules."""
        functions = {
            n for n in linkis_magic.__all__ if inspect.isfunction(getattr(linkis_magic, n))
        }
        assert functions == {"load_ipython_extension", "unload_ipython_extension"}

    def test_unknown_name_is_an_attribute_error(self) -> None:
        try:
            linkis_magic.NoSuchThing  # noqa: B018
        except AttributeError as exc:
            assert "NoSuchThing" in str(exc)
        else:
            raise AssertionError("linkis_magic.NoSuchThing did not raise AttributeError")

    def test_client_side_imports_no_ipython(self) -> None:
        code = (
            "import sys, linkis_magic, linkis_magic.client, linkis_magic.job, "
            "linkis_magic.results, linkis_magic.config\n"
            "from linkis_magic import LinkisClient, Job, Settings, JobStatus\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
            "('IPython', 'ipywidgets', 'ipykernel'))\n"
            "print(bad)"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        assert out.stdout.strip() == "[]"
