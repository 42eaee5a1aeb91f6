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


def ancestors(key: str) -> list[str]:
    out = []
    info = type_info(key).parent_type_info
    while info is not None:
        out.append(str(info.type_key))
        info = info.parent_type_info
    return out


def select_types(extra_keys: list[str]) -> list[str]:
    keys = [str(k) for k in tvm.get_global_func("ffi.GetRegisteredTypeKeys")()]
    chosen = []
    for key in keys:
        if key in EXTRA:
            chosen.append(key)
        elif key.startswith(PREFIXES) and not key.startswith(SKIP_PREFIXES):
            if key in ROOTS or any(a in ROOTS for a in ancestors(key)):
                chosen.append(key)
    chosen += [k for k in extra_keys if k not in chosen]
    return sorted(chosen, key=lambda k: (len(ancestors(k)), k))


def class_names(keys: list[str]) -> dict[str, str]:
    names: dict[str, str] = {}
    short = [k.rsplit(".", 1)[-1] for k in keys]
    for key, name in zip(keys, short):
        if short.count(name) > 1:  # e.g. a namespace-qualified duplicate
            name = key.replace(".", "_")
        names[key] = name
    return names


# Node types whose registered constructor is a global of another name.
CTOR_ALIASES = {"ir.TensorLoad": "tirx.BufferLoad"}


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


def collect(keys: list[str]) -> dict[str, NodeType]:
    names = class_names(keys)
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

    def __init__(self, nodes: dict[str, NodeType], ns: str):
        self.nodes = nodes
        self.ns = ns

    def view(self, key: str) -> str:
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
        return (nodes[t].cls, is_list, optional, t)
    return None


# Non-expression, non-statement nodes that hold expressions: walked and rebuilt like them.
AUX = ("ir.Range", "tirx.IterVar", "s_tir.MatchBufferRegion")


def ctor_params(node: NodeType, types: CppTypes) -> list[tuple[str, str, dict]]:
    """(C++ type, name, schema) of the constructor's parameters, named after the fields they
    match in order, with the trailing span defaulted."""
    params = []
    fields = [f for f in node.fields]
    fi = 0
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


def ctor_tag(node: NodeType) -> str:
    """The tag whose kTypeKey names the node's registered constructor."""
    return ("C_" + ident(node.key)) if node.key in CTOR_ALIASES else tag_name(node.key)


