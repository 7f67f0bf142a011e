#!/usr/bin/env python3
"""Check recorded HTTP exchanges against the KSeF OpenAPI 3.0 spec.

    check_openapi.py SPEC.json DIR...             check every exchange in DIR/**/*.json
    check_openapi.py --self-test SPEC.json DIR    DIR/good/*.json must pass; each
                                                  DIR/bad/*.json must fail with a violation
                                                  containing its "_expect" text

An exchange is what `ksef::transport::Recorder` writes: method, api (false for a URL outside
the API base), path (OpenAPI form, `/v2` stripped), query, request {headers, body},
response {status, headers, body} or null, error. A body is {"json": value} or a note with
length and sha256 (XML, binary).

For an API exchange: the path is matched to its template (concrete paths before templated
ones, as OpenAPI says) and the method to an operation; path, query and header parameters
are checked (required ones present, values against their schemas); a Bearer-secured
operation needs an Authorization header; a JSON request body is validated against the
operation's requestBody schema; the response status must be declared, its content type
among the declared ones, and a JSON body is validated against that schema. The OpenAPI
declares no 5xx status anywhere: an undeclared 5xx answer (a server or gateway failure, as
the fault-injection tests provoke) is counted and reported, not a violation, and its body is
not checked (the request still is). A non-API
exchange (pre-signed upload/download URL) must carry no Authorization header.

OpenAPI 3.0 schemas are turned into JSON Schema draft 4 (what 3.0 schemas build on):
`nullable: true` admits null, readOnly properties may not be sent in requests and are not
required there, writeOnly ones likewise in responses; `format` is checked for date-time,
date, int32, int64, byte and uri. `$ref`s resolve through one `referencing` registry over
the whole document.

Every violation is printed as `FILE: METHOD PATH -> STATUS: WHERE POINTER: MESSAGE`; the
exit status is 1 when there is any (or when there was nothing to check).
"""
import base64
import glob
import json
import os
import re
import sys
from datetime import date, datetime
from urllib.parse import parse_qsl

import jsonschema
import referencing
import referencing.jsonschema

DOC_URI = "urn:ksef:openapi"
METHODS = ("get", "post", "put", "delete", "patch", "head", "options")

# --- OpenAPI 3.0 schema -> JSON Schema draft 4 ---------------------------------------------


def convert(node, direction):
    """A copy of `node` (any part of the document) with every schema converted for
    `direction` ('request' or 'response')."""
    if isinstance(node, list):
        return [convert(x, direction) for x in node]
    if not isinstance(node, dict):
        return node
    out = {k: convert(v, direction) for k, v in node.items()}
    props = out.get("properties")
    if isinstance(props, dict) and all(isinstance(v, dict) for v in props.values()):
        hidden = "readOnly" if direction == "request" else "writeOnly"
        banned = [k for k, v in node["properties"].items() if isinstance(v, dict) and v.get(hidden)]
        for k in banned:
            props[k] = {"not": {}, "description": f"{hidden}: not allowed in a {direction}"}
        if banned and isinstance(out.get("required"), list):
            out["required"] = [r for r in out["required"] if r not in banned]
            if not out["required"]:
                del out["required"]
    if out.pop("nullable", False) is True:
        if "enum" in out and None not in out["enum"]:
            out["enum"] = out["enum"] + [None]
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        elif "type" not in out:
            # `allOf: [{$ref}]` or `$ref` with nullable: null or the referenced schema.
            return {"anyOf": [{"type": "null"}, out]}
    return out


# --- formats -----------------------------------------------------------------------------

FORMATS = jsonschema.FormatChecker(formats=())
DATE_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(v):
    if not isinstance(v, str):
        return True
    if not DATE_TIME.match(v):
        raise ValueError("not an RFC 3339 date-time")
    head = v[:19].replace("t", "T")
    datetime.strptime(head, "%Y-%m-%dT%H:%M:%S")
    return True


@FORMATS.checks("date", raises=ValueError)
def _date(v):
    if isinstance(v, str):
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
            raise ValueError("not a full-date")
        date.fromisoformat(v)
    return True


@FORMATS.checks("int32")
def _int32(v):
    return not isinstance(v, int) or -(2**31) <= v < 2**31


@FORMATS.checks("int64")
def _int64(v):
    return not isinstance(v, int) or -(2**63) <= v < 2**63


@FORMATS.checks("byte", raises=ValueError)
def _byte(v):
    if isinstance(v, str):
        base64.b64decode(v, validate=True)
    return True


@FORMATS.checks("uri")
def _uri(v):
    return not isinstance(v, str) or re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", v) is not None


# --- the spec ----------------------------------------------------------------------------


