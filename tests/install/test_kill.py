"""A real SIGKILL in the middle of ``install``: the next run resumes and ends with the same rows."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHILD = [sys.executable, str(Path(__file__).with_name("child.py"))]


def run(db: Path, *args: str) -> str:
    done = subprocess.run([*CHILD, str(db), *args], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.mark.slow
def test_sigkill_mid_install_then_rerun_gives_the_same_rows(tmp_path):
    killed, reference = tmp_path / "killed.sqlite3", tmp_path / "reference.sqlite3"
    run(killed, "build")
    shutil.copy(killed, reference)
    run(reference, "install")
    expected = json.loads(run(reference, "snapshot"))

    proc = subprocess.Popen(
        [*CHILD, str(killed), "install", "0.01"], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    chunks = 0
    assert proc.stdout is not None
    for line in proc.stdout:
        chunks += line.startswith("chunk")
        if chunks == 60:  # well inside the run (customers, guests and orders take over 100 chunks)
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert json.loads(run(killed, "snapshot")) != expected, "the kill must leave the install unfinished"

    assert "finished" in run(killed, "install")
    assert json.loads(run(killed, "snapshot")) == expected
    assert "finished" in run(killed, "install")  # and once more: nothing changes
    assert json.loads(run(killed, "snapshot")) == expected
