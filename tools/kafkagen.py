#!/usr/bin/env python3
"""kafkagen: generate Carelog's Kafka message codecs from src/protocol/specs.

Usage: kafkagen.py --specs DIR --out DIR

Reads every DIR/*.spec (format: src/protocol/specs/README.md), validates them
(errors are reported as file:line: message) and writes, under --out:
  messages/<snake_name>.h/.cpp   one pair per API
  messages/all.h                 includes every message + an X-macro API list
  messages/test_fill.h/.cpp      test-only: fill a message with non-default values
  api_table.h/.cpp               ApiSpec table (supported versions per API)
Files are only rewritten when their content changes, so a spec edit rebuilds
just the affected translation units. Python 3 standard library only.
"""

import argparse
import os
import re
import sys

PRIMITIVES = {
    # name: (C++ type, Writer/Reader method suffix, encoded size)
    'bool': ('bool', 'bool', 1),
    'int8': ('int8_t', 'int8', 1),
    'int16': ('int16_t', 'int16', 2),
    'int32': ('int32_t', 'int32', 4),
    'int64': ('int64_t', 'int64', 8),
    'uint16': ('uint16_t', 'uint16', 2),
    'uint32': ('uint32_t', 'uint32', 4),
    'float64': ('double', 'float64', 8),
    'uuid': ('Uuid', 'uuid', 16),
}
INT_RANGES = {
    'int8': (-2**7, 2**7 - 1), 'int16': (-2**15, 2**15 - 1), 'int32': (-2**31, 2**31 - 1),
    'int64': (-2**63, 2**63 - 1), 'uint16': (0, 2**16 - 1), 'uint32': (0, 2**32 - 1),
}
VARIABLE = {'string', 'bytes', 'records'}
NULLABLE_OK = {'string', 'bytes', 'records'}  # plus arrays
CPP_KEYWORDS = {
    'alignas', 'alignof', 'and', 'asm', 'auto', 'bool', 'break', 'case', 'catch', 'char', 'class',
    'const', 'constexpr', 'continue', 'default', 'delete', 'do', 'double', 'else', 'enum', 'explicit',
    'export', 'extern', 'false', 'float', 'for', 'friend', 'goto', 'if', 'inline', 'int', 'long',
    'mutable', 'namespace', 'new', 'noexcept', 'not', 'nullptr', 'operator', 'or', 'private',
    'protected', 'public', 'register', 'return', 'short', 'signed', 'sizeof', 'static', 'struct',
    'switch', 'template', 'this', 'throw', 'true', 'try', 'typedef', 'typeid', 'typename', 'union',
    'unsigned', 'using', 'virtual', 'void', 'volatile', 'while', 'xor', 'requires', 'concept',
    'unknown_tagged_fields', 'encode', 'decode', 'version', 'flex',
}


class SpecError(Exception):
    pass


class Range:
    """Inclusive version range; hi None = open-ended."""

    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi

    def clip(self, other):
        lo = max(self.lo, other.lo)
        his = [h for h in (self.hi, other.hi) if h is not None]
        hi = min(his) if his else None
        return None if hi is not None and lo > hi else Range(lo, hi)

    def covers(self, other):
        return self.lo <= other.lo and (self.hi is None or (other.hi is not None and other.hi <= self.hi))

    def __repr__(self):
        return f'{self.lo}+' if self.hi is None else f'{self.lo}-{self.hi}'


def parse_range(text):
    m = re.fullmatch(r'(\d+)\+', text)
    if m:
        return Range(int(m.group(1)), None)
    m = re.fullmatch(r'(\d+)-(\d+)', text)
    if m:
        lo, hi = int(m.group(1)), int(m.group(2))
        if lo > hi:
            raise SpecError(f'empty version range {text}')
        return Range(lo, hi)
    return None


class Field:
    def __init__(self, line):
        self.line = line
        self.name = None
        self.type = None        # primitive / string / bytes / records / struct name
        self.is_array = False
        self.struct = None      # Struct for struct element/single
        self.versions = None    # Range (clipped to message versions)
        self.nullable = None    # Range or None
        self.default = None     # raw default text or None
        self.tag = None
        self.children = []      # raw children while parsing


class Struct:
    def __init__(self, name, line):
        self.name = name
        self.line = line
        self.fields = []


class Message:
    def __init__(self, name):
        self.name = name
        self.root = Struct(name, 0)
        self.structs = []  # nested structs in definition (post) order
        self.by_name = {}


class Api:
    def __init__(self):
        self.name = None
        self.key = None
        self.versions = None
        self.flexible = None  # first flexible version or None
        self.request = None
        self.response = None
        self.path = None

    @property
    def snake(self):
        return snake_case(self.name)


def snake_case(name):
    s = re.sub(r'([A-Z]+)([A-Z][a-z])', r'\1_\2', name)
    s = re.sub(r'([a-z0-9])([A-Z])', r'\1_\2', s)
    return s.lower()


def tokenize(text):
    return re.findall(r'(?:[^\s"]+|"[^"]*")+', text)


