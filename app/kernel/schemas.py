"""One marshmallow schema per write: it validates the body of the request (strictly from an API client, leniently from
a page's form) and, through `openapi_body()`, documents it in the OpenAPI description, so that each field's limit and
choices are written in one place.

The fields are our own. Each wraps a parser of app/kernel/validation.py, so the messages stay the product's: blank
(None, or only spaces) is missing, "This field is required." when it must be given; from an API client (an
`ApiPayload`) a value must come as the JSON type its field takes, and a key no field reads is refused as unknown or
as one the system sets. Cross-field and database checks stay in the use case, which adds its errors to what `read()`
returns and then calls `check()`: one InvalidData with every bad field, nested ones as `subject.full_name`.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, tzinfo
from typing import Any, cast

import marshmallow as ma

from app.kernel.errors import InvalidData
from app.kernel.validation import (
    BOOL_TYPES,
    FALSE_WORDS,
    JSON_TYPE_MESSAGES,
    LARGEST_INT,
    PROTECTED_FIELDS,
    PROTECTED_MESSAGE,
    TRUE_WORDS,
    UNKNOWN_MESSAGE,
    ApiPayload,
    choice_parser,
    is_blank,
    is_json_type,
    not_in_future,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_int,
    text_parser,
)

REQUIRED_MESSAGE = "This field is required."


# --- JSON Schema pieces, as the OpenAPI document shows them --------------------------------------------------------

def string(limit: int) -> dict[str, Any]:
    return {"type": "string", "maxLength": limit}


def one_of(choices: Iterable[str]) -> dict[str, Any]:
    return {"type": "string", "enum": list(choices)}


ID: dict[str, Any] = {"type": "integer", "minimum": 1, "maximum": LARGEST_INT}
WHOLE: dict[str, Any] = {"type": "integer", "minimum": -LARGEST_INT - 1, "maximum": LARGEST_INT}
# true/false, or the words that the parser reads as yes or no
BOOL: dict[str, Any] = {"anyOf": [{"type": "boolean"}, one_of(sorted(TRUE_WORDS | FALSE_WORDS))]}
DATE: dict[str, Any] = {"type": "string", "format": "date"}
DATE_TIME: dict[str, Any] = {"type": "string", "format": "date-time"}
# A blank optional value is read as not given: a date of birth left empty is "" from many clients.
BLANK: dict[str, Any] = {"type": "string", "pattern": r"^\s*$"}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    if "anyOf" in schema:
        return {"anyOf": [nullable(schema["anyOf"][0]), *schema["anyOf"][1:]]}
    return {**schema, "nullable": True}


# --- how one payload is being read ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Reading:
    strict: bool  # an API client's JSON (ApiPayload), not a page's form
    zone: tzinfo  # a date and time without a zone is read in this one


_LENIENT = _Reading(False, UTC)  # outside read(): as a page's form
_READING: ContextVar[_Reading | None] = ContextVar("schema_reading", default=None)


def _reading() -> _Reading:
    return _READING.get() or _LENIENT


def reading_strictly() -> bool:
    return _reading().strict


# --- fields --------------------------------------------------------------------------------------------------------

class Parsed(ma.fields.Field):
    """A field read by one parser (ValueError: the message for the user). Blank is missing; from an API client, a
    value of another JSON type than `json_type` is refused with the type's message before it is parsed."""

    default_error_messages = {"required": REQUIRED_MESSAGE}
    json_type: Any = str

    def __init__(self, parse: Callable[[Any], Any] | None = None, *, json: dict[str, Any] | None = None,
                 page_only: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        self._parser = parse
        self._json = json
        self.page_only = page_only  # sent by a page's form only (a file): not part of the JSON body

    def parse(self, raw: Any) -> Any:
        assert self._parser is not None, "a Parsed field needs a parser"  # a programming error
        return self._parser(raw)

    def json_schema(self) -> dict[str, Any]:
        return dict(self._json or {"type": "string"})

    def deserialize(self, value: Any, attr: str | None = None, data: Mapping[str, Any] | None = None,
                    **kwargs: Any) -> Any:
        return super().deserialize(ma.missing if is_blank(value) else value, attr, data, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> Any:
        if reading_strictly() and not is_json_type(value, self.json_type):
            raise ma.ValidationError(JSON_TYPE_MESSAGES[self.json_type])
        try:
            return self.parse(value)
        except ValueError as exc:
            raise ma.ValidationError(str(exc)) from None


class Text(Parsed):
    """Text of at most `limit` characters (trimmed); `check` may refine it (an email address ...)."""

    def __init__(self, limit: int, *, check: Callable[[str], str] | None = None, format: str | None = None,
                 **kwargs: Any):
        super().__init__(**kwargs)
        self.limit, self.check, self.format = limit, check, format
        self._text = text_parser(limit)

    def parse(self, raw: Any) -> str:
        text = self._text(raw)
        return self.check(text) if self.check else text

    def json_schema(self) -> dict[str, Any]:
        return {**string(self.limit), **({"format": self.format} if self.format else {})}


class Choice(Parsed):
    """One of `choices`. `exact`: the value as sent, not trimmed."""

    def __init__(self, choices: Iterable[str], *, exact: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        self.choices = tuple(choices)
        self.exact = exact
        self._choice = choice_parser(self.choices)

    def parse(self, raw: Any) -> str:
        if self.exact:
            if raw not in self.choices:
                raise ValueError("Choose one of: " + ", ".join(self.choices) + ".")
            return raw
        return self._choice(raw)

    def json_schema(self) -> dict[str, Any]:
        return one_of(self.choices)


class Date(Parsed):
    """A date as YYYY-MM-DD; `past`: not after today."""

    def __init__(self, *, past: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        self.past = past

    def parse(self, raw: Any) -> Any:
        value = parse_date(raw)
        return not_in_future(value) if self.past else value

    def json_schema(self) -> dict[str, Any]:
        return dict(DATE)


class DateTime(Parsed):
    """A date and time (ISO 8601), in UTC; one without a zone is read in the zone the reader names (UTC for the API,
    UK time for the pages). `past`: not in the future."""

    def __init__(self, *, past: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        self.past = past

    def parse(self, raw: Any) -> Any:
        value = parse_datetime(raw, _reading().zone)
        return not_in_future(value) if self.past else value

    def json_schema(self) -> dict[str, Any]:
        return dict(DATE_TIME)


class Bool(Parsed):
    """true/false, or yes/no and the other words parse_bool knows."""

    json_type = BOOL_TYPES

    def parse(self, raw: Any) -> bool:
        return parse_bool(raw)

    def json_schema(self) -> dict[str, Any]:
        return {"anyOf": [dict(part) for part in BOOL["anyOf"]]}


class Whole(Parsed):
    """A whole number the database's INTEGER holds (a version ...)."""

    json_type = int

    def parse(self, raw: Any) -> int:
        return parse_int(raw)

    def json_schema(self) -> dict[str, Any]:
        return dict(WHOLE)


class Id(Whole):
    """The id of a record (whether there is one, and whether this user may use it, is the use case's to say)."""

    def json_schema(self) -> dict[str, Any]:
        return dict(ID)


class Upload(Parsed):
    """A file posted with a page's form (a werkzeug FileStorage); the use case reads and checks its content."""

    def __init__(self, message: str, **kwargs: Any):
        super().__init__(page_only=True, **kwargs)
        self.message = message

    def parse(self, raw: Any) -> Any:
        if not hasattr(raw, "stream"):
            raise ValueError(self.message)
        return raw


class IdList(Parsed):
    """A list of record ids. With `empty`, at least one positive id is needed and `empty` says so; without it, the
    list may be left out or empty. `bad`: the message for anything else."""

    def __init__(self, *, bad: str, empty: str | None = None, **kwargs: Any):
        super().__init__(required=empty is not None, **kwargs)
        self.bad, self.empty = bad, empty

    def deserialize(self, value: Any, attr: str | None = None, data: Mapping[str, Any] | None = None,
                    **kwargs: Any) -> list[int]:
        raw = None if value is ma.missing else value
        if self.empty is not None:
            if not isinstance(raw, list) or not raw:
                raise ma.ValidationError(self.empty)
        else:
            raw = raw or []
            if not isinstance(raw, list):
                raise ma.ValidationError(self.bad)
        try:
            ids = sorted({parse_int(item) for item in raw})
        except ValueError:
            raise ma.ValidationError(self.bad) from None
        if self.empty is not None and not all(i > 0 for i in ids):  # no record has such an id
            raise ma.ValidationError(self.bad)
        return ids

    def json_schema(self) -> dict[str, Any]:
        return {"type": "array", "items": dict(ID), **({"minItems": 1} if self.empty is not None else {})}


class ChoiceList(Parsed):
    """Some of `choices`, at least one (`empty` says so), in the order of `choices`. A page sends one ticked box as
    a single value; an API client sends a list."""

    def __init__(self, choices: Iterable[str], *, empty: str, **kwargs: Any):
        super().__init__(required=True, **kwargs)
        self.choices, self.empty = tuple(choices), empty

    def deserialize(self, value: Any, attr: str | None = None, data: Mapping[str, Any] | None = None,
                    **kwargs: Any) -> list[str]:
        raw = (None if value is ma.missing else value) or []
        if isinstance(raw, str) and not reading_strictly():
            raw = [raw]
        if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw) \
                or not set(raw) <= set(self.choices):
            raise ma.ValidationError("Choose from: " + ", ".join(self.choices) + ".")
        if not raw:
            raise ma.ValidationError(self.empty)
        return [item for item in self.choices if item in raw]

    def json_schema(self) -> dict[str, Any]:
        return {"type": "array", "items": one_of(self.choices), "minItems": 1}


class Object(Parsed):
    """An object with fields of its own (`schema`), taken as sent: the use case reads it with `Loaded.nested()`
    when it needs it (a concern's new subject is read only when no existing one is named)."""

    def __init__(self, schema: Body, **kwargs: Any):
        super().__init__(**kwargs)
        self.schema = schema

    def deserialize(self, value: Any, attr: str | None = None, data: Mapping[str, Any] | None = None,
                    **kwargs: Any) -> Any:
        return ma.missing if value is None else value

    def json_schema(self) -> dict[str, Any]:
        return openapi_body(self.schema)


class ObjectList(Parsed):
    """A list of objects, each with fields of its own (`schema`), at most `most` of them, taken as sent: the use case
    reads it with `Loaded.nested_list()`, which reports each object's errors as `name.<n>.field`. `bad`, `too_many`
    and `bad_item` say what is wrong with the list itself."""

    def __init__(self, schema: Body, *, most: int, bad: str, too_many: str, bad_item: str, **kwargs: Any):
        super().__init__(**kwargs)
        self.schema, self.most = schema, most
        self.bad, self.too_many, self.bad_item = bad, too_many, bad_item

    def deserialize(self, value: Any, attr: str | None = None, data: Mapping[str, Any] | None = None,
                    **kwargs: Any) -> Any:
        return ma.missing if value is None else value

    def json_schema(self) -> dict[str, Any]:
        return {"type": "array", "maxItems": self.most, "items": openapi_body(self.schema)}


# --- schemas -------------------------------------------------------------------------------------------------------

class Loaded:
    """What a schema read from one payload: the values of the good fields, and the errors so far. The use case adds
    its own errors (cross-field, database) and calls `check()`."""

    def __init__(self, schema: Body, payload: Mapping[str, Any], values: dict[str, Any],
                 errors: dict[str, list[str]], unknown: dict[str, list[str]], reading: _Reading):
        self.schema, self.payload, self.values = schema, payload, values
        self.strict, self.zone = reading.strict, reading.zone
        self.errors = {name: list(messages) for name, messages in errors.items()}
        self.unknown = unknown
        self.children: dict[str, Loaded] = {}

    def __getitem__(self, name: str) -> Any:
        return self.values.get(name)

    def get(self, name: str, default: Any = None) -> Any:
        """The value; `default` when it was left out, blank or bad."""
        return self.values.get(name, default)

    def raw(self, name: str) -> Any:
        """The value as sent."""
        return self.payload.get(name)

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def require(self, name: str) -> None:
        """A field this request must give (which the schema leaves optional: it depends on another field)."""
        if name not in self.values and name not in self.errors:
            self.error(name, REQUIRED_MESSAGE)

    def nested(self, name: str) -> Loaded | None:
        """The object sent as `name`, read with its field's schema, as strictly as this payload (None when it is
        not an object); its errors are reported as `name.field`."""
        details = self.raw(name)
        if not isinstance(details, dict):
            return None
        field = self.schema.fields[name]
        assert isinstance(field, Object)  # a programming error
        child = field.schema.read(ApiPayload(details) if self.strict else details, zone=self.zone)
        self.children[name] = child
        return child

    def nested_list(self, name: str) -> list[Loaded]:
        """The objects sent as the list `name`, each read with its field's schema as strictly as this payload; a
        page's rows left wholly blank (its spare rows) are skipped. Errors are reported as `name.<n>.field`."""
        field = self.schema.fields[name]
        assert isinstance(field, ObjectList)  # a programming error
        rows = self.raw(name)
        if rows is None:
            return []
        if not isinstance(rows, list):
            self.error(name, field.bad)
            return []
        if len(rows) > field.most:
            self.error(name, field.too_many)
            return []
        read = []
        for n, row in enumerate(rows):
            if not isinstance(row, dict):
                self.error(f"{name}.{n}", field.bad_item)
                continue
            if not self.strict and all(is_blank(row.get(key)) for key in field.schema.fields):
                continue
            child = field.schema.read(ApiPayload(row) if self.strict else row, zone=self.zone)
            self.children[f"{name}.{n}"] = child
            read.append(child)
        return read

    def all_errors(self) -> dict[str, list[str]]:
        """Field errors, keys no field reads (when strict), and the nested objects' errors."""
        errors = {name: list(messages) for name, messages in self.errors.items()}
        errors.update(self.unknown)
        for prefix, child in self.children.items():
            for name, messages in child.all_errors().items():
                errors.setdefault(f"{prefix}.{name}", []).extend(messages)
        return errors

    def check(self) -> None:
        errors = self.all_errors()
        if errors:
            raise InvalidData(errors)


class Body(ma.Schema):
    """A request body. Read it with `read()` (or `check()` when the use case adds no checks of its own)."""

    class Meta:
        unknown = ma.EXCLUDE  # refused by read() itself, with the product's messages, when strict

    @classmethod
    def of(cls, fields: Mapping[str, Parsed], *, name: str) -> Body:
        """A schema of these fields, for bodies made from a table or with names Python cannot declare (`from`)."""
        schema_class = cast(type[Body], type(name, (cls,), dict(fields)))
        return schema_class()

    def read(self, payload: Any, *, also: Iterable[str] = (), zone: tzinfo = UTC) -> Loaded:
        """Parses every field of `payload`. `also`: keys the caller reads itself (not unknown when strict)."""
        if not isinstance(payload, dict):
            raise InvalidData({"_schema": ["Send a JSON object."]})
        strict = isinstance(payload, ApiPayload)
        reading = _Reading(strict, zone)
        token = _READING.set(reading)
        try:
            values: dict[str, Any] = self.load(payload)
            errors: dict[str, list[str]] = {}
        except ma.ValidationError as exc:
            values = exc.valid_data if isinstance(exc.valid_data, dict) else {}
            errors = exc.messages if isinstance(exc.messages, dict) else {"_schema": list(exc.messages)}
        finally:
            _READING.reset(token)
        unknown: dict[str, list[str]] = {}
        if strict:
            known = set(self.fields) | set(also)
            unknown = {str(key): [PROTECTED_MESSAGE if key in PROTECTED_FIELDS else UNKNOWN_MESSAGE]
                       for key in payload if key not in known}
        return Loaded(self, payload, values, errors, unknown, reading)

    def check(self, payload: Any, **kwargs: Any) -> Loaded:
        """`read()`, refusing at once any bad field."""
        loaded = self.read(payload, **kwargs)
        loaded.check()
        return loaded


def openapi_body(schema: Body) -> dict[str, Any]:
    """The JSON Schema of the body `schema` reads, for the OpenAPI document: an object of exactly its fields (any
    other is refused with 422). Optional fields may be null, blank or left out; required text must not be blank."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, field in schema.fields.items():
        if not isinstance(field, Parsed):
            raise TypeError(f"{type(schema).__name__}.{name} is not one of app/kernel/schemas.py's fields")
        if field.page_only:
            continue
        spec = field.json_schema()
        if field.required:
            required.append(name)
            if spec.get("type") == "string" and "enum" not in spec and "format" not in spec:
                spec = {**spec, "minLength": 1, "pattern": r"\S"}
            properties[name] = spec
        else:
            properties[name] = nullable(spec) if "format" not in spec else {"anyOf": [nullable(spec), BLANK]}
    body: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        body["required"] = required
    return body
