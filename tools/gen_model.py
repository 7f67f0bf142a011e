#!/usr/bin/env python3
"""Generate the typed FA(2)/FA(3) invoice model and its XML/JSON codecs from the official XSDs.

    python3 tools/gen_model.py [SPEC_DIR] [--out DIR]   (default: ../shared/ksef-spec, the repo)

`make gen` runs it and rustfmt; `make gen-check` regenerates into a temporary folder and
fails when the committed files differ.

Writes (all committed; `make gen-check` fails when they drift from the XSDs):
  core/src/model/generated.rs   the Rust types (one model for both schema versions)
  core/src/model/codec.rs       tree -> model builders and model -> XML/JSON emitters, per schema
  schema/invoice.schema.json    JSON Schema of the JSON form

Both schemas are merged into one model: every element, choice branch and enumeration value
remembers which schema versions have it (a mask: bit 0 = FA(2), bit 1 = FA(3)), so the emitter
can refuse content a target schema cannot carry, with the element path, instead of writing
invalid XML. Where the two versions give an element incompatible types (FA(2) `TerminOpis` is
text, FA(3) `TerminOpis` is a structure) the model holds two fields.

Only the XSD constructs the official FA schemas use are supported; anything else stops the
generator, so a new schema version cannot be half-understood silently.
"""
import json
import os
import re
import sys
import unicodedata

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xsdload import Schema, SimpleType, ComplexType  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FA2, FA3 = 1, 2  # mask bits
BOTH = 3
SCHEMA_FILES = {FA2: "schemat_FA(2)_v1-0E.xsd", FA3: "schemat_FA(3)_v1-0E.xsd"}

RUST_KEYWORDS = {"type", "match", "ref", "mod", "fn", "impl", "use", "loop", "move", "self", "super", "crate",
                 "struct", "enum", "trait", "where", "while", "for", "in", "if", "else", "let", "mut", "pub",
                 "return", "static", "const", "true", "false", "as", "break", "continue", "dyn", "extern",
                 "unsafe", "async", "await", "box", "yield", "try", "macro", "priv", "final", "override"}

# Nicer Rust names for a few XSD types (the XSD name stays in the doc comment).
TYPE_NAME_OVERRIDES = {
    "TPodmiot1": "DaneIdentyfikacyjnePodmiot1",
    "TPodmiot2": "DaneIdentyfikacyjnePodmiot2",
    "TPodmiot3": "DaneIdentyfikacyjnePodmiot3",
    "TPodmiotUpowazniony": "DaneIdentyfikacyjnePodmiotUpowazniony",
    "TStawkaPodatku": "StawkaPodatku",
    "TRodzajFaktury": "RodzajFaktury",
    "TKodWaluty": "KodWaluty",
    "TKodKraju": "KodKraju",
    "TKodyKrajowUE": "KodKrajuUe",
}
ENUM_VARIANT_OVERRIDES = {
    # P_12 codes read better with their meaning spelled out.
    ("StawkaPodatku", "23"): "R23", ("StawkaPodatku", "22"): "R22", ("StawkaPodatku", "8"): "R8",
    ("StawkaPodatku", "7"): "R7", ("StawkaPodatku", "5"): "R5", ("StawkaPodatku", "4"): "R4",
    ("StawkaPodatku", "3"): "R3", ("StawkaPodatku", "0"): "R0", ("StawkaPodatku", "0 KR"): "R0Kr",
    ("StawkaPodatku", "0 WDT"): "R0Wdt", ("StawkaPodatku", "0 EX"): "R0Ex", ("StawkaPodatku", "zw"): "Zw",
    ("StawkaPodatku", "oo"): "Oo", ("StawkaPodatku", "np"): "Np", ("StawkaPodatku", "np I"): "NpI",
    ("StawkaPodatku", "np II"): "NpII",
    # yes/no boxes of the form: 1 = yes (tak), 2 = no (nie)
    ("Wybor1", "1"): "Tak", ("Wybor12", "1"): "Tak", ("Wybor12", "2"): "Nie",
    ("Jst", "1"): "Tak", ("Jst", "2"): "Nie", ("Gv", "1"): "Tak", ("Gv", "2"): "Nie",
}
# Elements whose value is fixed by the schema version: not stored in the model.
SCHEMA_CONSTANTS = {"KodFormularza", "WariantFormularza"}


def strip_pl(s):
    s = s.replace("ł", "l").replace("Ł", "L")
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


SNAKE_OVERRIDES = {"PKWiU": "pkwiu", "PKWiUZ": "pkwiu_z", "P_PMarzy": "p_pmarzy", "P_PMarzyN": "p_pmarzy_n",
                   "P_PMarzy_2": "p_pmarzy_2", "P_PMarzy_3_1": "p_pmarzy_3_1", "P_PMarzy_3_2": "p_pmarzy_3_2",
                   "P_PMarzy_3_3": "p_pmarzy_3_3", "UU_ID": "uu_id", "UU_IDZ": "uu_idz"}


def snake(name):
    if name in SNAKE_OVERRIDES:
        return SNAKE_OVERRIDES[name]
    n = name.replace("KSeF", "Ksef")
    out = []
    for i, ch in enumerate(n):
        if ch.isupper() and i > 0 and n[i - 1] != "_":
            prev_lower = n[i - 1].islower()
            next_lower = i + 1 < len(n) and n[i + 1].islower()
            if prev_lower or (n[i - 1].isupper() and next_lower):
                out.append("_")
        out.append(ch.lower())
    s = re.sub("_+", "_", "".join(out)).strip("_")
    if s in RUST_KEYWORDS:
        s += "_"
    return s


def camel(name):
    return "".join(p[:1].upper() + p[1:] for p in snake(name).rstrip("_").split("_"))


def rust_str(s):
    return json.dumps(s, ensure_ascii=False)


def doc_lines(text, indent=""):
    text = " ".join((text or "").split())
    if not text:
        return []
    words, lines, cur = text.split(), [], ""
    for w in words:
        if len(cur) + len(w) + 1 > 96:
            lines.append(cur)
            cur = w
        else:
            cur = (cur + " " + w).strip()
    if cur:
        lines.append(cur)
    return [f"{indent}/// {ln}" for ln in lines]


# --------------------------------------------------------------------------------------------
# Simple types: Rust kinds and per-schema rules
# --------------------------------------------------------------------------------------------
STR_BASES = {"string", "token", "normalizedString"}
INT_BASES = {"integer", "int", "byte"}
UINT_BASES = {"nonNegativeInteger", "positiveInteger"}


def simple_kind(st):
    if st.enums:
        return "enum"
    if st.base in STR_BASES:
        return "str"
    if st.base == "decimal":
        return "dec"
    if st.base in INT_BASES:
        return "int"
    if st.base in UINT_BASES:
        return "uint"
    if st.base == "date":
        return "date"
    if st.base == "dateTime":
        return "datetime"
    raise SystemExit(f"unsupported simple base {st.base} ({st.name})")


RUST_OF_KIND = {"str": "String", "dec": "Decimal", "int": "i64", "uint": "u64", "date": "Date",
                "datetime": "DateTime"}

# ---- XSD regex -> Rust Rx tree ---------------------------------------------------------------


