#!/usr/bin/env python3
"""Turns the HL7 v2.5 message structures into compact C++ validation tables.

Input: the schema/ directory of the npm package @redoxengine/redox-hl7-v2
(messages/*.json: segment groups with min/max occurrences; segments/*.json:
fields with min/max; fields/*.json: each field's data type; dataTypes/*.json:
components of composite types; structure/index.json: trigger event ->
message structure). Output: one C++ source defining the tables declared in
src/schema/hl7_tables.h.
"""
import json
import os
import sys

# Data types whose lexical form the validator checks; every other primitive
# is free text.
PRIM = {"DTM": "kDTM", "DT": "kDT", "TM": "kTM", "NM": "kNM", "SI": "kSI", "ID": "kID", "IS": "kIS"}
MANY = 0xFFFF


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def occurs(v):
    return MANY if v == "unbounded" else int(v)


class Unsupported(Exception):
    pass


class Gen:
    def __init__(self, src):
        self.src = src
        self.dtypes = []   # {name, prim, comps:[dt index]}
        self.dt_index = {}
        self.segments = []  # {name, fields:[(dt, min, max)]}
        self.seg_index = {}
        self.groups = []   # {name, nodes:[(is_group, idx, min, max)]}
        self.group_index = {}
        self.events = []   # (key, group)
        self.skipped = []

    def path(self, *p):
        return os.path.join(self.src, *p)

    def datatype(self, name, depth=0):
        if name in self.dt_index:
            return self.dt_index[name]
        f = self.path("dataTypes", name + ".json")
        comps = []
        idx = len(self.dtypes)
        self.dt_index[name] = idx
        entry = {"name": name, "prim": PRIM.get(name, "kText"), "comps": comps}
        self.dtypes.append(entry)
        if os.path.exists(f) and depth < 2:
            d = load(f)
            if "components" in d:
                entry["prim"] = "kComposite"
                for c in d["components"]:
                    sub = load(self.path("dataTypes", c["dataType"] + ".json"))["dataType"]
                    comps.append(self.datatype(sub, depth + 1))
        return idx

    def segment(self, name):
        if name in self.seg_index:
            return self.seg_index[name]
        d = load(self.path("segments", name + ".json"))
        fields = []
        for fd in d["fields"]:
            dt = load(self.path("fields", fd["field"] + ".json"))["dataType"]
            fields.append((self.datatype(dt), occurs(fd["minOccurs"]), occurs(fd["maxOccurs"])))
        self.seg_index[name] = len(self.segments)
        self.segments.append({"name": name, "fields": fields})
        return self.seg_index[name]

    def group(self, struct, name, defs):
        key = struct + "." + name if name != struct else struct
        if key in self.group_index:
            return self.group_index[key]
        idx = len(self.groups)
        self.group_index[key] = idx
        g = {"name": name, "nodes": []}
        self.groups.append(g)
        for el in defs[name]["elements"]:
            mn, mx = occurs(el["minOccurs"]), occurs(el["maxOccurs"])
            if "segment" not in el and "group" not in el:
                raise Unsupported(f"{struct}.{name}: element without a segment or group")
            if "segment" in el:
                g["nodes"].append((0, self.segment(el["segment"]), mn, mx))
            else:
                g["nodes"].append((1, self.group(struct, el["group"], defs), mn, mx))
        return idx

    def build(self):
        self.segment("MSH")
        structs = {}
        for fn in sorted(os.listdir(self.path("messages"))):
            if not fn.endswith(".json"):
                continue
            struct = fn[:-5]
            defs = load(self.path("messages", fn))
            if struct not in defs:
                continue
            groups_before = (list(self.groups), dict(self.group_index))
            try:
                structs[struct] = self.group(struct, struct, defs)
            except Unsupported as e:
                # "Any segment" placeholders (site-defined content) cannot be
                # matched by a table: such structures are left out.
                self.groups, self.group_index = list(groups_before[0]), dict(groups_before[1])
                self.skipped.append(struct)
        index = load(self.path("structure", "index.json"))
        for mtype, events in index.items():
            for ev, struct in events.items():
                if struct in structs:
                    self.events.append((f"{mtype}^{ev}", structs[struct]))
        for struct, g in structs.items():
            self.events.append((struct, g))  # MSH-9.3 names the structure itself
        self.events.sort(key=lambda e: e[0].encode())

    def emit(self, out):
        pool = bytearray()
        offs = {}

        def s(t):
            if t not in offs:
                offs[t] = len(pool)
                pool.extend(t.encode())
            return offs[t], len(t.encode())

        comps, dts = [], []
        for d in self.dtypes:
            o, n = s(d["name"])
            dts.append(f"{{{o},{n},Hl7Prim::{d['prim']},{len(comps)},{len(d['comps'])}}}")
            comps.extend(str(c) for c in d["comps"])
        fields, segs = [], []
        for sg in self.segments:
            o, n = s(sg["name"])
            segs.append(f"{{{o},{n},{len(fields)},{len(sg['fields'])}}}")
            fields.extend(f"{{{dt},{mn},{mx}}}" for dt, mn, mx in sg["fields"])
        nodes, groups = [], []
        for g in self.groups:
            o, n = s(g["name"])
            groups.append(f"{{{o},{n},{len(nodes)},{len(g['nodes'])}}}")
            nodes.extend(f"{{{ig},{ix},{mn},{mx}}}" for ig, ix, mn, mx in g["nodes"])
        events = []
        for k, g in self.events:
            o, n = s(k)
            events.append(f"{{{o},{n},{g}}}")
        L = ["// Generated by tools/hl7gen.py from the HL7 v2.5 structures. Do not edit.",
             "#include \"schema/hl7_tables.h\"", "namespace carelog::schema::hl7 {", "namespace {",
             "const char kPool[] = {"]
        for i in range(0, len(pool), 32):
            L.append(",".join(str(b) for b in pool[i:i + 32]) + ",")
        L.append("0};")
        L.append("const DataTypeDef kDataTypes[] = {" + ",\n".join(dts) + "};")
        L.append("const uint16_t kComponents[] = {" + (",".join(comps) or "0") + "};")
        L.append("const FieldDef kFields[] = {" + ",\n".join(fields) + "};")
        L.append("const SegmentDef kSegments[] = {" + ",\n".join(segs) + "};")
        L.append("const NodeDef kNodes[] = {" + ",\n".join(nodes) + "};")
        L.append("const GroupDef kGroups[] = {" + ",\n".join(groups) + "};")
        L.append("const EventDef kEvents[] = {" + ",\n".join(events) + "};")
        L.append("}  // namespace")
        L.append("const Tables& tables() {")
        L.append(f"  static const Tables t{{kPool, kDataTypes, kComponents, kFields, kSegments, {len(segs)}, "
                 f"kNodes, kGroups, kEvents, {len(events)}}};")
        L.append("  return t;")
        L.append("}")
        L.append("}  // namespace carelog::schema::hl7")
        tmp = out + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write("\n".join(L) + "\n")
        os.replace(tmp, out)
        print(f"hl7gen: {len(self.groups)} groups, {len(segs)} segments, {len(fields)} fields, "
              f"{len(dts)} data types, {len(events)} events; left out: {' '.join(self.skipped)}")


def main():
    if len(sys.argv) != 3:
        raise SystemExit("usage: hl7gen.py REDOX_SCHEMA_DIR OUT.cpp")
    g = Gen(sys.argv[1])
    g.build()
    g.emit(sys.argv[2])


if __name__ == "__main__":
    main()
