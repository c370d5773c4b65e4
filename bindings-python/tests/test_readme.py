"""The README's Python quick start works as written.

The quick start lives in examples/quickstart.py and is pasted into the
top-level README; every ```python block there that imports promlite runs here
too. Each `print(...)  # expected` line must print exactly `expected`.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

BINDINGS = Path(__file__).resolve().parents[1]
README = BINDINGS.parent / "README.md"
QUICKSTART = BINDINGS / "examples" / "quickstart.py"


def readme_snippets():
    if not README.exists():
        return []
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    return [b for b in blocks if "import promlite" in b]


def expected_output(code):
    return [m.group(1).strip() for m in re.finditer(r"^\s*print\(.*\)\s*#\s*(.+)$", code, flags=re.M)]


def run_snippet(code, cwd):
    out = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.splitlines()


def test_quickstart_example_prints_what_it_says(tmp_path):
    code = QUICKSTART.read_text()
    assert len(code.strip().splitlines()) <= 10
    expected = expected_output(code)
    assert expected, "the quick start should show its output in comments"
    assert run_snippet(code, tmp_path) == expected


@pytest.mark.parametrize("code", readme_snippets() or [pytest.param("", marks=pytest.mark.skip("no snippet in README yet"))])
def test_readme_python_snippets_run(tmp_path, code):
    assert run_snippet(code, tmp_path) == expected_output(code)