def strip_comment(line):
    in_q = False
    for i, c in enumerate(line):
        if c == '"':
            in_q = not in_q
        elif c == '#' and not in_q:
            return line[:i]
    return line


# ----------------------------------------------------------------- parsing

def parse_spec(path):
    api = Api()
    api.path = path
    errors = []
    current = None  # Message being parsed
    stack = []      # [(level, Field)] open struct fields

    def err(lineno, msg):
        errors.append(f'{path}:{lineno}: {msg}')

    with open(path, encoding='utf-8') as f:
        lines = f.read().split('\n')

    for lineno, raw in enumerate(lines, 1):
        line = strip_comment(raw).rstrip()
        if not line.strip():
            continue
        if '\t' in line:
            err(lineno, 'tabs are not allowed; indent with two spaces per level')
            continue
        indent = len(line) - len(line.lstrip(' '))
        toks = tokenize(line.strip())
        if indent == 0:
            if toks[0] == 'api':
                if api.name is not None:
                    err(lineno, 'second api line (one API per file)')
                    continue
                try:
                    parse_api_line(api, toks)
                except SpecError as e:
                    err(lineno, str(e))
                    return api, errors
                continue
            if toks[0] in ('request', 'response') and len(toks) == 1:
                if api.name is None:
                    err(lineno, f'"{toks[0]}" before the api line')
                    return api, errors
                if getattr(api, toks[0]) is not None:
                    err(lineno, f'duplicate "{toks[0]}" section')
                    continue
                current = Message(api.name + toks[0].capitalize())
                current.root.line = lineno
                setattr(api, toks[0], current)
                stack = [(0, current.root)]
                continue
            err(lineno, f'expected "api", "request" or "response", got "{toks[0]}"')
            continue
        if current is None:
            err(lineno, 'field outside a request/response section')
            continue
        if indent % 2:
            err(lineno, 'indentation must be a multiple of two spaces')
            continue
        level = indent // 2
        while stack and stack[-1][0] >= level:
            stack.pop()
        if not stack or stack[-1][0] != level - 1:
            err(lineno, 'unexpected indentation (no enclosing struct field)')
            continue
        parent = stack[-1][1]
        if isinstance(parent, Field) and not parent_is_struct(parent):
            err(lineno, f'field "{parent.name}" has type {parent.type} and cannot have nested fields')
            continue
        try:
            field = parse_field_line(toks, lineno)
        except SpecError as e:
            err(lineno, str(e))
            continue
        parent.children.append(field) if isinstance(parent, Field) else parent.fields.append(field)
        stack.append((level, field))

    if api.name is None:
        errors.append(f'{path}:1: missing "api NAME key=K versions=A-B flexible=F+" line')
        return api, errors
    for sect in ('request', 'response'):
        if getattr(api, sect) is None:
            errors.append(f'{path}:{len(lines)}: missing "{sect}" section')
    if errors:
        return api, errors
    for msg in (api.request, api.response):
        resolve_message(api, msg, err)
    return api, errors


def parent_is_struct(field):
    return field.type not in PRIMITIVES and field.type not in VARIABLE


def parse_api_line(api, toks):
    if len(toks) < 2 or not re.fullmatch(r'[A-Z][A-Za-z0-9]*', toks[1]):
        raise SpecError('api name must be CamelCase, e.g. "api Produce key=0 versions=3-9 flexible=9+"')
    api.name = toks[1]
    seen = set()
    for t in toks[2:]:
        k, _, v = t.partition('=')
        if k in seen:
            raise SpecError(f'duplicate "{k}" on api line')
        seen.add(k)
        if k == 'key':
            if not re.fullmatch(r'\d+', v) or int(v) > 32767:
                raise SpecError(f'bad api key "{v}"')
            api.key = int(v)
        elif k == 'versions':
            r = parse_range(v)
            if r is None or r.hi is None:
                raise SpecError(f'versions must be "A-B", got "{v}"')
            api.versions = r
        elif k == 'flexible':
            if v == 'none':
                api.flexible = None
            else:
                m = re.fullmatch(r'(\d+)\+', v)
                if not m:
                    raise SpecError(f'flexible must be "F+" or "none", got "{v}"')
                api.flexible = int(m.group(1))
        else:
            raise SpecError(f'unknown api attribute "{k}"')
    for k in ('key', 'versions', 'flexible'):
        if k not in seen:
            raise SpecError(f'api line is missing {k}=')
    if api.versions.hi > 32767:
        raise SpecError('version out of range')


