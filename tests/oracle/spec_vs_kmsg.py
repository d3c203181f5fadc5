#!/usr/bin/env python3
"""Structural cross-check of our .spec files against franz-go's message
definitions (read from the Go module cache, never copied).

For every supported version it flattens both descriptions into the sequence
of wire items (type, nullability in that version, array nesting, tags) and
reports the first difference. Names are ignored: only the wire shape matters.

usage: spec_vs_kmsg.py <franz-go/generate/definitions dir> <spec>...
"""
import os
import re
import sys

# Our API names that kmsg spells differently.
KMSG_NAMES = {"InitProducerId": "InitProducerID", "SaslHandshake": "SASLHandshake",
              "SaslAuthenticate": "SASLAuthenticate",
              "DescribeAcls": "DescribeACLs", "CreateAcls": "CreateACLs", "DeleteAcls": "DeleteACLs",
              "DescribeUserScramCredentials": "DescribeUserSCRAMCredentials",
              "AlterUserScramCredentials": "AlterUserSCRAMCredentials"}

PRIM = {"bool", "int8", "int16", "int32", "int64", "uint16", "uint32",
        "float64", "string", "bytes", "records", "uuid"}


def vrange(s, lo=0):
  """'3+' -> (3, 99); '2-4' -> (2, 4); None -> (lo, 99)."""
  if not s:
    return (lo, 99)
  s = s.lstrip("v")
  if s.endswith("+"):
    return (int(s[:-1]), 99)
  a, b = s.split("-")
  return (int(a), int(b.lstrip("v")))


class F:
  def __init__(self, typ, vers, nullv, tag, arr, elem_prim):
    self.typ, self.vers, self.nullv, self.tag = typ, vers, nullv, tag
    self.arr, self.elem_prim, self.kids = arr, elem_prim, []


def parse_spec(path):
  msgs, stack, api = {}, None, {}
  for raw in open(path):
    line = raw.split("#", 1)[0].rstrip()
    if not line.strip():
      continue
    if line.startswith("api "):
      api["api"] = line.split()[1]
      for kv in line.split()[2:]:
        k, v = kv.split("=")
        api[k] = v
      continue
    if line in ("request", "response"):
      root = F(None, (0, 99), None, None, False, None)
      msgs[line] = root
      stack = [(-1, root)]
      continue
    indent = (len(line) - len(line.lstrip())) // 2
    toks = line.split()
    name, typ, rest = toks[0], toks[1], toks[2:]
    vers, nullv, tag = (0, 99), None, None
    for t in rest:
      if re.fullmatch(r"\d+(\+|-\d+)", t):
        vers = vrange(t)
      elif t == "nullable":
        nullv = (0, 99)
      elif t.startswith("nullable="):
        nullv = vrange(t.split("=")[1])
      elif t.startswith("tag="):
        tag = int(t.split("=")[1])
    arr = typ.startswith("[]")
    base = typ[2:] if arr else typ
    if base == "records":
      base = "bytes"  # records travel as a bytes field
    f = F(base if base in PRIM else "struct", vers, nullv, tag, arr,
          base in PRIM)
    while stack[-1][0] >= indent:
      stack.pop()
    stack[-1][1].kids.append(f)
    stack.append((indent, f))
  return api, msgs


