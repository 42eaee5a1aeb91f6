"""Reflection snapshots of TVM releases, the rename table between them, and the binding rules an
extension's used items must satisfy on a release: compatibility checked offline, without
installing each TVM.

    python -m tvm_extend.schemas dump --out FILE[.gz]   # the running TVM's snapshot
    python -m tvm_extend.schemas renames OLD NEW [NEWER ...] [--out renames.json]
    python -m tvm_extend.schemas check USES.json [SNAPSHOT ...]

A snapshot holds what binding needs and nothing else: every type of the IR-ish namespaces
(``ir.``, ``tirx.``, ``prim.``, ``s_tir.``, ``sym.``, ``arith.``, ``relax.``, ``target.``,
``te.``, ``ffi.``; 0.27 moved ``tirx.Reduce`` to ``te.``) and its ancestors, with its parent and
its own fields (name, ``type_schema`` exactly as tvm-ffi reports it, size in bytes; offsets are
left out, the views read them at load time); every global function with its ``type_schema``
metadata where TVM gives one; the op names; the TVM and tvm-ffi versions. The snapshots of the
supported releases ship in ``schemas/`` (``tvm-<version>.json.gz``), with ``renames.json``.

This file needs only ``import tvm`` (and the standard library), so a release can be snapshotted
in a bare environment without the kit: ``python path/to/schemas.py dump --out FILE``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys

FORMAT = 1
NAMESPACES = (
    *("ir.", "tirx.", "prim.", "s_tir.", "sym.", "arith.", "relax.", "target.", "te.", "ffi."),
)
# Globals the kit itself registers (when its core is loaded) are no part of a TVM release.
OWN_GLOBAL_PREFIXES = ("tvm_extend.",)
SNAPSHOT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schemas")
RENAMES_FILE = os.path.join(SNAPSHOT_DIR, "renames.json")
# The sections of the rename table: IR type keys, global functions, concepts (the same thing in
# another namespace, changed otherwise) and op names.
RENAME_KINDS = ("types", "globals", "concepts", "ops")


# --- snapshots ---------------------------------------------------------------------------------


def dump() -> dict:
    """The running TVM's snapshot (imports TVM)."""
    import tvm
    import tvm_ffi
    from tvm_ffi import core

    def info(key: str):
        return core._lookup_or_register_type_info_from_type_key(key)

    keys = [str(k) for k in tvm.get_global_func("ffi.GetRegisteredTypeKeys")()]
    todo = sorted(k for k in keys if k.startswith(NAMESPACES))
    types: dict[str, dict] = {}
    while todo:
        key = todo.pop()
        if key in types:
            continue
        ti = info(key)
        parent = ti.parent_type_info
        entry: dict = {"parent": str(parent.type_key) if parent is not None else None}
        fields = [
            [str(f.name), str(f.metadata.get("type_schema", "")), int(f.size)] for f in ti.fields
        ]
        if fields:
            entry["fields"] = fields
        types[key] = entry
        if parent is not None and str(parent.type_key) not in types:
            todo.append(str(parent.type_key))
    metadata = tvm.get_global_func("ffi.GetGlobalFuncMetadata")
    globals_: dict[str, str | None] = {}
    for name in sorted(str(n) for n in tvm_ffi.registry.list_global_func_names()):
        if name.startswith(OWN_GLOBAL_PREFIXES):
            continue
        schema = None
        try:
            meta = metadata(name)
        except Exception:  # noqa: BLE001  (a Python-registered function has no metadata)
            meta = None
        if meta:
            schema = json.loads(str(meta)).get("type_schema")
        globals_[name] = schema
    ops = sorted(str(n) for n in tvm.get_global_func("ir.ListOpNames")())
    return {
        "format": FORMAT,
        "tvm": str(tvm.__version__),
        "tvm_ffi": str(tvm_ffi.__version__),
        "types": dict(sorted(types.items())),
        "globals": globals_,
        "ops": ops,
    }


def write_json(obj, path: str) -> None:
    text = json.dumps(obj, sort_keys=True, separators=(",", ":")) + "\n"
    if path.endswith(".gz"):
        # mtime=0 and no file name inside: the same snapshot gives the same bytes.
        with open(path, "wb") as raw, gzip.GzipFile("", "wb", 9, raw, mtime=0) as gz:
            gz.write(text.encode())
    else:
        with open(path, "w") as f:
            f.write(text)


