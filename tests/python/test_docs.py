"""The docs' code runs: each ```<lang> file=PATH block is written into a fresh folder and each
```bash run block is run there, in order, with this venv's python first on PATH."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

BLOCK = re.compile(r"^```(\w+)([^\n]*)\n(.*?)^```", re.S | re.M)


@pytest.mark.parametrize(
    "doc, last_words",
    [
        ("write-your-first-pass.md", "SimplifyIdentities works"),
        ("authors-guide.md", "Hello, wheel, from fold_ext"),
    ],
)
def test_doc_runs(doc, last_words, tmp_path):
    text = (ROOT / "docs" / doc).read_text()
    env = dict(
        os.environ,
        PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        TVM_EXTEND_REPO=str(ROOT),
    )
    ran = 0
    for lang, info, body in BLOCK.findall(text):
        info = info.strip()
        if info.startswith("file="):
            path = tmp_path / info[len("file=") :]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(body)
        elif lang == "bash" and info == "run":
            result = subprocess.run(
                ["bash", "-euo", "pipefail", "-c", body],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=600,
            )
            assert result.returncode == 0, f"{body}\n{result.stdout}\n{result.stderr}"
            ran += 1
    assert ran >= 2
    assert last_words in result.stdout
