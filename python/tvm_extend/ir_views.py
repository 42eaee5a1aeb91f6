"""Generate typed C++ views of TVM IR nodes from the running TVM's reflection metadata.

``python -m tvm_extend.ir_views --out DIR`` writes ``DIR/tvm_extend/ir/tir.h``: one view class
per TIR node type (fields with TVM's names and types, typed constructors through TVM's registered
constructor functions), a visitor and a copy-on-write mutator. tvm_extend_add_extension() runs
it once per build folder. The header records the schema it was generated from; at load time
tvm_extend::ir::BindSchema() checks every type and field an extension uses against the running
TVM (see tvm_extend/ir/view.h).

``--type-key KEY`` (repeatable) generates views for other node types, e.g. an extension's own;
``--preload LIB`` loads a library that registers them first (``--extension LIB_OR_PACKAGE`` a
tvm-extend extension, through the loader, for its object types); ``--namespace NS`` and
``--header NAME`` place the result.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import re
import sys
from dataclasses import dataclass, field

import tvm
import tvm_ffi
from tvm_ffi import core

# The TIR node types: everything below these roots, within these namespaces.
ROOTS = ("ir.Expr", "tirx.Stmt", "ir.Type")
PREFIXES = ("prim.", "tirx.", "ir.", "s_tir.")
EXTRA = (
    "ir.IRModule",
    "ir.Range",
    "tirx.IterVar",
    "s_tir.MatchBufferRegion",
    "tirx.BufferRegion",  # 0.26's region (0.27's ir.TensorRegion is an expression)
    "ir.Span",
    "ir.DictAttrs",
    "ir.Attrs",
    "sym.Analyzer",
    "sym.ConstIntBound",
    "sym.ModularSet",
    "tirx.Layout",
    "tirx.TileLayout",
    "tirx.Iter",
    "tirx.Axis",
)
# Node types that are not IR (passes, configs, analysis state).
SKIP_PREFIXES = (
    "s_tir.meta_schedule.",
    "s_tir.schedule.",
    "s_tir.transform.",
    "tirx.transform.",
    "relax.",
)

POD = {
    ("int", 4): ("int32_t", "kInt32"),
    ("int", 8): ("int64_t", "kInt64"),
    ("bool", 1): ("bool", "kBool"),
    ("float", 8): ("double", "kFloat64"),
    ("DataType", 4): ("DLDataType", "kDataType"),
}
GETTER_TYPES = {"ffi.String": "tvm::ffi::String", "ffi.BigInt": "int64_t", "Any": "tvm::ffi::Any"}


@dataclass
class FieldInfo:
    name: str
    schema: dict
    schema_text: str
    size: int
    declared_on: str


@dataclass
class NodeType:
    key: str
    cls: str
    parent: str | None
    fields: list[FieldInfo] = field(default_factory=list)  # own fields only
    ctor: list | None = None  # constructor argument schemas, when TVM registers one
    concrete: bool = True


def type_info(key: str):
    return core._lookup_or_register_type_info_from_type_key(key)


def _renames() -> list[tuple[str, str]]:
    """{name, other name} pairs: what TVM renamed between supported releases (schemas/)."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schemas", "renames.json")
    if not os.path.exists(path):
        return []
    table = json.load(open(path))
    return [
        (new, old)
        for group in ("types", "globals", "concepts")
        for new, olds in table.get(group, {}).items()
        for old in olds
    ]


RENAMES = _renames()


def registered(key: str) -> bool:
    try:
        type_info(key)
        return True
    except Exception:  # noqa: BLE001
        return False


def present(key: str) -> str | None:
    """`key` as the running TVM names it (itself or a known other name), or None."""
    names = [key] + [o for n, o in RENAMES if n == key] + [n for n, o in RENAMES if o == key]
    return next((k for k in names if registered(k)), None)


def ancestors(key: str) -> list[str]:
    out = []
    info = type_info(key).parent_type_info
    while info is not None:
        out.append(str(info.type_key))
        info = info.parent_type_info
    return out


def select_types(extra_keys: list[str]) -> list[str]:
    """The TIR family: TIR's node types and the shared `ir.*` ones, with `extra_keys`."""
    keys = [str(k) for k in tvm.get_global_func("ffi.GetRegisteredTypeKeys")()]
    chosen = []
    extra = {present(k) for k in EXTRA} - {None}
    for key in keys:
        if key in extra:
            chosen.append(key)
        elif key.startswith(PREFIXES) and not key.startswith(SKIP_PREFIXES):
            if key in ROOTS or any(a in ROOTS for a in ancestors(key)):
                chosen.append(key)
    chosen += [k for k in extra_keys if k not in chosen]
    return by_depth(chosen)


def by_depth(keys: list[str]) -> list[str]:
    """`keys` with every type after its ancestors (the order the classes are declared in)."""
    return sorted(keys, key=lambda k: (len(ancestors(k)), k))


# The Relax family: expressions, bindings and blocks, and the types (0.27 has no StructInfo:
# an expression's `ty` is a relax.TensorType, relax.ShapeType, ...), outside the namespaces of
# passes, op attributes, pattern language, distributed IR and the VM.
RELAX_ROOTS = ("ir.Expr", "ir.Type", "relax.expr.Binding", "relax.expr.BindingBlock")
RELAX_PREFIXES = ("relax.", "ir.")
RELAX_SKIP = (
    "relax.attrs.",
    "relax.transform.",
    "relax.dpl.",
    "relax.distributed.",
    "relax.vm.",
    "relax.backend.",
    "relax.training.",
    "relax.BlockBuilder",  # (its C++ face is tvm_extend::relax::BlockBuilder)
)
RELAX_EXTRA = ("relax.VDevice", "ir.GlobalInfo", "ir.EnvFunc")


def select_relax_types() -> list[str]:
    keys = [str(k) for k in tvm.get_global_func("ffi.GetRegisteredTypeKeys")()]
    extra = {present(k) for k in RELAX_EXTRA} - {None}
    chosen = []
    for key in keys:
        if key in extra:
            chosen.append(key)
        elif key.startswith(RELAX_PREFIXES) and not key.startswith(RELAX_SKIP):
            if key in RELAX_ROOTS or any(a in RELAX_ROOTS for a in ancestors(key)):
                chosen.append(key)
    return by_depth(chosen)