def parse_field_line(toks, lineno):
    f = Field(lineno)
    if len(toks) < 2:
        raise SpecError('a field line needs "name type"')
    f.name = toks[0]
    if not re.fullmatch(r'[a-z][a-z0-9_]*', f.name):
        raise SpecError(f'field name "{f.name}" must be snake_case')
    if f.name in CPP_KEYWORDS:
        raise SpecError(f'field name "{f.name}" is reserved')
    t = toks[1]
    if t.startswith('[]'):
        f.is_array = True
        t = t[2:]
    if t in PRIMITIVES or t in VARIABLE:
        f.type = t
        if f.is_array and t == 'records':
            raise SpecError('arrays of records are not supported')
    elif re.fullmatch(r'[A-Z][A-Za-z0-9]*', t):
        f.type = t
    else:
        raise SpecError(f'unknown type "{toks[1]}"')
    f.declared_versions = None
    f.nullable_raw = None
    for a in toks[2:]:
        r = parse_range(a)
        if r is not None:
            if f.declared_versions is not None:
                raise SpecError('versions given twice')
            f.declared_versions = r
        elif a == 'nullable':
            f.nullable_raw = Range(0, None)
        elif a.startswith('nullable='):
            r = parse_range(a[len('nullable='):])
            if r is None:
                raise SpecError(f'bad nullable versions "{a}"')
            f.nullable_raw = r
        elif a.startswith('default='):
            f.default = a[len('default='):]
            if f.default == '':
                raise SpecError('empty default=')
        elif a.startswith('tag='):
            if not re.fullmatch(r'\d+', a[4:]):
                raise SpecError(f'bad tag "{a}"')
            f.tag = int(a[4:])
        elif a == 'ignorable':
            pass
        elif re.fullmatch(r'\d+', a):
            raise SpecError(f'bad version range "{a}" (use "{a}+" or "{a}-{a}")')
        else:
            raise SpecError(f'unknown attribute "{a}"')
    return f


def resolve_message(api, msg, err):
    """Binds struct types, clips versions and validates a parsed message."""
    msg.root.ctx = api.versions
    resolve_struct(api, msg, msg.root, api.versions, err)


def union(a, b):
    his = [h for h in (a.hi, b.hi)]
    return Range(min(a.lo, b.lo), None if None in his else max(his))


def resolve_struct(api, msg, struct, context, err):
    """`context`: versions in which the struct is used (for validation)."""
    names, tags = set(), {}
    for f in struct.fields:
        if f.name in names:
            err(f.line, f'duplicate field "{f.name}"')
        names.add(f.name)
        declared = f.declared_versions or Range(0, None)
        if declared.clip(context) is None:
            err(f.line, f'field "{f.name}" versions {declared} are outside the enclosing versions '
                        f'{context} (api {api.name} supports {api.versions})')
        # Clipped to the API range only: a reused struct may serve several contexts.
        f.versions = declared.clip(api.versions) or Range(context.lo, context.hi)
        if f.nullable_raw is not None:
            if not (f.is_array or f.type in NULLABLE_OK):
                err(f.line, f'type {f.type} cannot be nullable')
            f.nullable = f.nullable_raw.clip(f.versions)
            if f.nullable is None:
                err(f.line, f'nullable versions {f.nullable_raw} do not overlap field versions {f.versions}')
        if f.tag is not None:
            if api.flexible is None or f.versions.lo < api.flexible:
                err(f.line, f'tagged field "{f.name}" must only exist in flexible versions '
                            f'(field versions {f.versions}, flexible {api.flexible if api.flexible is not None else "none"})')
            if f.tag in tags:
                err(f.line, f'tag {f.tag} already used by "{tags[f.tag]}"')
            tags[f.tag] = f.name
        is_struct = f.type not in PRIMITIVES and f.type not in VARIABLE
        if is_struct:
            if f.children:
                if f.type in msg.by_name or f.type == msg.name:
                    err(f.line, f'struct {f.type} is already defined in {msg.name}')
                s = Struct(f.type, f.line)
                s.fields = f.children
                s.ctx = f.versions
                msg.by_name[f.type] = s
                resolve_struct(api, msg, s, f.versions, err)
                msg.structs.append(s)
                f.struct = s
            elif f.type in msg.by_name:
                f.struct = msg.by_name[f.type]
                f.struct.ctx = union(f.struct.ctx, f.versions)
            else:
                err(f.line, f'struct {f.type} has no fields and is not defined earlier in {msg.name}')
                f.struct = Struct(f.type, f.line)
                f.struct.ctx = f.versions
        check_default(f, err)


def check_default(f, err):
    d = f.default
    if d is None:
        return
    if d == 'null':
        if f.nullable is None:
            err(f.line, 'default=null requires nullable')
        return
    if f.is_array or f.type in ('bytes', 'records', 'uuid') or f.struct is not None:
        err(f.line, f'only default=null is allowed for type {f.type}')
        return
    if f.type == 'bool':
        if d not in ('true', 'false'):
            err(f.line, f'bool default must be true or false, got {d}')
    elif f.type == 'string':
        if not re.fullmatch(r'"[^"\\]*"', d):
            err(f.line, f'string default must be a quoted string, got {d}')
    elif f.type == 'float64':
        try:
            float(d)
        except ValueError:
            err(f.line, f'bad float64 default {d}')
    else:
        try:
            v = int(d, 0)
        except ValueError:
            err(f.line, f'bad {f.type} default {d}')
            return
        lo, hi = INT_RANGES[f.type]
        if not lo <= v <= hi:
            err(f.line, f'default {d} out of range for {f.type}')


