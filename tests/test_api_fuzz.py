"""schemathesis against the OpenAPI document the app serves: generated requests to every case, report, employer and
training operation, as the Prevent Lead, on a live server; no answer may be a server error."""
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

FUZZED = r"^/api/v1/(case|action|subject|report|access_log|audit|employer|training_record|reference)"
ST = Path(sys.executable).with_name("st")


@pytest.fixture()
def live_url(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


def test_no_generated_request_gets_a_server_error(api, live_url, tmp_path):
    document = tmp_path / "openapi.json"
    document.write_text(json.dumps(api("admin").get("/api/v1/_openapi").get_json()))  # the Admin's to read
    run = subprocess.run(
        [str(ST), "run", str(document), "--url", live_url, "-H", f"Authorization: Bearer {api('lead').token}",
         "--checks", "not_a_server_error", "--max-examples", "10", "--include-path-regex", FUZZED,
         "--seed", "20261125", "--no-color"],
        capture_output=True, text=True, timeout=900, check=False)
    assert run.returncode == 0, run.stdout[-6000:]
    assert " passed" in run.stdout