def is_shared(key: str) -> bool:
    """Whether a node type belongs to the shared `ir.*` part that TIR and Relax both use."""
    return key.startswith("ir.")


# Older node types that a newer release replaced by a type of another name: on a release that
# has the old one only, its view takes the new class name (so one source builds on both), keeps
# the old name as an alias, and gets the new names of renamed fields as accessors.
CONCEPT_CLASSES = {
    "tirx.BufferLoad": ("ir.TensorLoad", {"buffer": "source"}),
    "tirx.BufferRegion": ("ir.TensorRegion", {"buffer": "source"}),
}


def class_names(keys: list[str]) -> dict[str, str]:
    names: dict[str, str] = {}
    short = [k.rsplit(".", 1)[-1] for k in keys]
    for key, name in zip(keys, short):
        if short.count(name) > 1:  # e.g. a namespace-qualified duplicate
            name = key.replace(".", "_")
        if key in CONCEPT_CLASSES and not registered(CONCEPT_CLASSES[key][0]):
            name = CONCEPT_CLASSES[key][0].rsplit(".", 1)[-1]
        names[key] = name
    return names


# Node types whose registered constructor is a global of another name.
CTOR_ALIASES = {
    "ir.TensorLoad": "tirx.BufferLoad",
    # `ir.Range` is Range(begin, end); the fields are (min, extent), as Make's parameters say.
    "ir.Range": "ir.Range_from_min_extent",
    # Relax's constructors are registered under short names.
    **{
        f"relax.expr.{name}": f"relax.{name}"
        for name in (
            "Function",
            "SeqExpr",
            "VarBinding",
            "MatchCast",
            "BindingBlock",
            "DataflowBlock",
            "DataflowVar",
            "If",
            "ShapeExpr",
            "ExternFunc",
            "Tuple",  # (0.26; 0.27 has ir.Tuple)
            "TupleGetItem",
        )
    },
}


def ctor_schema(key: str) -> list | None:
    name = CTOR_ALIASES.get(key, key)
    func = tvm_ffi.get_global_func(name, allow_missing=True)
    if func is None:
        return None
    meta = tvm.get_global_func("ffi.GetGlobalFuncMetadata")(name)
    schema = json.loads(json.loads(meta)["type_schema"])
    args = schema.get("args", [])
    if not args or args[0].get("type") != key:
        return None  # not a constructor of this very type
    return args[1:]


def collect(keys: list[str], names: dict[str, str] | None = None) -> dict[str, NodeType]:
    names = names or class_names(keys)
    nodes: dict[str, NodeType] = {}
    for key in keys:
        info = type_info(key)
        parent = info.parent_type_info
        parent_key = str(parent.type_key) if parent is not None else None
        node = NodeType(key, names[key], parent_key if parent_key in names else None)
        for f in info.fields:
            text = json.loads(f.metadata["type_schema"]) if "type_schema" in f.metadata else {}
            node.fields.append(
                FieldInfo(str(f.name), text, f.metadata.get("type_schema", ""), int(f.size), key)
            )
        node.ctor = ctor_schema(key)
        nodes[key] = node
    for node in nodes.values():
        if node.parent in nodes:
            nodes[node.parent].concrete = False
    return nodes


class CppTypes:
    """Maps a field or argument schema to its C++ view type and storage kind."""

    def __init__(self, nodes: dict[str, NodeType], ns: str, external: dict[str, str] | None = None):
        self.nodes = nodes
        self.ns = ns
        self.external = external or {}  # key -> namespace of a view another header defines

    def view(self, key: str) -> str:
        if key in self.external:
            return f"::{self.external[key]}::{self.nodes[key].cls}"
        return self.nodes[key].cls if key in self.nodes else "::tvm_extend::ir::NodeRef"

    def field(self, f: FieldInfo) -> tuple[str, str, str]:
        """(C++ type, FieldKind, reader template) of a field."""
        s = f.schema
        t = s.get("type")
        if (t, f.size) in POD:
            cpp, kind = POD[(t, f.size)]
            return cpp, kind, "ReadPod"
        if f.size != 8 or t in GETTER_TYPES or (t == "Optional" and not self._object_arg(s)):
            return GETTER_TYPES.get(t, "tvm::ffi::Any"), "kGetter", "ReadAny"
        if t == "ffi.Array":
            inner = (s.get("args") or [{}])[0].get("type", "")
            return f"::tvm_extend::ir::List<{self.view(inner)}>", "kObject", "ReadList"
        if t == "ffi.Map":
            return self.map_type(s), "kObject", "ReadNode"
        if t == "Optional":
            return self.view(s["args"][0]["type"]), "kObject", "ReadNode"
        return self.view(t), "kObject", "ReadNode"

    def map_type(self, s: dict) -> str:
        args = [a.get("type") for a in s.get("args", [])]
        if args == ["ffi.String", "Any"]:
            return "tvm::ffi::Map<tvm::ffi::String, tvm::ffi::Any>"
        return "tvm::ffi::Map<tvm::ffi::Any, tvm::ffi::Any>"

    @staticmethod
    def _object_arg(s: dict) -> bool:
        inner = (s.get("args") or [{}])[0].get("type", "")
        return inner not in ("int", "bool", "float", "DataType") and inner not in GETTER_TYPES

    def arg(self, s: dict) -> str:
        """C++ parameter type of a constructor argument."""
        t = s.get("type")
        if t in ("int",):
            return "int64_t"
        if t == "bool":
            return "bool"
        if t == "float":
            return "double"
        if t == "DataType":
            return "DLDataType"
        if t in GETTER_TYPES:
            return GETTER_TYPES[t]
        if t == "ffi.Array":
            inner = (s.get("args") or [{}])[0].get("type", "")
            return f"::tvm_extend::ir::List<{self.view(inner)}>"
        if t == "ffi.Map":
            return self.map_type(s)
        if t == "Optional":
            return self.arg(s["args"][0])
        return self.view(t)