# ----------------------------------------------------------------- C++ emit

def cpp_int_literal(t, v):
    if t == 'int64' and v == -2**63:
        return '(-9223372036854775807LL - 1)'
    if t == 'int32' and v == -2**31:
        return '(-2147483647 - 1)'
    if t == 'int64':
        return f'{v}LL'
    if t == 'uint32':
        return f'{v}u'
    return str(v)


def elem_cpp(f):
    if f.struct is not None:
        return f.type
    if f.type in PRIMITIVES:
        return PRIMITIVES[f.type][0]
    return {'string': 'std::string', 'bytes': 'SharedBytes', 'records': 'Records'}[f.type]


def member_cpp(f):
    t = elem_cpp(f)
    if f.is_array:
        t = f'std::vector<{t}>'
    if f.nullable is not None:
        t = f'std::optional<{t}>'
    return t


def default_value(f):
    """C++ initializer text (without '=') or None for value-initialization."""
    d = f.default
    if f.nullable is not None and (d is None or d == 'null'):
        return None  # std::nullopt
    if f.is_array or f.struct is not None or f.type in ('bytes', 'records', 'uuid'):
        return None
    if f.type == 'bool':
        return 'true' if d == 'true' else 'false'
    if f.type == 'string':
        return d if d is not None else None
    if f.type == 'float64':
        return repr(float(d)) if d is not None else '0.0'
    return cpp_int_literal(f.type, int(d, 0) if d is not None else 0)


def range_cond(r, ctx):
    """C++ condition that `version` is in r, given version is known in ctx."""
    parts = []
    if r.lo > ctx.lo:
        parts.append(f'version >= {r.lo}')
    if r.hi is not None and (ctx.hi is None or r.hi < ctx.hi):
        parts.append(f'version <= {r.hi}')
    return ' && '.join(parts)


def nondefault_cond(f, x):
    d = default_value(f)
    if f.nullable is not None:
        if f.default is None or f.default == 'null':
            return f'{x}.has_value()'
        return f'!({x} && *{x} == {d})'
    if f.is_array:
        return f'!{x}.empty()'
    if f.struct is not None:
        return f'!({x} == {f.type}{{}})'
    if f.type == 'uuid':
        return f'!{x}.is_zero()'
    if f.type == 'bytes':
        return f'!{x}.empty()'
    if f.type == 'records':
        return f'{x}.size() != 0'
    if f.type == 'string':
        return f'!{x}.empty()' if d is None else f'{x} != {d}'
    return f'{x} != {d}'


class Code:
    def __init__(self):
        self.lines = []
        self.ind = 0

    def __call__(self, text=''):
        self.lines.append(('  ' * self.ind + text) if text else '')

    def open(self, text):
        self(text + ' {' if text else '{')
        self.ind += 1

    def close(self, text='}'):
        self.ind -= 1
        self(text)

    def text(self):
        return '\n'.join(self.lines) + '\n'


def emit_write_value(c, f, x, w, flex, nullable_cond, elem=False):
    """Writes value expression x of field f (or one element if elem)."""
    t = f.type
    if elem or not f.is_array:
        nullable = (not elem) and f.nullable is not None
        if f.struct is not None:
            c(f'{x}.encode({w}, version);')
        elif t in PRIMITIVES:
            c(f'{w}.write_{PRIMITIVES[t][1]}({x});')
        elif t == 'records':
            if not nullable:
                c(f'{w}.write_records({x}, {flex});')
            elif nullable_cond == 'true':
                c(f'{w}.write_nullable_records({x}, {flex});')
            else:
                c(f'if ({nullable_cond}) {w}.write_nullable_records({x}, {flex});')
                c(f'else {w}.write_records({x} ? *{x} : Records{{}}, {flex});')
        else:
            kind = 'string' if t == 'string' else 'bytes'
            if t == 'string':
                plain = lambda v: v  # noqa: E731
                empty = 'std::string_view()'
                deref = f'std::string_view(*{x})'
            else:
                plain = lambda v: f'{v}.span()'  # noqa: E731
                empty = 'std::span<const uint8_t>()'
                deref = f'{x}->span()'
            if not nullable:
                c(f'{w}.write_{kind}({plain(x)}, {flex});')
            elif nullable_cond == 'true':
                c(f'{w}.write_nullable_{kind}({x}, {flex});')
            else:
                c(f'if ({nullable_cond}) {w}.write_nullable_{kind}({x}, {flex});')
                c(f'else {w}.write_{kind}({x} ? {deref} : {empty}, {flex});')
        return
    # array
    if f.nullable is not None:
        c.open('')
        if nullable_cond == 'true':
            c(f'if (!{x}) {w}.write_array_length(-1, {flex});')
        else:
            c(f'if (!{x}) {w}.write_array_length(({nullable_cond}) ? -1 : 0, {flex});')
        c.open('else')
        c(f'{w}.write_array_length(static_cast<int32_t>({x}->size()), {flex});')
        c.open(f'for (const auto& e : *{x})')
        emit_write_value(c, f, 'e', w, flex, None, elem=True)
        c.close()
        c.close()
        c.close()
    else:
        c(f'{w}.write_array_length(static_cast<int32_t>({x}.size()), {flex});')
        c.open(f'for (const auto& e : {x})')
        emit_write_value(c, f, 'e', w, flex, None, elem=True)
        c.close()


