"""Named TIR and Relax pipelines derived from TVM's, with extension passes inserted by anchor.

TVM builds its TIR pipelines, and its Relax pipelines (``tvm.relax.pipeline``, the ones
``tvm.compile`` runs before it builds the TIR functions), as Python functions that make a pass
list and run it through ``tvm.transform.Sequential``; it offers no hook to add a pass
(``tir.add_lower_pass`` is gone).
A derived pipeline asks its base pipeline for that list under the current PassContext, inserts
its passes before or after named passes, and runs the result. It is registered with TVM's own
pipeline table, so ``tvm.compile(mod, tir_pipeline="name")`` uses it::

    tvm_extend.pipeline.register(
        "my_pipeline",
        base="default",
        insert=[tvm_extend.pipeline.after("tirx.FlattenBuffer", "myext.transform.MyPass")],
    )

Every function takes ``ir="relax"`` for TVM's Relax pipelines (``tvm.relax.pipeline``'s table;
``tvm.compile(mod, relax_pipeline="name")``; the default one is what ``tvm.compile`` runs for
CPU targets), whose passes have short names (``LegalizeOps``, ``FuseOps``)::

    tvm_extend.pipeline.contribute(
        "myext", [tvm_extend.pipeline.before("LegalizeOps", "myext.transform.Fuse")], ir="relax"
    )

:func:`replace` and :func:`remove` take one of the base pipeline's passes out (putting another
in its place); in :func:`contribute` each pass is replaced or removed by one owner at most,
and :func:`withdraw` puts it back.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Sequence

import tvm
import tvm_ffi
from tvm.tirx import compilation_pipeline as _tir_pipelines

from .errors import PipelineError


class _IR:
    """Where the pipelines of one IR live and how TVM calls them."""

    def __init__(self, name: str):
        self.name = name

    @property
    def title(self) -> str:
        """How messages name its pipelines: "Relax pipeline", or (TIR's) "pipeline"."""
        return "Relax pipeline" if self.name == "relax" else "pipeline"

    def table(self) -> dict:
        """TVM's own table of named pipeline factories."""
        if self.name == "relax":
            from tvm.relax import pipeline as _relax_pipelines

            return _relax_pipelines.PIPELINE_MAP
        return _tir_pipelines.PIPELINE_MAP

    def key(self, name: str) -> str:
        """The table key of pipeline ``name``: TIR's "default" is "s_tir" (what
        tvm.tirx.get_tir_pipeline does); Relax's is "default" (what tvm.compile asks for)."""
        return "s_tir" if self.name == "tir" and name == "default" else name

    def pipeline_pass(self, factory, **kwargs):
        """The pass a factory makes: TIR factories return (pass, finalize_host, finalize_device),
        Relax ones the pass."""
        made = factory(**kwargs)
        return made if self.name == "relax" else made[0]

    def result(self, factory, made_pass, **kwargs):
        """What a factory standing in for ``factory`` returns, around ``made_pass``."""
        if self.name == "relax":
            return made_pass
        _, finalize_host, finalize_device = factory(**kwargs)
        return made_pass, finalize_host, finalize_device

    def register(self, name: str, factory) -> None:
        if self.name == "relax":
            self.table()[name] = factory
        else:
            _tir_pipelines.register_tir_pipeline(name, factory)


_IRS = {"tir": _IR("tir"), "relax": _IR("relax")}


def _ir(ir: str) -> _IR:
    if ir not in _IRS:
        raise PipelineError(f"unknown IR '{ir}'; pipelines exist for {sorted(_IRS)}")
    return _IRS[ir]


@dataclasses.dataclass(frozen=True)
class Insertion:
    """Insert ``pass_`` before or after the ``occurrence``-th pass named ``anchor``, or put it in
    that pass's place ("replace"), or take that pass out ("remove", ``pass_`` None)."""

    anchor: str
    pass_: object
    where: str  # "before", "after", "replace" or "remove"
    occurrence: int = 1
    optional: bool = False  # skip, instead of failing, when the anchor is absent
    owner: str = ""  # who asked for it; shown by describe()

    @property
    def swaps(self) -> bool:
        """True for a replacement or a removal: it takes the anchor's place."""
        return self.where in ("replace", "remove")

    def action(self) -> str:
        """What it does, for messages: insert before, insert after, replace or remove."""
        return self.where if self.swaps else f"insert {self.where}"

    def check(self) -> None:
        """Raise PipelineError for what can make no pass, without calling anything: neither a
        Pass, a factory nor a global name, or the name of no global function."""
        spec = self.pass_
        if self.where == "remove":
            return
        if isinstance(spec, str):
            if tvm_ffi.get_global_func(spec, allow_missing=True) is None:
                raise PipelineError(
                    f"pipeline {'insertion ' + self.where if not self.swaps else 'replacement of'}"
                    f" '{self.anchor}': no global function '{spec}' (is its extension loaded?)"
                )
        elif not (isinstance(spec, tvm.transform.Pass) or callable(spec)):
            raise PipelineError(
                f"cannot {'insert' if not self.swaps else self.where} {spec!r}: give a Pass, "
                "a factory or a global name"
            )

    def make_pass(self) -> tvm.transform.Pass:
        self.check()
        spec = self.pass_
        if isinstance(spec, tvm.transform.Pass):
            return spec
        made = tvm_ffi.get_global_func(spec)() if isinstance(spec, str) else spec()
        if not isinstance(made, tvm.transform.Pass):
            raise PipelineError(f"'{spec}' made {type(made).__name__}, not a tvm.transform.Pass")
        return made


def before(anchor: str, pass_, occurrence: int = 1, optional: bool = False) -> Insertion:
    """Insert ``pass_`` (a Pass, a factory, or a global name) before pass ``anchor``. With
    ``optional=True`` the insertion is skipped when the anchor is not in the pipeline (some
    passes run only under some PassContext configs)."""
    return Insertion(anchor, pass_, "before", occurrence, optional)


def after(anchor: str, pass_, occurrence: int = 1, optional: bool = False) -> Insertion:
    """Insert ``pass_`` (a Pass, a factory, or a global name) after pass ``anchor``; see
    :func:`before` for ``optional``."""
    return Insertion(anchor, pass_, "after", occurrence, optional)


def replace(anchor: str, pass_, occurrence: int = 1, optional: bool = False) -> Insertion:
    """Run ``pass_`` (a Pass, a factory, or a global name) in place of pass ``anchor``. In
    :func:`contribute`, one owner at most replaces or removes a pass: another is refused naming
    both; :func:`withdraw` puts TVM's pass back."""
    return Insertion(anchor, pass_, "replace", occurrence, optional)


def remove(anchor: str, occurrence: int = 1, optional: bool = False) -> Insertion:
    """Take pass ``anchor`` out of the pipeline; owned as :func:`replace` is."""
    return Insertion(anchor, None, "remove", occurrence, optional)


class Replaced(str):
    """The owner of a pass that replaces one of the base pipeline's: "owner (replaces X)"."""

    def __new__(cls, owner: str, replaced: str):
        made = super().__new__(cls, f"{owner} (replaces {replaced})")
        made.owner, made.replaced, made.where = owner, replaced, "replace"
        return made


class Removed(str):
    """The owner mark of a base pass that does not run: "removed by owner". Such entries are
    listed by :func:`describe` and left out of every pass list."""

    def __new__(cls, owner: str):
        made = super().__new__(cls, f"removed by {owner}")
        made.owner, made.where = owner, "remove"
        return made


def _running(entries: list) -> list:
    """The passes of (pass, owner) entries that run: removed ones left out."""
    return [p for p, owner in entries if not isinstance(owner, Removed)]


def _anchor_names(entries: list) -> list[str]:
    """The names anchors refer to: a replaced pass keeps the name of the pass it replaces."""
    return [o.replaced if isinstance(o, Replaced) else p.info.name for p, o in entries]


def _quoted(owner: str) -> str:
    """'owner', or a derived pipeline's owner ("pipeline 'name'") as it is."""
    return owner if owner.startswith("pipeline '") else f"'{owner}'"


def _claim(names: list[str], claims: dict, ins: Insertion, owner: str) -> int | None:
    """The index ``ins`` replaces or removes, recorded in ``claims`` (index -> (where,
    owner)); PipelineError naming both owners when another already took that pass."""
    index = _find_anchor(names, ins)
    if index is None:
        return None
    if index in claims:
        where, other = claims[index]
        done = "replaces" if where == "replace" else "removes"
        raise PipelineError(
            f"cannot {ins.action()} '{names[index]}' for {_quoted(owner)}: {_quoted(other)} "
            f"already {done} it (one owner per pass; withdraw {_quoted(other)} first)"
        )
    claims[index] = (ins.where, owner)
    return index


_capture_lock = threading.RLock()  # a derived pipeline may derive from another


class _SequentialRecorder:
    """Stands in for tvm.transform.Sequential while a base pipeline builds its pass list.

    Only the capturing thread is recorded; any other thread that builds a Sequential meanwhile
    gets a real one, and ``isinstance`` checks against it keep working.
    """

    def __init__(self, store: list, original):
        self._store = store
        self._original = original
        self._thread = threading.get_ident()

    def __call__(self, passes=None, *args, **kwargs):
        if threading.get_ident() != self._thread:
            return self._original(passes, *args, **kwargs)
        self._store.append(list(passes or []))
        return lambda mod: mod

    def __instancecheck__(self, obj):
        return isinstance(obj, self._original)

    def __getattr__(self, name):
        return getattr(self._original, name)


def _resolve_base(base: str, ir: str = "tir"):
    family = _ir(ir)
    table = family.table()
    name = family.key(base)
    if name not in table:
        raise PipelineError(f"unknown base {family.title} '{base}'; known: {sorted(table)}")
    return table[name]


def base_passes(base: str = "default", ir: str = "tir", **kwargs) -> list:
    """The passes pipeline ``base`` would run under the current PassContext, in order."""
    return _capture(_resolve_base(base, ir), base, ir, **kwargs)


def _capture(factory, base: str, ir: str = "tir", **kwargs) -> list:
    """The passes a pipeline factory builds under the current PassContext."""
    pipeline_pass = _ir(ir).pipeline_pass(factory, **kwargs)
    recorded: list = []
    current = tvm.transform.PassContext.current()
    # The same settings without the instruments, so that user instruments never see this
    # dry run of the base pipeline on an empty module.
    quiet = tvm.transform.PassContext(
        opt_level=current.opt_level,
        required_pass=list(current.required_pass),
        disabled_pass=list(current.disabled_pass),
        config=dict(current.config.items()),
    )
    with _capture_lock, quiet:
        original = tvm.ir.transform.Sequential
        tvm.ir.transform.Sequential = _SequentialRecorder(recorded, original)
        try:
            pipeline_pass(tvm.IRModule({}))
        finally:
            tvm.ir.transform.Sequential = original
    if len(recorded) != 1:
        raise PipelineError(
            f"pipeline '{base}' did not build exactly one tvm.transform.Sequential "
            f"(it built {len(recorded)}); tvm_extend cannot derive from it"
        )
    return recorded[0]


def _find_anchor(names: list[str], ins: Insertion) -> int | None:
    exact = [i for i, n in enumerate(names) if n == ins.anchor]
    hits = exact or [i for i, n in enumerate(names) if n.rsplit(".", 1)[-1] == ins.anchor]
    if not exact and len({names[i] for i in hits}) > 1:
        raise PipelineError(
            f"anchor '{ins.anchor}' is ambiguous: {sorted({names[i] for i in hits})}; "
            "give the full pass name"
        )
    if len(hits) < ins.occurrence:
        if ins.optional:
            return None
        raise PipelineError(
            f"cannot {ins.action()} '{ins.anchor}' (occurrence {ins.occurrence}): the "
            f"pipeline has {len(hits)} such pass(es). Its passes are: {', '.join(names)}"
        )
    return hits[ins.occurrence - 1]


def derive_passes(base_list: Sequence, insert: Sequence[Insertion]) -> list:
    """Apply ``insert`` to a pass list. Anchors refer to the base list, so the result does not
    depend on the order of insertions, except that insertions at one place keep their order."""
    return _running(derive_entries([(p, "TVM") for p in base_list], insert, ""))


def derive_entries(base: Sequence, insert: Sequence[Insertion], default_owner: str) -> list:
    """derive_passes on (pass, owner) entries: inserted passes carry their insertion's owner, a
    replacement :class:`Replaced`, a removed pass :class:`Removed` (kept, marked, not run)."""
    names = _anchor_names(list(base))
    claims = {i: (o.where, o.owner) for i, (_, o) in enumerate(base) if hasattr(o, "where")}
    before_at: dict[int, list] = {}
    after_at: dict[int, list] = {}
    swapped: dict[int, tuple] = {}
    for ins in insert:
        owner = ins.owner or default_owner
        if ins.swaps:
            index = _claim(names, claims, ins, owner)
            if index is not None:
                made = ins.make_pass() if ins.where == "replace" else None
                swapped[index] = (made, owner)
            continue
        index = _find_anchor(names, ins)
        if index is None:
            continue
        (before_at if ins.where == "before" else after_at).setdefault(index, []).append(
            (ins.make_pass(), owner)
        )
    out = []
    for i, entry in enumerate(base):
        out.extend(before_at.get(i, []))
        if i not in swapped:
            out.append(entry)
        elif swapped[i][0] is None:
            out.append((entry[0], Removed(swapped[i][1])))
        else:
            out.append((swapped[i][0], Replaced(swapped[i][1], names[i])))
        out.extend(after_at.get(i, []))
    return out


@dataclasses.dataclass(frozen=True)
class DerivedPipeline:
    """A TIR or Relax pipeline factory, as TVM's pipeline table expects one."""

    name: str
    base: str
    insert: tuple[Insertion, ...]
    ir: str = "tir"

    def passes(self, **kwargs) -> list:
        """The passes this pipeline runs under the current PassContext."""
        return _running(self.entries(**kwargs))

    def entries(self, **kwargs) -> list:
        """(pass, owner) of each pass this pipeline runs under the current PassContext."""
        try:
            return derive_entries(
                _entries_of(self.base, self.ir, **kwargs), self.insert, f"pipeline '{self.name}'"
            )
        except PipelineError as err:
            config = dict(tvm.transform.PassContext.current().config.items())
            raise PipelineError(
                f"pipeline '{self.name}' (derived from '{self.base}') under PassContext config "
                f"{config or '{}'}: {err}"
            ) from None

    def __call__(self, **kwargs):
        derived = self

        @tvm.transform.module_pass(opt_level=0, name=f"tvm_extend.pipeline.{self.name}")
        def _pipeline(mod, _ctx):
            passes = derived.passes(**kwargs)  # before looking up Sequential: see base_passes
            return tvm.transform.Sequential(passes)(mod)

        return _ir(self.ir).result(_resolve_base(self.base, self.ir), _pipeline, **kwargs)


def register(
    name: str, base: str = "default", insert: Sequence[Insertion] = (), ir: str = "tir"
) -> DerivedPipeline:
    """Register pipeline ``name`` for ``tvm.compile(..., tir_pipeline=name)`` (with
    ``ir="relax"``: a Relax pipeline, for ``tvm.compile(..., relax_pipeline=name)``).

    The anchors are checked now against the base pipeline under the current PassContext; an
    unknown anchor or base, or a name that is taken, raises :class:`PipelineError` and registers
    nothing. An anchor that only some configs have should be marked ``optional=True``; otherwise
    compiling under a config without it raises a :class:`PipelineError` naming the config.
    """
    family = _ir(ir)
    if name == "default" or name == base:
        raise PipelineError(f"cannot replace TVM's own {family.title} '{name}'")
    existing = family.table().get(name)
    if existing is not None:
        owner = (
            f"tvm_extend.pipeline (derived from '{existing.base}')"
            if isinstance(existing, DerivedPipeline)
            else f"{getattr(existing, '__module__', '?')}.{getattr(existing, '__qualname__', '?')}"
        )
        raise PipelineError(
            f"cannot register {family.title} '{name}': the name is already registered "
            f"by {owner}; unregister it first or choose another name"
        )
    derived = DerivedPipeline(name, base, tuple(insert), ir)
    base_entries = _entries_of(base, ir)
    names = _anchor_names(base_entries)
    claims = {i: (o.where, o.owner) for i, (_, o) in enumerate(base_entries) if hasattr(o, "where")}
    for ins in derived.insert:
        if ins.swaps:  # raises for a pass another owner replaced or removed
            _claim(names, claims, ins, f"pipeline '{name}'")
        _find_anchor(names, ins)  # raises for a required anchor that is absent
        ins.check()  # and for what can make no pass
    family.register(name, derived)
    return derived


def unregister(name: str, ir: str = "tir") -> None:
    """Remove a pipeline registered with :func:`register`."""
    table = _ir(ir).table()
    factory = table.get(name)
    if not isinstance(factory, DerivedPipeline):
        raise PipelineError(f"'{name}' is not a tvm_extend {_ir(ir).title}")
    del table[name]


def pass_names(name: str, ir: str = "tir") -> list[str]:
    """The names of the passes pipeline ``name`` runs under the current PassContext."""
    return [p.info.name for p in passes_of(name, ir)]


def passes_of(name: str, ir: str = "tir") -> list:
    """The pass objects pipeline ``name`` (TVM's, contributed or derived) runs under the
    current PassContext, in order."""
    return _running(_entries_of(name, ir))


def _entries_of(name: str, ir: str = "tir", **kwargs) -> list:
    """(pass, owner) entries of pipeline ``name``: TVM's, contributed or derived."""
    factory = _resolve_base(name, ir)
    if isinstance(factory, (DerivedPipeline, ContributedPipeline)):
        return factory.entries(**kwargs)
    return [(p, "TVM") for p in _capture(factory, name, ir, **kwargs)]


@dataclasses.dataclass
class ContributedPipeline:
    """One of TVM's own pipelines with passes that extensions contributed (:func:`contribute`).

    It stands in TVM's pipeline table under the original name, so ``tvm.compile`` with the
    default pipeline runs the contributions. Contributions compose in a fixed order: by owner
    name, then in the order each owner gave them; the order in which extensions load does not
    matter.
    """

    name: str
    original: object
    contributions: dict = dataclasses.field(default_factory=dict)
    ir: str = "tir"

    def insertions(self) -> tuple:
        return tuple(i for owner in sorted(self.contributions) for i in self.contributions[owner])

    def entries(self, **kwargs) -> list:
        base = [(p, "TVM") for p in _capture(self.original, self.name, self.ir, **kwargs)]
        return derive_entries(base, self.insertions(), "")

    def passes(self, **kwargs) -> list:
        return _running(self.entries(**kwargs))

    def __call__(self, **kwargs):
        contributed = self

        @tvm.transform.module_pass(opt_level=0, name=f"tvm_extend.pipeline.{self.name}")
        def _pipeline(mod, _ctx):
            passes = contributed.passes(**kwargs)  # before looking up Sequential
            return tvm.transform.Sequential(passes)(mod)

        return _ir(self.ir).result(self.original, _pipeline, **kwargs)


def contribute(
    owner: str, insert: Sequence[Insertion], pipeline: str = "default", ir: str = "tir"
) -> None:
    """Add ``owner``'s passes to one of TVM's own pipelines (the default one by default), so
    that every ``tvm.compile`` with it runs them. ``owner`` is usually the extension's name.
    With ``ir="relax"`` the pipeline is one of TVM's Relax pipelines: the default one is what a
    plain ``tvm.compile(relax_mod, target="llvm")`` runs.

    The anchors are checked now; one owner contributes once per pipeline (:func:`withdraw`
    first to change it). Raises :class:`PipelineError` and changes nothing on any problem.
    An extension can declare its contributions in C++ (TVM_EXTEND_CONTRIBUTE_PASS): loading it
    contributes them, unloading it withdraws them.
    """
    family = _ir(ir)
    table = family.table()
    key = family.key(pipeline)
    current = table.get(key)
    if current is None:
        raise PipelineError(f"unknown {family.title} '{pipeline}'; known: {sorted(table)}")
    if isinstance(current, DerivedPipeline):
        raise PipelineError(
            f"'{pipeline}' is a tvm_extend pipeline: register it with the "
            "insertions it needs instead"
        )
    contributed = (
        current
        if isinstance(current, ContributedPipeline)
        else ContributedPipeline(key, current, ir=ir)
    )
    if owner in contributed.contributions:
        raise PipelineError(
            f"'{owner}' already contributes to pipeline '{pipeline}'; withdraw it first"
        )
    names = [p.info.name for p in _capture(contributed.original, key, ir)]
    owned = tuple(dataclasses.replace(i, owner=owner) for i in insert)
    claims: dict = {}  # the passes others replace or remove: index -> (where, owner)
    for ins in contributed.insertions():
        if ins.swaps:
            try:
                _claim(names, claims, ins, ins.owner)
            except PipelineError:
                pass  # anchors of this config that others' do not have: checked when compiling
    for ins in owned:
        try:
            if ins.swaps:
                _claim(names, claims, ins, owner)
            _find_anchor(names, ins)
            ins.check()
        except PipelineError as err:
            raise PipelineError(f"contribution of '{owner}' to '{pipeline}': {err}") from None
    contributed.contributions[owner] = owned
    table[key] = contributed


def withdraw(owner: str, pipeline: str = "default", ir: str = "tir") -> None:
    """Remove ``owner``'s contribution; TVM's own pipeline is back once none is left."""
    family = _ir(ir)
    table = family.table()
    key = family.key(pipeline)
    current = table.get(key)
    if not isinstance(current, ContributedPipeline) or owner not in current.contributions:
        raise PipelineError(f"'{owner}' contributes nothing to {family.title} '{pipeline}'")
    del current.contributions[owner]
    if not current.contributions:
        table[key] = current.original


def contributors(pipeline: str = "default", ir: str = "tir") -> list[str]:
    """The owners that contribute to ``pipeline``, sorted by name: the order in which their
    passes run where they share an anchor."""
    family = _ir(ir)
    current = family.table().get(family.key(pipeline))
    if not isinstance(current, ContributedPipeline):
        return []
    return sorted(current.contributions)


def describe(name: str = "default", ir: str = "tir") -> list[tuple[str, str]]:
    """The effective pipeline ``name`` under the current PassContext: (pass name, owner) in
    order, where the owner is "TVM", an extension that contributed the pass, or the derived
    pipeline that inserted it; a replacement's owner reads "owner (replaces tirx.X)", and a
    removed pass is listed where it was with the owner "removed by owner". ``ir="relax"``
    describes one of TVM's Relax pipelines."""
    return [(p.info.name, str(owner)) for p, owner in _entries_of(name, ir)]


# owner -> [(pipeline, ir)] of the contributions an extension declared in C++.
_declared: dict[str, list[tuple[str, str]]] = {}


def contribute_declared(owner: str, specs: Sequence) -> None:
    """Contribute what extension ``owner`` declared with TVM_EXTEND_CONTRIBUTE_PASS (each spec
    {"pass", "ir", "pipeline", "where", "anchor"}), all or nothing; the loader calls it when the
    extension loads. Raises :class:`PipelineError` naming the extension."""
    groups: dict[tuple[str, str], list[Insertion]] = {}
    for spec in specs:
        spec = {str(k): str(v) for k, v in dict(spec).items()}
        if spec["where"] not in ("before", "after", "replace"):
            raise PipelineError(
                f"extension '{owner}' contributes '{spec['pass']}' {spec['where']!r} "
                f"'{spec['anchor']}': give before, after or replace"
            )
        key = (spec["pipeline"], spec["ir"])
        groups.setdefault(key, []).append(Insertion(spec["anchor"], spec["pass"], spec["where"]))
    done: list[tuple[str, str]] = []
    try:
        for (pipeline, ir), insert in groups.items():
            if owner in contributors(pipeline, ir):
                continue  # loaded before: the same contribution
            contribute(owner, insert, pipeline, ir)
            done.append((pipeline, ir))
    except PipelineError as err:
        for pipeline, ir in done:
            withdraw(owner, pipeline, ir)
        raise PipelineError(f"extension '{owner}': {err}") from None
    _declared.setdefault(owner, []).extend(done)


def withdraw_declared(owner: str) -> None:
    """Withdraw what extension ``owner`` contributed on load (the loader calls it on unload)."""
    for pipeline, ir in _declared.pop(owner, []):
        if owner in contributors(pipeline, ir):
            withdraw(owner, pipeline, ir)