def ident(text: str) -> str:
    return re.sub(r"\W", "_", text)


def tag_name(key: str, fname: str | None = None) -> str:
    return "F_" + ident(key) + "__" + ident(fname) if fname else "T_" + ident(key)


def is_expr(nodes, key):
    return key == "ir.Expr" or "ir.Expr" in ancestors(key)


def is_stmt(nodes, key):
    return key == "tirx.Stmt" or "tirx.Stmt" in ancestors(key)


def traversal(nodes, f: FieldInfo):
    """How the default visitor walks a field: (what, list?, optional?) or None."""
    s = f.schema
    t = s.get("type")
    optional = t == "Optional"
    if optional:
        s = s["args"][0]
        t = s.get("type")
    is_list = t == "ffi.Array"
    if is_list:
        t = (s.get("args") or [{}])[0].get("type", "")
    if t == "ir.Expr":
        return ("Expr", is_list, optional)
    if t == "tirx.Stmt" or (t in nodes and is_stmt(nodes, t)):
        return ("Stmt", is_list, optional, t)
    # Expression nodes of a specific type (e.g. ir.TensorRegion), except variables: a Var in a
    # field is a definition or a buffer, which TVM's own mutators do not visit either.
    if t in nodes and t != "ir.Var" and "ir.Var" not in ancestors(t) and is_expr(nodes, t):
        return ("Expr", is_list, optional, t)
    if t in AUX and t in nodes:
        return (nodes[t].cls, is_list, optional, t)  # (the TIR header names it unqualified)
    return None


# Non-expression, non-statement nodes that hold expressions: walked and rebuilt like them.
AUX = tuple(
    present(k) or k
    for k in ("ir.Range", "tirx.IterVar", "s_tir.MatchBufferRegion", "tirx.BufferRegion")
)


def ctor_params(node: NodeType, types: CppTypes) -> list[tuple[str, str, dict]]:
    """(C++ type, name, schema) of the constructor's parameters, named after the fields they
    match in order, with the trailing span defaulted."""
    params = []
    fields = [f for f in node.fields]
    fi = 0
    if node.key.startswith("relax."):
        return relax_ctor_params(node, types)
    for i, s in enumerate(node.ctor or []):
        name = f"arg{i}"
        for j in range(fi, len(fields)):
            if (
                fields[j].schema == s
                or (s.get("type") == "Optional" and fields[j].schema == s["args"][0])
                or (list(fields[j].schema) == ["type"] and narrower(s, fields[j].schema["type"]))
            ):
                name = fields[j].name
                fi = j + 1
                break
        if s.get("type") == "ir.Span" and i == len(node.ctor) - 1:
            params.append(("tvm::ffi::ObjectRef", "span", s))  # complete type: defaults to None
            continue
        params.append((types.arg(s), ident(name), s))
    return params


def relax_ctor_params(node: NodeType, types: CppTypes) -> list[tuple[str, str, dict]]:
    """ctor_params for Relax's constructors, whose arguments follow the fields of the type and
    its ancestors in another order (`relax.VarBinding(var, value, span)`): each argument is
    named after the first unused field of a compatible type, the type's own fields first."""
    fields = []
    for key in [node.key] + ancestors(node.key):
        for f in type_info(key).fields:
            schema = json.loads(f.metadata["type_schema"]) if "type_schema" in f.metadata else {}
            fields.append((str(f.name), schema))

    def unwrap(x: dict) -> dict:
        return x["args"][0] if x.get("type") == "Optional" else x

    def related(a: dict, f: dict) -> bool:
        plain = list(a) == ["type"] and list(f) == ["type"]
        return plain and (narrower(a, f["type"]) or narrower(f, a["type"]))

    params, used = [], set()
    for i, s in enumerate(node.ctor or []):
        if s.get("type") == "ir.Span" and i == len(node.ctor) - 1:
            params.append(("tvm::ffi::ObjectRef", "span", s))
            continue
        free = [(n, unwrap(f)) for n, f in fields if n not in used and n != "span"]
        name = next((n for n, f in free if f == unwrap(s)), None)  # the same type first
        name = name or next((n for n, f in free if related(unwrap(s), f)), f"arg{i}")
        used.add(name)
        params.append((types.arg(s), ident(name), s))
    return params


def narrower(s: dict, key: str) -> bool:
    """Whether an argument schema `s` is a node type derived from `key` (e.g. a Var for an Expr
    field)."""
    t = s.get("type")
    if list(s) != ["type"] or not isinstance(t, str) or "." not in t:
        return False
    try:
        return key in ancestors(t)
    except Exception:  # noqa: BLE001
        return False


def defaulted_params(params) -> set[int]:
    """Indices of the trailing constructor parameters that default to nothing: the span, and
    the Optional ones before it (so `BufferStore::Make(buffer, value, indices)` builds on a
    release whose constructor also takes a `predicate`)."""
    out = set()
    for i in range(len(params) - 1, -1, -1):
        _, name, schema = params[i]
        if name == "span" or schema.get("type") == "Optional":
            out.add(i)
        else:
            break
    return out


def ctor_tag(node: NodeType) -> str:
    """The tag whose kTypeKey names the node's registered constructor."""
    return ("C_" + ident(node.key)) if node.key in CTOR_ALIASES else tag_name(node.key)


def field_alias(node: NodeType, f: FieldInfo) -> str | None:
    concept = CONCEPT_CLASSES.get(node.key)
    if concept is None or node.cls != concept[0].rsplit(".", 1)[-1]:
        return None
    return concept[1].get(f.name)


def field_tag(f: FieldInfo) -> str:
    return f"tags::{tag_name(f.declared_on, f.name)}"


def all_fields(nodes: dict[str, NodeType], node: NodeType) -> list[FieldInfo]:
    """The fields of `node` and its ancestors, ancestors' first (as TVM lays them out)."""
    out = []
    for key in reversed([node.key] + ancestors(node.key)):
        if key in nodes:
            out += nodes[key].fields
    return out