def min_elem_size(f, flex):
    if f.struct is not None:
        return '1'
    if f.type in PRIMITIVES:
        return str(PRIMITIVES[f.type][2])
    if f.type == 'string':
        return f'({flex} ? 1 : 2)'
    return f'({flex} ? 1 : 4)'


def emit_read_elem(c, f, v, r, flex):
    t = f.type
    if f.struct is not None:
        c(f'{v}.emplace_back();')
        c(f'(void){v}.back().decode({r}, version);')
    elif t in PRIMITIVES:
        c(f'{v}.push_back({r}.read_{PRIMITIVES[t][1]}());')
    elif t == 'string':
        c(f'{v}.push_back({r}.read_string({flex}));')
    elif t == 'bytes':
        c(f'{v}.push_back({r}.read_bytes({flex}));')


def emit_read_value(c, f, x, r, flex, nullable_cond):
    t = f.type
    nullable = f.nullable is not None
    if not f.is_array:
        if f.struct is not None:
            c(f'(void){x}.decode({r}, version);')
        elif t in PRIMITIVES:
            c(f'{x} = {r}.read_{PRIMITIVES[t][1]}();')
        elif t == 'records':
            if nullable and nullable_cond == 'true':
                c.open('')
                c(f'auto b = {r}.read_nullable_bytes({flex});')
                c(f'if (b) {x} = Records{{{{std::move(*b)}}}};')
                c(f'else {x} = std::nullopt;')
                c.close()
            elif nullable:
                c.open(f'if ({nullable_cond})')
                c(f'auto b = {r}.read_nullable_bytes({flex});')
                c(f'if (b) {x} = Records{{{{std::move(*b)}}}};')
                c(f'else {x} = std::nullopt;')
                c.close('} else {')
                c.ind += 1
                c(f'{x} = Records{{{{{r}.read_bytes({flex})}}}};')
                c.close()
            else:
                c(f'{x} = Records{{{{{r}.read_bytes({flex})}}}};')
        else:
            kind = 'string' if t == 'string' else 'bytes'
            if not nullable:
                c(f'{x} = {r}.read_{kind}({flex});')
            elif nullable_cond == 'true':
                c(f'{x} = {r}.read_nullable_{kind}({flex});')
            else:
                c(f'if ({nullable_cond}) {x} = {r}.read_nullable_{kind}({flex});')
                c(f'else {x} = {r}.read_{kind}({flex});')
        return
    c.open('')
    c(f'const int32_t n = {r}.read_array_length({flex}, {min_elem_size(f, flex)});')
    c.open('if (n < 0)')
    if nullable and nullable_cond == 'true':
        c(f'{x} = std::nullopt;')
    elif nullable:
        c(f'if ({nullable_cond}) {x} = std::nullopt;')
        c(f'else {r}.fail("null array in a non-nullable field");')
    else:
        c(f'{r}.fail("null array in a non-nullable field");')
    c.close('} else {')
    c.ind += 1
    if nullable:
        c(f'auto& v = {x}.emplace();')
    else:
        c(f'auto& v = {x};')
        c('v.clear();')
    c.open(f'for (int32_t i = 0; i < n && {r}.ok(); ++i)')
    emit_read_elem(c, f, 'v', r, flex)
    c.close()
    c.close()
    c.close()


def guarded(c, cond, body):
    if cond:
        c.open(f'if ({cond})')
        body()
        c.close()
    else:
        body()


def flex_expr(api, ctx):
    if api.flexible is None or (ctx.hi is not None and ctx.hi < api.flexible):
        return 'false'
    return 'true' if api.flexible <= ctx.lo else f'version >= {api.flexible}'


