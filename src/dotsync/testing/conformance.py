"""Check HTTP traffic against dotdigital's published OpenAPI specifications.

Every request a client sends, and every response it gets, is validated against *each* bundled spec that
defines the operation (``src/dotsync/testing/openapi/``: the v2 API, the per-area v2 reference specs, and
the v3 Insight data service). A mismatch raises :class:`SpecViolation` naming the spec, the operation
and what is wrong.

How: the specs are OpenAPI 3.0 / 3.1 (the "v2 swagger" file is in fact NSwag's OpenAPI 3.0.0, so no
Swagger 2 conversion is needed). Schemas are validated with ``openapi-schema-validator`` (the validator
under openapi-core) with OAS format checking; operations are matched by this module rather than by
openapi-core's path finder, because the v2 spec has templates that only the parameter type tells apart
(``/v2/contacts/{id}`` vs ``/v2/contacts/{email}``, ``/v2/programs/enrolments/{enrolmentId}`` vs
``{status}``), and because we report per spec.

Use::

    checker = default_checker()
    client = httpx.Client(event_hooks=checker.event_hooks())       # or async_event_hooks()
    ...
    print(checker.report())                                          # operations exercised / validated

Rules beyond the specs (documented in the reference, not in the specs), applied explicitly:

* An error status a spec does not declare (most v2 operations declare only success) must carry the
  platform's documented error body: v2 ``{"message": str}``, v3 ``{"errorCode", "description"[, "details"]}``.
* Known spec bugs and disagreements between specs are tolerated only through :data:`TOLERATED` (each
  entry says why) or fixed at load time by :data:`SPEC_PATCHES`. Tolerated findings are counted in the
  summary, never silently dropped.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any
from urllib.parse import unquote

import httpx
import yaml
from openapi_schema_validator import (
    OAS30ReadValidator,
    OAS30WriteValidator,
    OAS31Validator,
    oas30_format_checker,
    oas31_format_checker,
)

METHODS = ("get", "put", "post", "delete", "patch")
IGNORED_PREFIXES = ("/sandbox",)


class SpecViolation(AssertionError):
    """Traffic that does not match a published specification."""


@dataclass(frozen=True)
class Tolerance:
    """One known, explained disagreement between the specs and the platform's documented behaviour.

    A finding is tolerated when spec, method, path template and kind match and ``contains`` is a substring
    of the finding's message.
    """

    spec: str
    method: str
    path: str
    kind: str  # request-body, request-content-type, response-status, response-body, response-content-type
    reason: str
    contains: str = ""


TOLERATED: tuple[Tolerance, ...] = (
    # The v2 API spec declares the CSV upload as JSON ApiFileMedia only; dotdigital's prose docs
    # ("bulk import contacts") and the Magento connector send multipart/form-data with a `file` part. The
    # multipart form is checked by _check_multipart instead.
    Tolerance(
        "dotdigital-v2-api-swagger",
        "POST",
        "/v2/address-books/{addressBookId}/contacts/import",
        "request-content-type",
        "multipart upload documented in prose, absent from the spec",
    ),
    Tolerance(
        "dotdigital-v2-api-swagger",
        "POST",
        "/v2/address-books/{addressBookId}/contacts/import/with-merge-option/{mergeOption}",
        "request-content-type",
        "multipart upload documented in prose, absent from the spec",
    ),
    Tolerance(
        "Dotdigital-dotdigital-lists-address-books-2.0.0-resolved",
        "POST",
        "/v2/address-books/{id}/contacts/import/with-merge-option/{mergeOption}",
        "request-content-type",
        "multipart upload documented in prose, absent from the spec",
    ),
    Tolerance(
        "Dotdigital-dotdigital-email-contacts-2.0.0-resolved",
        "POST",
        "/v2/contacts/import",
        "request-content-type",
        "multipart upload documented in prose, absent from the spec",
    ),
    Tolerance(
        "dotdigital-v2-api-swagger",
        "POST",
        "/v2/contacts/import",
        "request-content-type",
        "multipart upload documented in prose, absent from the spec",
    ),
    # Success codes on which the reference spec (RD) and the v2 API spec (generated from the controllers)
    # disagree; the sandbox answers the v2 API spec's code.
    Tolerance(
        "email-campaigns",
        "POST",
        "/v2/campaigns/send",
        "response-status",
        "reference spec says 200, the v2 API spec 202 (the sandbox answers 202)",
    ),
    Tolerance(
        "Dotdigital-dotdigital-lists-address-books-2.0.0-resolved",
        "POST",
        "/v2/address-books",
        "response-status",
        "reference spec says 200, the v2 API spec 201 (the sandbox answers 201)",
    ),
    Tolerance(
        "Dotdigital-dotdigital-email-contacts-2.0.0-resolved",
        "PUT",
        "/v2/contacts/{id}",
        "response-status",
        "reference spec says 201, the v2 API spec 200 (the sandbox answers 200)",
    ),
    # The reference spec types the {date} of modified-since as a date, the v2 API spec as a date-time (which
    # the Magento connector sends). A client can satisfy only one; the sandbox accepts both.
    Tolerance(
        "Dotdigital-dotdigital-email-contacts-2.0.0-resolved",
        "GET",
        "/v2/contacts/modified-since/{date}",
        "request-parameter",
        "date in one spec, date-time in the other",
        "is not a 'date'",
    ),
    # The campaigns reference spec gives `skip` a minimum of 1, yet skip=0 is the first page (reference §2:
    # "skip must not be negative"; the v2 API spec's default is 0).
    Tolerance(
        "email-campaigns",
        "GET",
        "/v2/campaigns",
        "request-parameter",
        "skip minimum 1 contradicts the paging rules (first page is skip=0)",
        "0 is less than the minimum of 1",
    ),
    # report-faults is a CSV file; the three specs give three media types for it.
    Tolerance(
        "Dotdigital-dotdigital-email-contacts-2.0.0-resolved",
        "GET",
        "/v2/contacts/import/{id}/report-faults",
        "response-content-type",
        "CSV declared as text/plain here, application/octet-stream in the v2 spec",
    ),
    Tolerance(
        "dotdigital-v2-api-swagger",
        "GET",
        "/v2/programs/enrolments/{enrolmentId}/report-faults",
        "response-content-type",
        "CSV declared as octet-stream here, text/csv in the programs spec",
    ),
    # The v3 import-status enum says NotStarted|Processing|Complete|Failed, but the same spec's example and
    # the Magento connector use "Finished" (reference §4.2, UNCONFIRMED which the live API sends).
    Tolerance(
        "dotdigital-insight-data-service",
        "GET",
        "/insightData/v3/import/{importId}",
        "response-body",
        "spec example and Magento connector use Finished; the enum says Complete",
        "'Finished' is not one of",
    ),
    # Single-record upserts: the spec types the body as a JSON *string*, but its prose and the Magento
    # connector send the record object itself.
    Tolerance(
        "dotdigital-insight-data-service",
        "PUT",
        "/insightData/v3/contacts/{identifier}/{value}/{collectionName}/{recordId}",
        "request-body",
        "the body is the record object; the spec's type: string is a documentation artefact",
        "is not of type 'string'",
    ),
    Tolerance(
        "dotdigital-insight-data-service",
        "PUT",
        "/insightData/v3/account/{collectionName}/{recordId}",
        "request-body",
        "the body is the record object; the spec's type: string is a documentation artefact",
        "is not of type 'string'",
    ),
)


def _drop_closed_allof_branches(spec: dict[str, Any]) -> None:
    """Spec bug: insight record schemas combine ``allOf`` branches that each forbid extra properties.

    ``upsertInsightRecord`` / ``returnedInsightRecord`` say ``additionalProperties: false`` in every branch,
    which no record (key + json + contactIdentity) can satisfy.
    """
    schemas = spec.get("components", {}).get("schemas", {})
    for name in ("upsertInsightRecord", "returnedInsightRecord"):
        for branch in schemas.get(name, {}).get("allOf", []):
            branch.pop("additionalProperties", None)


def _drop_slashed_patterns(spec: dict[str, Any]) -> None:
    """Spec bug: the ``x-ddg-integration-token`` pattern is written ``/^...$/``; drop it.

    The JavaScript regex-literal slashes mean no token could ever match.
    """
    for ops in spec.get("paths", {}).values():
        for op in ops.values():
            if isinstance(op, dict):
                for param in op.get("parameters", []):
                    schema = param.get("schema", {})
                    if isinstance(schema.get("pattern"), str) and schema["pattern"].startswith("/^"):
                        del schema["pattern"]


SPEC_PATCHES: tuple[Callable[[dict[str, Any]], None], ...] = (
    _drop_closed_allof_branches,
    _drop_slashed_patterns,
)

SPEC_FILES = (
    "dotdigital-v2-api-swagger.json",
    "Dotdigital-dotdigital-email-contacts-2.0.0-resolved.yaml",
    "Dotdigital-dotdigital-lists-address-books-2.0.0-resolved.yaml",
    "Dotdigital-dotdigital-contact-data-fields-2.0.0-resolved-1.yaml",
    "accounts-and-utilities.yaml",
    "email-campaigns.yaml",
    "programs.yaml",
    "sms-campaigns.yaml",
    "dotdigital-insight-data-service.json",
)


@dataclass
class Operation:
    """One operation of one spec."""

    spec: str
    method: str
    path: str
    regex: re.Pattern[str]
    literal: int
    op: dict[str, Any]
    params: dict[str, dict[str, Any]]


@dataclass
class Spec:
    """A loaded specification with its operations and schema validators."""

    name: str
    doc: dict[str, Any]
    operations: list[Operation] = field(default_factory=list)

    @property
    def v31(self) -> bool:
        """Whether this is an OpenAPI 3.1 document (JSON Schema 2020-12)."""
        return str(self.doc.get("openapi", "")).startswith("3.1")

    def errors(self, schema: dict[str, Any], value: Any, *, write: bool) -> list[str]:
        """Schema errors of ``value`` (``write``: as a request, else as a response), as readable lines."""
        wrapped = {**schema, "components": self.doc.get("components", {})}
        if self.v31:
            validator: Any = OAS31Validator(wrapped, format_checker=oas31_format_checker)
        else:
            cls = OAS30WriteValidator if write else OAS30ReadValidator
            validator = cls(wrapped, format_checker=oas30_format_checker)
        out = []
        for err in sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path)):
            where = "/".join(str(p) for p in err.absolute_path) or "(body)"
            out.append(f"{where}: {err.message[:300]}")
        return out


def _load(name: str, text: str) -> Spec:
    doc = (
        json.loads(text)
        if name.endswith(".json")
        else yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    )
    for patch in SPEC_PATCHES:
        patch(doc)
    spec = Spec(name.rsplit(".", 1)[0], doc)
    for path, ops in doc.get("paths", {}).items():
        shared = ops.get("parameters", [])
        for method in METHODS:
            op = ops.get(method)
            if op is None:
                continue
            params = {}
            for p in [*shared, *op.get("parameters", [])]:
                p = _deref(doc, p)
                params[f"{p['in']}:{p['name']}"] = p
            pattern = "^" + re.sub(r"\\\{[^/]+?\\\}", "([^/]+)", re.escape(path.rstrip("/"))) + "/?$"
            literal = sum(1 for seg in path.split("/") if seg and not seg.startswith("{"))
            spec.operations.append(
                Operation(spec.name, method.upper(), path, re.compile(pattern), literal, op, params)
            )
    return spec


def _deref(doc: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node and node["$ref"].startswith("#/"):
        target: Any = doc
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        node = target
    return node


def _cast(value: str, schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    if kind == "integer":
        return int(value)
    if kind == "number":
        return float(value)
    if kind == "boolean":
        if value not in ("true", "false"):
            raise ValueError(value)
        return value == "true"
    return value


@dataclass
class Finding:
    """One mismatch against one spec."""

    spec: str
    operation: str
    kind: str
    message: str

    def __str__(self) -> str:
        return f"[{self.spec}] {self.operation} {self.kind}: {self.message}"


class Conformance:
    """Validates traffic against the bundled specs and counts what it saw.

    Args:
        specs: the loaded specs (default: every file of :data:`SPEC_FILES`).
        raise_on_violation: raise :class:`SpecViolation` from the hooks (default) or only record.
    """

    def __init__(self, specs: Iterable[Spec] | None = None, raise_on_violation: bool = True) -> None:
        self.specs = list(specs) if specs is not None else load_specs()
        self.raise_on_violation = raise_on_violation
        self._lock = threading.Lock()
        self.requests: Counter[str] = Counter()
        self.responses: Counter[str] = Counter()
        self.tolerated: Counter[str] = Counter()
        self.violations: list[Finding] = []
        self.unmatched: Counter[str] = Counter()

    # -- matching ---------------------------------------------------------------------------------------
    def match(self, method: str, path: str) -> list[tuple[Operation, dict[str, str]]]:
        """The best-matching operation of each spec for ``method path`` (with its path parameters)."""
        found = []
        for spec in self.specs:
            best: tuple[Operation, dict[str, str]] | None = None
            for op in spec.operations:
                if op.method != method:
                    continue
                m = op.regex.match(path.rstrip("/") or "/")
                if not m:
                    continue
                names = re.findall(r"\{([^/]+?)\}", op.path)
                values = dict(zip(names, (unquote(v) for v in m.groups()), strict=True))
                if not self._params_fit(spec, op, values):
                    continue
                if best is None or op.literal > best[0].literal:
                    best = (op, values)
            if best is not None:
                found.append(best)
        return found

    def _params_fit(self, spec: Spec, op: Operation, values: dict[str, str]) -> bool:
        for name, value in values.items():
            param = op.params.get(f"path:{name}")
            if param is None:
                continue
            schema = _deref(spec.doc, param.get("schema", {}))
            try:
                cast = _cast(value, schema)
            except ValueError:
                return False
            if spec.errors(schema, cast, write=True):
                return False
        return True

    # -- validation -------------------------------------------------------------------------------------
    def validate_request(self, request: httpx.Request) -> list[Finding]:
        """Validate one request against every spec that defines its operation; returns the violations."""
        path = request.url.path
        if path.startswith(IGNORED_PREFIXES):
            return []
        matches = self.match(request.method, path)
        key = f"{request.method} {path}"
        if not matches:
            with self._lock:
                self.unmatched[key] += 1
            return self._settle([Finding("-", key, "operation", "no published spec defines this operation")])
        findings: list[Finding] = []
        for op, values in matches:
            findings += self._request_findings(self._spec(op.spec), op, values, request)
        with self._lock:
            for op, _ in matches:
                self.requests[f"{op.method} {op.path}"] += 1
        return self._settle(findings)

    def validate_response(self, response: httpx.Response) -> list[Finding]:
        """Validate one response (its request must be attached) against every spec defining the operation."""
        request = response.request
        path = request.url.path
        if path.startswith(IGNORED_PREFIXES):
            return []
        findings: list[Finding] = []
        matches = self.match(request.method, path)
        for op, _ in matches:
            findings += self._response_findings(self._spec(op.spec), op, response)
        with self._lock:
            for op, _ in matches:
                self.responses[f"{op.method} {op.path} -> {response.status_code}"] += 1
        return self._settle(findings)

    def check(self, response: httpx.Response) -> None:
        """Validate a request/response pair and raise :class:`SpecViolation` on any mismatch."""
        findings = self.validate_request(response.request) + self.validate_response(response)
        if findings:
            raise SpecViolation("\n".join(str(f) for f in findings))

    def _spec(self, name: str) -> Spec:
        return next(s for s in self.specs if s.name == name)

    def _settle(self, findings: list[Finding]) -> list[Finding]:
        kept = []
        for f in findings:
            tol = self._tolerance(f)
            with self._lock:
                if tol is not None:
                    self.tolerated[f"{f.operation} {f.kind}: {tol.reason}"] += 1
                    continue
                self.violations.append(f)
            kept.append(f)
        if kept and self.raise_on_violation:
            raise SpecViolation("\n".join(str(f) for f in kept))
        return kept

    @staticmethod
    def _tolerance(f: Finding) -> Tolerance | None:
        for t in TOLERATED:
            if (
                t.spec == f.spec
                and f.operation == f"{t.method} {t.path}"
                and t.kind == f.kind
                and t.contains in f.message
            ):
                return t
        return None

    def _request_findings(
        self, spec: Spec, op: Operation, values: dict[str, str], request: httpx.Request
    ) -> list[Finding]:
        name = f"{op.method} {op.path}"
        out: list[Finding] = []

        def add(kind: str, message: str) -> None:
            out.append(Finding(spec.name, name, kind, message))

        for key, param in op.params.items():
            where, pname = key.split(":", 1)
            schema = _deref(spec.doc, param.get("schema", {}))
            if where == "path":
                raw: str | None = values.get(pname)
            elif where == "query":
                raw = request.url.params.get(pname)
            elif where == "header":
                raw = request.headers.get(pname)
            else:
                continue
            if raw is None:
                if param.get("required") and where != "path":
                    add("request-parameter", f"required {where} parameter {pname!r} is missing")
                continue
            try:
                value = _cast(raw, schema)
            except ValueError:
                add(
                    "request-parameter",
                    f"{where} parameter {pname!r}={raw!r} is not a valid {schema.get('type')}",
                )
                continue
            for err in spec.errors(schema, value, write=True):
                add("request-parameter", f"{where} parameter {pname!r}: {err}")
        body_spec = _deref(spec.doc, op.op.get("requestBody"))
        content = request.content if request.method not in ("GET", "DELETE") else b""
        if not body_spec:
            return out
        declared = body_spec.get("content", {})
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if not content:
            if body_spec.get("required"):
                add("request-body", "the request body is required")
            return out
        if media == "multipart/form-data":
            problem = _check_multipart(request)
            if problem:
                add("request-body", problem)
        if media not in declared:
            add("request-content-type", f"{media or 'no content type'} is not one of {sorted(declared)}")
            return out
        schema = declared[media].get("schema")
        if schema and media == "application/json":
            try:
                body = json.loads(content)
            except ValueError:
                add("request-body", "the body is not valid JSON")
                return out
            for err in spec.errors(schema, body, write=True):
                add("request-body", err)
        return out

    def _response_findings(self, spec: Spec, op: Operation, response: httpx.Response) -> list[Finding]:
        name = f"{op.method} {op.path}"
        status = response.status_code
        responses = op.op.get("responses", {})
        declared = (
            responses.get(str(status)) or responses.get(f"{str(status)[0]}XX") or responses.get("default")
        )
        v3 = "/v3" in op.path
        if declared is None:
            if status >= 400:
                problem = _check_error_envelope(response, v3)
                return [Finding(spec.name, name, "response-body", problem)] if problem else []
            return [
                Finding(spec.name, name, "response-status", f"{status} is not declared ({sorted(responses)})")
            ]
        declared = _deref(spec.doc, declared)
        content = declared.get("content") or {}
        if status == 204:  # a 204 has no body whatever the spec declares (RFC 9110 §15.3.5)
            return (
                [Finding(spec.name, name, "response-body", "204 must have no body")]
                if response.content
                else []
            )
        if not content:
            return []
        media = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if media not in content:
            problem = f"{media or 'none'} is not one of {sorted(content)}"
            return [Finding(spec.name, name, "response-content-type", problem)]
        schema = content[media].get("schema")
        if not schema or media != "application/json":
            return []
        try:
            body = response.json()
        except ValueError:
            return [Finding(spec.name, name, "response-body", "the body is not valid JSON")]
        return [
            Finding(spec.name, name, "response-body", err) for err in spec.errors(schema, body, write=False)
        ]

    # -- hooks and summary ------------------------------------------------------------------------------
    def event_hooks(self) -> dict[str, list[Callable[..., Any]]]:
        """Event hooks for a sync ``httpx.Client``: validate every request and response."""

        def on_request(request: httpx.Request) -> None:
            request.read()
            self.validate_request(request)

        def on_response(response: httpx.Response) -> None:
            response.read()
            self.validate_response(response)

        return {"request": [on_request], "response": [on_response]}

    def async_event_hooks(self) -> dict[str, list[Callable[..., Any]]]:
        """Event hooks for an ``httpx.AsyncClient``."""

        async def on_request(request: httpx.Request) -> None:
            await request.aread()
            self.validate_request(request)

        async def on_response(response: httpx.Response) -> None:
            await response.aread()
            self.validate_response(response)

        return {"request": [on_request], "response": [on_response]}

    def summary(self) -> dict[str, Any]:
        """Operations exercised (per spec template), responses per status, tolerated findings, violations."""
        with self._lock:
            return {
                "operations": len(self.requests),
                "requests_validated": sum(self.requests.values()),
                "responses_validated": sum(self.responses.values()),
                "by_operation": dict(sorted(self.requests.items())),
                "by_response": dict(sorted(self.responses.items())),
                "tolerated": dict(self.tolerated),
                "violations": [str(v) for v in self.violations],
                "unmatched": dict(self.unmatched),
            }

    def report(self) -> str:
        """A human-readable summary."""
        s = self.summary()
        lines = [
            f"{s['operations']} operation(s) exercised; {s['requests_validated']} request and "
            f"{s['responses_validated']} response validations; {len(s['violations'])} violation(s).",
            *(f"  {op}: {n}" for op, n in s["by_operation"].items()),
        ]
        if s["tolerated"]:
            lines.append("Tolerated (see TOLERATED in dotsync.testing.conformance):")
            lines += [f"  {k}: {n}" for k, n in s["tolerated"].items()]
        lines += [f"VIOLATION {v}" for v in s["violations"]]
        return "\n".join(lines)


def _check_multipart(request: httpx.Request) -> str | None:
    """The documented multipart rules: one part named ``file`` with a ``filename``."""
    text = request.content.decode("latin-1")
    if not re.search(r'Content-Disposition: form-data; name="file"; filename="[^"]+"', text, re.IGNORECASE):
        return "the multipart body needs a part named 'file' with a filename (else: 400 'file must be valid')"
    return None


def _check_error_envelope(response: httpx.Response, v3: bool) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return f"error {response.status_code} without a JSON body"
    if v3:
        if not (
            isinstance(body, dict)
            and isinstance(body.get("errorCode"), str)
            and isinstance(body.get("description"), str)
        ):
            shape = "{errorCode, description[, details]}"
            return f"v3 error {response.status_code} must be {shape}, got {body!r:.200}"
        return None
    if not (isinstance(body, dict) and set(body) == {"message"} and isinstance(body["message"], str)):
        return f'v2 error {response.status_code} must be {{"message": str}}, got {body!r:.200}'
    return None


def load_specs() -> list[Spec]:
    """Load and patch every bundled spec."""
    folder = resources.files("dotsync.testing").joinpath("openapi")
    return [_load(name, folder.joinpath(name).read_text(encoding="utf-8")) for name in SPEC_FILES]


@lru_cache(maxsize=1)
def _cached_specs() -> tuple[Spec, ...]:
    return tuple(load_specs())


def default_checker(raise_on_violation: bool = True) -> Conformance:
    """A new checker over the (cached) bundled specs; loading them takes about a second the first time."""
    return Conformance(_cached_specs(), raise_on_violation=raise_on_violation)