class Spec:
    def __init__(self, path):
        try:
            with open(path, encoding="utf-8") as f:
                self.doc = json.load(f)
        except OSError as e:
            sys.exit(f"check_openapi: cannot read the OpenAPI spec: {e}")
        self.validators = {}
        for direction in ("request", "response"):
            converted = convert(self.doc, direction)
            resource = referencing.Resource(
                contents=converted, specification=referencing.jsonschema.DRAFT4
            )
            self.validators[direction] = referencing.Registry().with_resource(DOC_URI, resource)
        self.templates = []
        for template, item in self.doc["paths"].items():
            segs = template.strip("/").split("/")
            rx = "^/" + "/".join(
                "(?P<%s>[^/]+)" % s[1:-1] if s.startswith("{") else re.escape(s) for s in segs
            ) + "/?$"
            rank = tuple(1 if s.startswith("{") else 0 for s in segs)
            self.templates.append((rank, template, re.compile(rx)))
        self.templates.sort(key=lambda t: t[0])
        self.operations = {
            (m.upper(), t) for t, item in self.doc["paths"].items() for m in item if m in METHODS
        }

    def pointer(self, *parts):
        return "#/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts)

    def validate(self, direction, pointer, instance):
        """Errors of `instance` against the schema at `pointer` in the document."""
        registry = self.validators[direction]
        schema = {"$ref": DOC_URI + pointer}
        v = jsonschema.Draft4Validator(schema, registry=registry, format_checker=FORMATS)
        return sorted(v.iter_errors(instance), key=lambda e: list(e.absolute_path))

    def resolve(self, node):
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            assert ref.startswith("#/"), ref
            node = self.doc
            for part in ref[2:].split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def match(self, path):
        for _, template, rx in self.templates:
            m = rx.match(path)
            if m:
                return template, m.groupdict()
        return None, None


# --- checking one exchange ---------------------------------------------------------------


def header(headers, name):
    for n, v in headers or []:
        if n.lower() == name.lower():
            return v
    return None


def media_type(ct):
    return (ct or "").split(";")[0].strip().lower()


def coerce(value, schema):
    t = schema.get("type")
    try:
        if t == "integer":
            return int(value)
        if t == "number":
            return float(value)
        if t == "boolean" and value in ("true", "false"):
            return value == "true"
    except ValueError:
        pass
    return value


class Checker:
    def __init__(self, spec):
        self.spec = spec
        self.covered = set()
        self.checked = 0
        self.server_failures = 0

    def check(self, ex):
        """Violations (strings) of one exchange, each once."""
        self.checked += 1
        return list(dict.fromkeys(self.check_exchange(ex)))

    def check_exchange(self, ex):
        out = []
        req = ex.get("request") or {}
        if not ex.get("api", True):
            if header(req.get("headers"), "authorization") is not None:
                out.append("request: an Authorization header sent outside the API")
            return out
        method, path = ex["method"].upper(), ex["path"]
        template, params = self.spec.match(path)
        if template is None:
            return [f"no OpenAPI path matches {path}"]
        op = self.spec.doc["paths"][template].get(method.lower())
        if op is None:
            return [f"{template} has no {method} operation"]
        self.covered.add((method, template))
        op_ptr = ("paths", template, method.lower())
        out += self.check_parameters(template, op, params, ex.get("query") or "", req)
        out += self.check_request_body(op, op_ptr, req)
        resp = ex.get("response")
        if resp is not None:
            out += self.check_response(op, op_ptr, resp)
        return out

    def check_parameters(self, template, op, path_params, query, req):
        out = []
        declared = list(self.spec.doc["paths"][template].get("parameters", []))
        declared += op.get("parameters", [])
        qs = {}
        for k, v in parse_qsl(query, keep_blank_values=True):
            qs.setdefault(k, []).append(v)
        known_query = set()
        if any("Bearer" in s for s in op.get("security", [])):
            if header(req.get("headers"), "authorization") is None:
                out.append("request: no Authorization header for a Bearer-secured operation")
        for p in declared:
            p = self.spec.resolve(p)
            name, where = p["name"], p["in"]
            schema = self.spec.resolve(p.get("schema", {}))
            if where == "path":
                values = [path_params.get(name)] if name in path_params else []
            elif where == "query":
                known_query.add(name)
                values = qs.get(name, [])
            elif where == "header":
                v = header(req.get("headers"), name)
                values = [] if v is None else [v]
            else:
                continue
            if not values:
                if p.get("required"):
                    out.append(f"request: required {where} parameter {name} missing")
                continue
            if where == "header" and v == "[redacted]":
                continue
            if schema.get("type") == "array":
                item = self.spec.resolve(schema.get("items", {}))
                instance = [coerce(x, item) for x in values]
            else:
                instance = coerce(values[-1], schema)
            errs = self.validate_inline(p.get("schema", {}), instance)
            for e in errs[:5]:
                out.append(f"request: {where} parameter {name}: {e.message[:200]}")
        for name in qs:
            if name not in known_query:
                out.append(f"request: undeclared query parameter {name}")
        return out

    def validate_inline(self, schema, instance):
        """Errors of `instance` against an inline schema whose $refs point into the
        document (a parameter's schema)."""
        def absolute(node):
            if isinstance(node, dict):
                return {
                    k: (DOC_URI + v if k == "$ref" and v.startswith("#") else absolute(v))
                    for k, v in node.items()
                }
            if isinstance(node, list):
                return [absolute(x) for x in node]
            return node

        registry = self.spec.validators["request"]
        converted = absolute(convert(schema, "request"))
        v = jsonschema.Draft4Validator(converted, registry=registry, format_checker=FORMATS)
        return list(v.iter_errors(instance))

    def check_request_body(self, op, op_ptr, req):
        out = []
        rb = op.get("requestBody")
        body = req.get("body")
        if rb is None:
            if body is not None:
                out.append("request: a body sent to an operation that takes none")
            return out
        rb = self.spec.resolve(rb)
        if body is None:
            if rb.get("required"):
                out.append("request: required body missing")
            return out
        ct = media_type(header(req.get("headers"), "content-type"))
        content = rb.get("content", {})
        if ct not in content:
            out.append(f"request: content type {ct or '(none)'} not among {sorted(content)}")
            return out
        if "json" in ct:
            if "json" not in body:
                return [f"request: body is not JSON ({body.get('note')})"]
            ptr = self.spec.pointer(*op_ptr, "requestBody", "content", ct, "schema")
            if "$ref" in op["requestBody"]:
                return ["request: requestBody by $ref not supported by the checker"]
            for e in self.spec.validate("request", ptr, body["json"])[:10]:
                out.append(f"request body /{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}")
        return out

    def check_response(self, op, op_ptr, resp):
        out = []
        status = str(resp["status"])
        responses = op.get("responses", {})
        key = status if status in responses else status[0] + "XX"
        if key not in responses:
            key = "default" if "default" in responses else None
        if key is None and status.startswith("5") and len(status) == 3:
            # The OpenAPI declares no 5xx at all, yet a server or gateway failure can answer
            # any call (the fault-injection tests make them on purpose). Not a violation, but
            # counted, and its body is not checked: there is no schema for it.
            self.server_failures += 1
            return []
        if key is None:
            return [f"response: status {status} not declared (declared: {', '.join(responses)})"]
        r = self.spec.resolve(responses[key])
        body = resp.get("body")
        content = r.get("content", {})
        if body is None:
            return out
        if not content:
            return [f"response: a body where status {status} declares none"]
        ct = media_type(header(resp.get("headers"), "content-type"))
        if ct not in content:
            return [f"response: content type {ct or '(none)'} not among {sorted(content)}"]
        if "json" in ct:
            if "json" not in body:
                return [f"response: body is not JSON ({body.get('note')})"]
            if "$ref" in responses[key]:
                ptr = responses[key]["$ref"][1:] + "/content/" + ct.replace("/", "~1") + "/schema"
                ptr = "#" + ptr
            else:
                ptr = self.spec.pointer(*op_ptr, "responses", key, "content", ct, "schema")
            for e in self.spec.validate("response", ptr, body["json"])[:10]:
                out.append(f"response body /{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}")
        return out