def is_list_cpp(cpp: str) -> bool:
    return cpp.startswith("::tvm_extend::ir::List<")


def read_expr(types: CppTypes, f: FieldInfo, strong: bool, obj: str = "op") -> str:
    """The C++ expression reading field `f` of `obj` (strong: the accessor's use; weak: the
    functors')."""
    cpp, _, reader = types.field(f)
    inner = cpp[len("::tvm_extend::ir::List<") : -1] if reader == "ReadList" else cpp
    return f"::tvm_extend::ir::{reader}<{field_tag(f)}, {inner}, {'true' if strong else 'false'}>({obj})"


def ctor_call(node: NodeType, types: CppTypes, args: list[str], strong: bool) -> str:
    """A call of the node's registered constructor with C++ arguments `args` (one per
    ctor_params entry), through CtorBinding."""
    params = ctor_params(node, types)
    sig_types = ", ".join(
        "tvm::ffi::Array<tvm::ffi::ObjectRef>" if is_list_cpp(cpp) else cpp for cpp, _, _ in params
    )
    call_args = ", ".join(
        f"{a}.data()" if is_list_cpp(cpp) else a for (cpp, _, _), a in zip(params, args)
    )
    return (
        f"::tvm_extend::ir::CtorBinding<tags::{ctor_tag(node)}, {node.cls}({sig_types}), "
        f"{'true' if strong else 'false'}>::fn({call_args})"
    )


