#!/usr/bin/env python3
"""Turns the official FHIR R4 definitions into compact C++ validation tables.

Input: the directory holding profiles-types.json, profiles-resources.json and
valuesets.json (from the npm package fetched by scripts/fetch-standards.sh).
Output: one C++ source defining the tables declared in src/schema/fhir_tables.h.

Every type (primitive, complex data type, resource, and each backbone element
such as Observation.component) becomes a TypeDef. Its JSON keys become
ElementDefs sorted by key: a choice element value[x] expands to one key per
allowed type (valueQuantity, valueString, ...), and every primitive-typed
element also gets its "_name" sibling (id + extensions of the primitive).
Keys of one logical element share a "slot" so cardinality and "only one
choice" can be checked per element. Required bindings on code-typed elements
point at a sorted code list, expanded from the value set's compose (explicit
concepts, whole local code systems, other value sets); value sets that need a
code system the package does not carry (UCUM, BCP-47, MIME types...) or a
filter are left unchecked, and so listed in a comment of the output.
"""
import json
import os
import sys

FHIR_TYPE_EXT = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"

PRIMS = {
    "boolean": "kBoolean", "integer": "kInteger", "positiveInt": "kPositiveInt",
    "unsignedInt": "kUnsignedInt", "decimal": "kDecimal", "string": "kString",
    "markdown": "kMarkdown", "code": "kCode", "id": "kId", "uri": "kUri", "url": "kUrl",
    "canonical": "kCanonical", "oid": "kOid", "uuid": "kUuid", "date": "kDate",
    "dateTime": "kDateTime", "instant": "kInstant", "time": "kTime",
    "base64Binary": "kBase64Binary", "xhtml": "kXhtml",
}
MANY = 0xFFFFFFFF


def load_bundle(path):
    with open(path, encoding="utf-8") as f:
        return [e["resource"] for e in json.load(f)["entry"]]


def type_code(t, path):
    code = t["code"]
    if code.startswith("http://hl7.org/fhirpath/System."):
        for ext in t.get("extension", []):
            if ext.get("url") == FHIR_TYPE_EXT:
                code = ext["valueUrl"]
                break
        else:
            code = "string"
    # Resource.id is an id (the R4 snapshot types it System.String/string).
    if path.count(".") == 1 and path.endswith(".id") and code == "string":
        return "id"
    return code