def generate(keys: list[str], ns: str, header_guard: str) -> str:
    nodes = collect(keys)
    types = CppTypes(nodes, ns)
    out = []
    w = out.append
    w(f"// Generated by `python -m tvm_extend.ir_views` from apache-tvm {tvm.__version__}")
    w(f"// (tvm-ffi {tvm_ffi.__version__}). Do not edit: rerun the generator instead.")
    w(f"#ifndef {header_guard}\n#define {header_guard}\n")
    w("#include <tvm/ffi/container/map.h>\n#include <tvm_extend/ir/global_function.h>\n")
    w(f'#define {header_guard}_TVM_VERSION "{tvm.__version__}"\n')
    w(f"namespace {ns} {{\n")
    w("namespace tags {")
    for node in nodes.values():
        parent = type_info(node.key).parent_type_info
        parent_key = str(parent.type_key) if parent is not None else ""
        w(
            f'struct {tag_name(node.key)} {{ static constexpr const char* kTypeKey = "{node.key}"; '
            f'static constexpr const char* kParentKey = "{parent_key}"; }};'
        )
        if node.key in CTOR_ALIASES and node.ctor is not None:
            w(
                f"struct {ctor_tag(node)} {{ static constexpr const char* kTypeKey = "
                f'"{CTOR_ALIASES[node.key]}"; }};'
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
    for node in nodes.values():
        w(f"class {node.cls};")
    w("")
    for node in nodes.values():
        base = nodes[node.parent].cls if node.parent else "::tvm_extend::ir::NodeRef"
        tag = tag_name(node.key)
        w(f"/*! \\brief View of `{node.key}`. */")
        w(f"class {node.cls} : public {base} {{\n public:")
        w(f'  static constexpr const char* kTypeKey = "{node.key}";')
        w(f"  {node.cls}() = default;")
        w(
            "  /*! \\brief A view of `ref`; a TypeError when `ref` is not of this type (null is fine). */"
        )
        w(f"  explicit {node.cls}(const tvm::ffi::ObjectRef& ref)")
        w(f"      : {base}(ref, ::tvm_extend::ir::Unchecked{{}}) {{")
        w("    if (ref.defined() && !IsInstance(ref)) ::tvm_extend::ir::WrongType(kTypeKey, ref);")
        w("  }")
        w("  /*! \\brief A view of `ref`, which the caller knows to be of this type. */")
        w(f"  {node.cls}(const tvm::ffi::ObjectRef& ref, ::tvm_extend::ir::Unchecked)")
        w(f"      : {base}(ref, ::tvm_extend::ir::Unchecked{{}}) {{}}")
        w("  /*! \\brief Whether `ref` is a node of this type or of a type derived from it. */")
        w("  static bool IsInstance(const tvm::ffi::ObjectRef& ref) {")
        w("    return ::tvm_extend::ir::IsInstance(ref.get(), type_slot());\n  }")
        w("  static const ::tvm_extend::ir::TypeSlot& type_slot() {")
        w(f"    return ::tvm_extend::ir::TypeBinding<tags::{tag}>::slot;\n  }}")
        for f in node.fields:
            cpp, _, _ = types.field(f)
            w(f"  /*! \\brief Field `{f.name}`: {f.schema_text} */")
            w(f"  {cpp} {ident(f.name)}() const;")
            if types.field(f)[1] == "kObject":
                w(f"  /*! \\brief A copy of this node with field `{f.name}` replaced. */")
                w(f"  {node.cls} with_{ident(f.name)}(const {cpp}& value) const;")
        if node.ctor is not None:
            params = ctor_params(node, types)
            decl = ", ".join(
                f"{cpp} {name}" + (" = {}" if name == "span" else "") for cpp, name, _ in params
            )
            w(
                "  /*! \\brief A new node, made by TVM's registered constructor "
                f"`{CTOR_ALIASES.get(node.key, node.key)}`. */"
            )
            w(f"  static {node.cls} Make({decl});")
        w("};\n")
    # Out-of-line definitions, now that every class is complete.
    for node in nodes.values():
        for f in node.fields:
            cpp, _, reader = types.field(f)
            tag = f"tags::{tag_name(node.key, f.name)}"
            inner = cpp
            if reader == "ReadList":
                inner = cpp[len("::tvm_extend::ir::List<") : -1]
            w(f"inline {cpp} {node.cls}::{ident(f.name)}() const {{")
            w(f"  return ::tvm_extend::ir::{reader}<{tag}, {inner}>(*this);\n}}")
            if types.field(f)[1] == "kObject":
                value = "value.data()" if reader == "ReadList" else "value"
                w(
                    f"inline {node.cls} {node.cls}::with_{ident(f.name)}(const {cpp}& value) const {{"
                )
                w("  tvm::ffi::ObjectRef copy = ::tvm_extend::ir::ShallowCopy(*this);")
                w("  ::tvm_extend::ir::SetObjectField(const_cast<tvm::ffi::Object*>(copy.get()),")
                w(f"      ::tvm_extend::ir::FieldBinding<{tag}>::slot, {value});")
                w(f"  return {node.cls}(copy, ::tvm_extend::ir::Unchecked{{}});\n}}")
        if node.ctor is not None:
            params = ctor_params(node, types)
            decl = ", ".join(f"{cpp} {name}" for cpp, name, _ in params)
            sig_types = ", ".join(
                "tvm::ffi::Array<tvm::ffi::ObjectRef>"
                if cpp.startswith("::tvm_extend::ir::List<")
                else cpp
                for cpp, _, _ in params
            )
            args = ", ".join(
                f"{name}.data()" if cpp.startswith("::tvm_extend::ir::List<") else name
                for cpp, name, _ in params
            )
            w(f"inline {node.cls} {node.cls}::Make({decl}) {{")
            w(
                f"  return ::tvm_extend::ir::CtorBinding<tags::{ctor_tag(node)}, "
                f"{node.cls}({sig_types})>::fn({args});\n}}"
            )
    w("")
    emit_functors(w, nodes, types)
    w(f"}}  // namespace {ns}\n#endif  // {header_guard}")
    return "\n".join(out) + "\n"


def ctor_rebuild(node: NodeType, types: CppTypes, walked, fields) -> str | None:
    """The arguments of `Make` that rebuild `node` from its mutated children (locals named in
    `walked`) and its other fields, or None when a constructor argument matches no field."""
    if node.ctor is None:
        return None
    new = {f.name: name for f, name, _ in walked}
    by_name = {f.name: f for f in fields}
    args = []
    for cpp, pname, s in ctor_params(node, types):
        is_view = not cpp.startswith(("::tvm_extend::ir::List<", "tvm::ffi::", "int", "bool"))
        is_view = is_view and cpp not in ("double", "DLDataType")
        if pname == "span":
            args.append("op.span()" if "span" in by_name else "tvm::ffi::ObjectRef()")
        elif pname in new:
            args.append(f"{cpp}({new[pname]})" if is_view else new[pname])
        elif pname in by_name and types.field(by_name[pname])[1] != "kGetter":
            args.append(f"{cpp}(op.{ident(pname)}())" if is_view else f"op.{ident(pname)}()")
        elif s.get("type") in ("ir.Type", "ir.PrimType") and "ty" in by_name:
            args.append(f"{cpp}(op.ty())")  # the node's own type, as given to TVM (Call, Cast)
        else:
            return None
    return ", ".join(args)


def emit_dispatch(w, exprs, stmts, mutator: bool) -> None:
    """VisitExpr/VisitStmt: dispatch on the node's type index to VisitExpr_/VisitStmt_."""
    for kind, group in (("Expr", exprs), ("Stmt", stmts)):
        ret = kind if mutator else "void"
        w(f"  virtual {ret} Visit{kind}(const {kind}& node) {{")
        w(f"    if (!node.defined()) return{' node' if mutator else ''};")
        w(f"    switch ({kind}DispatchIndex(node.get())) {{")
        for i, n in enumerate(group):
            w(
                f"      case {i}: return Visit{kind}_({n.cls}(node, ::tvm_extend::ir::Unchecked{{}}));"
            )
        w(f"      default: return Visit{kind}Default_(node);\n    }}\n  }}")
        default_body = "{ return node; }" if mutator else "{}"
        param = f"const {kind}& node" if mutator else f"const {kind}&"
        w(f"  virtual {ret} Visit{kind}Default_({param}) {default_body}")


def emit_functors(w, nodes: dict[str, NodeType], types: CppTypes) -> None:
    if "ir.Expr" not in nodes or "tirx.Stmt" not in nodes:
        return
    exprs = [n for n in nodes.values() if n.concrete and is_expr(nodes, n.key)]
    stmts = [n for n in nodes.values() if n.concrete and is_stmt(nodes, n.key)]

    def all_fields(node):
        chain = [node.key] + ancestors(node.key)
        out = []
        for key in reversed(chain):
            if key in nodes:
                out += nodes[key].fields
        return out

    for kind, group in (("Expr", exprs), ("Stmt", stmts)):
        w(f"/*! \\brief Dispatch index of a {kind} node for the functors below; -1 if unknown. */")
        w(f"inline int {kind}DispatchIndex(const tvm::ffi::Object* node) {{")
        w("  static const std::vector<int16_t> table = [] {")
        w("    std::vector<int16_t> t;")
        for i, n in enumerate(group):
            w(
                f"    {{ int32_t idx = {n.cls}::type_slot().type_index; if (idx >= 0) {{ "
                f"if (static_cast<size_t>(idx) >= t.size()) t.resize(idx + 1, -1); t[idx] = {i}; }} }}"
            )
        w("    return t;\n  }();")
        w("  int32_t idx = node->type_index();")
        w("  return static_cast<size_t>(idx) < table.size() ? table[idx] : -1;\n}\n")

    aux = [nodes[k] for k in AUX if k in nodes]

    def walk(n, visitor: bool):
        """Lines visiting (visitor) or mutating (mutator) the traversable fields of node n;
        for the mutator also the (field, local, is_list, optional) that were walked."""
        lines, walked = [], []
        for f in all_fields(n):
            tr = traversal(nodes, f)
            if tr is None:
                continue
            what, is_list, optional = tr[0], tr[1], tr[2]
            getter = f"op.{ident(f.name)}()"
            if visitor:
                if is_list:
                    lines.append(f"    for (auto item : {getter}) Visit{what}(item);")
                else:
                    lines.append(f"    Visit{what}({getter});")
                continue
            name = "new_" + ident(f.name)
            target = types.view(tr[3]) if len(tr) > 3 else what
            visit = f"Visit{what}(x)" if target == what else f"{target}(Visit{what}(x))"
            if is_list:
                lines.append(
                    f"    auto {name} = MutateList({getter}, [this](const {target}& x) {{ "
                    f"return {visit}; }});"
                )
            else:
                lines.append(f"    auto {name} = " + visit.replace("(x)", f"({getter})") + ";")
                if not optional:
                    # The schema does not say which fields TVM leaves empty (e.g. the `dom` of a
                    # thread's IterVar): null stays null; only a node turned into null is refused.
                    lines.append(
                        f"    if (!{name}.defined() && {getter}.defined()) "
                        f'::tvm_extend::ir::NullResult({n.cls}::kTypeKey, "{f.name}");'
                    )
            walked.append((f, name, is_list))
        return lines, walked

    # Visitor
    w("/*! \\brief Walks every Expr and Stmt below a node; override VisitExpr_/VisitStmt_. */")
    w("class StmtExprVisitor {\n public:\n  virtual ~StmtExprVisitor() = default;")
    emit_dispatch(w, exprs, stmts, mutator=False)
    for n in aux:
        w(f"  virtual void Visit{n.cls}(const {n.cls}& op) {{")
        w("    if (!op.defined()) return;")
        for line in walk(n, True)[0]:
            w(line)
        w("  }")
    for kind, group in (("Expr", exprs), ("Stmt", stmts)):
        for n in group:
            w(f"  virtual void Visit{kind}_(const {n.cls}& op) {{")
            for line in walk(n, True)[0]:
                w(line)
            w("    (void)op;\n  }")
    w("};\n")

    # Mutator
    w("/*! \\brief Rebuilds a tree bottom-up, copy-on-write: a node whose children are unchanged")
    w(" *        is returned as the same object. Override VisitExpr_/VisitStmt_. A result of the")
    w(
        " *        wrong node type, or null where a field needs a node, is a TypeError/ValueError. */"
    )
    w("class StmtExprMutator {\n public:\n  virtual ~StmtExprMutator() = default;")
    emit_dispatch(w, exprs, stmts, mutator=True)
    for n in aux:
        w(f"  virtual {n.cls} Visit{n.cls}(const {n.cls}& op) {{")
        w("    return op.defined() ? VisitChildren(op) : op;\n  }")
    w(" protected:")
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
    w(" public:")
    for kind, group in (("Expr", exprs), ("Stmt", stmts)):
        for n in group:
            w(f"  virtual {kind} Visit{kind}_(const {n.cls}& op) {{ return VisitChildren(op); }}")
    w("  /*! \\brief Mutate the children of `op`; the same node when none changed, else a copy")
    w("   *        with the new children. Overrides call it to go on below themselves. */")
    for group in (exprs, stmts, aux):
        for n in group:
            w(f"  {n.cls} VisitChildren(const {n.cls}& op) {{")
            lines, walked = walk(n, False)
            for line in lines:
                w(line)
            if not walked:
                w("    return op;\n  }")
                continue
            same = " && ".join(f"{name}.same_as(op.{ident(f.name)}())" for f, name, _ in walked)
            w(f"    if ({same}) return op;")
            rebuild = ctor_rebuild(n, types, walked, all_fields(n)) if n in exprs else None
            if rebuild is not None:
                # An expression's type follows its children (lanes, dtype): TVM's constructor
                # computes it, and checks the children, as TVM's own mutators do.
                w(f"    return {n.cls}::Make({rebuild});\n  }}")
                continue
            w("    tvm::ffi::ObjectRef copy = ::tvm_extend::ir::ShallowCopy(op);")
            w("    tvm::ffi::Object* fresh = const_cast<tvm::ffi::Object*>(copy.get());")
            for f, name, is_list in walked:
                tag = f"tags::{tag_name(f.declared_on, f.name)}"
                value = f"{name}.data()" if is_list else name
                w(
                    f"    ::tvm_extend::ir::SetObjectField(fresh, "
                    f"::tvm_extend::ir::FieldBinding<{tag}>::slot, {value});"
                )
            w(f"    return {n.cls}(std::move(copy), ::tvm_extend::ir::Unchecked{{}});\n  }}")
    w("};\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tvm_extend.ir_views", description=__doc__)
    parser.add_argument("--out", required=True, help="include folder to write into")
    parser.add_argument("--type-key", action="append", default=[], help="extra node type")
    parser.add_argument("--only", action="store_true", help="only the --type-key types")
    parser.add_argument("--preload", action="append", default=[], help="library to load first")
    parser.add_argument(
        "--extension",
        action="append",
        default=[],
        help="a tvm-extend extension (library or package) to load first, for its object types",
    )
    parser.add_argument("--namespace", default="tvm_extend::tir")
    parser.add_argument("--header", default="tvm_extend/ir/tir.h")
    args = parser.parse_args(argv)
    for lib in args.preload:
        ctypes.CDLL(lib, mode=ctypes.RTLD_GLOBAL)
    if args.extension:
        import tvm_extend  # an extension's object types get their fields when the loader loads it

        for ext in args.extension:
            tvm_extend.load_extension(ext)
    keys = list(args.type_key) if args.only else select_types(args.type_key)
    for key in keys:
        try:
            type_info(key)
        except Exception:  # noqa: BLE001
            print(f"tvm_extend.ir_views: the running TVM has no node type '{key}'", file=sys.stderr)
            return 2
    guard = "TVM_EXTEND_GENERATED_" + ident(args.header).upper() + "_"
    text = generate(keys, args.namespace, guard)
    path = os.path.join(args.out, args.header)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    old = open(path).read() if os.path.exists(path) else None
    if old != text:  # keep the timestamp, and so the build, when nothing changed
        with open(path, "w") as fh:
            fh.write(text)
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
