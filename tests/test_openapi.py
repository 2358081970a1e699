"""The API's description (OpenAPI) and Swagger UI are for the Admin only; everyone else is refused. Every write
endpoint's body is described with the schema that validates it."""
import inspect
import re
from typing import Any

import pytest

from app.cases import schemas as case_schemas
from app.extensions import db
from app.kernel import workflow
from app.kernel.rest import PreventApi
from app.kernel.schemas import (
    Body,
    Bool,
    Choice,
    ChoiceList,
    Date,
    DateTime,
    IdList,
    Object,
    ObjectList,
    Text,
    Whole,
    openapi_body,
)
from app.kernel.validation import ApiPayload
from app.models import Case
from app.training import schemas as training_schemas
from tests.conftest import make_case


def test_the_admin_reads_the_openapi_document(api):
    answer = api("admin").get("/api/v1/_openapi")
    assert answer.status_code == 200
    paths = answer.get_json()["paths"]
    assert {"/api/v1/case/", "/api/v1/case/{pk}/transition", "/api/v1/report/board"} <= set(paths)


@pytest.mark.parametrize("username, status", [("staff", 403), ("officer", 403), ("lead", 403), ("governance", 403),
                                              (None, 401)])
def test_nobody_else_reads_it(api, username, status):
    assert api(username).get("/api/v1/_openapi").status_code == status


def test_swagger_ui_is_the_admins_and_served_from_the_app_itself(web):
    page = web("admin").get("/swagger/v1")
    assert page.status_code == 200 and "swagger-ui-bundle.js" in page.get_data(as_text=True)
    assert "unpkg" not in page.get_data(as_text=True) and "cdn" not in page.get_data(as_text=True).lower()
    assert web("lead").get("/swagger/v1").status_code == 403


# --- every write's body: documented by the schema that validates it ----------------------------------------------

# Writes that take no JSON body, each with its reason. Any other write endpoint of ours must declare its schema.
BODYLESS = {"TrainingRecordApi.verify": "verifying a record takes nothing but the record's id",
            "CaseApi.add_attachment": "a file sent as multipart/form-data (`file`), checked by the upload rules"}


def _write_endpoints(app) -> dict[str, tuple[Any, str, str]]:
    """Our API's write endpoints: (view, path, method) by endpoint. Flask-AppBuilder's own sign-in API parses its
    bodies with its own marshmallow schemas (tests/test_api_strict.py checks it)."""
    found = {}
    for rule in app.url_map.iter_rules():
        # (a rate limit wraps the alerts-in endpoint: the view is the API method under it)
        view = inspect.unwrap(app.view_functions[rule.endpoint], stop=lambda f: hasattr(f, "__self__"))
        if not isinstance(getattr(view, "__self__", None), PreventApi):
            continue
        for method in sorted(rule.methods & {"POST", "PUT", "PATCH", "DELETE"}):
            found[rule.endpoint] = (view, re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), method.lower())
    return found


def test_every_write_endpoint_is_documented_with_the_schema_it_validates_with(app, api):
    document = api("admin").get("/api/v1/_openapi").get_json()
    writes = _write_endpoints(app)
    assert len(writes) >= 17
    for endpoint, (view, path, method) in writes.items():
        operation = document["paths"][path][method]
        schema = getattr(view, "request_schema", None)
        if endpoint in BODYLESS:
            assert schema is None, endpoint
            assert "application/json" not in operation.get("requestBody", {}).get("content", {}), endpoint
            continue
        assert isinstance(schema, Body), f"{endpoint} declares no schema (@takes)"
        assert operation["requestBody"] == {
            "required": True, "content": {"application/json": {"schema": openapi_body(schema)}}}, endpoint


def test_the_document_shows_each_limit_and_choice_the_schemas_keep():
    """A spot check of the converter against the JSON Schema the contract has always shown."""
    body = openapi_body(case_schemas.ACTION_UPDATE)
    assert body == {
        "type": "object", "additionalProperties": False, "required": ["status"], "properties": {
            "status": {"type": "string", "enum": ["done", "cancelled"]},
            "completion_note": {"type": "string", "maxLength": case_schemas.ACTION_NOTE_MAX, "nullable": True},
            "version": {"type": "integer", "minimum": -2**31, "maximum": 2**31 - 1, "nullable": True}}}
    concern = openapi_body(case_schemas.CONCERN)["properties"]
    assert concern["description"] == {"type": "string", "maxLength": 20_000, "minLength": 1, "pattern": r"\S"}
    assert concern["occurred_at"] == {"type": "string", "format": "date-time"}
    assert concern["subject"]["nullable"] is True
    assert concern["subject"]["required"] == ["full_name", "subject_type"]
    assert concern["subject"]["properties"]["date_of_birth"] == {
        "anyOf": [{"type": "string", "format": "date", "nullable": True}, {"type": "string", "pattern": r"^\s*$"}]}
    # a page-only field (a file) is not part of the JSON body
    assert "certificate" not in openapi_body(training_schemas.COMPLETION)["properties"]