def generate(
    keys: list[str],
    ns: str,
    header_guard: str,
    header: str,
    external: dict[str, str] | None = None,
    includes: tuple[str, ...] = (),
    names: dict[str, str] | None = None,
    dispatch_all: bool = False,
) -> tuple[str, str | None]:
    """(the header, the functors' source file or None when the types have no functors).

    ``external`` maps keys whose views another header defines (``includes``) to that header's
    namespace: they are known here (as bases, field and parameter types, for the functors) but
    not emitted; their classes are brought in with using-declarations unless a class here has
    the same name. ``dispatch_all``: record the fields of every concrete expression type (the
    shared part, whose types the TIR functors dispatch on)."""
    external = external or {}
    nodes = collect(list(external) + [k for k in keys if k not in external], names)
    own = [n for n in nodes.values() if n.key not in external]
    types = CppTypes(nodes, ns, external)
    functors = "ir.Expr" in nodes and "tirx.Stmt" in nodes
    dispatched = set()
    if functors or dispatch_all:
        dispatched = {
            n.key
            for n in nodes.values()
            if (n.concrete and (is_expr(nodes, n.key) or is_stmt(nodes, n.key))) or n.key in AUX
        }
    out = []
    w = out.append
    w(f"// Generated by `python -m tvm_extend.ir_views` from apache-tvm {tvm.__version__}")
    w(f"// (tvm-ffi {tvm_ffi.__version__}). Do not edit: rerun the generator instead.")
    w("//")
    w("// Every member that reads or builds IR is a template (`template <int = 0>`), so that what")
    w("// binds at load time is only what the extension's code calls (see tvm_extend/ir/view.h).")
    w(f"#ifndef {header_guard}\n#define {header_guard}\n")
    w("#include <tvm/ffi/container/map.h>\n#include <tvm_extend/ir/global_function.h>")
    for inc in includes:
        w(f"#include <{inc}>")
    w("")
    w(f'#define {header_guard}_TVM_VERSION "{tvm.__version__}"')
    major, minor = (int(x) for x in str(tvm.__version__).split(".")[:2])
    w("#ifndef TVM_EXTEND_IR_TVM_MAJOR")
    w("/*! \\brief The TVM release the views were generated from, for code that must differ. */")
    w(f"#define TVM_EXTEND_IR_TVM_MAJOR {major}\n#define TVM_EXTEND_IR_TVM_MINOR {minor}\n#endif\n")
    w(f"namespace {ns} {{\n")
    w("namespace tags {")
    for other in sorted(set(external.values())):
        w(f"using namespace ::{other}::tags;  // the tags of the views the included header defines")
    for node in own:
        parent = type_info(node.key).parent_type_info
        parent_key = str(parent.type_key) if parent is not None else ""
        known = (
            '"' + ",".join(f.name for f in all_fields(nodes, node)) + '"'
            if node.key in dispatched
            else "nullptr"
        )
        w(
            f'struct {tag_name(node.key)} {{ static constexpr const char* kTypeKey = "{node.key}"; '
            f'static constexpr const char* kNodeKey = "{node.key}"; '
            f'static constexpr const char* kParentKey = "{parent_key}"; '
            f"static constexpr const char* kKnownFields = {known}; }};"
        )
        if node.key in CTOR_ALIASES and node.ctor is not None:
            w(
                f"struct {ctor_tag(node)} {{ static constexpr const char* kTypeKey = "
                f'"{CTOR_ALIASES[node.key]}"; static constexpr const char* kNodeKey = '
                f'"{node.key}"; }};'
            )
        for f in node.fields:
            cpp, kind, _ = types.field(f)
            w(
                f"struct {tag_name(node.key, f.name)} {{ static constexpr const char* kTypeKey = "
                f'"{node.key}"; static constexpr const char* kName = "{f.name}"; '
                f'static constexpr const char* kSchema = R"({f.schema_text})"; '
                f"static constexpr ::tvm_extend::ir::FieldKind kKind = "
                f"::tvm_extend::ir::FieldKind::{kind}; static constexpr int64_t kSize = {f.size}; }};"
            )
    w("}  // namespace tags\n")
    own_names = {n.cls for n in own}
    shared = [n for n in nodes.values() if n.key in external and n.cls not in own_names]
    if shared:
        w(f"// The views of <{'>, <'.join(includes)}>, under their names here.")
        for node in shared:
            w(f"using {types.view(node.key)};")
        w("")
    for node in own:
        w(f"class {node.cls};")
    w("")
    for node in own:
        base = types.view(node.parent) if node.parent else "::tvm_extend::ir::NodeRef"
        tag = tag_name(node.key)
        w(f"/*! \\brief View of `{node.key}`. */")
        w(f"class {node.cls} : public {base} {{\n public:")
        w(f'  static constexpr const char* kTypeKey = "{node.key}";')
        w(f"  {node.cls}() = default;")
        w(
            "  /*! \\brief A view of `ref`; a TypeError when `ref` is not of this type (null is fine). */"
        )
        w("  template <int = 0>")
        w(f"  explicit {node.cls}(const tvm::ffi::ObjectRef& ref)")
        w(f"      : {base}(ref, ::tvm_extend::ir::Unchecked{{}}) {{")
        w("    if (ref.defined() && !IsInstance(ref)) ::tvm_extend::ir::WrongType(kTypeKey, ref);")
        w("  }")
        w("  /*! \\brief A view of `ref`, which the caller knows to be of this type. */")
        w(f"  {node.cls}(const tvm::ffi::ObjectRef& ref, ::tvm_extend::ir::Unchecked)")
        w(f"      : {base}(ref, ::tvm_extend::ir::Unchecked{{}}) {{}}")
        w("  /*! \\brief Whether `ref` is a node of this type or of a type derived from it. */")
        w("  template <int = 0>")
        w("  static bool IsInstance(const tvm::ffi::ObjectRef& ref) {")
        w(
            f"    return ::tvm_extend::ir::IsInstance(ref.get(), ::tvm_extend::ir::UseType<tags::{tag}>());"
        )
        w("  }")
        w("  /*! \\brief The type's binding (no use is registered by asking). */")
        w("  static const ::tvm_extend::ir::TypeSlot& type_slot() {")
        w(f"    return ::tvm_extend::ir::TypeBinding<tags::{tag}>::slot;\n  }}")
        for f in node.fields:
            cpp, kind, _ = types.field(f)
            name = ident(f.name)
            w(f"  /*! \\brief Field `{f.name}`: {f.schema_text} */")
            w(f"  template <int = 0>\n  {cpp} {name}() const;")
            if kind == "kObject":
                w(f"  /*! \\brief A copy of this node with field `{f.name}` replaced. */")
                w(f"  template <int = 0>\n  {node.cls} with_{name}(const {cpp}& value) const;")
            elif kind != "kGetter":
                w(f"  /*! \\brief A copy of this node with field `{f.name}` set. */")
                w(f"  template <int = 0>\n  {node.cls} with_{name}({cpp} value) const;")
            alias = field_alias(node, f)
            if alias:
                w(f"  /*! \\brief Field `{f.name}`, under the name newer releases give it. */")
                w(f"  template <int = 0>\n  {cpp} {alias}() const {{ return {name}(); }}")
        if node.ctor is not None:
            params = ctor_params(node, types)
            defaulted = defaulted_params(params)
            decl = ", ".join(
                f"{cpp} {name}" + (" = {}" if i in defaulted else "")
                for i, (cpp, name, _) in enumerate(params)
            )
            w(
                "  /*! \\brief A new node, made by TVM's registered constructor "
                f"`{CTOR_ALIASES.get(node.key, node.key)}`. */"
            )
            w(f"  template <int = 0>\n  static {node.cls} Make({decl});")
        w("};\n")
        short = node.key.rsplit(".", 1)[-1]
        if short != node.cls and short not in {n.cls for n in nodes.values()}:
            w(f"/*! \\brief `{node.key}` under its own name. */\nusing {short} = {node.cls};\n")
    # Out-of-line definitions, now that every class is complete. Templates: instantiated, and
    # their slots bound, only where the extension calls them.
    for node in own:
        for f in node.fields:
            cpp, kind, _ = types.field(f)
            name = ident(f.name)
            w(f"template <int>\ninline {cpp} {node.cls}::{name}() const {{")
            w(f"  return {read_expr(types, f, True, '*this')};\n}}")
            if kind == "kGetter":
                continue
            setter = "SetObjectField" if kind == "kObject" else "SetPodField"
            param = f"const {cpp}& value" if kind == "kObject" else f"{cpp} value"
            value = "value.data()" if is_list_cpp(cpp) else "value"
            w(f"template <int>\ninline {node.cls} {node.cls}::with_{name}({param}) const {{")
            w("  tvm::ffi::ObjectRef copy = ::tvm_extend::ir::ShallowCopy(*this);")
            w(f"  ::tvm_extend::ir::{setter}(const_cast<tvm::ffi::Object*>(copy.get()),")
            w(f"      ::tvm_extend::ir::UseField<{field_tag(f)}>(), {value});")
            w(f"  return {node.cls}(copy, ::tvm_extend::ir::Unchecked{{}});\n}}")
        if node.ctor is not None:
            params = ctor_params(node, types)
            decl = ", ".join(f"{cpp} {name}" for cpp, name, _ in params)
            w(f"template <int>\ninline {node.cls} {node.cls}::Make({decl}) {{")
            w(f"  return {ctor_call(node, types, [n for _, n, _ in params], True)};\n}}")
    w("")
    source = None
    if functors:
        source = emit_functors(w, nodes, types, header)
    w(f"}}  // namespace {ns}\n#endif  // {header_guard}")
    return "\n".join(out) + "\n", source


def ctor_rebuild(node: NodeType, types: CppTypes, walked, fields) -> str | None:
    """The constructor call that rebuilds `node` from its mutated children (locals named in
    `walked`) and its other fields (weak reads), or None when an argument matches no field."""
    if node.ctor is None:
        return None
    new = {f.name: name for f, name, _ in walked}
    by_name = {f.name: f for f in fields}
    args = []
    for cpp, pname, s in ctor_params(node, types):
        is_view = not cpp.startswith(("::tvm_extend::ir::List<", "tvm::ffi::", "int", "bool"))
        is_view = is_view and cpp not in ("double", "DLDataType")
        if pname == "span":
            args.append(
                read_expr(types, by_name["span"], False)
                if "span" in by_name
                else "tvm::ffi::ObjectRef()"
            )
        elif pname in new:
            args.append(
                f"{cpp}({new[pname]}, ::tvm_extend::ir::Unchecked{{}})" if is_view else new[pname]
            )
        elif pname in by_name and types.field(by_name[pname])[1] != "kGetter":
            read = read_expr(types, by_name[pname], False)
            args.append(f"{cpp}({read}, ::tvm_extend::ir::Unchecked{{}})" if is_view else read)
        elif s.get("type") in ("ir.Type", "ir.PrimType") and "ty" in by_name:
            # the node's own type, as given to TVM (Call, Cast)
            args.append(
                f"{cpp}({read_expr(types, by_name['ty'], False)}, ::tvm_extend::ir::Unchecked{{}})"
            )
        else:
            return None
    return ctor_call(node, types, args, False)