def read_json(path: str):
    """A JSON (or gzipped JSON) file; ValueError with a one-line reason when it is not one."""
    try:
        if path.endswith(".gz"):
            with gzip.open(path, "rt") as f:
                return json.load(f)
        with open(path) as f:
            return json.load(f)
    except OSError as err:
        raise ValueError(f"cannot read {path}: {err.strerror or err}") from None
    except (json.JSONDecodeError, UnicodeDecodeError, EOFError, gzip.BadGzipFile) as err:
        raise ValueError(f"{path} is not JSON: {err}") from None


def shipped() -> dict[str, str]:
    """TVM version -> path of each shipped snapshot, oldest release first."""
    out = {}
    for name in os.listdir(SNAPSHOT_DIR) if os.path.isdir(SNAPSHOT_DIR) else []:
        if name.startswith("tvm-") and name.endswith(".json.gz"):
            out[name[len("tvm-") : -len(".json.gz")]] = os.path.join(SNAPSHOT_DIR, name)
    return dict(sorted(out.items(), key=lambda kv: _version_key(kv[0])))


def _version_key(v: str) -> tuple:
    main, _, post = v.partition(".post")
    return tuple(int(p) if p.isdigit() else 0 for p in main.split(".")) + (int(post or -1),)


def load_snapshot(version_or_path: str) -> dict:
    """A shipped snapshot by TVM version ("0.26.0"), or a snapshot file."""
    path = shipped().get(version_or_path, version_or_path)
    snap = read_json(path)
    if not (isinstance(snap, dict) and snap.get("format") == FORMAT and "types" in snap):
        raise ValueError(f"{path} is not a tvm-extend schema snapshot (format {FORMAT})")
    return snap


# --- renames -----------------------------------------------------------------------------------


def _rest(name: str) -> str:
    """The name without its namespace (first dotted part): prim.Mul -> Mul."""
    return name.split(".", 1)[1] if "." in name else name


def _map_schema(schema, mapping: dict[str, str]):
    """A parsed type_schema with each type key replaced through `mapping`."""
    if isinstance(schema, dict):
        return {
            k: mapping.get(v, v) if k == "type" and isinstance(v, str) else _map_schema(v, mapping)
            for k, v in schema.items()
        }
    if isinstance(schema, list):
        return [_map_schema(s, mapping) for s in schema]
    return schema