class RxParser:
    def __init__(self, pat):
        self.p, self.i = pat, 0

    def parse(self):
        node = self.alt()
        if self.i != len(self.p):
            raise SystemExit(f"regex: trailing input in {self.p!r}")
        return node

    def peek(self):
        return self.p[self.i] if self.i < len(self.p) else None

    def alt(self):
        alts = [self.seq()]
        while self.peek() == "|":
            self.i += 1
            alts.append(self.seq())
        return alts[0] if len(alts) == 1 else ("alt", alts)

    def seq(self):
        items = []
        while self.peek() not in (None, "|", ")"):
            items.append(self.quant(self.atom()))
        return items[0] if len(items) == 1 else ("seq", items)

    def quant(self, a):
        c = self.peek()
        if c == "?":
            self.i += 1
            return ("rep", a, 0, 1)
        if c == "*":
            self.i += 1
            return ("rep", a, 0, None)
        if c == "+":
            self.i += 1
            return ("rep", a, 1, None)
        if c == "{":
            j = self.p.index("}", self.i)
            body = self.p[self.i + 1:j]
            self.i = j + 1
            if "," in body:
                lo, hi = body.split(",")
                return ("rep", a, int(lo), int(hi) if hi else None)
            return ("rep", a, int(body), int(body))
        return a

    def escape_class(self, c):
        if c == "d":
            return [("0", "9")], False
        if c == "s":
            return [(" ", " "), ("\t", "\t"), ("\n", "\n"), ("\r", "\r")], False
        if c in ".+*?()[]{}|\\-^$/":
            return [(c, c)], False
        raise SystemExit(f"regex: unsupported escape \\{c} in {self.p!r}")

    def atom(self):
        c = self.p[self.i]
        self.i += 1
        if c == "(":
            node = self.alt()
            if self.peek() != ")":
                raise SystemExit(f"regex: unclosed group in {self.p!r}")
            self.i += 1
            return node
        if c == ".":
            return ("any",)
        if c == "\\":
            e = self.p[self.i]
            self.i += 1
            ranges, _ = self.escape_class(e)
            return ("class", ranges, False)
        if c == "[":
            neg = False
            if self.peek() == "^":
                neg = True
                self.i += 1
            ranges = []
            while self.peek() != "]":
                ch = self.p[self.i]
                self.i += 1
                if ch == "\\":
                    e = self.p[self.i]
                    self.i += 1
                    ranges += self.escape_class(e)[0]
                    continue
                if self.peek() == "-" and self.p[self.i + 1] != "]":
                    hi = self.p[self.i + 1]
                    self.i += 2
                    ranges.append((ch, hi))
                else:
                    ranges.append((ch, ch))
            self.i += 1
            return ("class", ranges, neg)
        if c in "?*+{}|)":
            raise SystemExit(f"regex: unexpected {c!r} in {self.p!r}")
        return ("class", [(c, c)], False)


def rx_rust(node):
    k = node[0]
    if k == "alt":
        return "Rx::Alt(&[" + ", ".join(rx_rust(n) for n in node[1]) + "])"
    if k == "seq":
        return "Rx::Seq(&[" + ", ".join(rx_rust(n) for n in node[1]) + "])"
    if k == "rep":
        hi = "u32::MAX" if node[3] is None else str(node[3])
        return f"Rx::Rep(&{rx_rust(node[1])}, {node[2]}, {hi})"
    if k == "any":
        return "Rx::Any"
    if k == "class":
        rs = ", ".join(f"({rust_char(a)}, {rust_char(b)})" for a, b in node[1])
        return f"Rx::Class(&[{rs}], {'true' if node[2] else 'false'})"
    raise SystemExit(k)