def emit_functors(w, nodes: dict[str, NodeType], types: CppTypes, header: str) -> str:
    """Declares the visitor and mutator in the header (through `w`); returns the source file
    that defines them, compiled once per build folder (tvm_extend_add_extension links it)."""
    exprs = [n for n in nodes.values() if n.concrete and is_expr(nodes, n.key)]
    stmts = [n for n in nodes.values() if n.concrete and is_stmt(nodes, n.key)]
    aux = [nodes[k] for k in AUX if k in nodes]
    src = []
    s = src.append
    s(f"// Generated by `python -m tvm_extend.ir_views` from apache-tvm {tvm.__version__}:")
    s(f"// the bodies of the functors declared in <{header}>, compiled once per build folder.")
    s(f"#include <{header}>\n")
    ns = types.ns
    s(f"namespace {ns} {{")
    s("namespace {")
    s("using ::tvm_extend::ir::Unchecked;")
    for kind, group in (("Expr", exprs), ("Stmt", stmts)):
        s(f"/*! \\brief Dispatch index of a {kind} node for the functors; -1 if unknown. */")
        s(f"int {kind}DispatchIndex(const tvm::ffi::Object* node) {{")
        s("  static const std::vector<int16_t> table = [] {")
        s("    std::vector<int16_t> t;")
        for i, n in enumerate(group):
            s(
                f"    {{ int32_t idx = ::tvm_extend::ir::UseType<tags::{tag_name(n.key)}, false>().type_index; "
                f"if (idx >= 0) {{ if (static_cast<size_t>(idx) >= t.size()) t.resize(idx + 1, -1); "
                f"t[idx] = {i}; }} }}"
            )
        s("    return t;\n  }();")
        s("  int32_t idx = node->type_index();")
        s("  return static_cast<size_t>(idx) < table.size() ? table[idx] : -1;\n}\n")
    s("/*! \\brief Children of nodes the generated code does not know, found by reflection. */")
    s("const ::tvm_extend::ir::GenericChildren& Generic() {")
    s(
        "  static const ::tvm_extend::ir::GenericChildren generic("
        "::tvm_extend::ir::UseType<tags::T_ir_Expr, false>(), "
        "::tvm_extend::ir::UseType<tags::T_tirx_Stmt, false>(), "
        "::tvm_extend::ir::UseType<tags::T_ir_Var, false>());"
    )
    s("  return generic;\n}")
    s("}  // namespace\n")

    def generic_check(n, visitor: bool) -> list[str]:
        slot = f"::tvm_extend::ir::UseType<tags::{tag_name(n.key)}, false>()"
        if visitor:
            return [f"  if ({slot}.generic) return VisitGeneric_(op);"]
        return [f"  if ({slot}.generic) return {n.cls}(MapGeneric_(op), Unchecked{{}});"]

    def walk(n, visitor: bool):
        lines, walked = [], []
        for f in all_fields(nodes, n):
            tr = traversal(nodes, f)
            if tr is None:
                continue
            what, is_list, optional = tr[0], tr[1], tr[2]
            getter = read_expr(types, f, False)
            if visitor:
                if is_list:
                    lines.append(f"  for (auto item : {getter}) Visit{what}(item);")
                else:
                    lines.append(f"  Visit{what}({getter});")
                continue
            name = "new_" + ident(f.name)
            target = types.view(tr[3]) if len(tr) > 3 else what
            visit = (
                f"Visit{what}(x)"
                if target == what or target.endswith("::" + what)
                else f"::tvm_extend::ir::CheckedWeak<{target}, tags::{tag_name(tr[3])}>"
                f"(Visit{what}(x))"
            )
            if is_list:
                lines.append(
                    f"  auto {name} = MutateList({getter}, [this](const {target}& x) {{ "
                    f"return {visit}; }});"
                )
            else:
                lines.append(f"  auto {getter_local(name)} = {getter};")
                lines.append(f"  auto {name} = " + visit.replace("(x)", f"(old_{name[4:]})") + ";")
                if not optional:
                    # The schema does not say which fields TVM leaves empty (e.g. the `dom` of a
                    # thread's IterVar): null stays null; only a node turned into null is refused.
                    lines.append(
                        f"  if (!{name}.defined() && old_{name[4:]}.defined()) "
                        f'::tvm_extend::ir::NullResult({n.cls}::kTypeKey, "{f.name}");'
                    )
            walked.append((f, name, is_list))
        return lines, walked

    def getter_local(name):
        return "old_" + name[4:]

    # --- declarations (header) ---
    w("/*! \\brief Walks every Expr and Stmt below a node; override VisitExpr_/VisitStmt_.")
    w(" *        Nodes of types this header does not know, or whose fields changed in the running")
    w(" *        TVM, are walked by reflection. */")
    w("class StmtExprVisitor {\n public:\n  virtual ~StmtExprVisitor();")
    w("  virtual void VisitExpr(const Expr& node);\n  virtual void VisitStmt(const Stmt& node);")
    w("  virtual void VisitExprDefault_(const Expr& node);")
    w("  virtual void VisitStmtDefault_(const Stmt& node);")
    for n in aux:
        w(f"  virtual void Visit{n.cls}(const {n.cls}& op);")
    for kind, group in (("Expr", exprs), ("Stmt", stmts)):
        for n in group:
            w(f"  virtual void Visit{kind}_(const {n.cls}& op);")
    w(" protected:")
    w("  /*! \\brief Visit the children of `node` found by reflection. */")
    w("  void VisitGeneric_(const tvm::ffi::ObjectRef& node);")
    w("};\n")
    w("/*! \\brief Rebuilds a tree bottom-up, copy-on-write: a node whose children are unchanged")
    w(" *        is returned as the same object; an expression whose children changed is rebuilt")
    w(" *        by TVM's constructor (so its type follows them). Override VisitExpr_/VisitStmt_.")
    w(
        " *        A result of the wrong node type, or null where a field had a node, is an error. */"
    )
    w("class StmtExprMutator {\n public:\n  virtual ~StmtExprMutator();")
    w("  virtual Expr VisitExpr(const Expr& node);\n  virtual Stmt VisitStmt(const Stmt& node);")
    w("  virtual Expr VisitExprDefault_(const Expr& node);")
    w("  virtual Stmt VisitStmtDefault_(const Stmt& node);")
    for n in aux:
        w(f"  virtual {n.cls} Visit{n.cls}(const {n.cls}& op);")
    for kind, group in (("Expr", exprs), ("Stmt", stmts)):
        for n in group:
            w(f"  virtual {kind} Visit{kind}_(const {n.cls}& op);")
    w("  /*! \\brief Mutate the children of `op`; the same node when none changed, else a copy")
    w("   *        with the new children. Overrides call it to go on below themselves. */")
    for group in (exprs, stmts, aux):
        for n in group:
            w(f"  {n.cls} VisitChildren(const {n.cls}& op);")
    w(" protected:")
    w("  /*! \\brief `node` with its children, found by reflection, mutated. */")
    w("  tvm::ffi::ObjectRef MapGeneric_(const tvm::ffi::ObjectRef& node);")
    w("  template <typename T, typename F>")
    w(
        "  static ::tvm_extend::ir::List<T> MutateList(const ::tvm_extend::ir::List<T>& list, F&& f) {"
    )
    w("    tvm::ffi::Array<tvm::ffi::ObjectRef> out;\n    bool changed = false;")
    w("    for (int64_t i = 0; i < list.size(); ++i) {")
    w("      T before = list[i];\n      auto after = f(before);")
    w("      if (!after.same_as(before) && !changed) {")
    w("        changed = true;\n        out.reserve(list.size());")
    w("        for (int64_t j = 0; j < i; ++j) out.push_back(list.data()[j]);\n      }")
    w("      if (changed) out.push_back(after);\n    }")
    w("    return changed ? ::tvm_extend::ir::List<T>(out) : list;\n  }")
    w("};\n")

    # --- definitions (source) ---
    for cls, mutator in (("StmtExprVisitor", False), ("StmtExprMutator", True)):
        s(f"{cls}::~{cls}() = default;\n")
        for kind, group in (("Expr", exprs), ("Stmt", stmts)):
            ret = kind if mutator else "void"
            s(f"{ret} {cls}::Visit{kind}(const {kind}& node) {{")
            s(f"  if (!node.defined()) return{' node' if mutator else ''};")
            s(f"  switch ({kind}DispatchIndex(node.get())) {{")
            for i, n in enumerate(group):
                s(f"    case {i}: return Visit{kind}_({n.cls}(node, Unchecked{{}}));")
            s(f"    default: return Visit{kind}Default_(node);\n  }}\n}}\n")
            # Unknown node types: children by reflection.
            s(f"{ret} {cls}::Visit{kind}Default_(const {kind}& node) {{")
            if mutator:
                s(f"  return {kind}(MapGeneric_(node), Unchecked{{}});\n}}\n")
            else:
                s("  VisitGeneric_(node);\n}\n")
    s("void StmtExprVisitor::VisitGeneric_(const tvm::ffi::ObjectRef& node) {")
    s("  Generic().Map(")
    s("      node,")
    s("      [](void* self, const tvm::ffi::ObjectRef& x) {")
    s("        static_cast<StmtExprVisitor*>(self)->VisitExpr(Expr(x, Unchecked{}));")
    s("        return x;\n      },")
    s("      [](void* self, const tvm::ffi::ObjectRef& x) {")
    s("        static_cast<StmtExprVisitor*>(self)->VisitStmt(Stmt(x, Unchecked{}));")
    s("        return x;\n      },")
    s("      this);\n}\n")
    s("tvm::ffi::ObjectRef StmtExprMutator::MapGeneric_(const tvm::ffi::ObjectRef& node) {")
    s("  return Generic().Map(")
    s("      node,")
    s("      [](void* self, const tvm::ffi::ObjectRef& x) {")
    s("        return tvm::ffi::ObjectRef(")
    s(
        "            static_cast<StmtExprMutator*>(self)->VisitExpr(Expr(x, Unchecked{})));\n      },"
    )
    s("      [](void* self, const tvm::ffi::ObjectRef& x) {")
    s("        return tvm::ffi::ObjectRef(")
    s(
        "            static_cast<StmtExprMutator*>(self)->VisitStmt(Stmt(x, Unchecked{})));\n      },"
    )
    s("      this);\n}\n")
    # Visitor bodies
    for n in aux:
        s(f"void StmtExprVisitor::Visit{n.cls}(const {n.cls}& op) {{")
        s("  if (!op.defined()) return;")
        for line in walk(n, True)[0]:
            s(line)
        s("}\n")
    for kind, group in (("Expr", exprs), ("Stmt", stmts)):
        for n in group:
            s(f"void StmtExprVisitor::Visit{kind}_(const {n.cls}& op) {{")
            lines = walk(n, True)[0]
            if lines:
                for line in generic_check(n, True):
                    s(line)
            for line in lines:
                s(line)
            s("  (void)op;\n}\n")
    # Mutator bodies
    for n in aux:
        s(f"{n.cls} StmtExprMutator::Visit{n.cls}(const {n.cls}& op) {{")
        s("  return op.defined() ? VisitChildren(op) : op;\n}\n")
    for kind, group in (("Expr", exprs), ("Stmt", stmts)):
        for n in group:
            s(
                f"{kind} StmtExprMutator::Visit{kind}_(const {n.cls}& op) {{ return VisitChildren(op); }}\n"
            )
    for group in (exprs, stmts, aux):
        for n in group:
            s(f"{n.cls} StmtExprMutator::VisitChildren(const {n.cls}& op) {{")
            lines, walked = walk(n, False)
            if not walked:
                s("  return op;\n}\n")
                continue
            for line in generic_check(n, False):
                s(line)
            for line in lines:
                s(line)
            same = " && ".join(
                f"{name}.same_as(old_{name[4:]})"
                if not is_list
                else f"{name}.same_as({read_expr(types, f, False)})"
                for f, name, is_list in walked
            )
            s(f"  if ({same}) return op;")
            rebuild = ctor_rebuild(n, types, walked, all_fields(nodes, n)) if n in exprs else None
            if rebuild is not None:
                # An expression's type follows its children (lanes, dtype): TVM's constructor
                # computes it, and checks the children, as TVM's own mutators do.
                s(f"  return {n.cls}({rebuild}, Unchecked{{}});\n}}\n")
                continue
            s("  tvm::ffi::ObjectRef copy = ::tvm_extend::ir::ShallowCopy(op);")
            s("  tvm::ffi::Object* fresh = const_cast<tvm::ffi::Object*>(copy.get());")
            for f, name, is_list in walked:
                value = f"{name}.data()" if is_list else name
                s(
                    f"  ::tvm_extend::ir::SetObjectField(fresh, "
                    f"::tvm_extend::ir::UseField<{field_tag(f)}, false>(), {value});"
                )
            s(f"  return {n.cls}(std::move(copy), Unchecked{{}});\n}}\n")
    s(f"}}  // namespace {ns}")
    return "\n".join(src) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tvm_extend.ir_views", description=__doc__)
    parser.add_argument("--out", required=True, help="include folder to write into")
    parser.add_argument("--type-key", action="append", default=[], help="extra node type")
    parser.add_argument("--only", action="store_true", help="only the --type-key types")
    parser.add_argument(
        "--exclude",
        action="append",
        default=[],
        help="leave a node type out (the functors then walk it by reflection)",
    )
    parser.add_argument("--preload", action="append", default=[], help="library to load first")
    parser.add_argument(
        "--extension",
        action="append",
        default=[],
        help="a tvm-extend extension (library or package) to load first, for its object types",
    )
    parser.add_argument("--namespace", default="tvm_extend::tir")
    parser.add_argument("--header", default=DEFAULT_HEADER)
    args = parser.parse_args(argv)
    for lib in args.preload:
        ctypes.CDLL(lib, mode=ctypes.RTLD_GLOBAL)
    if args.extension:
        import tvm_extend  # an extension's object types get their fields when the loader loads it

        for ext in args.extension:
            tvm_extend.load_extension(ext)
    keys = list(args.type_key) if args.only else select_types(args.type_key)
    keys = [k for k in keys if k not in args.exclude]
    for key in keys:
        try:
            type_info(key)
        except Exception:  # noqa: BLE001
            print(f"tvm_extend.ir_views: the running TVM has no node type '{key}'", file=sys.stderr)
            return 2
    if args.only or args.header != DEFAULT_HEADER:
        # One header with every type in it (an extension's own types, or a view set of its own).
        files = [(args.header, *generate(keys, args.namespace, guard_of(args.header), args.header))]
    else:
        files = families(keys, args.exclude, args.namespace)
    written = []
    for header, text, source in files:
        path = os.path.join(args.out, header)
        source_path = os.path.splitext(path)[0] + "_functors.cc"
        os.makedirs(os.path.dirname(path), exist_ok=True)
        for where, content in ((path, text), (source_path, source)):
            if content is None:
                if os.path.exists(where):
                    os.remove(where)
                continue
            old = open(where).read() if os.path.exists(where) else None
            if old != content:  # keep the timestamp, and so the build, when nothing changed
                with open(where, "w") as fh:
                    fh.write(content)
        written.append(path)
    for path in sorted(written, key=lambda p: p.endswith(DEFAULT_HEADER)):
        print(path)
    return 0