def _parse(text: str | None):
    if not text:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def derive_renames(old: dict, new: dict) -> dict:
    """Pure renames from snapshot `old` to snapshot `new`: a type key of `new` absent from `old`
    whose name differs from an `old` key absent from `new` only in its namespace, and whose
    parent and fields (names, schemas, sizes) are identical once type keys are mapped through the
    renames found (a fixpoint: s_tir.SBlockRealize's field is an s_tir.SBlock); likewise global
    functions whose schemas are identical modulo the type renames (or absent on both sides).
    Ops (which have no schema in a snapshot) count as renamed when only their namespace changed,
    one op on each side (tirx.likely -> prim.likely).
    Returns {"types": {new: [old]}, "globals": {new: [old]}, "concepts": ..., "ops": ...}."""
    otypes, ntypes = old["types"], new["types"]
    gone = {k for k in otypes if k not in ntypes}
    added = sorted(k for k in ntypes if k not in otypes)
    by_rest: dict[str, list[str]] = {}
    for k in sorted(gone):
        by_rest.setdefault(_rest(k), []).append(k)
    mapping: dict[str, str] = {}  # old -> new

    def same_type(o: str, n: str) -> bool:
        a, b = otypes[o], ntypes[n]
        if mapping.get(a["parent"], a["parent"]) != b["parent"]:
            return False
        fa, fb = a.get("fields", []), b.get("fields", [])
        return len(fa) == len(fb) and all(
            x[0] == y[0] and x[2] == y[2] and _map_schema(_parse(x[1]), mapping) == _parse(y[1])
            for x, y in zip(fa, fb)
        )

    changed = True
    while changed:
        changed = False
        for n in added:
            if n in mapping.values():
                continue
            matches = [o for o in by_rest.get(_rest(n), []) if o not in mapping]
            matches = [o for o in matches if same_type(o, n)]
            if len(matches) == 1:
                mapping[matches[0]] = n
                changed = True
    types = {n: [o] for o, n in sorted(mapping.items(), key=lambda kv: kv[1])}

    oglob, nglob = old["globals"], new["globals"]
    gone_g: dict[str, list[str]] = {}
    for g in sorted(oglob):
        if g not in nglob:
            gone_g.setdefault(_rest(g), []).append(g)
    globals_: dict[str, list[str]] = {}
    for g in sorted(nglob):
        if g in oglob:
            continue
        want = _parse(nglob[g])
        olds = gone_g.get(_rest(g), [])
        matches = [o for o in olds if _map_schema(_parse(oglob[o]), mapping) == want]
        if len(matches) == 1:
            globals_[g] = matches
    # Functions that also moved between namespace levels (tirx.analysis.expr_deep_equal ->
    # prim.expr_deep_equal): the same last name and schema, one on each side.
    last = lambda name: name.rsplit(".", 1)[-1]  # noqa: E731
    gone_left = [o for o in sorted(oglob) if o not in nglob and o not in
                 {v for vs in globals_.values() for v in vs}]  # fmt: skip
    for g in sorted(nglob):
        if g in oglob or g in globals_:
            continue
        want = _parse(nglob[g])
        matches = [
            o for o in gone_left
            if last(o) == last(g) and _map_schema(_parse(oglob[o]), mapping) == want
        ]  # fmt: skip
        if len(matches) == 1 and len([n for n in nglob if last(n) == last(g)]) == 1:
            globals_[g] = matches
    # The same concept under another namespace, changed otherwise (e.g. s_tir.SBlock, whose
    # region fields changed type): views bind to it by name and check each field they use.
    concepts: dict[str, list[str]] = {}
    for n in added:
        if n in mapping.values():
            continue
        olds = [o for o in by_rest.get(_rest(n), []) if o not in mapping]
        if len(olds) == 1 and not n.startswith("te.") and not olds[0].startswith("te."):
            concepts[n] = olds
    for g in sorted(nglob):
        if g in oglob or g in globals_:
            continue
        olds = gone_g.get(_rest(g), [])
        if len(olds) == 1 and (g in concepts or _rest(g) in {_rest(k) for k in concepts}):
            concepts[g] = olds
    oops, nops = set(old.get("ops", [])), set(new.get("ops", []))
    gone_ops: dict[str, list[str]] = {}
    for o in sorted(oops - nops):
        gone_ops.setdefault(_rest(o), []).append(o)
    added_ops: dict[str, list[str]] = {}
    for n in sorted(nops - oops):
        added_ops.setdefault(_rest(n), []).append(n)
    ops = {
        ns[0]: gone_ops[rest]
        for rest, ns in added_ops.items()
        if len(ns) == 1 and len(gone_ops.get(rest, [])) == 1
    }
    return {
        "types": types,
        "globals": globals_,
        "concepts": dict(sorted(concepts.items())),
        "ops": dict(sorted(ops.items())),
    }


def merge_renames(*tables: dict) -> dict:
    """One table from several (oldest pair first): a name's older names across releases."""
    out: dict[str, dict[str, list[str]]] = {kind: {} for kind in RENAME_KINDS}
    for table in tables:
        for kind in RENAME_KINDS:
            for new, olds in table.get(kind, {}).items():
                chain = list(out[kind].get(new, []))  # newest first: the order to try them
                for o in olds:
                    chain += [o, *out[kind].pop(o, [])]
                out[kind][new] = list(dict.fromkeys(chain))
    return {kind: dict(sorted(v.items())) for kind, v in out.items()}


def load_renames() -> dict:
    if not os.path.exists(RENAMES_FILE):
        return {kind: {} for kind in RENAME_KINDS}
    return read_json(RENAMES_FILE)


# --- binding rules -----------------------------------------------------------------------------


def _str_list(v) -> bool:
    return isinstance(v, list) and all(isinstance(x, str) for x in v)