def label(ex):
    resp = ex.get("response")
    status = resp["status"] if resp else f"({ex.get('error')})"
    return f"{ex.get('method')} {ex.get('path')} -> {status}"


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def run(spec_path, dirs):
    checker = Checker(Spec(spec_path))
    files = sorted(
        f for d in dirs for f in glob.glob(os.path.join(d, "**", "*.json"), recursive=True)
    )
    bad = 0
    for f in files:
        ex = load(f)
        for v in checker.check(ex):
            print(f"{f}: {label(ex)}: {v}")
            bad += 1
    ops = len(checker.spec.operations)
    print(
        f"openapi-check: {checker.checked} exchanges checked, {bad} violations, "
        f"{len(checker.covered)} of {ops} operations covered, "
        f"{checker.server_failures} undeclared 5xx answers (server failures, status only)"
    )
    for m, t in sorted(checker.covered, key=lambda x: (x[1], x[0])):
        print(f"  covered: {m} {t}")
    if not files:
        print("openapi-check: nothing to check (an empty check proves nothing)")
        return 1
    return 1 if bad else 0


def self_test(spec_path, root):
    checker = Checker(Spec(spec_path))
    failures = 0
    good = sorted(glob.glob(os.path.join(root, "good", "*.json")))
    bad = sorted(glob.glob(os.path.join(root, "bad", "*.json")))
    for f in good:
        ex = load(f)
        for v in checker.check(ex):
            print(f"FAIL {f}: a good exchange was rejected: {v}")
            failures += 1
    for f in bad:
        ex = load(f)
        expect = ex["_expect"]
        found = checker.check(ex)
        if not any(expect in v for v in found):
            print(f"FAIL {f}: expected a violation containing {expect!r}, got {found}")
            failures += 1
    if not good or not bad:
        print("FAIL: the self-test needs good/ and bad/ exchanges")
        failures += 1
    print(f"openapi self-test: {len(good)} good, {len(bad)} bad, {failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--self-test"] and len(args) == 3:
        sys.exit(self_test(args[1], args[2]))
    if len(args) < 2:
        print(__doc__)
        sys.exit(2)
    sys.exit(run(args[0], args[1:]))