def rust_char(c):
    return "'" + {"'": "\\'", "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(c, c) + "'"


DEC_PAT = re.compile(r"^-\?\(\[1-9\]\\d\{0,(\d+)\}\|0\)\(\\\.\\d\{1,(\d+)\}\)\?$")


def dec_literal(v):
    """Decimal const from a facet literal."""
    neg = v.startswith("-")
    v = v.lstrip("-")
    if "." in v:
        ip, fp = v.split(".")
    else:
        ip, fp = v, ""
    mant = int(ip + fp)
    scale = len(fp)
    lo, mid, hi = mant & 0xFFFFFFFF, (mant >> 32) & 0xFFFFFFFF, (mant >> 64) & 0xFFFFFFFF
    return f"Decimal::from_parts({lo}, {mid}, {hi}, {'true' if neg else 'false'}, {scale})"


def date_literal(v):
    y, m, d = v[:10].split("-")
    return f"Date::new_unchecked({int(y)}, {int(m)}, {int(d)})"


def datetime_secs(v):
    """Seconds since 0000-03-01-ish epoch (monotonic for comparison) of an XSD dateTime literal in UTC."""
    m = re.match(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$", v)
    if not m:
        raise SystemExit(f"unsupported dateTime literal {v}")
    y, mo, d, h, mi, s = map(int, m.groups())
    return f"(DateTime::utc_seconds_of({y}, {mo}, {d}, {h}, {mi}, {s}), {rust_str(v)})"


class Rules:
    """Deduplicated `const` rules, one per distinct facet set."""

    def __init__(self):
        self.consts = {}  # text -> name
        self.order = []

    def add(self, prefix, ty, body):
        text = f"{ty} {{ {body} }}"
        if text not in self.consts:
            name = f"{prefix}{len(self.order)}"
            self.consts[text] = name
            self.order.append((name, ty, text))
        return self.consts[text]

    def rust(self):
        return "\n".join(f"const {n}: {ty} = {text};" for n, ty, text in self.order)


RULES = Rules()


def patterns_of(st):
    """Pattern groups (ANDed); each group is a list of alternatives (ORed)."""
    groups = list(getattr(st, "base_patterns", []))
    if st.patterns:
        groups.append(st.patterns)
    if st.union:
        alts = []
        for m in st.union:
            if m.enums or m.facets.keys() - {"whiteSpace"} or getattr(m, "base_patterns", []):
                raise SystemExit(f"unsupported union member facets in {st.name}")
            alts += m.patterns
        groups.append(alts)
    return groups


def rule_for(st, kind):
    """Rust expression of the rule const for one schema's simple type (or None when nothing to check)."""
    f = st.facets
    if kind == "str":
        mn = int(f.get("length", f.get("minLength", 0)))
        mx = int(f.get("length", f.get("maxLength", 0))) or 0
        pats = []
        for grp in patterns_of(st):
            nodes = [RxParser(p).parse() for p in grp]
            node = nodes[0] if len(nodes) == 1 else ("alt", nodes)
            pats.append("&" + rx_rust(node))
        mx_s = str(mx) if mx else "u32::MAX"
        return RULES.add("S", "StrRule", f"min: {mn}, max: {mx_s}, pats: &[{', '.join(pats)}]")
    if kind == "dec":
        total = int(f.get("totalDigits", 0)) or 31
        frac = int(f.get("fractionDigits", 28)) if "fractionDigits" in f else 28
        int_digits = total
        for grp in patterns_of(st):
            if len(grp) != 1:
                raise SystemExit(f"decimal with alternative patterns: {st.name}")
            m = DEC_PAT.match(grp[0])
            if not m:
                raise SystemExit(f"unsupported decimal pattern {grp[0]!r} ({st.name})")
            int_digits = min(int_digits, int(m.group(1)) + 1)
            frac = min(frac, int(m.group(2)))
        lo = hi = "None"
        if "minInclusive" in f:
            lo = f"Some(({dec_literal(f['minInclusive'])}, true))"
        if "minExclusive" in f:
            lo = f"Some(({dec_literal(f['minExclusive'])}, false))"
        if "maxInclusive" in f:
            hi = f"Some(({dec_literal(f['maxInclusive'])}, true))"
        if "maxExclusive" in f:
            hi = f"Some(({dec_literal(f['maxExclusive'])}, false))"
        return RULES.add("D", "DecRule", f"total: {total}, frac: {frac}, int_digits: {int_digits}, min: {lo}, max: {hi}")
    if kind in ("int", "uint"):
        total = int(f.get("totalDigits", 0)) or 19
        lo = "None"
        hi = "None"
        if "minInclusive" in f:
            lo = f"Some({int(f['minInclusive'])})"
        if "minExclusive" in f:
            lo = f"Some({int(f['minExclusive']) + 1})"
        if "maxInclusive" in f:
            hi = f"Some({int(f['maxInclusive'])})"
        if "maxExclusive" in f:
            hi = f"Some({int(f['maxExclusive']) - 1})"
        if st.base == "byte":
            lo = lo if lo != "None" else "Some(-128)"
            hi = hi if hi != "None" else "Some(127)"
        if st.base == "int":
            lo = lo if lo != "None" else "Some(-2147483648)"
            hi = hi if hi != "None" else "Some(2147483647)"
        if st.base == "positiveInteger":
            lo = "Some(1)"
        return RULES.add("I", "IntRule", f"total: {total}, min: {lo}, max: {hi}")
    if kind == "date":
        lo = f"Some({date_literal(f['minInclusive'])})" if "minInclusive" in f else "None"
        hi = f"Some({date_literal(f['maxInclusive'])})" if "maxInclusive" in f else "None"
        return RULES.add("T", "DateRule", f"min: {lo}, max: {hi}")
    if kind == "datetime":
        lo = f"Some({datetime_secs(f['minInclusive'])})" if "minInclusive" in f else "None"
        hi = f"Some({datetime_secs(f['maxInclusive'])})" if "maxInclusive" in f else "None"
        return RULES.add("Z", "DateTimeRule", f"min: {lo}, max: {hi}")
    if kind == "enum":
        return None
    raise SystemExit(kind)


# --------------------------------------------------------------------------------------------
# Enumerations (shared across schemas by Rust name)
# --------------------------------------------------------------------------------------------
class EnumDef:
    def __init__(self, name, xsd_name, doc, numeric):
        self.name, self.xsd_name, self.doc, self.numeric = name, xsd_name, doc, numeric
        self.values = []  # [value]
        self.docs = {}
        self.masks = {}

    def add(self, value, doc, mask):
        if value not in self.masks:
            self.values.append(value)
            self.masks[value] = 0
            self.docs[value] = doc
        self.masks[value] |= mask
        if doc and not self.docs[value]:
            self.docs[value] = doc

    def variant_names(self):
        names = {}
        docs_ok = self.numeric and all(self.docs[v] for v in self.values) and \
            not any((self.name, v) in ENUM_VARIANT_OVERRIDES for v in self.values)
        if docs_ok:
            cand = {}
            for v in self.values:
                d = strip_pl(self.docs[v]).strip().rstrip(".")
                words = re.findall(r"[A-Za-z0-9]+", d)
                if not words or len(words) > 3 or len(d) > 30:
                    docs_ok = False
                    break
                cand[v] = "".join(w[:1].upper() + w[1:].lower() for w in words)
            if docs_ok and len(set(cand.values())) == len(cand) and all(not c[0].isdigit() for c in cand.values()):
                return cand
        for v in self.values:
            o = ENUM_VARIANT_OVERRIDES.get((self.name, v))
            if o:
                names[v] = o
                continue
            parts = re.findall(r"[A-Za-z0-9]+", strip_pl(v))
            n = "".join(p[:1].upper() + p[1:].lower() for p in parts) or "Empty"
            if n[0].isdigit():
                n = "V" + n
            names[v] = n
        if len(set(names.values())) != len(names):
            raise SystemExit(f"enum {self.name}: variant name collision {names}")
        return names


ENUMS = {}  # rust name -> EnumDef


def enum_for(st, elem_name, mask):
    if st.name:
        rname = TYPE_NAME_OVERRIDES.get(st.name) or camel(st.name[1:] if st.name.startswith("T") else st.name)
        key = rname
    else:
        rname = camel(elem_name)
        key = rname
    numeric = st.base not in STR_BASES
    e = ENUMS.get(key)
    if e is None:
        e = EnumDef(rname, st.name, st.doc, numeric)
        ENUMS[key] = e
    for v, d in st.enums:
        e.add(v, d, mask)
    return e


# --------------------------------------------------------------------------------------------
# Merged model
# --------------------------------------------------------------------------------------------
class MSimple:
    def __init__(self):
        self.kind = None
        self.rust = None
        self.enum = None
        self.rules = {}  # mask bit -> rule const name (or None)
        self.allowed = {}  # for enums: bit -> list of allowed values (when narrower than the enum)
        self.st = {}


class MElem:
    kind = "element"

    def __init__(self, name):
        self.name = name
        self.mask = 0
        self.occ = {}  # bit -> (min, max)
        self.doc = ""
        self.simple = None  # MSimple
        self.complex = None  # MComplex
        self.attrs = []  # only for simple leaves with attributes (unused in FA)
        self.field = None
        self.schema_const = name in SCHEMA_CONSTANTS


class MGroup:
    def __init__(self, kind):
        self.kind = kind  # sequence | choice
        self.mask = 0
        self.occ = {}
        self.children = []


class MComplex:
    def __init__(self):
        self.mask = 0
        self.content = None
        self.attrs = []  # [(name, MSimple, required_mask)]
        self.xsd_names = {}
        self.doc = ""
        self.rust = None
        self.hint = None  # element name
        self.parent_hint = None
        self.simple_content = None


def occ_of(p):
    return (p.min, p.max)


MERGED = {}
SCHEMA_CONST_VALUES = {}  # element name -> {bit: (text, [(attr, value)])}


def merge_simple(sts, elem_name):
    """sts: {bit: SimpleType}"""
    m = MSimple()
    kinds = {b: simple_kind(st) for b, st in sts.items()}
    if len(set(kinds.values())) != 1:
        return None
    m.kind = next(iter(kinds.values()))
    m.st = sts
    if m.kind == "enum":
        for b, st in sorted(sts.items(), key=lambda kv: -kv[0]):  # FA(3) names first
            e = enum_for(st, elem_name, b)
            if m.enum is None:
                m.enum = e
            elif e is not m.enum:
                # different enum types for the same element: fold the values into the first one
                for v, d in st.enums:
                    m.enum.add(v, d, b)
        m.rust = m.enum.name
    else:
        m.rust = RUST_OF_KIND[m.kind]
        for b, st in sts.items():
            m.rules[b] = rule_for(st, m.kind)
    return m


def finalize_enum_allowed(m):
    if m.kind != "enum":
        return
    for b, st in m.st.items():
        vals = [v for v, _ in st.enums]
        fixed = getattr(m, "fixed", {}).get(b)
        if fixed is not None:
            m.allowed[b] = [fixed]
            continue
        if set(vals) != set(m.enum.values):
            m.allowed[b] = vals


def merge_complex(cts, elem_name, parent):
    key = tuple(sorted((b, id(t)) for b, t in cts.items()))
    if key in MERGED:
        return MERGED[key]
    mc = MComplex()
    MERGED[key] = mc
    mc.hint = elem_name
    mc.parent_hint = parent
    for b, t in cts.items():
        mc.mask |= b
        mc.xsd_names[b] = t.name
        mc.doc = mc.doc or t.doc
    # attributes (fixed ones are schema constants; FA uses none outside KodFormularza)
    attr_names = []
    for b, t in cts.items():
        for a in t.attributes:
            if a["name"] not in attr_names:
                attr_names.append(a["name"])
    for an in attr_names:
        per = {b: next(a for a in t.attributes if a["name"] == an) for b, t in cts.items()
               if any(a["name"] == an for a in t.attributes)}
        if any(a["fixed"] is not None for a in per.values()):
            raise SystemExit(f"fixed attribute {an} outside schema constants")
        ms = merge_simple({b: a["type"] for b, a in per.items()}, an)
        req = 0
        for b, a in per.items():
            if a["use"] == "required":
                req |= b
        mc.attrs.append((an, ms, req, sum(per.keys()), next(iter(per.values()))["doc"]))
    simple_bases = {b: t.simple_base for b, t in cts.items() if t.simple_base is not None}
    if simple_bases:
        if len(simple_bases) != len(cts) or any(t.content is not None for t in cts.values()):
            raise SystemExit(f"mixed simple/complex content for {elem_name}")
        mc.simple_content = merge_simple(simple_bases, elem_name)
        return mc
    contents = {b: t.content for b, t in cts.items() if t.content is not None}
    if contents:
        mc.content = merge_particles(contents, elem_name)[0]
    return mc


def pkey(p):
    if p.kind == "element":
        return ("e", p.name)
    names = []

    def first_names(q):
        if q.kind == "element":
            names.append(q.name)
        else:
            for c in q.children:
                first_names(c)
    first_names(p)
    return ("g", p.kind, names[0] if names else "")


def merge_particles(ps, parent_name):
    """ps: {bit: Particle} of the same key. Returns a list of merged nodes (2 when types conflict)."""
    kinds = {p.kind for p in ps.values()}
    assert len(kinds) == 1, kinds
    kind = kinds.pop()
    if kind == "element":
        name = next(iter(ps.values())).name
        if name in SCHEMA_CONSTANTS:
            me = MElem(name)
            for b, p in ps.items():
                me.mask |= b
                me.occ[b] = occ_of(p)
                t = p.type
                if isinstance(t, ComplexType):
                    SCHEMA_CONST_VALUES.setdefault(name, {})[b] = (
                        t.simple_base.enums[0][0], [(a["name"], a["fixed"]) for a in t.attributes])
                else:
                    SCHEMA_CONST_VALUES.setdefault(name, {})[b] = (t.enums[0][0], [])
            return [me]
        simple = {b: p.type for b, p in ps.items() if isinstance(p.type, SimpleType)}
        complex_ = {b: p.type for b, p in ps.items() if isinstance(p.type, ComplexType)}
        if simple and complex_:
            out = merge_particles({b: ps[b] for b in simple}, parent_name)
            out += merge_particles({b: ps[b] for b in complex_}, parent_name)
            out[0].field_suffix = "_tekst"  # the FA(2) free-text variant
            return out
        me = MElem(name)
        for b, p in ps.items():
            me.mask |= b
            me.occ[b] = occ_of(p)
            me.doc = me.doc or p.doc
            if p.fixed is not None:
                me.fixed = getattr(me, "fixed", {})
                me.fixed[b] = p.fixed
        if simple:
            ms = merge_simple(simple, name)
            fixed = getattr(me, "fixed", None)
            if fixed and ms is not None:
                if ms.kind != "enum":
                    raise SystemExit(f"fixed value on non-enumerated element {name}")
                ms.fixed = fixed
            if ms is None:
                # incompatible simple kinds: split per schema
                out = []
                for b in sorted(simple):
                    out += merge_particles({b: ps[b]}, parent_name)
                return out
            me.simple = ms
        else:
            me.complex = merge_complex(complex_, name, parent_name)
        return [me]
    g = MGroup(kind)
    for b, p in ps.items():
        g.mask |= b
        g.occ[b] = occ_of(p)
    # align children by key; keep FA(3) order, slotting FA(2)-only children after their predecessor
    lists = {b: [(pkey(c), c) for c in p.children] for b, p in ps.items()}
    order = []
    for b in sorted(lists, key=lambda x: -x):
        prev = None
        for k, _ in lists[b]:
            if k not in order:
                idx = order.index(prev) + 1 if prev is not None else 0
                order.insert(idx, k)
            prev = k
    for k in order:
        sub = {b: c for b, lst in lists.items() for kk, c in lst if kk == k}
        g.children += merge_particles(sub, parent_name)
    # verify that each schema's own order is preserved by the merged order
    for b, lst in lists.items():
        pos = [order.index(k) for k, _ in lst]
        if pos != sorted(pos):
            raise SystemExit(f"cannot merge element order under {parent_name}")
    return [g]


# --------------------------------------------------------------------------------------------
# Rust shapes: structs, enums for choices; fields
# --------------------------------------------------------------------------------------------
class Field:
    """One Rust field (or one choice field)."""

    def __init__(self, node, rust_name, ty, opt, vec, in_group):
        self.node, self.rust_name, self.ty, self.opt, self.vec = node, rust_name, ty, opt, vec
        self.in_group = in_group  # optional-group path this field is inside (list of group ids)


class Shape:
    """A Rust struct or choice enum."""

    def __init__(self, kind, name):
        self.kind = kind  # struct | enum
        self.name = name
        self.fields = []  # for struct
        self.variants = []  # for enum: [(variant name, [fields] or None, single field, mask, names)]
        self.doc = ""
        self.node = None
        self.groups = []  # optional groups: (gid, [fields directly inside], required fields)


SHAPES = []
SHAPE_BY_COMPLEX = {}
USED_NAMES = set()


def uniq_type_name(base, parent):
    name = base
    if name in USED_NAMES or name in ENUMS:
        name = f"{parent}{base}"
    n = 2
    while name in USED_NAMES or name in ENUMS:
        name = f"{parent}{base}{n}"
        n += 1
    USED_NAMES.add(name)
    return name


def all_masks(node):
    return node.mask


def is_required(node, bit):
    mn, _ = node.occ.get(bit, (0, 1))
    return mn > 0


def flatten(group, owner, gpath, fields, groups, all_mask):
    """Flatten a content particle into fields of `owner` (struct name for naming)."""
    if group.kind == "element":
        if group.schema_const:
            f = Field(group, None, None, False, False, gpath)
            f.const = True
            fields.append(f)
            return
        fields.append(make_field(group, owner, gpath, all_mask))
        return
    optional_somewhere = any(mn == 0 for mn, mx in group.occ.values()) or group.mask != all_mask
    many = any(mx is None or mx > 1 for mn, mx in group.occ.values())
    if many:
        raise SystemExit(f"repeated {group.kind} under {owner} is not supported")
    if group.kind == "sequence":
        if optional_somewhere and gpath is not None:
            gid = len(groups)
            groups.append([gid, group, []])
            sub = gpath + [gid]
        else:
            sub = gpath
        for c in group.children:
            flatten(c, owner, sub, fields, groups, group.mask if not optional_somewhere else all_mask)
        return
    # choice -> enum field
    fields.append(make_choice_field(group, owner, gpath, all_mask))


def first_elem_name(node):
    if node.kind == "element":
        return node.name
    for c in node.children:
        return first_elem_name(c)


def elem_names(node, out=None):
    out = [] if out is None else out
    if node.kind == "element":
        out.append(node.name)
    else:
        for c in node.children:
            elem_names(c, out)
    return out


def make_choice_field(group, owner, gpath, all_mask):
    """A choice inside a sequence: an enum-typed field of the owner."""
    first = first_elem_name(group)
    ename = uniq_type_name(camel(first) + "Wybor", owner)
    shape = choice_shape(group, ename)
    opt = any(mn == 0 for mn, _ in group.occ.values()) or group.mask != all_mask or gpath
    fld = Field(group, snake(first) + "_wybor", ename, bool(opt), False, gpath)
    fld.shape = shape
    shape.inline = True
    return fld


def choice_shape(group, ename):
    """The enum for a choice: one variant per branch (a single element, or a flattened group)."""
    shape = Shape("enum", ename)
    shape.node = group
    SHAPES.append(shape)
    seen = set()
    for br in group.children:
        vname = camel(first_elem_name(br))
        names = elem_names(br)
        if seen & set(names):
            raise SystemExit(f"choice {ename}: element names shared between branches")
        seen |= set(names)
        if br.kind == "element":
            f = make_field(br, ename, None, br.mask)
            shape.variants.append([vname, None, f, br, names])
        else:
            fs, gs = [], []
            flatten(br, ename, [], fs, gs, br.mask)
            shape.variants.append([vname, fs, gs, br, names])
    return shape


def make_field(me, owner, gpath, all_mask):
    many = any(mx is None or mx > 1 for _, mx in me.occ.values())
    opt = (not many) and (any(mn == 0 for mn, _ in me.occ.values()) or me.mask != all_mask or bool(gpath))
    if me.simple is not None:
        ty = me.simple.rust
        finalize_enum_allowed(me.simple)
    else:
        ty = shape_for_complex(me.complex, me.name, owner)
    fname = snake(me.name) + getattr(me, "field_suffix", "")
    f = Field(me, fname, ty, opt, many, gpath)
    return f


def shape_for_complex(mc, elem_name, owner):
    if id(mc) in SHAPE_BY_COMPLEX:
        return SHAPE_BY_COMPLEX[id(mc)].name
    if mc.simple_content is not None and not mc.attrs:
        # a simple leaf in disguise (NKom)
        finalize_enum_allowed(mc.simple_content)
        return mc.simple_content.rust
    xsd = mc.xsd_names.get(FA3) or mc.xsd_names.get(FA2)
    if xsd:
        base = TYPE_NAME_OVERRIDES.get(xsd) or camel(xsd[1:] if xsd.startswith("T") else xsd)
    else:
        base = camel(elem_name)
    # a complex type whose whole content is one required choice becomes an enum itself
    content = mc.content
    while content is not None and content.kind == "sequence" and len(content.children) == 1 and \
            all(o == (1, 1) for o in content.occ.values()):
        content = content.children[0]
    name = uniq_type_name(base, owner)
    if content is not None and content.kind == "choice" and not mc.attrs and \
            all(o == (1, 1) for o in content.occ.values()) and content.mask == mc.mask:
        USED_NAMES.discard(name)
        fld = make_choice_field_named(content, name)
        shape = fld.shape
        shape.doc = mc.doc
        shape.xsd = xsd
        SHAPE_BY_COMPLEX[id(mc)] = shape
        shape.complex = mc
        return shape.name
    shape = Shape("struct", name)
    shape.doc = mc.doc
    shape.xsd = xsd
    shape.complex = mc
    SHAPE_BY_COMPLEX[id(mc)] = shape
    SHAPES.append(shape)
    for an, ms, req, amask, adoc in mc.attrs:
        finalize_enum_allowed(ms)
        f = Field(None, snake(an), ms.rust, not (req == mc.mask == amask), False, None)
        f.attr = (an, ms, req, amask, adoc)
        shape.fields.append(f)
    if content is not None:
        groups = []
        flatten(mc.content, name, [], shape.fields, groups, mc.mask)
        shape.groups = groups
    return name


def make_choice_field_named(group, ename):
    """A complex type whose whole content is one choice: the type is the enum itself."""
    USED_NAMES.add(ename)
    shape = choice_shape(group, ename)
    fld = Field(group, "", ename, False, False, None)
    fld.shape = shape
    return fld


# --------------------------------------------------------------------------------------------
# Code generation
# --------------------------------------------------------------------------------------------
FMETA = {}  # text -> const name
FMETA_ORDER = []


def fmeta(name, mask, req, mins, maxs, json_key=None):
    text = f'Fm {{ name: {rust_str(name)}, json: {rust_str(json_key or name)}, mask: {mask}, req: {req}, min: [{mins[0]}, {mins[1]}], max: [{maxs[0]}, {maxs[1]}] }}'
    if text not in FMETA:
        c = f"F{len(FMETA_ORDER)}"
        FMETA[text] = c
        FMETA_ORDER.append((c, text))
    return FMETA[text]


def field_meta(f):
    me = f.node
    req = 0
    if not f.in_group:
        for b in (FA2, FA3):
            if b & me.mask and is_required(me, b):
                req |= b
    mins, maxs = [], []
    for b in (FA2, FA3):
        mn, mx = me.occ.get(b, (0, 0))
        # inside an optional group the group check enforces presence
        mins.append(0 if f.in_group else mn)
        maxs.append("u32::MAX" if mx is None else mx)
    suffix = getattr(me, "field_suffix", "")
    return fmeta(me.name, me.mask, req, mins, maxs, me.name + camel(suffix) if suffix else None)


def rule_arg(ms):
    """`[fa2, fa3]` rule refs for leaf conversion."""
    if ms.kind == "enum":
        a2 = ms.allowed.get(FA2)
        a3 = ms.allowed.get(FA3)
        def lst(a):
            if a is None:
                return "None"
            return "Some(&[" + ", ".join(f"{ms.enum.name}::{ms.enum.variant_names()[v]}" for v in a) + "])"
        return f"[{lst(a2)}, {lst(a3)}]"
    r2 = ms.rules.get(FA2)
    r3 = ms.rules.get(FA3)
    r2 = f"Some(&{r2})" if r2 else "None"
    r3 = f"Some(&{r3})" if r3 else "None"
    return f"[{r2}, {r3}]"


def leaf_kind_fn(ms):
    return {"str": "str", "dec": "dec", "int": "int", "uint": "uint", "date": "date", "datetime": "datetime",
            "enum": "enum"}[ms.kind]


def leaf_simple(f):
    me = f.node
    if me.simple is not None:
        return me.simple
    mc = me.complex
    if mc is not None and mc.simple_content is not None and not mc.attrs:
        return mc.simple_content
    return None


class Gen:
    def __init__(self):
        self.model = []
        self.codec = []
        self.var = 0

    def tmp(self):
        self.var += 1
        return f"v{self.var}"

    # ---- model ---------------------------------------------------------------------------
    def field_type(self, f):
        t = f.ty
        if f.vec:
            return f"Vec<{t}>"
        if f.opt:
            return f"Option<{t}>"
        return t

    def field_doc(self, f, indent):
        if getattr(f, "attr", None):
            an, ms, req, amask, adoc = f.attr
            lines = doc_lines(adoc, indent)
            lines.append(f"{indent}///")
            lines.append(f"{indent}/// XML attribute `{an}`.")
            return lines
        if f.node.kind == "choice":
            names = " | ".join("`" + "+".join(v[4]) + "`" for v in f.shape.variants)
            return [f"{indent}/// Choice: {names}."] + self.mask_note(f.node.mask, indent)
        me = f.node
        lines = doc_lines(me.doc, indent)
        lines.append(f"{indent}///")
        occ = []
        for b, lbl in ((FA3, "FA(3)"), (FA2, "FA(2)")):
            if b & me.mask:
                mn, mx = me.occ[b]
                occ.append(f"{lbl} {mn}..{'n' if mx is None else mx}")
        lines.append(f"{indent}/// XML element `{me.name}` ({', '.join(occ)}).")
        return lines

    def mask_note(self, mask, indent):
        if mask == FA3:
            return [f"{indent}/// Only in FA(3)."]
        if mask == FA2:
            return [f"{indent}/// Only in FA(2)."]
        return []

    def gen_model(self):
        out = self.model
        for e in sorted(ENUMS.values(), key=lambda e: e.name):
            names = e.variant_names()
            out += doc_lines(e.doc) or [f"/// Code list of `{e.xsd_name or e.name}`."]
            if e.xsd_name:
                out.append("///")
                out.append(f"/// XSD type `{e.xsd_name}`.")
            out.append("#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]")
            out.append("#[non_exhaustive]")
            out.append(f"pub enum {e.name} {{")
            for i, v in enumerate(e.values):
                d = e.docs[v]
                out += doc_lines(f"`{v}`" + (f": {d}" if d else ""), "    ")
                if e.masks[v] != BOTH:
                    out += self.mask_note(e.masks[v], "    ")
                if i == 0:
                    out.append("    #[default]")
                out.append(f"    {names[v]},")
            out.append("}")
            out.append(f"impl {e.name} {{")
            out.append("    /// Every value, in schema order.")
            out.append(f"    pub const ALL: &'static [{e.name}] = &[" + ", ".join(f"Self::{names[v]}" for v in e.values) + "];")
            out.append("    /// The official code, as written in the XML.")
            out.append("    pub const fn code(self) -> &'static str {")
            out.append("        match self {")
            for v in e.values:
                out.append(f"            Self::{names[v]} => {rust_str(v)},")
            out.append("        }")
            out.append("    }")
            out.append("    /// The value for an official code.")
            out.append("    pub fn from_code(code: &str) -> Option<Self> {")
            out.append("        Some(match code {")
            for v in e.values:
                out.append(f"            {rust_str(v)} => Self::{names[v]},")
            out.append("            _ => return None,")
            out.append("        })")
            out.append("    }")
            out.append("    /// Which schema versions know this value (bit 0: FA(2), bit 1: FA(3)).")
            out.append("    pub const fn schema_mask(self) -> u8 {")
            out.append("        match self {")
            for v in e.values:
                out.append(f"            Self::{names[v]} => {e.masks[v]},")
            out.append("        }")
            out.append("    }")
            out.append("}")
            out.append(f"impl EnumCode for {e.name} {{")
            out.append("    fn code(self) -> &'static str { Self::code(self) }")
            out.append("    fn from_code(code: &str) -> Option<Self> { Self::from_code(code) }")
            out.append("    fn schema_mask(self) -> u8 { Self::schema_mask(self) }")
            out.append(f"    const NUMERIC: bool = {'true' if e.numeric else 'false'};")
            out.append("}")
            out.append("")
        for s in SHAPES:
            if s.kind == "struct":
                out += doc_lines(s.doc) or [f"/// Content of `{s.complex.hint if getattr(s, 'complex', None) else s.name}`."]
                if getattr(s, "xsd", None):
                    out.append("///")
                    out.append(f"/// XSD type `{s.xsd}`.")
                out.append("#[derive(Debug, Clone, PartialEq, Default)]")
                out.append(f"pub struct {s.name} {{")
                for f in s.fields:
                    if getattr(f, "const", False):
                        continue
                    out += self.field_doc(f, "    ")
                    out.append(f"    pub {f.rust_name}: {self.field_type(f)},")
                out.append("}")
                out.append("")
            else:
                out += doc_lines(s.doc) or [f"/// One of the alternatives of `{s.name}`."]
                if getattr(s, "xsd", None):
                    out.append("///")
                    out.append(f"/// XSD type `{s.xsd}`.")
                names = " | ".join("`" + "+".join(v[4]) + "`" for v in s.variants)
                out.append(f"/// XSD choice: {names}.")
                out.append("#[derive(Debug, Clone, PartialEq)]")
                out.append(f"pub enum {s.name} {{")
                for vname, fs, extra, br, names in s.variants:
                    if fs is None:
                        out += self.field_doc(extra, "    ")
                        out.append(f"    {vname}({self.field_type(extra)}),")
                    else:
                        out.append(f"    /// Elements {', '.join('`' + n + '`' for n in names)}.")
                        out += self.mask_note(br.mask, "    ")
                        out.append(f"    {vname} {{")
                        for f in fs:
                            out += self.field_doc(f, "        ")
                            out.append(f"        {f.rust_name}: {self.field_type(f)},")
                        out.append("    },")
                out.append("}")
                v0 = s.variants[0]
                out.append(f"impl Default for {s.name} {{")
                if v0[1] is None:
                    out.append(f"    fn default() -> Self {{ Self::{v0[0]}(Default::default()) }}")
                else:
                    inits = ", ".join(f"{f.rust_name}: Default::default()" for f in v0[1])
                    out.append(f"    fn default() -> Self {{ Self::{v0[0]} {{ {inits} }} }}")
                out.append("}")
                out.append("")

    # ---- builders ------------------------------------------------------------------------
    def conv_expr(self, f, id_var):
        """Expression converting node `id_var` into the field's item type."""
        ms = leaf_simple(f) if f.node is not None else None
        if ms is not None:
            tf = f"::<{ms.rust}>" if ms.kind == "enum" else ""
            return f"leaf_{leaf_kind_fn(ms)}{tf}(c, {id_var}, sv, {rule_arg(ms)})?"
        shape = SHAPE_BY_COMPLEX[id(f.node.complex)]
        return f"{{ let mut sub = c.enter({id_var}); let x = b_{snake(shape.name)}(&mut sub, sv)?; sub.finish()?; x }}"

    def build_field(self, f, lines, ind):
        """Emit `let <name> = ...;` for field f, reading from cursor c."""
        v = f.rust_name
        if getattr(f, "const", False):
            lines.append(f"{ind}c.schema_const({rust_str(f.node.name)}, sv)?;")
            return
        if getattr(f, "attr", None):
            an, ms, req, amask, adoc = f.attr
            fm = fmeta(an, amask, req, [0, 0], [1, 1])
            tf = f"::<{ms.rust}>" if ms.kind == "enum" else ""
            expr = f"match c.attr(&{fm}, sv)? {{ Some(a) => Some(attr_{leaf_kind_fn(ms)}{tf}(c, a, &{fm}, sv, {rule_arg(ms)})?), None => None }}"
            lines.append(f"{ind}let {v} = {expr};")
            if not f.opt:
                lines.append(f"{ind}let {v} = c.require_attr(&{fm}, {v})?;")
            return
        if f.node.kind == "choice":
            self.build_choice(f, lines, ind)
            return
        fm = field_meta(f)
        if f.vec:
            lines.append(f"{ind}let mut {v} = Vec::new();")
            lines.append(f"{ind}if sv.has({f.node.mask}) {{")
            lines.append(f"{ind}    while let Some(id) = c.next_of(&{fm}, sv)? {{")
            lines.append(f"{ind}        {v}.push({self.conv_expr(f, 'id')});")
            lines.append(f"{ind}    }}")
            lines.append(f"{ind}    c.check_count(&{fm}, sv, {v}.len())?;")
            lines.append(f"{ind}}}")
            return
        if f.opt:
            lines.append(f"{ind}let {v} = match c.opt(&{fm}, sv)? {{ Some(id) => Some({self.conv_expr(f, 'id')}), None => None }};")
        else:
            lines.append(f"{ind}let {v} = {{ let id = c.req(&{fm}, sv)?; {self.conv_expr(f, 'id')} }};")

    def build_fields(self, fields, groups, lines, ind):
        for f in fields:
            self.build_field(f, lines, ind)
        self.group_checks(fields, groups, lines, ind, build=True)

    def group_checks(self, fields, groups, lines, ind, build, prefix=""):
        """Optional sequences: when any member is present, the members the group requires must be too."""
        for gid, group, _ in groups:
            members = [f for f in fields if f.in_group and gid in f.in_group]
            if not members:
                continue
            if len(members) < 2:
                continue
            present = " || ".join(self.present_expr(f, prefix) for f in members)
            for f in members:
                if f.in_group[-1] != gid:
                    continue  # deeper groups check their own
                required = self.required_in_group(f, group)
                if not required:
                    continue
                name = f.node.name if f.node.kind == "element" else "|".join(v[4][0] for v in f.shape.variants)
                cond = f"sv.has_all({required})" if required != BOTH else "true"
                ctx = "c" if build else "o"
                lines.append(f"{ind}if {cond} && ({present}) && !({self.present_expr(f, prefix)}) {{")
                lines.append(f"{ind}    return Err({ctx}.missing({rust_str(name)}));")
                lines.append(f"{ind}}}")

    def required_in_group(self, f, group):
        node = f.node
        req = 0
        for b in (FA2, FA3):
            if not (b & node.mask):
                continue
            mn = node.occ.get(b, (1, 1))[0]
            if mn > 0:
                req |= b
        return req

    def present_expr(self, f, prefix):
        n = prefix + f.rust_name
        if f.vec:
            return f"!{n}.is_empty()"
        if f.opt:
            return f"{n}.is_some()"
        return "true"

    def build_choice(self, f, lines, ind):
        shape = f.shape
        v = f.rust_name or "choice"
        lines.append(f"{ind}let {v} = ")
        first = True
        for vname, fs, extra, br, names in shape.variants:
            cond = f"sv.has({br.mask}) && c.peek_any(&[{', '.join(rust_str(n) for n in names)}])"
            kw = "if" if first else "} else if"
            first = False
            lines.append(f"{ind}    {kw} {cond} {{")
            if fs is None:
                fm = field_meta(extra)
                if extra.vec:
                    lines.append(f"{ind}        let mut items = Vec::new();")
                    lines.append(f"{ind}        while let Some(id) = c.next_of(&{fm}, sv)? {{ items.push({self.conv_expr(extra, 'id')}); }}")
                    lines.append(f"{ind}        c.check_count(&{fm}, sv, items.len())?;")
                    lines.append(f"{ind}        Some({shape.name}::{vname}(items))")
                elif extra.opt:
                    lines.append(f"{ind}        let x = match c.opt(&{fm}, sv)? {{ Some(id) => Some({self.conv_expr(extra, 'id')}), None => None }};")
                    lines.append(f"{ind}        Some({shape.name}::{vname}(x))")
                else:
                    lines.append(f"{ind}        let id = c.req(&{fm}, sv)?;")
                    lines.append(f"{ind}        Some({shape.name}::{vname}({self.conv_expr(extra, 'id')}))")
            else:
                self.build_fields(fs, extra, lines, ind + "        ")
                inits = ", ".join(x.rust_name for x in fs)
                lines.append(f"{ind}        Some({shape.name}::{vname} {{ {inits} }})")
        lines.append(f"{ind}    }} else {{ None }};")
        all_names = [v[4][0] for v in shape.variants]
        names_lit = "&[" + ", ".join(rust_str(n) for n in all_names) + "]"
        if not f.opt:
            lines.append(f"{ind}let {v} = match {v} {{ Some(x) => x, None => return Err(c.missing_choice({names_lit})) }};")
        elif not f.in_group:
            # optional in the model; required in the schemas where the choice is mandatory
            req = 0
            for b in (FA2, FA3):
                if b & f.node.mask and f.node.occ[b][0] > 0:
                    req |= b
            if req:
                lines.append(f"{ind}if {v}.is_none() && sv.has_all({req}) {{ return Err(c.missing_choice({names_lit})); }}")

    def gen_builders(self):
        out = self.codec
        for s in SHAPES:
            if getattr(s, "inline", False):
                continue  # built in place by the parent's builder
            fn = f"b_{snake(s.name)}"
            if s.kind == "struct":
                out.append(f"pub(crate) fn {fn}(c: &mut Cursor<'_, '_>, sv: Sv) -> Result<{s.name}, Error> {{")
                lines = []
                self.build_fields(s.fields, s.groups, lines, "    ")
                out += lines
                out.append(f"    Ok({s.name} {{ {', '.join(f.rust_name for f in s.fields if not getattr(f, 'const', False))} }})")
                out.append("}")
            else:
                out.append(f"pub(crate) fn {fn}(c: &mut Cursor<'_, '_>, sv: Sv) -> Result<{s.name}, Error> {{")
                lines = []
                fld = Field(s.node, "choice", s.name, False, False, None)
                fld.shape = s
                self.build_choice(fld, lines, "    ")
                out += lines
                out.append("    Ok(choice)")
                out.append("}")
            out.append("")

    # ---- emitters ------------------------------------------------------------------------
    def emit_item(self, f, expr, lines, ind):
        """Emit one item (leaf or complex) `expr` (a reference) of field f."""
        ms = leaf_simple(f)
        fm = field_meta(f)
        if ms is not None:
            lines.append(f"{ind}out_{leaf_kind_fn(ms)}(o, &{fm}, {expr}, sv, {rule_arg(ms)})?;")
            return
        shape = SHAPE_BY_COMPLEX[id(f.node.complex)]
        if shape.kind == "struct" and any(getattr(x, "attr", None) for x in shape.fields):
            lines.append(f"{ind}o.start_attrs(o.key(&{fm}), &a_{snake(shape.name)}({expr}))?;")
        else:
            lines.append(f"{ind}o.start(o.key(&{fm}))?;")
        lines.append(f"{ind}e_{snake(shape.name)}({expr}, o, sv)?;")
        lines.append(f"{ind}o.end()?;")

    def emit_field(self, f, val, lines, ind):
        """val: expression of the field value (a place, e.g. `v.p_1` or a binding `p_1` that is a reference)."""
        if getattr(f, "attr", None):
            return  # attributes are written with the start tag
        if getattr(f, "const", False):
            lines.append(f"{ind}o.schema_const({rust_str(f.node.name)}, sv)?;")
            return
        if f.node.kind == "choice":
            self.emit_choice(f, val, lines, ind)
            return
        fm = field_meta(f)
        if f.vec:
            lines.append(f"{ind}if o.list_allowed(&{fm}, sv, {val}.len())? {{")
            lines.append(f"{ind}    o.list_start(o.key(&{fm}))?;")
            lines.append(f"{ind}    for (i, x) in {val}.iter().enumerate() {{")
            lines.append(f"{ind}        o.item(i);")
            self.emit_item(f, "x", lines, ind + "        ")
            lines.append(f"{ind}    }}")
            lines.append(f"{ind}    o.list_end()?;")
            lines.append(f"{ind}}}")
        elif f.opt:
            lines.append(f"{ind}if let Some(x) = o.opt_allowed(&{fm}, sv, {val}.as_ref())? {{")
            self.emit_item(f, "x", lines, ind + "    ")
            lines.append(f"{ind}}}")
        else:
            lines.append(f"{ind}o.req_allowed(&{fm}, sv)?;")
            self.emit_item(f, f"&{val}", lines, ind)

    def emit_choice(self, f, val, lines, ind):
        shape = f.shape
        names_lit = "&[" + ", ".join(rust_str(v[4][0]) for v in shape.variants) + "]"
        if f.opt:
            req = 0
            if not f.in_group:
                for b in (FA2, FA3):
                    if b & f.node.mask and f.node.occ[b][0] > 0:
                        req |= b
            lines.append(f"{ind}match &{val} {{")
            lines.append(f"{ind}    None => {{ if sv.has_all({req}) {{ return Err(o.missing_choice({names_lit})); }} }}")
            lines.append(f"{ind}    Some(x) => e_{snake(shape.name)}(x, o, sv)?,")
            lines.append(f"{ind}}}")
        else:
            lines.append(f"{ind}e_{snake(shape.name)}(&{val}, o, sv)?;")

    def gen_emitters(self):
        out = self.codec
        for s in SHAPES:
            fn = f"e_{snake(s.name)}"
            out.append(f"pub(crate) fn {fn}<O: Out>(v: &{s.name}, o: &mut O, sv: Sv) -> Result<(), Error> {{")
            if s.kind == "struct":
                lines = []
                for f in s.fields:
                    if getattr(f, "attr", None):
                        continue
                    self.emit_field(f, f"v.{f.rust_name}", lines, "    ")
                self.group_checks(s.fields, s.groups, lines, "    ", build=False, prefix="v.")
                if any(getattr(f, "attr", None) for f in s.fields):
                    pass
                out += lines
            else:
                out.append(f"    if !sv.has(choice_mask_{snake(s.name)}(v)) {{ return Err(o.not_in_schema(choice_name_{snake(s.name)}(v), sv)); }}")
                out.append("    match v {")
                for vname, fs, extra, br, names in s.variants:
                    if fs is None:
                        out.append(f"        {s.name}::{vname}(x) => {{")
                        lines = []
                        if extra.vec:
                            self.emit_field(extra, "x", lines, "            ")
                        elif extra.opt:
                            fm = field_meta(extra)
                            lines.append(f"            if let Some(x) = o.opt_allowed(&{fm}, sv, x.as_ref())? {{")
                            self.emit_item(extra, "x", lines, "                ")
                            lines.append("            }")
                        else:
                            fm = field_meta(extra)
                            lines.append(f"            o.req_allowed(&{fm}, sv)?;")
                            self.emit_item(extra, "x", lines, "            ")
                        out += lines
                        out.append("        }")
                    else:
                        binds = ", ".join(x.rust_name for x in fs)
                        out.append(f"        {s.name}::{vname} {{ {binds} }} => {{")
                        lines = []
                        for x in fs:
                            self.emit_field(x, f"(*{x.rust_name})", lines, "            ")
                        self.group_checks(fs, extra, lines, "            ", build=False, prefix="")
                        out += lines
                        out.append("        }")
                out.append("    }")
            out.append("    Ok(())")
            out.append("}")
            if s.kind == "enum":
                out.append(f"fn choice_mask_{snake(s.name)}(v: &{s.name}) -> u8 {{")
                out.append("    match v {")
                for vname, fs, extra, br, names in s.variants:
                    pat = f"{s.name}::{vname}(..)" if fs is None else f"{s.name}::{vname} {{ .. }}"
                    out.append(f"        {pat} => {br.mask},")
                out.append("    }")
                out.append("}")
                out.append(f"fn choice_name_{snake(s.name)}(v: &{s.name}) -> &'static str {{")
                out.append("    match v {")
                for vname, fs, extra, br, names in s.variants:
                    pat = f"{s.name}::{vname}(..)" if fs is None else f"{s.name}::{vname} {{ .. }}"
                    out.append(f"        {pat} => {rust_str(names[0])},")
                out.append("    }")
                out.append("}")
            out.append("")

    # ---- start tags with attributes ------------------------------------------------------
    def attr_writers(self):
        """Structs with attributes get `a_<name>` returning their attribute list for the start tag."""
        out = self.codec
        for s in SHAPES:
            if s.kind != "struct":
                continue
            attrs = [f for f in s.fields if getattr(f, "attr", None)]
            if not attrs:
                continue
            out.append(f"pub(crate) fn a_{snake(s.name)}(v: &{s.name}) -> [(&'static str, Option<&'static str>); {len(attrs)}] {{")
            items = []
            for f in attrs:
                an = f.attr[0]
                if f.opt:
                    items.append(f"({rust_str(an)}, v.{f.rust_name}.map(|x| x.code()))")
                else:
                    items.append(f"({rust_str(an)}, Some(v.{f.rust_name}.code()))")
            out.append(f"    [{', '.join(items)}]")
            out.append("}")


# --------------------------------------------------------------------------------------------
# JSON Schema
# --------------------------------------------------------------------------------------------
def js_simple(ms):
    if ms.kind == "enum":
        vals = ms.enum.values
        return {"type": "string", "enum": vals} if not ms.enum.numeric else \
            {"oneOf": [{"type": "string", "enum": vals}, {"type": "integer", "enum": [int(v) for v in vals]}]}
    if ms.kind == "str":
        d = {"type": "string"}
        los = [int(st.facets.get("length", st.facets.get("minLength", 0))) for st in ms.st.values()]
        his = [int(st.facets.get("length", st.facets.get("maxLength", 0)) or 0) for st in ms.st.values()]
        if min(los) > 0:
            d["minLength"] = min(los)
        if all(his):
            d["maxLength"] = max(his)
        return d
    if ms.kind == "dec":
        return {"$ref": "#/$defs/Decimal"}
    if ms.kind in ("int", "uint"):
        return {"type": "integer"} if ms.kind == "int" else {"type": "integer", "minimum": 0}
    if ms.kind == "date":
        return {"$ref": "#/$defs/Date"}
    if ms.kind == "datetime":
        return {"$ref": "#/$defs/DateTime"}
    raise SystemExit(ms.kind)


def js_item(f, defs):
    ms = leaf_simple(f) if f.node is not None else None
    if ms is not None:
        return js_simple(ms)
    shape = SHAPE_BY_COMPLEX[id(f.node.complex)]
    js_shape(shape, defs)
    return {"$ref": f"#/$defs/{shape.name}"}


def js_fields(fields, defs, props, required, alternatives):
    for f in fields:
        if getattr(f, "const", False):
            continue
        if getattr(f, "attr", None):
            an, ms, req, amask, adoc = f.attr
            props[an] = js_simple(ms)
            if not f.opt:
                required.append(an)
            continue
        if f.node.kind == "choice":
            branches = []
            all_names = [n for v in f.shape.variants for n in v[4]]
            for vname, fs, extra, br, names in f.shape.variants:
                bprops, breq, balts = {}, [], []
                if fs is None:
                    js_fields([extra], defs, bprops, breq, balts)
                else:
                    js_fields(fs, defs, bprops, breq, balts)
                props.update(bprops)
                branch = {"required": breq or [names[0]]}
                others = [n for n in all_names if n not in names]
                if others:
                    branch["not"] = {"anyOf": [{"required": [n]} for n in others]}
                if balts:
                    branch["allOf"] = balts
                branches.append(branch)
            if f.opt:
                branches.append({"not": {"anyOf": [{"required": [n]} for n in all_names]}})
            alternatives.append({"oneOf": branches})
            continue
        item = js_item(f, defs)
        desc = " ".join((f.node.doc or "").split())
        if f.vec:
            p = {"type": "array", "items": item}
        else:
            p = dict(item)
        if desc:
            p = {"description": desc, **p} if "$ref" not in p else {"description": desc, "allOf": [p]}
        key = f.node.name + (camel(f.node.field_suffix) if getattr(f.node, "field_suffix", "") else "")
        props[key] = p
        if not f.opt and not f.vec:
            required.append(key)


def js_shape(shape, defs):
    if shape.name in defs:
        return
    defs[shape.name] = {}
    props, required, alternatives = {}, [], []
    if shape.kind == "struct":
        js_fields(shape.fields, defs, props, required, alternatives)
    else:
        fld = Field(shape.node, "", shape.name, False, False, None)
        fld.shape = shape
        js_fields([fld], defs, props, required, alternatives)
    d = {"type": "object"}
    if shape.doc:
        d["description"] = " ".join(shape.doc.split())
    d["properties"] = props
    d["additionalProperties"] = False
    if required:
        d["required"] = required
    if alternatives:
        d["allOf"] = alternatives
    defs[shape.name] = d


# --------------------------------------------------------------------------------------------
def main():
    args = sys.argv[1:]
    out_root = ROOT
    if "--out" in args:
        k = args.index("--out")
        out_root = args[k + 1]
        del args[k:k + 2]
    spec = args[0] if args else os.path.join(ROOT, "..", "shared", "ksef-spec")
    xsd_dir = os.path.join(spec, "xsd", "fa")
    schemas = {b: Schema(os.path.join(xsd_dir, f)) for b, f in SCHEMA_FILES.items()}
    roots = {b: s.root for b, s in schemas.items()}
    root = merge_particles(roots, "Faktura")[0]
    root_ty = shape_for_complex(root.complex, "Faktura", "")
    g = Gen()
    g.gen_model()
    g.gen_builders()
    g.gen_emitters()
    g.attr_writers()
    header = ("// @generated by tools/gen_model.py from the official FA(2) and FA(3) XSDs. Do not edit:\n"
              "// change the generator and run `make gen`.\n")
    model = [header,
             "//! The FA(3)/FA(2) invoice model: one set of types for both schema versions.",
             "//!",
             "//! Names follow the official element names (`P_13_1` is `p_13_1`); each item's doc comment",
             "//! names the XML element, its occurrence in each schema, and its official description.",
             "#![allow(clippy::large_enum_variant, clippy::doc_lazy_continuation)]",
             "use alloc::string::String;",
             "use alloc::vec::Vec;",
             "use super::values::{Date, DateTime, Decimal, EnumCode};", ""]
    model += g.model
    codec = [header,
             "//! Builders (tree -> model) and emitters (model -> XML/JSON) for every model type.",
             "#![allow(clippy::all, unused_variables, unused_mut, unused_imports, unused_braces)]",
             "use alloc::vec::Vec;",
             "use super::generated::*;",
             "use super::rt::*;",
             "use super::values::{Date, DateTime, Decimal};",
             "use crate::error::Error;",
             "", RULES.rust(), ""]
    codec += [f"const {c}: Fm = {t};" for c, t in FMETA_ORDER]
    codec.append("")
    # schema facts
    codec.append("/// Namespace of each schema version's invoice element.")
    codec.append(f"pub(crate) const NS_FA2: &str = {rust_str(schemas[FA2].target_ns)};")
    codec.append(f"pub(crate) const NS_FA3: &str = {rust_str(schemas[FA3].target_ns)};")
    codec.append("/// Elements whose content the schema version fixes: (text, attributes) for FA(2) and FA(3).")
    codec.append("pub(crate) fn schema_const_value(name: &str, sv: Sv) -> Option<(&'static str, &'static [(&'static str, &'static str)])> {")
    codec.append("    match (name, sv) {")
    for name, per in sorted(SCHEMA_CONST_VALUES.items()):
        for b, svn in ((FA2, "Sv::Fa2"), (FA3, "Sv::Fa3")):
            text, attrs = per[b]
            al = ", ".join(f"({rust_str(a)}, {rust_str(v)})" for a, v in attrs)
            codec.append(f"        ({rust_str(name)}, {svn}) => Some(({rust_str(text)}, &[{al}])),")
    codec.append("        _ => None,")
    codec.append("    }")
    codec.append("}")
    codec.append(f"pub(crate) use b_{snake(root_ty)} as build_root;")
    codec.append(f"pub(crate) use e_{snake(root_ty)} as emit_root;")
    codec += g.codec
    os.makedirs(os.path.join(out_root, "core", "src", "model"), exist_ok=True)
    with open(os.path.join(out_root, "core", "src", "model", "generated.rs"), "w") as fh:
        fh.write("\n".join(model) + "\n")
    with open(os.path.join(out_root, "core", "src", "model", "codec.rs"), "w") as fh:
        fh.write("\n".join(codec) + "\n")
    defs = {}
    js_shape(SHAPE_BY_COMPLEX[id(root.complex)], defs)
    defs["Decimal"] = {"description": "Exact decimal number. Written as a JSON string (\"1234.50\"); JSON numbers are accepted on input and read exactly.",
                       "oneOf": [{"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?$"}, {"type": "number"}]}
    defs["Date"] = {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
    defs["DateTime"] = {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})?$"}
    js = {"$schema": "https://json-schema.org/draft/2020-12/schema",
          "$id": "https://ksef.invalid/schema/invoice.schema.json",
          "title": "KSeF invoice (FA(3)/FA(2)) — JSON form",
          "description": "The JSON form of the ksef invoice model. Keys are the official XML element names; "
                         "repeated elements are arrays; choices are flattened like in the XML. "
                         "Generated by tools/gen_model.py from the official XSDs.",
          "$ref": f"#/$defs/{root_ty}", "$defs": defs}
    os.makedirs(os.path.join(out_root, "schema"), exist_ok=True)
    with open(os.path.join(out_root, "schema", "invoice.schema.json"), "w") as fh:
        json.dump(js, fh, ensure_ascii=False, indent=1)
        fh.write("\n")
    print(f"generated: {len(SHAPES)} types, {len(ENUMS)} enumerations, {len(FMETA_ORDER)} element metas, "
          f"{len(RULES.order)} rules")


if __name__ == "__main__":
    main()