def validate_uses(uses) -> None:
    """Raise ValueError (one line) unless `uses` has the used-items shape:
    {"types": [{key, alternatives?, parent?, weak?}], "fields": [{type, name, schema, size,
    weak?}], "globals": [{name, alternatives?, signature?}]}."""
    if not isinstance(uses, dict):
        raise ValueError(f"used items must be a JSON object, not {type(uses).__name__}")
    unknown = sorted(set(uses) - {"types", "fields", "globals"})
    if unknown:
        raise ValueError(f"used items: unknown section(s) {', '.join(unknown)}")
    spec = {
        "types": {"key": str, "alternatives": list, "parent": (str, type(None)), "weak": bool},
        "fields": {
            "type": str,
            "name": str,
            "schema": str,
            "size": int,
            "weak": bool,
            "alternatives": list,
        },
        "globals": {"name": str, "alternatives": list, "signature": list, "weak": bool},
    }
    required = {"types": ("key",), "fields": ("type", "name"), "globals": ("name",)}
    for section, fields in spec.items():
        items = uses.get(section, [])
        if not isinstance(items, list):
            raise ValueError(f"used items: '{section}' must be a list")
        for i, item in enumerate(items):
            where = f"used items: {section}[{i}]"
            if not isinstance(item, dict):
                raise ValueError(f"{where} must be an object")
            for name in required[section]:
                if name not in item:
                    raise ValueError(f"{where} has no '{name}'")
            for name, value in item.items():
                if name not in fields:
                    raise ValueError(f"{where} has an unknown entry '{name}'")
                want = fields[name]
                if not isinstance(value, want) or (want is int and isinstance(value, bool)):
                    raise ValueError(f"{where}: '{name}' has the wrong type ({value!r})")
                if want is list and not _str_list(value):
                    raise ValueError(f"{where}: '{name}' must be a list of strings")
            if section == "fields" and "schema" in item and item["schema"]:
                try:
                    json.loads(item["schema"])
                except json.JSONDecodeError:
                    why = f"{where}: 'schema' is not JSON ({item['schema']!r})"
                    raise ValueError(why) from None


class _Release:
    """A snapshot with the rename table and the names the used items bound to."""

    def __init__(self, snapshot: dict, renames: dict):
        self.snap = snapshot
        self.types = snapshot["types"]
        self.globals = snapshot["globals"]
        # Each type key's equivalence class across releases: itself, its older and newer names.
        self.same: dict[str, list[str]] = {}
        for new, olds in renames.get("types", {}).items():
            group = [new, *olds]
            for name in group:
                have = self.same.setdefault(name, [name])
                have += [g for g in group if g not in have]
        self.bound: dict[str, str] = {}  # used type key -> the key it bound to here

    def renamed(self, key: str) -> list[str]:
        """`key` and the names the rename table gives it in other releases."""
        return self.same.get(key, [key])

    def here(self, key: str) -> str:
        """The key this release has for type `key` (through what the used items bound, then
        the renames), or `key` itself."""
        if key in self.types:
            return key
        if key in self.bound:
            return self.bound[key]
        return next((k for k in self.renamed(key) if k in self.types), key)

    def ancestors(self, key: str) -> list[str]:
        out = []
        parent = self.types.get(key, {}).get("parent")
        while parent is not None and parent not in out:
            out.append(parent)
            parent = self.types.get(parent, {}).get("parent")
        return out

    def mapping(self, schema):
        """A parsed schema with every type key mapped to the key this release has."""
        if isinstance(schema, dict):
            return {
                k: (self.here(v) if k == "type" and isinstance(v, str) else self.mapping(v))
                for k, v in schema.items()
            }
        if isinstance(schema, list):
            return [self.mapping(s) for s in schema]
        return schema

    def same_or_subtype(self, actual: str, expected: str) -> bool:
        """Schema type `actual` may stand where `expected` is (the kit's SameOrSubtype)."""
        if actual == expected or {actual, expected} == {"int", "ffi.BigInt"}:
            return True
        strings = {"ffi.String", "std::string"}
        if actual in strings and expected in strings:
            return True
        return expected in self.ancestors(actual)