def test_each_events_own_body_is_part_of_the_body_the_document_shows():
    """The transition endpoint is described with every event's data; each event reads its own, with the schema
    made from the same workflow table: its fields are the described ones, each choice among the described."""
    described = case_schemas.EVENT.fields
    for row in workflow.TRANSITIONS:
        for name, field in workflow.row_schema(row).fields.items():
            wide = described[name]
            assert type(field) is type(wide), (row.event, name)
            if isinstance(field, Choice):
                assert set(field.choices) <= set(wide.choices), (row.event, name)
            if isinstance(field, Text):
                assert field.limit == wide.limit, (row.event, name)
    assert set(described["event"].choices) == set(workflow.EVENTS)


def _refused(field: Any) -> Any:
    """A value this field refuses."""
    if isinstance(field, Text):
        return "x" * (field.limit + 1)
    if isinstance(field, Choice):
        return "not-one-of-them"
    if isinstance(field, (Date, DateTime)):
        return "not a date"
    if isinstance(field, Bool):
        return "perhaps"
    if isinstance(field, Whole):
        return 2**31
    if isinstance(field, IdList):
        return "not a list"
    if isinstance(field, ChoiceList):
        return ["not-one-of-them"]
    if isinstance(field, Object):
        return {name: _refused(inner) for name, inner in field.schema.fields.items() if not inner.page_only}
    if isinstance(field, ObjectList):
        return [{name: _refused(inner) for name, inner in field.schema.fields.items() if not inner.page_only}]
    raise AssertionError(f"no refused value for {field!r}")


def _schema_errors(schema: Body, body: dict[str, Any]) -> dict[str, list[str]]:
    """What the schema alone says of this body (nested objects read too)."""
    loaded = schema.read(ApiPayload(body))
    for name, field in schema.fields.items():
        if isinstance(field, Object):
            loaded.nested(name)
        if isinstance(field, ObjectList):
            loaded.nested_list(name)
    return loaded.all_errors()


def _approve():
    return "/api/v1/retention/approve", {"subject_ids": [1], "reason": "Due"}, None


def _staff_record():
    subject_id = db.session.get(Case, make_case(subject={"full_name": "Sam Staff", "subject_type": "staff"})).subject_id
    return f"/api/v1/subject/{subject_id}/staff_record", {"staff": "sam@example.org"}, None


# The transition endpoint reads `event` and `version` itself (an unknown event or a stale version is a 409); the
# event's data is read with that event's own schema (checked above).
READ_BEFORE = {"event", "version"}


def test_each_write_refuses_every_value_its_schema_refuses(app, api, ctx):
    """For every write endpoint and every field of its schema: a value the schema refuses is refused by the endpoint
    with the schema's own words, so the schema in the document is the one that judges the body."""
    from tests.test_api_strict import WRITES, Write, client_for, send
    writes = [*WRITES, Write("approve erasure", "lead", "post", _approve, "id"),
              Write("link a staff record", "lead", "put", _staff_record, "id")]
    endpoints = _write_endpoints(app)
    adapter = app.url_map.bind("localhost")
    covered = set()
    for write in writes:
        url, payload, _ = write.prepare()
        endpoint, _ = adapter.match(url, method=write.method.upper())
        covered.add(endpoint)
        schema = endpoints[endpoint][0].request_schema
        checked = 0
        for name, field in schema.fields.items():
            if field.page_only or (endpoint.endswith("take_event") and name in READ_BEFORE) \
                    or (endpoint.endswith("take_event") and name not in payload):
                continue
            body = {**payload, name: _refused(field)}
            expected = {key: messages for key, messages in _schema_errors(schema, body).items()
                        if key == name or key.startswith(f"{name}.")}
            assert expected, (write.name, name)
            answer = send(client_for(api, write.role), write.method, url, body)
            assert answer.status_code == 422, (write.name, name, answer.get_json())
            got = answer.get_json()["message"]
            assert {key: got.get(key) for key in expected} == expected, (write.name, name)
            checked += 1
        assert checked, write.name
    assert covered == set(endpoints) - set(BODYLESS)