def emit_struct_methods(c, api, msg, s, qual):
    ctx = s.ctx
    plain = [f for f in s.fields if f.tag is None]
    tagged = sorted([f for f in s.fields if f.tag is not None], key=lambda f: f.tag)

    def ncond(f):
        if f.nullable is None:
            return None
        cond = range_cond(f.nullable, f.versions)
        return cond if cond else 'true'

    # encode
    c.open(f'void {qual}::encode(Writer& w, int16_t version) const')
    c(f'[[maybe_unused]] const bool flex = {flex_expr(api, ctx)};')
    for f in plain:
        guarded(c, range_cond(f.versions, ctx), lambda f=f: emit_write_value(c, f, f.name, 'w', 'flex', ncond(f)))
    if api.flexible is not None:
        c.open('if (flex)')
        if tagged:
            c('std::vector<TaggedField> tagged;')
            for f in tagged:
                cond = range_cond(f.versions, ctx)
                nd = nondefault_cond(f, f.name)
                c.open(f'if ({cond + " && " if cond else ""}{nd})')
                c('Writer tw;')
                emit_write_value(c, f, f.name, 'tw', 'true', ncond(f))
                c(f'tagged.push_back(TaggedField{{{f.tag}, SharedBytes::from_vector(tw.take())}});')
                c.close()
            c('w.write_tagged_fields(tagged, unknown_tagged_fields);')
        else:
            c('w.write_tagged_fields({}, unknown_tagged_fields);')
        c.close()
    c.close()
    c()
    # decode
    c.open(f'Status {qual}::decode(Reader& r, int16_t version)')
    c(f'*this = {s.name}{{}};')
    c(f'[[maybe_unused]] const bool flex = {flex_expr(api, ctx)};')
    for f in plain:
        guarded(c, range_cond(f.versions, ctx), lambda f=f: emit_read_value(c, f, f.name, 'r', 'flex', ncond(f)))
    if api.flexible is not None:
        c.open('if (flex)')
        if tagged:
            c('const uint32_t count = r.read_tagged_field_count();')
            c.open('for (uint32_t t = 0; t < count && r.ok(); ++t)')
            c('const uint32_t tag = r.read_uvarint();')
            c('const uint32_t size = r.read_uvarint();')
            c('SharedBytes data = r.read_raw(size);')
            c('if (!r.ok()) break;')
            for i, f in enumerate(tagged):
                cond = range_cond(f.versions, ctx)
                head = 'if' if i == 0 else '} else if'
                c(f'{head} (tag == {f.tag}{" && " + cond if cond else ""}) {{')
                c.ind += 1
                c('Reader tr(data);')
                emit_read_value(c, f, f.name, 'tr', 'true', ncond(f))
                c('if (!tr.ok()) r.fail("malformed tagged field");')
                c.ind -= 1
            c('} else {')
            c.ind += 1
            c('unknown_tagged_fields.push_back(TaggedField{tag, std::move(data)});')
            c.close()
            c.close()
        else:
            c('r.read_unknown_tagged_fields(unknown_tagged_fields);')
        c.close()
    c('return r.status();')
    c.close()
    c()


def emit_struct_decl(c, s, is_root):
    for f in s.fields:
        d = default_value(f)
        c(f'{member_cpp(f)} {f.name}{" = " + d if d is not None else (" = std::nullopt" if f.nullable is not None else "{}")};')
    c('std::vector<TaggedField> unknown_tagged_fields;')
    c()
    c('void encode(Writer& w, int16_t version) const;')
    c('Status decode(Reader& r, int16_t version);')
    c(f'friend bool operator==(const {s.name}&, const {s.name}&) = default;')


def header_comment(api):
    return (f'// Generated by tools/kafkagen.py from src/protocol/specs/{os.path.basename(api.path)}.\n'
            f'// Do not edit: change the spec instead.\n')


def gen_message_header(api):
    c = Code()
    c(header_comment(api).rstrip('\n'))
    c('#pragma once')
    c()
    c('#include <cstdint>')
    c('#include <optional>')
    c('#include <string>')
    c('#include <vector>')
    c()
    c('#include "protocol/wire.h"')
    c()
    c('namespace carelog::protocol {')
    c()
    for msg in (api.request, api.response):
        c.open(f'struct {msg.name}')
        c(f'static constexpr int16_t kApiKey = {api.key};')
        c(f'static constexpr int16_t kMinVersion = {api.versions.lo};')
        c(f'static constexpr int16_t kMaxVersion = {api.versions.hi};')
        c(f'static constexpr int16_t kFirstFlexibleVersion = {api.flexible if api.flexible is not None else -1};')
        c()
        for s in msg.structs:
            c.open(f'struct {s.name}')
            emit_struct_decl(c, s, False)
            c.close('};')
            c()
        emit_struct_decl(c, msg.root, True)
        c.close('};')
        c()
    c('}  // namespace carelog::protocol')
    return c.text()


def gen_message_source(api):
    c = Code()
    c(header_comment(api).rstrip('\n'))
    c(f'#include "protocol/messages/{api.snake}.h"')
    c()
    c('#include <utility>')
    c()
    c('namespace carelog::protocol {')
    c()
    for msg in (api.request, api.response):
        for s in msg.structs:
            emit_struct_methods(c, api, msg, s, f'{msg.name}::{s.name}')
        emit_struct_methods(c, api, msg, msg.root, msg.name)
    c('}  // namespace carelog::protocol')
    return c.text()


# ------------------------------------------------------------- test filler

