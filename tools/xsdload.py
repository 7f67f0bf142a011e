"""Load the FA(2)/FA(3) XSDs (and their bazowe includes) into a small in-memory schema model.

Used by gen_model.py. Only the XSD constructs the official FA schemas use are supported;
anything else raises, so a new schema version cannot be half-understood silently.
"""
import os
import xml.etree.ElementTree as ET

XS = "{http://www.w3.org/2001/XMLSchema}"


class SimpleType:
    def __init__(self, name, ns):
        self.name, self.ns = name, ns
        self.base = None  # builtin name ('string', 'decimal', ...) after resolution
        self.base_ref = None  # (ns, name) of a named base type
        self.facets = {}  # minLength, maxLength, length, totalDigits, fractionDigits, minInclusive, maxInclusive, minExclusive, whiteSpace
        self.patterns = []
        self.enums = []  # [(value, doc)]
        self.union = None  # [SimpleType]
        self.doc = ""

    def key(self):
        return (self.ns, self.name)


class ComplexType:
    def __init__(self, name, ns):
        self.name, self.ns = name, ns
        self.content = None  # Particle or None
        self.attributes = []  # [(name, fixed, use, simpletype)]
        self.simple_base = None  # SimpleType for simpleContent
        self.base_ref = None  # complexContent extension base (ns, name)
        self.doc = ""


class Particle:
    def __init__(self, kind, min_occurs=1, max_occurs=1):
        self.kind = kind  # 'element' | 'sequence' | 'choice'
        self.min, self.max = min_occurs, max_occurs
        self.children = []
        self.name = None
        self.type = None  # SimpleType | ComplexType (resolved later)
        self.type_ref = None
        self.fixed = None
        self.doc = ""

    def __repr__(self):
        return f"<{self.kind} {self.name or ''} {self.min}..{self.max}>"


def occurs(e):
    mn = int(e.get("minOccurs", "1"))
    mx = e.get("maxOccurs", "1")
    mx = None if mx == "unbounded" else int(mx)
    return mn, mx


def doc_of(e):
    d = e.find(f"{XS}annotation/{XS}documentation")
    return " ".join((d.text or "").split()) if d is not None else ""


BUILTINS = {"string", "token", "decimal", "int", "integer", "nonNegativeInteger", "byte", "date",
            "dateTime", "gYear", "normalizedString", "base64Binary", "boolean", "positiveInteger", "anyURI"}