def signature_types(schema_text: str | None) -> list[str] | None:
    """Return type then parameter types of a global's type_schema (Optional[T] read as T), or
    None when TVM gives none. Both forms: {"args": [ret, params...]} and
    {"named_args": {"return": [ret], "params": [...]}}."""
    schema = _parse(schema_text)
    if not isinstance(schema, dict):
        return None

    def name(s) -> str:
        if isinstance(s, dict) and s.get("type") == "Optional" and s.get("args"):
            s = s["args"][0]
        return s.get("type", "Any") if isinstance(s, dict) else "Any"

    if "named_args" in schema:
        named = schema["named_args"]
        ret = named.get("return") or [{"type": "Any"}]
        return [name(ret[0])] + [name(p) for p in named.get("params", [])]
    if "args" in schema:
        return [name(s) for s in schema["args"]]
    return None


def _sig(types: list[str]) -> str:
    shown = [t or "Any" for t in types]
    return f"({', '.join(shown[1:])}) -> {shown[0] if shown else 'Any'}"


def _field_text(schema: str, size) -> str:
    return f"{schema or '(no schema)'} ({size} bytes)"


def bind(uses: dict, snapshot: dict, renames: dict | None = None) -> tuple[list[str], list[str]]:
    """(problems, renamed) of binding `uses` on the release of `snapshot`: every problem (not the
    first), and each item that binds only through another name ("prim.Mul as tirx.Mul")."""
    validate_uses(uses)
    rel = _Release(snapshot, load_renames() if renames is None else renames)
    version = snapshot.get("tvm", "?")
    problems: list[str] = []
    renamed: list[str] = []
    bound: dict[str, str | None] = {}  # used type key -> this release's key (None: missing)
    missing_strong: dict[str, int] = {}  # missing type -> index of its problem
    unread: dict[str, list[str]] = {}  # missing type -> its fields that therefore cannot bind

    for t in uses.get("types", []):
        key, weak, alts = t["key"], t.get("weak", False), t.get("alternatives", [])
        have = next((k for k in [key, *alts] if k in rel.types), None)
        bound[key] = have
        if have is None:
            if not weak:
                missing_strong[key] = len(problems)
                also = f" (nor {', '.join(alts)})" if alts else ""
                problems.append(f"type {key}: TVM {version} has no such IR node type{also}")
            continue
        rel.bound[key] = have
        if have != key:
            renamed.append(f"type {key} as {have}")
    for t in uses.get("types", []):
        key, parent, have = t["key"], t.get("parent"), bound[t["key"]]
        if have is None or not parent:
            continue
        actual = rel.types[have].get("parent")
        allowed = [parent, *(k for k in rel.renamed(parent) if k != parent)]
        if rel.bound.get(parent) not in (None, *allowed):
            allowed.append(rel.bound[parent])
        # As the loader: the expected parent may also be a further ancestor, and a parent this
        # release does not have at all (a newer release added a level, e.g. ir.Constant) is no
        # problem.
        if not any(k in rel.types for k in allowed):
            continue
        if actual not in allowed and not set(allowed) & set(rel.ancestors(have)):
            shown = f" (as {have})" if have != key else ""
            problems.append(
                f"type {key}{shown}: its parent is {actual} in TVM {version}, expected "
                + " or ".join(allowed)
            )

    for f in uses.get("fields", []):
        tkey, name, weak = f["type"], f["name"], f.get("weak", False)
        item = f"field {tkey}.{name}"
        have = bound.get(tkey, "?")
        if have == "?":  # a field of a type the uses do not list: its key or alternatives
            have = next((k for k in [tkey, *f.get("alternatives", [])] if k in rel.types), None)
        if have is None:
            if not weak and tkey in missing_strong:
                unread.setdefault(tkey, []).append(name)
            elif not weak:
                problems.append(f"{item}: TVM {version} has no type {tkey} to read it from")
            continue
        found = None
        for k in [have, *rel.ancestors(have)]:
            found = next((x for x in rel.types.get(k, {}).get("fields", []) if x[0] == name), None)
            if found is not None:
                break
        want_schema, want_size = f.get("schema", ""), f.get("size")
        expected = _field_text(want_schema, want_size)
        if found is None:
            if not weak:
                problems.append(
                    f"{item}: {have} has no field '{name}' in TVM {version}, expected {expected}"
                )
            continue
        _, schema, size = found
        same_schema = not want_schema or rel.mapping(_parse(want_schema)) == _parse(schema)
        same_size = want_size is None or want_size == size
        integers = ({"type": "int"}, {"type": "ffi.BigInt"})
        if _parse(want_schema) in integers and _parse(schema) in integers:
            same_schema = same_size = True  # read through the field's getter either way
        if not (same_schema and same_size):
            problems.append(
                f"{item}: is {_field_text(schema, size)} in TVM {version}, expected {expected}"
            )

    for tkey, names in unread.items():  # a missing type's fields: named in its problem
        problems[missing_strong[tkey]] += f", so its field(s) {', '.join(names)} cannot bind"

    for g in uses.get("globals", []):
        name, weak = g["name"], g.get("weak", False)
        names = [name, *g.get("alternatives", [])]
        have = next((n for n in names if n in rel.globals), None)
        want = g.get("signature", [])
        if have is None:
            if not weak:
                also = f" (nor {', '.join(names[1:])})" if names[1:] else ""
                shown = f", expected {_sig(want)}" if want else ""
                problems.append(f"global {name}: TVM {version} has no such function{also}{shown}")
            continue
        if have != name:
            renamed.append(f"global {name} as {have}")
        actual = signature_types(rel.globals[have])
        if actual is None or not want:
            continue  # a packed function without a signature: only its existence is checked
        ok = len(actual) == len(want)
        for i, (a, w) in enumerate(zip(actual, want)):
            if not ok:
                break
            if w in ("", "Any") or a == "Any":
                continue
            w = rel.here(w)
            # The return value may be more specific than expected; a parameter more general.
            ok = rel.same_or_subtype(a, w) if i == 0 else rel.same_or_subtype(w, a)
        if not ok:
            shown = f"{have} " if have != name else ""
            problems.append(
                f"global {name}: {shown}has signature {_sig(actual)} in TVM {version}, "
                f"expected {_sig(want)}"
            )
    return problems, renamed