def emit_fill_value(c, f, x, ctx_nullable_cond, elem=False):
    t = f.type
    if f.is_array and not elem:
        if f.nullable is not None:
            c.open(f'if (({ctx_nullable_cond}) && rng.next() % 4 == 0)')
            c(f'{x} = std::nullopt;')
            c.close('} else {')
            c.ind += 1
            c(f'auto& v = {x}.emplace();')
        else:
            c.open('')
            c(f'auto& v = {x};')
        c('const uint32_t n = 1 + rng.next() % 2;')
        c.open('for (uint32_t i = 0; i < n; ++i)')
        c('v.emplace_back();')
        emit_fill_value(c, f, 'v.back()', None, elem=True)
        c.close()
        c.close()
        return
    if f.struct is not None:
        c(f'fill({x}, version, rng, depth + 1);')
        return
    if not elem and f.nullable is not None:
        c.open(f'if (({ctx_nullable_cond}) && rng.next() % 4 == 0)')
        c(f'{x} = std::nullopt;')
        c.close('} else {')
        c.ind += 1
        c(f'{x}.emplace();')
        emit_fill_value(c, f, f'(*{x})', None, elem=True)
        c.close()
        return
    if t == 'bool':
        c(f'{x} = !{x};')
    elif t in INT_RANGES:
        cty = PRIMITIVES[t][0]
        c(f'{x} = static_cast<{cty}>(static_cast<uint64_t>({x}) + 1 + rng.next() % 100);')
    elif t == 'float64':
        c(f'{x} = {x} + 0.5 + static_cast<double>(rng.next() % 100);')
    elif t == 'uuid':
        c(f'for (auto& b : {x}.bytes) b = static_cast<uint8_t>(rng.next());')
        c(f'{x}.bytes[0] |= 1;')
    elif t == 'string':
        c(f'{x} = "s" + std::to_string(rng.next() % 100000);')
    elif t == 'bytes':
        c(f'{x} = random_bytes(rng);')
    elif t == 'records':
        c(f'{x} = Records{{}};')
        c(f'{x}.chunks.push_back(random_bytes(rng));')
        c(f'if (rng.next() % 2) {x}.chunks.push_back(random_bytes(rng));')


def gen_fill(apis):
    c = Code()
    c('// Generated by tools/kafkagen.py. Do not edit.')
    c('#include "protocol/messages/test_fill.h"')
    c()
    c('#include <string>')
    c()
    c('namespace carelog::protocol::testing {')
    c('namespace {')
    c()
    c.open('struct Rng')
    c('uint32_t s;')
    c('uint32_t next() { s = s * 1664525u + 1013904223u; return s >> 8; }')
    c.close('};')
    c()
    c.open('SharedBytes random_bytes(Rng& rng)')
    c('std::vector<uint8_t> v(1 + rng.next() % 5);')
    c('for (auto& b : v) b = static_cast<uint8_t>(rng.next());')
    c('return SharedBytes::from_vector(std::move(v));')
    c.close()
    c()
    structs = []
    for api in apis:
        for msg in (api.request, api.response):
            for s in msg.structs:
                structs.append((api, msg, s, f'{msg.name}::{s.name}'))
            structs.append((api, msg, msg.root, msg.name))
    for api, msg, s, qual in structs:
        c(f'void fill({qual}& m, int16_t version, Rng& rng, int depth);')
    c()
    for api, msg, s, qual in structs:
        ctx = s.ctx
        c.open(f'void fill({qual}& m, int16_t version, Rng& rng, int depth)')
        c('(void)depth;')
        for f in s.fields:
            cond = range_cond(f.versions, ctx)
            ncond = 'true'
            if f.nullable is not None:
                ncond = range_cond(f.nullable, f.versions) or 'true'
            guarded(c, cond, lambda f=f, ncond=ncond: emit_fill_value(c, f, f'm.{f.name}', ncond))
        if api.flexible is not None:
            max_tag = max([f.tag for f in s.fields if f.tag is not None], default=-1)
            c.open(f'if (version >= {api.flexible} && (depth == 0 || rng.next() % 2 == 0))')
            c(f'm.unknown_tagged_fields.push_back(TaggedField{{{max_tag + 1} + rng.next() % 300, random_bytes(rng)}});')
            c.close()
        c.close()
        c()
    c('}  // namespace')
    c()
    for api in apis:
        for msg in (api.request, api.response):
            c.open(f'void fill_test_values({msg.name}& m, int16_t version, uint32_t seed)')
            c('Rng rng{seed * 2654435761u + 1};')
            c(f'm = {msg.name}{{}};')
            c('fill(m, version, rng, 0);')
            c.close()
            c()
    c('}  // namespace carelog::protocol::testing')
    h = Code()
    h('// Generated by tools/kafkagen.py. Do not edit.')
    h('// Test support: fills every field present in `version` with a non-default,')
    h('// seed-dependent value (nulls where nullable, unknown tagged fields in')
    h('// flexible versions) so round-trip tests cover every field.')
    h('#pragma once')
    h()
    h('#include "protocol/messages/all.h"')
    h()
    h('namespace carelog::protocol::testing {')
    for api in apis:
        for msg in (api.request, api.response):
            h(f'void fill_test_values({msg.name}& m, int16_t version, uint32_t seed);')
    h('}  // namespace carelog::protocol::testing')
    return h.text(), c.text()


# ------------------------------------------------------------- API table