class Schema:
    def __init__(self, path):
        self.types = {}  # (ns, name) -> SimpleType|ComplexType
        self.root = None
        self.target_ns = None
        self._loaded = set()
        self._load(path, top=True)
        self._resolve_all()

    def _qname(self, text, nsmap):
        if ":" in text:
            p, n = text.split(":", 1)
            return nsmap[p], n
        return nsmap.get("", None), text

    def _load(self, path, top=False):
        path = os.path.normpath(path)
        if path in self._loaded:
            return
        self._loaded.add(path)
        nsmap = {}
        for _, (p, uri) in ET.iterparse(path, events=["start-ns"]):
            nsmap.setdefault(p, uri)
        tree = ET.parse(path).getroot()
        tns = tree.get("targetNamespace")
        if top:
            self.target_ns = tns
        for inc in tree:
            if inc.tag in (f"{XS}include", f"{XS}import"):
                self._load(os.path.join(os.path.dirname(path), inc.get("schemaLocation")))
        for child in tree:
            if child.tag == f"{XS}simpleType":
                st = self._simple(child, tns, nsmap, child.get("name"))
                self.types[st.key()] = st
            elif child.tag == f"{XS}complexType":
                ct = self._complex(child, tns, nsmap, child.get("name"))
                self.types[(tns, ct.name)] = ct
            elif child.tag == f"{XS}element":
                if top:
                    self.root = self._element(child, tns, nsmap)
            elif child.tag in (f"{XS}include", f"{XS}import", f"{XS}annotation"):
                pass
            else:
                raise ValueError(f"unsupported top-level {child.tag} in {path}")

    def _simple(self, e, tns, nsmap, name):
        st = SimpleType(name, tns)
        st.doc = doc_of(e)
        r = e.find(f"{XS}restriction")
        u = e.find(f"{XS}union")
        if u is not None:
            st.union = [self._simple(m, tns, nsmap, None) for m in u.findall(f"{XS}simpleType")]
            st.base = "string"
            return st
        if r is None:
            raise ValueError(f"simpleType {name} without restriction")
        base = self._qname(r.get("base"), nsmap)
        if base[0] == XS[1:-1]:
            st.base = base[1]
        else:
            st.base_ref = base
        for f in r:
            tag = f.tag[len(XS):]
            if tag == "enumeration":
                st.enums.append((f.get("value"), doc_of(f)))
            elif tag == "pattern":
                st.patterns.append(f.get("value"))
            elif tag == "annotation":
                pass
            else:
                st.facets[tag] = f.get("value")
        return st

    def _complex(self, e, tns, nsmap, name):
        ct = ComplexType(name, tns)
        ct.doc = doc_of(e)
        for c in e:
            tag = c.tag[len(XS):]
            if tag in ("sequence", "choice"):
                ct.content = self._particle(c, tns, nsmap)
            elif tag == "attribute":
                ct.attributes.append(self._attribute(c, tns, nsmap))
            elif tag == "simpleContent":
                ext = c[0]
                if ext.tag != f"{XS}extension":
                    raise ValueError("simpleContent without extension")
                ct.simple_base = ("ref", self._qname(ext.get("base"), nsmap))
                for a in ext:
                    if a.tag == f"{XS}attribute":
                        ct.attributes.append(self._attribute(a, tns, nsmap))
            elif tag == "complexContent":
                ext = c[0]
                if ext.tag != f"{XS}extension":
                    raise ValueError("complexContent without extension")
                ct.base_ref = self._qname(ext.get("base"), nsmap)
                for a in ext:
                    t = a.tag[len(XS):]
                    if t in ("sequence", "choice"):
                        ct.content = self._particle(a, tns, nsmap)
                    elif t == "attribute":
                        ct.attributes.append(self._attribute(a, tns, nsmap))
            elif tag == "annotation":
                pass
            else:
                raise ValueError(f"unsupported complexType child {tag}")
        return ct

    def _attribute(self, a, tns, nsmap):
        st = None
        if a.get("type"):
            st = ("ref", self._qname(a.get("type"), nsmap))
        else:
            s = a.find(f"{XS}simpleType")
            st = self._simple(s, tns, nsmap, None)
        return {"name": a.get("name"), "fixed": a.get("fixed"), "use": a.get("use", "optional"),
                "type": st, "doc": doc_of(a)}

    def _particle(self, e, tns, nsmap):
        tag = e.tag[len(XS):]
        if tag == "element":
            return self._element(e, tns, nsmap)
        p = Particle(tag, *occurs(e))
        for c in e:
            if c.tag == f"{XS}annotation":
                continue
            p.children.append(self._particle(c, tns, nsmap))
        return p

    def _element(self, e, tns, nsmap):
        p = Particle("element", *occurs(e))
        p.name = e.get("name")
        if e.get("ref"):
            raise ValueError("element ref unsupported")
        p.doc = doc_of(e)
        p.fixed = e.get("fixed")
        if e.get("type"):
            p.type_ref = self._qname(e.get("type"), nsmap)
        else:
            s = e.find(f"{XS}simpleType")
            c = e.find(f"{XS}complexType")
            if s is not None:
                p.type = self._simple(s, tns, nsmap, None)
            elif c is not None:
                p.type = self._complex(c, tns, nsmap, None)
            else:
                raise ValueError(f"element {p.name} without type")
        return p

    # -- resolution --------------------------------------------------------
    def lookup(self, q):
        if q[0] == XS[1:-1]:
            st = SimpleType(q[1], q[0])
            st.base = q[1]
            return st
        return self.types[q]

    def _resolve_simple(self, st, seen=None):
        if st.union:
            for m in st.union:
                self._resolve_simple(m)
            return st
        if st.base_ref is not None:
            base = self.lookup(st.base_ref)
            self._resolve_simple(base)
            st.base_ref = None
            st.base = base.base
            if base.union and not st.union:
                st.union = base.union
            # inherit facets not overridden
            for k, v in base.facets.items():
                st.facets.setdefault(k, v)
            if not st.enums:
                st.enums = list(base.enums)
            # patterns: restriction patterns AND the base's
            st.base_patterns = getattr(base, "base_patterns", []) + ([base.patterns] if base.patterns else [])
            if not st.doc:
                st.doc = base.doc
        return st

    def _resolve_all(self):
        for t in list(self.types.values()):
            if isinstance(t, SimpleType):
                self._resolve_simple(t)
        done = set()

        def walk_ct(ct):
            if id(ct) in done:
                return
            done.add(id(ct))
            if ct.base_ref is not None:
                base = self.lookup(ct.base_ref)
                walk_ct(base)
                # extension: base content followed by own content
                if ct.content is not None and base.content is not None:
                    seq = Particle("sequence")
                    seq.children = [base.content, ct.content]
                    ct.content = seq
                elif base.content is not None:
                    ct.content = base.content
                ct.attributes = base.attributes + ct.attributes
                if base.simple_base is not None and ct.simple_base is None:
                    ct.simple_base = base.simple_base
                ct.base_ref = None
            if isinstance(ct.simple_base, tuple):
                st = self.lookup(ct.simple_base[1])
                if isinstance(st, ComplexType):
                    walk_ct(st)
                    ct.simple_base = st.simple_base
                    ct.attributes = st.attributes + ct.attributes
                else:
                    ct.simple_base = self._resolve_simple(st)
            for a in ct.attributes:
                if isinstance(a["type"], tuple):
                    a["type"] = self._resolve_simple(self.lookup(a["type"][1]))
                else:
                    self._resolve_simple(a["type"])
            if ct.content is not None:
                walk_p(ct.content)

        def walk_p(p):
            if p.kind == "element":
                if p.type_ref is not None:
                    p.type = self.lookup(p.type_ref)
                if isinstance(p.type, SimpleType):
                    self._resolve_simple(p.type)
                else:
                    walk_ct(p.type)
            else:
                for c in p.children:
                    walk_p(c)

        for t in list(self.types.values()):
            if isinstance(t, ComplexType):
                walk_ct(t)
        walk_p(self.root)


def dump(p, ind=0, out=None):
    out = out if out is not None else []
    occ = f"{p.min}..{'n' if p.max is None else p.max}"
    if p.kind == "element":
        t = p.type
        if isinstance(t, SimpleType):
            desc = f"{t.name or '~'}:{t.base} {sorted(t.facets.items())} pat={t.patterns} enums={[v for v, _ in t.enums][:40]}"
            out.append("  " * ind + f"{p.name} {occ} fixed={p.fixed} [{desc}]")
        else:
            out.append("  " * ind + f"{p.name} {occ} <{t.name or '~'}> attrs={[a['name'] for a in t.attributes]}")
            if t.content is not None:
                dump(t.content, ind + 1, out)
    else:
        out.append("  " * ind + f"{p.kind} {occ}")
        for c in p.children:
            dump(c, ind + 1, out)
    return out


if __name__ == "__main__":
    import sys
    s = Schema(sys.argv[1])
    print("\n".join(dump(s.root)))