DEFAULT_HEADER = "tvm_extend/ir/tir.h"
SHARED_HEADER = "tvm_extend/ir/ir.h"
RELAX_HEADER = "tvm_extend/ir/relax.h"
SHARED_NAMESPACE = "tvm_extend::ir"


def guard_of(header: str) -> str:
    return "TVM_EXTEND_GENERATED_" + ident(header).upper() + "_"


def families(tir_keys: list[str], exclude: list[str], tir_namespace: str):
    """(header, text, functors source) of the shared `ir.*` part and the TIR and Relax families.

    The `ir.*` types (Expr, Call, Var, Op, GlobalVar, IRModule, Type, ...) are defined once, in
    <tvm_extend/ir/ir.h> (namespace tvm_extend::ir), so that a translation unit may include both
    <tvm_extend/ir/tir.h> and <tvm_extend/ir/relax.h>; each family header includes it and names
    its classes with using-declarations (`tvm_extend::tir::Call` is `tvm_extend::ir::Call`), except
    where the family has a type of the same name (`relax::FuncType` is `relax.FuncType`)."""
    relax_keys = [k for k in select_relax_types() if k not in exclude]
    shared = by_depth(sorted({k for k in tir_keys + relax_keys if is_shared(k)}))
    shared_names = class_names(shared)
    external = {k: SHARED_NAMESPACE for k in shared}
    out = [
        (
            SHARED_HEADER,
            *generate(
                shared, SHARED_NAMESPACE, guard_of(SHARED_HEADER), SHARED_HEADER, dispatch_all=True
            ),
        )
    ]
    for header, ns, keys in (
        (RELAX_HEADER, "tvm_extend::relax", relax_keys),
        (DEFAULT_HEADER, tir_namespace, tir_keys),
    ):
        mine = [k for k in keys if not is_shared(k)]
        # A family's own classes may take a name the shared part has: the family's wins there.
        names = {**shared_names, **class_names(mine)}
        used = external  # every family names every shared type (IRModule, Span, ...)
        out.append(
            (
                header,
                *generate(mine, ns, guard_of(header), header, used, (SHARED_HEADER,), names),
            )
        )
    return out


if __name__ == "__main__":
    sys.exit(main())