def parse_kmsg(text, name):
  root, stack, cur = None, None, None
  for raw in text.splitlines():
    if re.match(r"^\w+(Request|Response) =>", raw):
      cur = raw.split()[0]
      if cur == name:
        root = F(None, (0, 99), None, None, False, None)
        stack = [(-1, root)]
      continue
    if cur != name or not raw.strip() or raw.strip().startswith("//"):
      continue
    if not raw.startswith(" "):
      cur = None
      continue
    indent = (len(raw) - len(raw.lstrip())) // 2 - 1
    body, _, comment = raw.strip().partition("//")
    body = body.strip()
    vers, tag = (0, 99), None
    m = re.search(r"v(\d+)(\+|-v(\d+))", comment)
    if m:
      vers = (int(m.group(1)), 99 if m.group(2) == "+" else int(m.group(3)))
    m = re.search(r"tag (\d+)", comment)
    if m:
      tag = int(m.group(1))
    if body.startswith("ThrottleMillis") or body.startswith("TimeoutMillis"):
      typ = "int32"
    else:
      typ = body.split(":", 1)[1].strip()
    typ = re.sub(r"\(.*\)$", "", typ)  # drop a default value
    nullv, arr, elem_prim = None, False, True
    m = re.match(r"nullable(-v(\d+)\+)?(\[.*)", typ)
    if m:
      nullv = (int(m.group(2)), 99) if m.group(2) else (0, 99)
      typ = m.group(3)
    if typ.startswith("["):
      arr = True
      typ = typ[1:-1]
      if typ == "=>":
        typ, elem_prim = "struct", False
    m = re.match(r"nullable-(string|bytes)(-v(\d+)\+)?$", typ)
    if m:
      nullv = (int(m.group(3)), 99) if m.group(3) else (0, 99)
      typ = m.group(1)
    if typ == "=>":
      typ, elem_prim = "struct", False
    if typ.startswith("enum-"):
      typ = "int8"  # every enum in the APIs we check is int8
    f = F(typ if not (arr and not elem_prim) else "struct", vers, nullv, tag,
          arr, elem_prim)
    while stack[-1][0] >= indent:
      stack.pop()
    stack[-1][1].kids.append(f)
    stack.append((indent, f))
  return root


def flat(node, v, out, flex):
  """Appends the wire items of node's fields at version v. A tagged field
  becomes a single 'tagN:...' item so tags can be compared on their own."""
  for f in node.kids:
    if f.tag is not None and not flex:
      continue  # tagged fields exist only in flexible versions
    if not (f.vers[0] <= v <= f.vers[1]):
      continue
    n = "n" if f.nullv is not None and f.nullv[0] <= v <= f.nullv[1] else ""
    items = []
    if f.arr:
      items.append(f"{n}array<{f.typ}>[")
      if not f.elem_prim:
        flat(f, v, items, flex)
      items.append("]")
    elif f.typ == "struct":
      items.append("struct{")
      flat(f, v, items, flex)
      items.append("}")
    else:
      items.append(f"{n}{f.typ}")
    if f.tag is not None:
      out.append(f"tag{f.tag}:" + " ".join(items))
    else:
      out.extend(items)
  return out


def main():
  defs_dir, specs = sys.argv[1], sys.argv[2:]
  text = "\n".join(open(os.path.join(defs_dir, p)).read()
                   for p in sorted(os.listdir(defs_dir)))
  bad = 0
  for sp in specs:
    api, msgs = parse_spec(sp)
    lo, hi = vrange(api["versions"])
    kname = KMSG_NAMES.get(api["api"], api["api"])
    m = re.search(rf"^{kname}Request => key (\d+), max version (\d+)"
                  rf"(, flexible v(\d+)\+)?", text, re.M)
    if not m:
      print(f"{sp}: no kmsg definition");
      bad += 1
      continue
    kflex = int(m.group(4)) if m.group(4) else None
    oflex = None if api["flexible"] == "none" else int(api["flexible"][:-1])
    if int(m.group(1)) != int(api["key"]) or kflex != oflex or \
        hi > int(m.group(2)):
      print(f"{sp}: header mismatch key/flex/max {m.groups()}")
      bad += 1
    for kind in ("request", "response"):
      kroot = parse_kmsg(text, kname + kind.capitalize())
      for v in range(lo, hi + 1):
        flex = oflex is not None and v >= oflex
        a, b = flat(msgs[kind], v, [], flex), flat(kroot, v, [], flex)
        # kmsg gives tags no versions, so a tag it has and we lack may belong
        # to a later version than we support: a warning, not a mismatch.
        extra = [t for t in b if t.startswith("tag") and t not in a]
        if extra:
          print(f"{sp} {kind} v{v}: note: kmsg-only tags (check their "
                f"versions): {extra}")
          b = [t for t in b if t not in extra]
        if a != b:
          print(f"{sp} {kind} v{v}:\n  ours: {' '.join(a)}\n  kmsg: {' '.join(b)}")
          bad += 1
  print("OK" if not bad else f"{bad} mismatches")
  return 1 if bad else 0


if __name__ == "__main__":
  sys.exit(main())
