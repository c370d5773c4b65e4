"""The public API is documented and its type stubs match the native module."""

import importlib.util
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

import promlite

PACKAGE_DIR = Path(promlite.__file__).parent


def public_callables():
    for name in promlite.__all__:
        obj = getattr(promlite, name)
        if inspect.isclass(obj) and not issubclass(obj, BaseException):
            yield name, obj
            for attr, member in vars(obj).items():
                if not attr.startswith("_") and callable(member):
                    yield f"{name}.{attr}", member
        elif callable(obj) and not inspect.isclass(obj):
            yield name, obj


def test_every_public_function_has_a_docstring():
    missing = [name for name, obj in public_callables() if not (obj.__doc__ or "").strip()]
    assert missing == []


def test_exceptions_form_a_hierarchy():
    for cls in (promlite.QueryError, promlite.InvalidInputError, promlite.StorageError):
        assert issubclass(cls, promlite.Error)
        assert cls.__module__ == "promlite"
    assert issubclass(promlite.Error, Exception)


def test_package_ships_stubs_and_marker():
    assert (PACKAGE_DIR / "py.typed").exists()
    assert (PACKAGE_DIR / "_promlite.pyi").exists()


@pytest.mark.skipif(importlib.util.find_spec("mypy") is None, reason="mypy not installed")
def test_stubs_match_the_native_module():
    out = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "promlite._promlite", "--ignore-missing-stub"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr
