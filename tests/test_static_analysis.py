"""bandit over the application code: no finding of medium or high severity."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parent.parent / "app"


@pytest.mark.slow
def test_bandit_finds_nothing_of_medium_or_high_severity():
    run = subprocess.run([sys.executable, "-m", "bandit", "-r", str(APP), "--severity-level", "medium", "-f", "json",
                          "-q"], capture_output=True, text=True, timeout=300, check=False)
    report = json.loads(run.stdout)
    assert report["errors"] == []
    assert [(r["filename"], r["line_number"], r["test_id"], r["issue_text"]) for r in report["results"]] == []
