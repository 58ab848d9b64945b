"""The public names of linkis_magic: __all__ lists every public member, and each one imports."""

from __future__ import annotations

import subprocess
import sys
import types

import linkis_magic
import linkis_magic.job


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