def check(uses: dict, snapshot: dict, renames: dict | None = None) -> list[str]:
    """Every problem binding the used items `uses` on the release of `snapshot` ([] = binds).
    `renames` defaults to the shipped rename table. ValueError when `uses` is malformed."""
    return bind(uses, snapshot, renames)[0]


# --- command line ------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tvm_extend.schemas", description=__doc__.split("\n\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump", help="write the running TVM's snapshot")
    d.add_argument("--out", required=True, help="FILE.json or FILE.json.gz")
    r = sub.add_parser("renames", help="derive the rename table between two snapshots")
    r.add_argument(
        "snapshots",
        nargs="+",
        metavar="OLD NEW",
        help="two or more snapshots, oldest first (files or shipped versions); "
        "the renames of each consecutive pair, merged",
    )
    r.add_argument("--out", help="write here (default: print)")
    c = sub.add_parser("check", help="check used items against snapshots")
    c.add_argument("uses", help="used-items JSON file")
    c.add_argument("snapshots", nargs="*", help="files or versions (default: all shipped)")
    args = parser.parse_args(argv)
    try:
        if args.command == "dump":
            write_json(dump(), args.out)
        elif args.command == "renames":
            if len(args.snapshots) < 2:
                raise ValueError("renames needs two snapshots or more, oldest first")
            snaps = [load_snapshot(s) for s in args.snapshots]
            table = merge_renames(*(derive_renames(a, b) for a, b in zip(snaps, snaps[1:])))
            table = {"derived_from": [s["tvm"] for s in snaps], **table}
            if args.out:
                with open(args.out, "w") as f:
                    json.dump(table, f, indent=1, sort_keys=True)
                    f.write("\n")
            else:
                json.dump(table, sys.stdout, indent=1, sort_keys=True)
                print()
        else:
            uses = read_json(args.uses)
            validate_uses(uses)
            worst = 0
            for s in args.snapshots or list(shipped()):
                snap = load_snapshot(s)
                problems = check(uses, snap)
                print(f"TVM {snap['tvm']}: " + ("binds" if not problems else "does not bind"))
                for p in problems:
                    print(f"  - {p}")
                worst = max(worst, 1 if problems else 0)
            return worst
    except ValueError as err:
        print(f"{parser.prog}: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
        del sys.path[0]  # run as a file: this folder's modules must not shadow top-level ones
    sys.exit(main())