class Gen:
    def __init__(self, src):
        self.types_sd = [s for s in load_bundle(os.path.join(src, "profiles-types.json"))
                         if s["resourceType"] == "StructureDefinition"]
        self.res_sd = [s for s in load_bundle(os.path.join(src, "profiles-resources.json"))
                       if s["resourceType"] == "StructureDefinition"]
        vsb = load_bundle(os.path.join(src, "valuesets.json"))
        self.valuesets = {r["url"]: r for r in vsb if r["resourceType"] == "ValueSet"}
        self.codesystems = {r["url"]: r for r in vsb if r["resourceType"] == "CodeSystem"}
        self.types = []          # list of dicts: name, kind, prim, elements
        self.type_index = {}
        self.vs_codes = []       # list of sorted code lists
        self.vs_index = {}
        self.unexpandable = set()

    # ---- value sets -------------------------------------------------------
    def cs_codes(self, url):
        cs = self.codesystems.get(url)
        if not cs or cs.get("content") not in ("complete", "fragment"):
            return None
        out = []

        def walk(concepts):
            for c in concepts:
                out.append(c["code"])
                walk(c.get("concept", []))
        walk(cs.get("concept", []))
        return out

    def expand(self, url, depth=0):
        url = url.split("|")[0]
        vs = self.valuesets.get(url)
        if vs is None or depth > 8:
            return None
        compose = vs.get("compose")
        if not compose or compose.get("exclude"):
            return None
        codes = []
        for inc in compose.get("include", []):
            if inc.get("filter"):
                return None
            part = None
            if "concept" in inc:
                part = [c["code"] for c in inc["concept"]]
            elif "system" in inc:
                part = self.cs_codes(inc["system"])
            elif not inc.get("valueSet"):
                return None
            if "system" in inc and part is None:
                return None
            for ref in inc.get("valueSet", []):
                sub = self.expand(ref, depth + 1)
                if sub is None:
                    return None
                part = sub if part is None else [c for c in part if c in set(sub)]
            codes.extend(part or [])
        return sorted(set(codes))

    def value_set(self, url):
        if url in self.vs_index:
            return self.vs_index[url]
        codes = self.expand(url)
        if codes is None or not codes:
            self.unexpandable.add(url)
            self.vs_index[url] = -1
            return -1
        self.vs_index[url] = len(self.vs_codes)
        self.vs_codes.append(codes)
        return self.vs_index[url]

    # ---- structures -------------------------------------------------------
    def declare(self, name, kind, prim=None):
        self.type_index[name] = len(self.types)
        self.types.append({"name": name, "kind": kind, "prim": prim, "elements": [], "slots": []})

    def build(self):
        usable = [s for s in self.types_sd if s.get("derivation") != "constraint"]
        for s in usable:
            if s["kind"] == "primitive-type":
                self.declare(s["id"], "kPrimitive", PRIMS[s["id"]])
            else:
                self.declare(s["id"], "kComplex")
        self.declare("Resource", "kAnyResource")
        resources = [s for s in self.res_sd if s["kind"] == "resource" and not s.get("abstract")]
        for s in resources:
            self.declare(s["id"], "kResource")
        # Backbone types are declared on first sight while walking.
        for s in usable:
            if s["kind"] != "primitive-type":
                self.walk(s)
        for s in resources:
            self.walk(s)

    def walk(self, sd):
        elements = sd["snapshot"]["element"]
        by_path = {e["path"]: e for e in elements}
        children = {}
        for e in elements[1:]:
            parent, _, _ = e["path"].rpartition(".")
            children.setdefault(parent, []).append(e)
        root = elements[0]["path"]
        self.fill(self.type_index[sd["id"]], root, children, by_path)

    def backbone(self, path, children, by_path):
        if path not in self.type_index:
            self.declare(path, "kComplex")
            self.fill(self.type_index[path], path, children, by_path)
        return self.type_index[path]

    def fill(self, ti, path, children, by_path):
        t = self.types[ti]
        for e in children.get(path, []):
            if e.get("max") == "0":
                continue
            name = e["path"].rsplit(".", 1)[1]
            mx = MANY if e["max"] == "*" else int(e["max"])
            mn = int(e.get("min", 0))
            slot = len(t["slots"])
            t["slots"].append({"name": name, "min": mn, "max": mx})
            binding = e.get("binding", {})
            vs = -1
            if binding.get("strength") == "required" and binding.get("valueSet"):
                vs = -2  # resolved per type below (code only)
            if "contentReference" in e:
                target = e["contentReference"].split("#", 1)[1]
                # The referenced path lives in the same structure.
                self.add(t, name, self.backbone(target, children, by_path), slot, mx, -1)
                continue
            codes = [type_code(x, e["path"]) for x in e.get("type", [])]
            choice = name.endswith("[x]")
            base = name[:-3] if choice else name
            for code in codes:
                if code in ("BackboneElement", "Element") and children.get(e["path"]):
                    tt = self.backbone(e["path"], children, by_path)
                else:
                    tt = self.type_index.get(code)
                    if tt is None:
                        raise SystemExit(f"fhirgen: unknown type {code} at {e['path']}")
                key = base + (code[0].upper() + code[1:] if choice else "")
                evs = self.value_set(binding["valueSet"]) if vs == -2 and code == "code" else -1
                self.add(t, key, tt, slot, mx, evs)

    def add(self, t, key, tt, slot, mx, vs):
        t["elements"].append({"key": key, "type": tt, "slot": slot, "vs": vs, "ext": False})
        if self.types[tt]["kind"] == "kPrimitive":
            t["elements"].append({"key": "_" + key, "type": self.type_index["Element"], "slot": slot,
                                  "vs": -1, "ext": True, "variant": tt})

    # ---- output -----------------------------------------------------------
    def emit(self, out):
        pool = bytearray()
        offsets = {}

        def s(text):
            if text not in offsets:
                offsets[text] = len(pool)
                pool.extend(text.encode("utf-8"))
            return offsets[text], len(text.encode("utf-8"))

        lines = []
        elems, slots, codes, sets = [], [], [], []
        types_out = []
        for t in self.types:
            t["elements"].sort(key=lambda e: e["key"].encode("utf-8"))
            first_e, first_s = len(elems), len(slots)
            for e in t["elements"]:
                off, ln = s(e["key"])
                variant = e.get("variant", e["type"])
                elems.append(f"{{{off},{ln},{e['type']},{e['slot']},{variant},{e['vs']},{int(e['ext'])}}}")
            for sl in t["slots"]:
                off, ln = s(sl["name"])
                slots.append(f"{{{off},{ln},{sl['min']},{sl['max']}u}}")
            off, ln = s(t["name"])
            prim = t["prim"] or "kNone"
            types_out.append(f"{{{off},{ln},TypeKind::{t['kind']},Prim::{prim},{first_e},{len(t['elements'])},"
                             f"{first_s},{len(t['slots'])}}}")
        for c in self.vs_codes:
            first = len(codes)
            for code in c:
                off, ln = s(code)
                codes.append(f"{{{off},{ln}}}")
            sets.append(f"{{{first},{len(c)}}}")
        res = sorted((t["name"], i) for i, t in enumerate(self.types) if t["kind"] == "kResource")

        lines.append("// Generated by tools/fhirgen.py from the FHIR R4 definitions. Do not edit.")
        lines.append("#include \"schema/fhir_tables.h\"")
        lines.append("namespace carelog::schema::fhir {")
        lines.append("namespace {")
        lines.append("const char kPool[] = {")
        for i in range(0, len(pool), 32):
            lines.append(",".join(str(b if b < 128 else b - 256) for b in pool[i:i + 32]) + ",")
        lines.append("0};")
        lines.append("const ElementDef kElements[] = {" + ",\n".join(elems) + "};")
        lines.append("const SlotDef kSlots[] = {" + ",\n".join(slots) + "};")
        lines.append("const TypeDef kTypes[] = {" + ",\n".join(types_out) + "};")
        lines.append("const CodeRef kCodes[] = {" + (",\n".join(codes) or "{0,0}") + "};")
        lines.append("const CodeSet kCodeSets[] = {" + (",\n".join(sets) or "{0,0}") + "};")
        lines.append("const uint16_t kResources[] = {" + ",".join(str(i) for _, i in res) + "};")
        lines.append("}  // namespace")
        lines.append("const Tables& tables() {")
        lines.append("  static const Tables t{kPool, kElements, kSlots, kTypes, "
                     f"{len(self.types)}, kCodes, kCodeSets, {len(sets)}, kResources, {len(res)}, "
                     f"{self.type_index['Element']}, {self.type_index['Resource']}}};")
        lines.append("  return t;")
        lines.append("}")
        lines.append("}  // namespace carelog::schema::fhir")
        lines.append("// Required bindings left unchecked (not expandable from the package):")
        for u in sorted(self.unexpandable):
            lines.append(f"//   {u}")
        tmp = out + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        os.replace(tmp, out)
        print(f"fhirgen: {len(self.types)} types, {len(elems)} keys, {len(sets)} value sets "
              f"({len(self.unexpandable)} unexpandable), {len(pool)} bytes of strings")


def main():
    if len(sys.argv) != 3:
        raise SystemExit("usage: fhirgen.py DEFINITIONS_DIR OUT.cpp")
    g = Gen(sys.argv[1])
    g.build()
    g.emit(sys.argv[2])


if __name__ == "__main__":
    main()