def gen_all(apis):
    c = Code()
    c('// Generated by tools/kafkagen.py. Do not edit.')
    c('#pragma once')
    c()
    for api in apis:
        c(f'#include "protocol/messages/{api.snake}.h"')
    c()
    c('// X(Name, key): one entry per API, sorted by key. Name##Request and')
    c('// Name##Response are the message structs.')
    c('#define CARELOG_PROTOCOL_FOR_EACH_API(X) \\')
    for i, api in enumerate(apis):
        cont = ' \\' if i + 1 < len(apis) else ''
        c(f'  X({api.name}, {api.key}){cont}')
    return c.text()


def gen_api_table(apis):
    h = '''// Generated by tools/kafkagen.py. Do not edit.
// The APIs and versions Carelog implements, from src/protocol/specs.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace carelog::protocol {

struct ApiSpec {
  int16_t key;
  std::string_view name;
  int16_t min_version;
  int16_t max_version;
  int16_t first_flexible_version;  // -1 if never flexible
};

// Every API in the specs, sorted by key.
std::span<const ApiSpec> supported_apis();
// nullptr if the key is unknown.
const ApiSpec* find_api(int16_t key);
// Whether `version` uses the flexible (compact + tagged fields) encoding.
inline bool is_flexible(const ApiSpec& api, int16_t version) {
  return api.first_flexible_version >= 0 && version >= api.first_flexible_version;
}

}  // namespace carelog::protocol
'''
    c = Code()
    c('// Generated by tools/kafkagen.py. Do not edit.')
    c('#include "protocol/api_table.h"')
    c()
    c('#include <algorithm>')
    c()
    c('namespace carelog::protocol {')
    c('namespace {')
    c.open('constexpr ApiSpec kApis[] =')
    for api in apis:
        c(f'{{{api.key}, "{api.name}", {api.versions.lo}, {api.versions.hi}, '
          f'{api.flexible if api.flexible is not None else -1}}},')
    c.close('};')
    c('}  // namespace')
    c()
    c('std::span<const ApiSpec> supported_apis() { return kApis; }')
    c()
    c.open('const ApiSpec* find_api(int16_t key)')
    c('auto it = std::lower_bound(std::begin(kApis), std::end(kApis), key,')
    c('                           [](const ApiSpec& a, int16_t k) { return a.key < k; });')
    c('return it != std::end(kApis) && it->key == key ? &*it : nullptr;')
    c.close()
    c()
    c('}  // namespace carelog::protocol')
    return h, c.text()


# ------------------------------------------------------------- main

def write_if_changed(path, text, written):
    written.add(os.path.normpath(path))
    try:
        with open(path, encoding='utf-8') as f:
            if f.read() == text:
                return
    except FileNotFoundError:
        pass
    tmp = path + '.tmp'
    with open(tmp, 'w', encoding='utf-8') as f:
        f.write(text)
    os.replace(tmp, path)


def load_specs(spec_dir):
    apis, errors = [], []
    paths = sorted(p for p in os.listdir(spec_dir) if p.endswith('.spec'))
    for name in paths:
        path = os.path.join(spec_dir, name)
        api, errs = parse_spec(path)
        errors += errs
        if errs:
            continue
        if name[:-len('.spec')] != api.snake:
            errors.append(f'{path}:1: file name must be {api.snake}.spec for api {api.name}')
        apis.append(api)
    by_key = {}
    for api in apis:
        if api.key in by_key:
            errors.append(f'{api.path}:1: api key {api.key} already used by {by_key[api.key].path}')
        by_key[api.key] = api
    apis.sort(key=lambda a: a.key)
    return apis, errors


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--specs', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--check', action='store_true', help='validate only')
    args = ap.parse_args(argv)
    apis, errors = load_specs(args.specs)
    if errors:
        for e in errors:
            print(f'error: {e}' if not e.startswith('error') else e, file=sys.stderr)
        return 1
    if not apis:
        print(f'error: no .spec files in {args.specs}', file=sys.stderr)
        return 1
    if args.check:
        return 0
    msg_dir = os.path.join(args.out, 'messages')
    os.makedirs(msg_dir, exist_ok=True)
    written = set()
    for api in apis:
        write_if_changed(os.path.join(msg_dir, api.snake + '.h'), gen_message_header(api), written)
        write_if_changed(os.path.join(msg_dir, api.snake + '.cpp'), gen_message_source(api), written)
    write_if_changed(os.path.join(msg_dir, 'all.h'), gen_all(apis), written)
    fh, fc = gen_fill(apis)
    write_if_changed(os.path.join(msg_dir, 'test_fill.h'), fh, written)
    write_if_changed(os.path.join(msg_dir, 'test_fill.cpp'), fc, written)
    th, tc = gen_api_table(apis)
    write_if_changed(os.path.join(args.out, 'api_table.h'), th, written)
    write_if_changed(os.path.join(args.out, 'api_table.cpp'), tc, written)
    # Drop outputs of specs that no longer exist.
    for name in os.listdir(msg_dir):
        p = os.path.normpath(os.path.join(msg_dir, name))
        if p not in written and (name.endswith('.h') or name.endswith('.cpp')):
            os.remove(p)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
