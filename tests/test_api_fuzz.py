"""schemathesis against the OpenAPI document the app serves: generated requests to every case, report, employer and
training operation, on a live server, as the Prevent Lead, an officer and a member of staff, with every check: no server
error, every answer's status, content type and body as the document says, schema-invalid requests refused, and
bad or missing tokens refused."""
import json
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

FUZZED = r"^/api/v1/(case|action|subject|report|access_log|audit|employer|training_record|reference|retention)"
ST = Path(sys.executable).with_name("st")
# positive_data_acceptance expects every schema-valid request to succeed. The contract (api.md) answers 422 for
# values that no JSON schema can judge: an id of a record that does not exist or that this user may not use
# (owner_id, user_id, course_id, subject_id, director_id ...), a date in the future, a period that ends before it
# starts, a name taken already. Those answers are documented (422) and checked by status_code_conformance.
EXCLUDED_CHECKS = "positive_data_acceptance"

# The live server's threads connect to the database themselves: each run has a database of its own (`commits`).
pytestmark = [pytest.mark.slow, pytest.mark.commits]


@pytest.fixture()
def live_url(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


# Generated (fuzzing phase) requests per operation. The coverage phase, which sends every operation its boundary
# and schema-invalid cases (about 2,000 requests a role), does not depend on it; the test asserts below that every
# operation was sent requests in both phases, so a lower number never leaves an operation out.
MAX_EXAMPLES = "4"


def operations_sent_requests(report: Path) -> dict[str, set[str]]:
    """From schemathesis's NDJSON report: by phase, the operations ("POST /api/v1/case/") that got a request."""
    sent: dict[str, set[str]] = {}
    for line in report.read_text().splitlines():
        scenario = json.loads(line).get("ScenarioFinished")
        if scenario and scenario["recorder"].get("interactions"):
            sent.setdefault(scenario["phase"], set()).add(scenario["recorder"]["label"])
    return sent


@pytest.mark.parametrize("role", ["lead", "officer", "staff"])
def test_generated_requests_get_the_answers_the_document_promises(api, live_url, tmp_path, role):
    openapi = api("admin").get("/api/v1/_openapi").get_json()  # the Admin's to read
    document, report = tmp_path / "openapi.json", tmp_path / "report.ndjson"
    document.write_text(json.dumps(openapi))
    run = subprocess.run(
        [str(ST), "run", str(document), "--url", live_url, "-H", f"Authorization: Bearer {api(role).token}",
         "--checks", "all", "--exclude-checks", EXCLUDED_CHECKS, "--max-examples", MAX_EXAMPLES,
         "--include-path-regex", FUZZED, "--seed", "20261125", "--no-color",
         "--report", "ndjson", "--report-ndjson-path", str(report)],
        capture_output=True, text=True, timeout=900, check=False)
    print(run.stdout[run.stdout.find("SUMMARY"):])  # shown by pytest -rP, and in CI's log on failure
    assert run.returncode == 0, run.stdout[-8000:]
    assert " passed" in run.stdout

    fuzzed = {f"{method.upper()} {path}" for path, item in openapi["paths"].items() if re.match(FUZZED, path)
              for method in item if method in {"get", "put", "post", "delete", "patch"}}
    assert len(fuzzed) > 30
    sent = operations_sent_requests(report)
    for phase in ("coverage", "fuzzing"):
        assert not fuzzed - sent.get(phase, set()), f"{phase}: operations sent no request"
