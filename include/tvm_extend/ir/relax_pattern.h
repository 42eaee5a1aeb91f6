/*!
 * \file tvm_extend/ir/relax_pattern.h
 * \brief TVM's Relax dataflow pattern language (`tvm.relax.dpl`) from C++: patterns with C++
 *        operators, matching, `rewrite_call` / `rewrite_bindings` with C++ callbacks, and
 *        `PatternMatchingRewriter` usable as a module pass.
 *
 * \code
 * using namespace tvm_extend::relax::dpl;
 * DFPattern x = Wildcard();
 * DFPattern pattern = IsOp("relax.add")(x, x);               // add(x, x)
 * func = RewriteCall(pattern, [&](ObjectRef call, const MatchMap& m) {
 *   return multiply(m[x], two);                               // multiply(x, 2)
 * }, func, {"add_to_multiply"});
 *
 * PatternContext ctx = PatternContext::Make();                // several bindings at once
 * {
 *   auto scope = ctx.Enter();                                 // patterns made now join ctx
 *   DFPattern inp = Wildcard(), w0 = Wildcard(), w1 = Wildcard();
 *   DFPattern mm0 = IsOp("relax.matmul")(inp, w0), mm1 = IsOp("relax.matmul")(inp, w1);
 * }
 * func = RewriteBindings(ctx, [&](const MatchMap& m, const Bindings&) { ... }, func);
 * \endcode
 *
 * Everything goes through the global functions TVM registers for `tvm.relax.dpl`
 * (`relax.dpl.*`, the same names in 0.26 and 0.27), bound and signature-checked when the
 * extension loads, like every tvm_extend::ir::GlobalFunction. The handles are thin: an
 * ObjectRef that knows its type key. Expressions, functions and modules are passed as
 * tvm::ffi::ObjectRef, so the typed Relax views (which derive from it) can be passed as they
 * are, and `FuncT RewriteCall(..., const FuncT& func)` hands back the type it was given.
 *
 * Errors name the rewrite (RewriteOptions::name, else the file and line of the call):
 * - a callback that throws (anything, `throw 42` included) fails the rewrite with
 *   "rewrite `<name>`: the callback failed on `<the matched expression>`: <what it threw>";
 * - TVM refusing what the callback returned (its type inference, a wrong map) fails it with
 *   "rewrite `<name>` failed: <TVM's error>";
 * - a result that TVM's `relax.analysis.well_formed` rejects fails it with
 *   "rewrite `<name>` produced ill-formed IR: <TVM's reason>" (ValueError), unless
 *   RewriteOptions::check_well_formed is off;
 * - a rewrite whose replacement matches its pattern again (TVM repeats until nothing matches)
 *   fails with "rewrite `<name>` does not converge" after RewriteOptions::max_callbacks calls.
 * Inside a registered function or pass the kit puts "function <f> failed: " in front.
 *
 * Threading: TVM keeps the current PatternContext per thread; a PatternContext::Scope must end
 * on the thread that made it. Handles are immutable and may be shared between threads.
 */
#ifndef TVM_EXTEND_IR_RELAX_PATTERN_H_
#define TVM_EXTEND_IR_RELAX_PATTERN_H_

#include <tvm/ffi/any.h>
#include <tvm/ffi/container/array.h>
#include <tvm/ffi/container/map.h>
#include <tvm/ffi/dtype.h>
#include <tvm/ffi/error.h>
#include <tvm/ffi/function.h>
#include <tvm/ffi/rvalue_ref.h>
#include <tvm/ffi/string.h>
#include <tvm_extend/abi/global.h>
#include <tvm_extend/extension/errors.h>
#include <tvm_extend/ir/global_function.h>
#include <tvm_extend/ir/view.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace tvm_extend {
namespace relax {
namespace dpl {

using tvm::ffi::ObjectRef;
class PatternSeq;

namespace dpl_detail {
/*! \brief Type tags of the handles: their type is bound (and checked) when the extension loads. */
#define TVM_EXTEND_DPL_TAG(Tag, key)                     \
  struct Tag {                                           \
    static constexpr const char* kTypeKey = key;         \
    static constexpr const char* kParentKey = "";        \
    static constexpr const char* kKnownFields = nullptr; \
  }
TVM_EXTEND_DPL_TAG(DFPatternTag, "relax.dpl.DFPattern");
TVM_EXTEND_DPL_TAG(PatternSeqTag, "relax.dpl.PatternSeq");
TVM_EXTEND_DPL_TAG(PatternContextTag, "relax.dpl.PatternContext");
TVM_EXTEND_DPL_TAG(RewriterTag, "relax.dpl.PatternMatchingRewriter");
#undef TVM_EXTEND_DPL_TAG

/*!
 * \brief A thin handle: an ObjectRef of the tag's type (or null). `->`, `get()`, `same_as()`
 *        and `defined()` are ObjectRef's.
 */
template <typename Tag>
class Handle : public ::tvm_extend::ir::NodeRef {
 public:
  static constexpr const char* kTypeKey = Tag::kTypeKey;
  Handle() = default;
  /*! \brief Checked: a TypeError names both types when `ref` is of another type. */
  explicit Handle(const ObjectRef& ref) : NodeRef(ref, ::tvm_extend::ir::Unchecked{}) {
    if (ref.defined() && !IsInstance(ref)) ::tvm_extend::ir::WrongType(kTypeKey, ref);
  }
  Handle(const ObjectRef& ref, ::tvm_extend::ir::Unchecked) : NodeRef(ref) {}
  static bool IsInstance(const ObjectRef& ref) {
    return ::tvm_extend::ir::IsInstance(ref.get(), ::tvm_extend::ir::UseType<Tag>());
  }
};

/*! \brief A short text of an IR node for messages (TVM's repr, cut at 160 characters). */
inline std::string Describe(const ObjectRef& node) {
  if (!node.defined()) return "None";
  static const std::optional<tvm::ffi::Function> repr =
      tvm::ffi::Function::GetGlobal("ffi.ReprPrint");
  std::string text = node->GetTypeKey();
  if (repr.has_value()) {
    try {
      text = (*repr)(node).cast<tvm::ffi::String>();
    } catch (...) {  // a printer failure must not hide the error being reported
    }
  }
  for (char& c : text) c = c == '\n' ? ' ' : c;
  return text.size() > 160 ? text.substr(0, 157) + "..." : text;
}
}  // namespace dpl_detail

/*!
 * \brief A pattern (`tvm.relax.dpl.DFPattern`). Made by the factories below (Wildcard, IsOp,
 *        ...) and combined with `p(args...)`, `|`, `&`, `~`, `^` (used by), `>>` (only used by)
 *        and the Has* constraints, as in Python.
 */
class DFPattern : public dpl_detail::Handle<dpl_detail::DFPatternTag> {
 public:
  using Handle::Handle;
  DFPattern() = default;

  /*! \brief A call of this pattern with these argument patterns: `IsOp("relax.add")(x, y)`. */
  template <typename... Args>
  DFPattern operator()(const Args&... args) const {
    return Call(std::vector<DFPattern>{DFPattern(args)...});
  }
  /*!
   * \brief A call of this pattern.
   * \param varg_default_wildcard Also match calls with more arguments than `args`.
   * \param add_constraint Inside a PatternContext, record that each argument is used by the
   *        call (what `rewrite_bindings` / `MatchDataflowBlock` match on), as Python does.
   */
  DFPattern Call(const std::vector<DFPattern>& args, bool varg_default_wildcard = false,
                 bool add_constraint = true) const;
  /*! \brief Also the expression's dtype is `dtype` ("float32"). */
  DFPattern HasDtype(const std::string& dtype) const;
  DFPattern HasDtype(DLDataType dtype) const;
  /*! \brief Also the expression's (single tensor) shape is `shape`. */
  DFPattern HasShape(const std::vector<int64_t>& shape) const;
  /*! \brief The same with PrimExpr dimensions (symbolic shapes). */
  DFPattern HasShape(const tvm::ffi::Array<ObjectRef>& shape) const;
  /*! \brief Also the expression's type (what TVM called struct info before 0.26) is `ty`, a
   *         relax type such as `relax.TensorType`. TVM's `has_ty`/`has_struct_info`. */
  DFPattern HasType(const ObjectRef& ty) const;
  /*! \brief Also the call's attributes have these values: {{"axes", Array{1, 0}}}. */
  DFPattern HasAttr(const tvm::ffi::Map<tvm::ffi::String, tvm::ffi::Any>& attrs) const;
  /*! \brief This pattern's value is used by `consumer` (as argument `index`; -1: any). */
  PatternSeq UsedBy(const PatternSeq& consumer, int64_t index = -1) const;
  /*! \brief ... and by nothing else. */
  PatternSeq OnlyUsedBy(const PatternSeq& consumer, int64_t index = -1) const;
  /*! \brief A new pattern object equal to this one (a distinct key in a match map). */
  DFPattern Dup() const;
};

/*! \brief A chain of patterns with used-by constraints (`tvm.relax.dpl.PatternSeq`). */
class PatternSeq : public dpl_detail::Handle<dpl_detail::PatternSeqTag> {
 public:
  using Handle::Handle;
  PatternSeq() = default;
  /*! \brief A chain of one pattern: lets a DFPattern stand where a PatternSeq is expected. */
  PatternSeq(const DFPattern& pattern);  // NOLINT(runtime/explicit)
  /*! \brief A chain of patterns, each used by the next (only by it, with `only_used_by`). */
  static PatternSeq Make(const std::vector<DFPattern>& patterns, bool only_used_by = false);
  PatternSeq UsedBy(const PatternSeq& consumer, int64_t index = -1) const;
  PatternSeq OnlyUsedBy(const PatternSeq& consumer, int64_t index = -1) const;
  PatternSeq Dup() const;
  /*! \brief The patterns of the chain, in order. */
  std::vector<DFPattern> patterns() const;
};

/*!
 * \brief The patterns matched and what they matched: pattern -> expression (Match,
 *        RewriteCall) or pattern -> bound variable (RewriteBindings, MatchDataflowBlock).
 */
class MatchMap {
 public:
  MatchMap() = default;
  explicit MatchMap(tvm::ffi::Map<ObjectRef, ObjectRef> map) : map_(std::move(map)) {}
  /*! \brief What `pattern` matched; a KeyError names the pattern when it matched nothing. */
  ObjectRef operator[](const DFPattern& pattern) const {
    auto it = map_.find(pattern);
    if (it == map_.end()) {
      TVM_FFI_THROW(KeyError) << "the pattern `" << dpl_detail::Describe(pattern)
                              << "` is not in the match (it matched nothing, or it is not part "
                                 "of the pattern that was matched)";
    }
    return (*it).second;
  }
  /*! \brief What `pattern` matched, as view T (checked by T's constructor). */
  template <typename T>
  T Get(const DFPattern& pattern) const {
    return T((*this)[pattern]);
  }
  bool contains(const DFPattern& pattern) const { return map_.count(pattern) != 0; }
  int64_t size() const { return static_cast<int64_t>(map_.size()); }
  /*! \brief The map itself, to iterate over or hand to TVM. */
  const tvm::ffi::Map<ObjectRef, ObjectRef>& map() const { return map_; }

 private:
  tvm::ffi::Map<ObjectRef, ObjectRef> map_;
};

/*! \brief Variable -> bound value, as `rewrite_bindings` passes and expects them. */
using Bindings = tvm::ffi::Map<ObjectRef, ObjectRef>;

/*!
 * \brief A context of patterns over several bindings of a dataflow block
 *        (`tvm.relax.dpl.PatternContext`): patterns made while it is entered, and the used-by
 *        constraints between them, are what RewriteBindings and MatchDataflowBlock look for.
 */
class PatternContext : public dpl_detail::Handle<dpl_detail::PatternContextTag> {
 public:
  using Handle::Handle;
  PatternContext() = default;
  /*! \brief While alive, `context` is TVM's current PatternContext on this thread. */
  class Scope {
   public:
    explicit Scope(const ObjectRef& context);
    Scope(Scope&& other) noexcept : context_(std::move(other.context_)) {}
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;
    Scope& operator=(Scope&&) = delete;
    ~Scope();

   private:
    ObjectRef context_;  // a PatternContext
  };
  /*!
   * \brief A new context. An `incremental` one starts with the constraints of the current
   *        context (TVM refuses it outside one).
   */
  static PatternContext Make(bool incremental = false);
  /*! \brief The current context of this thread, if any. */
  static std::optional<PatternContext> Current();
  /*! \brief Make this the current context until the returned scope ends. */
  [[nodiscard]] Scope Enter() const { return Scope(*this); }
  /*!
   * \brief Match the context's patterns against a dataflow block (a `relax.DataflowBlock`).
   * \return Pattern -> the variable bound to what it matched, or nothing when it does not match.
   */
  std::optional<MatchMap> MatchDataflowBlock(const ObjectRef& block) const;
};

// --- factories (`tvm.relax.dpl.wildcard`, `is_op`, ...) -------------------------------------

/*! \brief Matches anything. */
DFPattern Wildcard();
/*! \brief Matches the op TVM registers under `op_name` ("relax.matmul"); a ValueError names it
 *         when TVM has no such op. */
DFPattern IsOp(const std::string& op_name);
/*! \brief Matches this very expression. */
DFPattern IsExpr(const ObjectRef& expr);
/*! \brief Matches a constant. */
DFPattern IsConst();
/*! \brief Matches a variable (a function parameter or a bound variable) named `name` ("" any). */
DFPattern IsVar(const std::string& name = "");
/*! \brief Matches a dataflow variable named `name` ("" any). */
DFPattern IsDataflowVar(const std::string& name = "");
/*! \brief Matches a global variable (a function of the module) named `name` ("" any). */
DFPattern IsGlobalVar(const std::string& name = "");
/*! \brief Matches an extern function `global_symbol` ("" any). */
DFPattern IsExternFunc(const std::string& global_symbol = "");
/*! \brief Matches a tuple of these fields, in order (or in any order). */
DFPattern IsTuple(const std::vector<DFPattern>& fields, bool unordered = false);
/*! \brief Matches item `index` of a tuple (-1: any item). */
DFPattern IsTupleGetItem(const DFPattern& tuple, int64_t index = -1);
/*! \brief Matches a shape, an array of PrimExpr, equal to `shape`. */
DFPattern IsShape(const std::vector<int64_t>& shape);
DFPattern IsShape(const tvm::ffi::Array<ObjectRef>& shape);
/*! \brief Matches `R.call_tir(func_name, (args...), ...)`; without `args`, any arguments. */
DFPattern IsCallTIR(const std::string& func_name,
                    const std::optional<std::vector<DFPattern>>& args = std::nullopt);
/*! \brief Matches `R.call_dps_packed(func_name, (args...), ...)`. */
DFPattern IsCallDPSPacked(const std::string& func_name,
                          const std::optional<std::vector<DFPattern>>& args = std::nullopt);
/*! \brief Matches a call of the packed function `func_name`; without `args`, any arguments. */
DFPattern IsCallPacked(const std::string& func_name,
                       const std::optional<std::vector<DFPattern>>& args = std::nullopt);
/*! \brief Matches whatever `pattern` does not: `~pattern`. */
DFPattern Not(const DFPattern& pattern);
/*! \brief Anything of dtype `dtype`: `Wildcard().HasDtype(dtype)`. */
DFPattern HasDtype(const std::string& dtype, const DFPattern& pattern = DFPattern());
/*! \brief Constrain the patterns, inside a PatternContext, to have the same shape. */
void SameShape(const std::vector<DFPattern>& patterns);

/*! \brief Either pattern. */
DFPattern operator|(const DFPattern& lhs, const DFPattern& rhs);
/*! \brief Both patterns. */
DFPattern operator&(const DFPattern& lhs, const DFPattern& rhs);
/*! \brief Not the pattern. */
DFPattern operator~(const DFPattern& pattern);
/*! \brief `lhs` used by `rhs`: `lhs.UsedBy(rhs)`. */
PatternSeq operator^(const PatternSeq& lhs, const PatternSeq& rhs);
/*! \brief `lhs` used only by `rhs`: `lhs.OnlyUsedBy(rhs)`. */
PatternSeq operator>>(const PatternSeq& lhs, const PatternSeq& rhs);

// --- matching ---------------------------------------------------------------------------------

/*!
 * \brief Match `pattern` against `expr`.
 * \param var2val Variable -> bound value (see Var2Val), so that a variable matches what it is
 *        bound to; none: variables match only themselves.
 * \return Pattern -> matched expression for every pattern of the match, or nothing.
 */
std::optional<MatchMap> Match(const DFPattern& pattern, const ObjectRef& expr,
                              const std::optional<Bindings>& var2val = std::nullopt);
/*! \brief Every variable of a relax function -> its bound value (`get_var2val`). */
Bindings Var2Val(const ObjectRef& func);

// --- rewriting --------------------------------------------------------------------------------

/*! \brief How a rewrite is named in errors, and whether its result is checked. */
struct RewriteOptions {
  /*! \brief Named in every error of the rewrite; "" names it by the file and line of the call. */
  std::string name;
  /*! \brief Run TVM's `relax.analysis.well_formed` on a changed result (an error if it fails). */
  bool check_well_formed = true;
  /*!
   * \brief TVM repeats a rewrite until nothing more matches, so a replacement that matches the
   *        pattern again never ends: a callback run more often than this (in one RewriteCall,
   *        RewriteBindings or application of a rewriter) fails the rewrite instead.
   */
  int64_t max_callbacks = 1000000;
};

namespace dpl_detail {
/*! \brief The rewrite's name: options.name, or "file.cc:42" (where it is called) when unset. */
inline std::string RewriteName(const RewriteOptions& options, const char* file, int line) {
  if (!options.name.empty()) return options.name;
  const char* slash = std::strrchr(file, '/');
  return std::string(slash ? slash + 1 : file) + ":" + std::to_string(line);
}
/*! \brief How errors name a rewrite: "rewrite `name`". */
inline std::string RewriteLabel(const std::string& name) { return "rewrite `" + name + "`"; }

/*! \brief The first parameter type of a callable (a lambda, a function), decayed. */
template <typename F, typename = void>
struct FirstParam {
  using type = ObjectRef;  // a generic lambda: give it an ObjectRef
};
template <typename F>
struct FirstParam<F, std::void_t<decltype(&F::operator())>> : FirstParam<decltype(&F::operator())> {
};
template <typename C, typename R, typename A, typename... Rest>
struct FirstParam<R (C::*)(A, Rest...) const, void> {
  using type = std::decay_t<A>;
};
template <typename C, typename R, typename A, typename... Rest>
struct FirstParam<R (C::*)(A, Rest...), void> {
  using type = std::decay_t<A>;
};
template <typename R, typename A, typename... Rest>
struct FirstParam<R (*)(A, Rest...), void> {
  using type = std::decay_t<A>;
};
template <typename R, typename A, typename... Rest>
struct FirstParam<R(A, Rest...), void> {
  using type = std::decay_t<A>;
};

/*! \brief Call a RewriteCall callback with the matched expression as whatever the callback
 *         takes (ObjectRef or a view), and its result as an ObjectRef (null: keep `expr`). */
template <typename Callback>
ObjectRef InvokeExprCallback(Callback& callback, const ObjectRef& expr, const MatchMap& matches) {
  using Result = std::conditional_t<
      std::is_invocable_v<Callback&, const ObjectRef&, const MatchMap&>,
      std::invoke_result<Callback&, const ObjectRef&, const MatchMap&>,
      std::invoke_result<Callback&, typename FirstParam<std::decay_t<Callback>>::type,
                         const MatchMap&>>;
  static_assert(std::is_base_of_v<ObjectRef, std::decay_t<typename Result::type>>,
                "a rewrite callback returns the replacement expression (an ObjectRef or a view; "
                "null keeps the matched expression)");
  if constexpr (std::is_invocable_v<Callback&, const ObjectRef&, const MatchMap&>) {
    return callback(expr, matches);
  } else {
    using Param = typename FirstParam<std::decay_t<Callback>>::type;
    return callback(Param(expr), matches);
  }
}

/*! \brief How often a rewrite's callback ran, against its limit (RewriteOptions::max_callbacks). */
struct CallbackBudget {
  std::atomic<int64_t> calls{0};
  int64_t limit;
  explicit CallbackBudget(int64_t max_calls) : limit(max_calls) {}
  void Spend(const std::string& label) {
    if (calls.fetch_add(1) < limit) return;
    throw tvm::ffi::Error(error_kind::kRuntime,
                          label + " does not converge: its callback ran " + std::to_string(limit) +
                              " times (RewriteOptions::max_callbacks); TVM repeats a rewrite until "
                              "nothing more matches, and the replacement matches the pattern again",
                          "");
  }
};

/*! \brief The TVM callback of a pattern rewrite: (expr, pattern -> expr) -> replacement, any
 *         exception turned into an error naming the rewrite and the matched expression. */
template <typename Callback>
tvm::ffi::Function ExprCallback(std::string label, Callback callback,
                                std::shared_ptr<CallbackBudget> budget) {
  // Shared: TVM may copy the function (a PatternMatchingRewriter keeps it), and the callback
  // may be a mutable lambda.
  auto shared = std::make_shared<Callback>(std::move(callback));
  return tvm::ffi::Function::FromTyped(
      [label = std::move(label), shared, budget = std::move(budget)](
          ObjectRef expr, tvm::ffi::Map<ObjectRef, ObjectRef> matches) -> ObjectRef {
        budget->Spend(label);
        ObjectRef result;
        try {
          result = InvokeExprCallback(*shared, expr, MatchMap(std::move(matches)));
        } catch (...) {  // the match is described only now: printing it is not free
          Guarded(label + ": the callback failed on `" + Describe(expr) + "`: ", []() -> ObjectRef {
            throw;
          });
        }
        return result.defined() ? result : expr;
      });
}

/*! \brief Run a rewrite: an error that does not already name it gets "<label> failed: ". */
template <typename Body>
auto Labelled(const std::string& label, Body&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const tvm::ffi::Error& err) {
    if (err.message().rfind(label, 0) == 0) throw;  // from the callback: already named
    throw tvm::ffi::Error(err.kind(), label + " failed: " + err.message(), err.backtrace());
  }
}

/*! \brief Throws a ValueError naming the rewrite when `after` (a changed relax function or
 *         module) is not well-formed; says so when `before` was not either. */
void CheckWellFormed(const std::string& label, const ObjectRef& before, const ObjectRef& after);

/*! \brief A module pass (`tvm.transform.Pass`) named `name` that applies `body` to the module. */
template <typename Body>
ObjectRef MakeModulePass(const std::string& name, int opt_level, Body body);
}  // namespace dpl_detail

/*!
 * \brief Rewrite every expression of `func` (a relax function) that `pattern` matches, until
 *        nothing more matches (TVM's `rewrite_call`).
 * \param callback `(matched, const MatchMap& m) -> replacement`: `matched` is the matched
 *        expression, as an ObjectRef or as the view the callback takes; `m` maps each pattern of
 *        the match to what it matched. Return `matched` (or a null ref) to leave it as it is.
 *        The result is normalized by TVM, which infers its type.
 * \param options The rewrite's name in errors; whether the result is checked (well_formed).
 * \return The rewritten function, as the type `func` was given in (`func` itself if unchanged).
 */
template <typename FuncT, typename Callback>
FuncT RewriteCall(const DFPattern& pattern, Callback&& callback, const FuncT& func,
                  const RewriteOptions& options = {}, const char* file = __builtin_FILE(),
                  int line = __builtin_LINE());

/*!
 * \brief Rewrite bindings of the dataflow blocks of `func` that the patterns of `context`
 *        match together (TVM's `rewrite_bindings`).
 * \param callback `(const MatchMap& m, const Bindings& bindings) -> Bindings` (or without the
 *        second parameter): `m` maps each pattern of the context to the variable bound to what
 *        it matched (or the parameter it matched); `bindings` is every variable of the block ->
 *        its value. Return variable -> new value for the bindings to change (empty: none).
 * \return The rewritten function, as the type `func` was given in.
 */
template <typename FuncT, typename Callback>
FuncT RewriteBindings(const PatternContext& context, Callback&& callback, const FuncT& func,
                      const RewriteOptions& options = {}, const char* file = __builtin_FILE(),
                      int line = __builtin_LINE());

/*!
 * \brief TVM's `PatternMatchingRewriter`: a rewrite rule as an object, applied to an expression
 *        or a whole module, composed with `|`, or turned into a module pass.
 */
class PatternMatchingRewriter : public dpl_detail::Handle<dpl_detail::RewriterTag> {
 public:
  using Handle::Handle;
  PatternMatchingRewriter() = default;
  /*! \brief A rule from a pattern and a callback, as for RewriteCall. */
  template <typename Callback>
  static PatternMatchingRewriter FromPattern(const DFPattern& pattern, Callback&& callback,
                                             const RewriteOptions& options = {},
                                             const char* file = __builtin_FILE(),
                                             int line = __builtin_LINE());
  /*! \brief A rule from a module with relax functions `pattern` and `replacement`. */
  static PatternMatchingRewriter FromModule(const ObjectRef& module,
                                            const RewriteOptions& options = {},
                                            const char* file = __builtin_FILE(),
                                            int line = __builtin_LINE());
  /*! \brief Apply the rule to an expression or an IRModule, until nothing more matches. */
  template <typename T>
  T operator()(const T& expr_or_module) const;
  /*! \brief Either rule, in one traversal; named "<lhs name> | <rhs name>". */
  PatternMatchingRewriter operator|(const PatternMatchingRewriter& rhs) const;
  /*! \brief A module pass (`tvm.transform.Pass`) named `pass_name` that applies the rule. */
  ObjectRef MakePass(const std::string& pass_name, int opt_level = 0) const;
  /*! \brief The rule's name in errors (RewriteOptions::name, or where it was made). */
  const std::string& name() const { return name_; }

 private:
  using Budgets = std::vector<std::shared_ptr<dpl_detail::CallbackBudget>>;
  PatternMatchingRewriter(const ObjectRef& ref, std::string name, bool check, Budgets budgets)
      : Handle(ref),
        name_(std::move(name)),
        check_well_formed_(check),
        budgets_(std::move(budgets)) {}
  std::string name_ = "(unnamed)";
  bool check_well_formed_ = true;
  /*! \brief The callbacks' budgets, renewed by each application (shared between copies). */
  Budgets budgets_;
};

// --- the global functions behind the handles ----------------------------------------------------

namespace dpl_detail {
#pragma GCC visibility push(hidden)
using tvm::ffi::Any;
using tvm::ffi::Array;
using tvm::ffi::String;
template <typename Signature>
using Global = ::tvm_extend::ir::GlobalFunction<Signature>;
inline Global<DFPattern()> wildcard{"relax.dpl.WildcardPattern"};
inline Global<DFPattern(ObjectRef)> expr_pattern{"relax.dpl.ExprPattern"};
inline Global<DFPattern()> constant_pattern{"relax.dpl.ConstantPattern"};
inline Global<DFPattern(String)> var_pattern{"relax.dpl.VarPattern"};
inline Global<DFPattern(String)> dataflow_var_pattern{"relax.dpl.DataflowVarPattern"};
inline Global<DFPattern(String)> global_var_pattern{"relax.dpl.GlobalVarPattern"};
inline Global<DFPattern(String)> extern_func_pattern{"relax.dpl.ExternFuncPattern"};
inline Global<DFPattern(DFPattern, Array<ObjectRef>, bool)> call_pattern{"relax.dpl.CallPattern"};
inline Global<DFPattern(Array<ObjectRef>)> tuple_pattern{"relax.dpl.TuplePattern"};
inline Global<DFPattern(Array<ObjectRef>)> unordered_tuple_pattern{
    "relax.dpl.UnorderedTuplePattern"};
inline Global<DFPattern(DFPattern, int64_t)> tuple_get_item_pattern{
    "relax.dpl.TupleGetItemPattern"};
inline Global<DFPattern(DFPattern, DFPattern)> or_pattern{"relax.dpl.OrPattern"};
inline Global<DFPattern(DFPattern, DFPattern)> and_pattern{"relax.dpl.AndPattern"};
inline Global<DFPattern(DFPattern)> not_pattern{"relax.dpl.NotPattern"};
inline Global<DFPattern(DFPattern, DLDataType)> data_type_pattern{"relax.dpl.DataTypePattern"};
inline Global<DFPattern(DFPattern, Array<ObjectRef>)> shape_pattern{"relax.dpl.ShapePattern"};
inline Global<DFPattern(DFPattern, ObjectRef)> type_pattern{"relax.dpl.TypePattern"};
inline Global<DFPattern(DFPattern, ObjectRef)> attr_pattern{"relax.dpl.AttrPattern"};
inline Global<DFPattern(Array<ObjectRef>)> prim_arr_pattern{"relax.dpl.PrimArrPattern"};
inline Global<ObjectRef(Array<ObjectRef>)> same_shape_constraint{"relax.dpl.SameShapeConstraint"};
inline Global<DFPattern(DFPattern)> dup_pattern{"relax.dpl.dup_pattern"};
inline Global<PatternSeq(Array<ObjectRef>, bool)> pattern_seq{"relax.dpl.PatternSeq"};
inline Global<PatternSeq(PatternSeq, PatternSeq, int64_t)> used_by{"relax.dpl.used_by"};
inline Global<PatternSeq(PatternSeq, PatternSeq, int64_t)> only_used_by{"relax.dpl.only_used_by"};
inline Global<PatternSeq(PatternSeq)> dup_seq{"relax.dpl.dup_seq"};
// The context functions are registered with `ffi.Object` for the context: passed unchecked.
inline Global<ObjectRef(bool)> make_context{"relax.dpl.PatternContext"};
inline Global<Any()> current_context{"relax.dpl.current_context"};
inline Global<void(ObjectRef)> enter_context{"relax.dpl.enter_context"};
inline Global<void(ObjectRef)> exit_context{"relax.dpl.exit_context"};
inline Global<Any(ObjectRef, ObjectRef)> match_dfb{"relax.dpl.match_dfb"};
inline Global<Any(DFPattern, ObjectRef, Any)> extract_matched_expr{
    "relax.dpl.extract_matched_expr"};
inline Global<Bindings(ObjectRef)> get_var2val{"relax.analysis.get_var2val"};
inline Global<ObjectRef(DFPattern, tvm::ffi::Function, ObjectRef)> rewrite_call{
    "relax.dpl.rewrite_call"};
inline Global<ObjectRef(ObjectRef, tvm::ffi::Function, ObjectRef)> rewrite_bindings{
    "relax.dpl.rewrite_bindings"};
inline Global<PatternMatchingRewriter(DFPattern, tvm::ffi::Function)> rewriter_from_pattern{
    "relax.dpl.PatternMatchingRewriterFromPattern"};
inline Global<PatternMatchingRewriter(ObjectRef)> rewriter_from_module{
    "relax.dpl.PatternMatchingRewriterFromModule"};
inline Global<ObjectRef(PatternMatchingRewriter, ObjectRef)> rewriter_apply{
    "relax.dpl.PatternMatchingRewriterApply"};
inline Global<PatternMatchingRewriter(PatternMatchingRewriter, PatternMatchingRewriter)>
    or_rewriter{"relax.dpl.OrRewriter"};
inline Global<void(ObjectRef, bool)> well_formed{"relax.analysis.well_formed"};
inline Global<ObjectRef(String)> get_op{"ir.GetOp"};
inline Global<ObjectRef(DLDataType, int64_t, ObjectRef)> int_imm{"ir.IntImm"};
inline Global<ObjectRef(int64_t, String, Array<String>, bool)> pass_info{"transform.PassInfo"};
inline Global<ObjectRef(tvm::ffi::Function, ObjectRef)> make_module_pass{
    "transform.MakeModulePass"};
#pragma GCC visibility pop

inline Array<ObjectRef> ToArray(const std::vector<DFPattern>& patterns) {
  Array<ObjectRef> out;
  for (const DFPattern& p : patterns) out.push_back(p);
  return out;
}
inline Array<ObjectRef> IntShape(const std::vector<int64_t>& shape) {
  Array<ObjectRef> out;
  for (int64_t dim : shape) out.push_back(int_imm(DLDataType{kDLInt, 64, 1}, dim, ObjectRef()));
  return out;
}
inline DLDataType ParseDtype(const std::string& dtype) {
  return tvm::ffi::StringToDLDataType(tvm::ffi::String(dtype));
}
inline DFPattern CallArgsPattern(const std::optional<std::vector<DFPattern>>& args) {
  return args.has_value() ? DFPattern(tuple_pattern(ToArray(*args))) : wildcard();
}
}  // namespace dpl_detail

// --- definitions --------------------------------------------------------------------------------

inline DFPattern DFPattern::Call(const std::vector<DFPattern>& args, bool varg_default_wildcard,
                                 bool add_constraint) const {
  DFPattern call =
      dpl_detail::call_pattern(*this, dpl_detail::ToArray(args), varg_default_wildcard);
  // As Python's CallPattern: inside a context, each argument is used by the call.
  if (add_constraint && dpl_detail::current_context() != nullptr) {
    for (size_t i = 0; i < args.size(); ++i) args[i].UsedBy(call, static_cast<int64_t>(i));
  }
  return call;
}
inline DFPattern DFPattern::HasDtype(const std::string& dtype) const {
  return HasDtype(dpl_detail::ParseDtype(dtype));
}
inline DFPattern DFPattern::HasDtype(DLDataType dtype) const {
  return dpl_detail::data_type_pattern(*this, dtype);
}
inline DFPattern DFPattern::HasShape(const std::vector<int64_t>& shape) const {
  return dpl_detail::shape_pattern(*this, dpl_detail::IntShape(shape));
}
inline DFPattern DFPattern::HasShape(const tvm::ffi::Array<ObjectRef>& shape) const {
  return dpl_detail::shape_pattern(*this, shape);
}
inline DFPattern DFPattern::HasType(const ObjectRef& ty) const {
  return dpl_detail::type_pattern(*this, ty);
}
inline DFPattern DFPattern::HasAttr(
    const tvm::ffi::Map<tvm::ffi::String, tvm::ffi::Any>& attrs) const {
  // As tvm.ir.make_node("ir.DictAttrs", **attrs).
  static const tvm::ffi::Function make_object = abi::RequireGlobal(
      "ffi.MakeObjectFromPackedArgs", "tvm_extend::relax::dpl::DFPattern::HasAttr");
  ObjectRef dict =
      make_object(tvm::ffi::String("ir.DictAttrs"), tvm::ffi::String("__dict__"), attrs)
          .cast<ObjectRef>();
  return dpl_detail::attr_pattern(*this, dict);
}
inline PatternSeq DFPattern::UsedBy(const PatternSeq& consumer, int64_t index) const {
  return PatternSeq(*this).UsedBy(consumer, index);
}
inline PatternSeq DFPattern::OnlyUsedBy(const PatternSeq& consumer, int64_t index) const {
  return PatternSeq(*this).OnlyUsedBy(consumer, index);
}
inline DFPattern DFPattern::Dup() const { return dpl_detail::dup_pattern(*this); }

inline PatternSeq::PatternSeq(const DFPattern& pattern)
    : PatternSeq(Make(std::vector<DFPattern>{pattern})) {}
inline PatternSeq PatternSeq::Make(const std::vector<DFPattern>& patterns, bool only_used_by) {
  return dpl_detail::pattern_seq(dpl_detail::ToArray(patterns), only_used_by);
}
inline PatternSeq PatternSeq::UsedBy(const PatternSeq& consumer, int64_t index) const {
  return dpl_detail::used_by(*this, consumer, index);
}
inline PatternSeq PatternSeq::OnlyUsedBy(const PatternSeq& consumer, int64_t index) const {
  return dpl_detail::only_used_by(*this, consumer, index);
}
inline PatternSeq PatternSeq::Dup() const { return dpl_detail::dup_seq(*this); }
inline std::vector<DFPattern> PatternSeq::patterns() const {
  static const tvm::ffi::reflection::FieldGetter get("relax.dpl.PatternSeq", "patterns");
  std::vector<DFPattern> out;
  for (const ObjectRef& p : get(*this).cast<tvm::ffi::Array<ObjectRef>>()) out.emplace_back(p);
  return out;
}

inline PatternContext::Scope::Scope(const ObjectRef& context) : context_(context) {
  dpl_detail::enter_context(context_);
}
inline PatternContext::Scope::~Scope() {
  if (!context_.defined()) return;
  try {
    dpl_detail::exit_context(context_);
  } catch (...) {  // scopes nest, so TVM's check that this context is on top holds
  }
}
inline PatternContext PatternContext::Make(bool incremental) {
  return PatternContext(dpl_detail::make_context(incremental));
}
inline std::optional<PatternContext> PatternContext::Current() {
  tvm::ffi::Any current = dpl_detail::current_context();
  if (current == nullptr) return std::nullopt;
  return PatternContext(current.cast<ObjectRef>());
}
inline std::optional<MatchMap> PatternContext::MatchDataflowBlock(const ObjectRef& block) const {
  tvm::ffi::Any result = dpl_detail::match_dfb(*this, block);
  if (result == nullptr) return std::nullopt;
  return MatchMap(result.cast<tvm::ffi::Map<ObjectRef, ObjectRef>>());
}

inline DFPattern Wildcard() { return dpl_detail::wildcard(); }
inline DFPattern IsOp(const std::string& op_name) {
  ObjectRef op;
  try {
    op = dpl_detail::get_op(tvm::ffi::String(op_name));
  } catch (const tvm::ffi::Error& err) {
    TVM_FFI_THROW(ValueError) << "IsOp: the running TVM has no op `" << op_name << "` ("
                              << err.message() << ")";
  }
  return dpl_detail::expr_pattern(op);
}
inline DFPattern IsExpr(const ObjectRef& expr) { return dpl_detail::expr_pattern(expr); }
inline DFPattern IsConst() { return dpl_detail::constant_pattern(); }
inline DFPattern IsVar(const std::string& name) { return dpl_detail::var_pattern(name); }
inline DFPattern IsDataflowVar(const std::string& name) {
  return dpl_detail::dataflow_var_pattern(name);
}
inline DFPattern IsGlobalVar(const std::string& name) {
  return dpl_detail::global_var_pattern(name);
}
inline DFPattern IsExternFunc(const std::string& global_symbol) {
  return dpl_detail::extern_func_pattern(global_symbol);
}
inline DFPattern IsTuple(const std::vector<DFPattern>& fields, bool unordered) {
  return unordered ? dpl_detail::unordered_tuple_pattern(dpl_detail::ToArray(fields))
                   : dpl_detail::tuple_pattern(dpl_detail::ToArray(fields));
}
inline DFPattern IsTupleGetItem(const DFPattern& tuple, int64_t index) {
  return dpl_detail::tuple_get_item_pattern(tuple, index);
}
inline DFPattern IsShape(const std::vector<int64_t>& shape) {
  return dpl_detail::prim_arr_pattern(dpl_detail::IntShape(shape));
}
inline DFPattern IsShape(const tvm::ffi::Array<ObjectRef>& shape) {
  return dpl_detail::prim_arr_pattern(shape);
}
inline DFPattern IsCallTIR(const std::string& func_name,
                           const std::optional<std::vector<DFPattern>>& args) {
  return IsOp("relax.call_tir")
      .Call({IsGlobalVar(func_name), dpl_detail::CallArgsPattern(args)}, false, false);
}
inline DFPattern IsCallDPSPacked(const std::string& func_name,
                                 const std::optional<std::vector<DFPattern>>& args) {
  return IsOp("relax.call_dps_packed")
      .Call({IsExternFunc(func_name), dpl_detail::CallArgsPattern(args)}, false, false);
}
inline DFPattern IsCallPacked(const std::string& func_name,
                              const std::optional<std::vector<DFPattern>>& args) {
  if (!args.has_value()) return IsExternFunc(func_name).Call({}, true, false);
  return IsExternFunc(func_name).Call(*args);
}
inline DFPattern Not(const DFPattern& pattern) { return dpl_detail::not_pattern(pattern); }
inline DFPattern HasDtype(const std::string& dtype, const DFPattern& pattern) {
  return (pattern.defined() ? pattern : Wildcard()).HasDtype(dtype);
}
inline void SameShape(const std::vector<DFPattern>& patterns) {
  dpl_detail::same_shape_constraint(dpl_detail::ToArray(patterns));
}
inline DFPattern operator|(const DFPattern& lhs, const DFPattern& rhs) {
  return dpl_detail::or_pattern(lhs, rhs);
}
inline DFPattern operator&(const DFPattern& lhs, const DFPattern& rhs) {
  return dpl_detail::and_pattern(lhs, rhs);
}
inline DFPattern operator~(const DFPattern& pattern) { return Not(pattern); }
inline PatternSeq operator^(const PatternSeq& lhs, const PatternSeq& rhs) {
  return lhs.UsedBy(rhs);
}
inline PatternSeq operator>>(const PatternSeq& lhs, const PatternSeq& rhs) {
  return lhs.OnlyUsedBy(rhs);
}

inline std::optional<MatchMap> Match(const DFPattern& pattern, const ObjectRef& expr,
                                     const std::optional<Bindings>& var2val) {
  tvm::ffi::Any bindings;
  if (var2val.has_value()) bindings = *var2val;
  tvm::ffi::Any result = dpl_detail::extract_matched_expr(pattern, expr, bindings);
  if (result == nullptr) return std::nullopt;
  return MatchMap(result.cast<tvm::ffi::Map<ObjectRef, ObjectRef>>());
}
inline Bindings Var2Val(const ObjectRef& func) { return dpl_detail::get_var2val(func); }

namespace dpl_detail {
inline void CheckWellFormed(const std::string& label, const ObjectRef& before,
                            const ObjectRef& after) {
  try {
    well_formed(after, true);
    return;
  } catch (const tvm::ffi::Error& err) {
    bool was_well_formed = true;
    try {
      well_formed(before, true);
    } catch (const tvm::ffi::Error&) {
      was_well_formed = false;
    }
    throw tvm::ffi::Error(
        error_kind::kValue,
        label + " produced ill-formed IR (relax.analysis.well_formed): " + err.message() +
            (was_well_formed ? ""
                             : " [the IR was already ill-formed before the "
                               "rewrite]"),
        err.backtrace());
  }
}

template <typename Body>
ObjectRef MakeModulePass(const std::string& name, int opt_level, Body body) {
  tvm::ffi::Function wrapped = tvm::ffi::Function::FromTyped(
      [name, body](tvm::ffi::RValueRef<ObjectRef> mod, ObjectRef) -> ObjectRef {
        ObjectRef owned = *std::move(mod);
        return Guarded("pass " + name + " failed: ", [&] { return body(std::move(owned)); });
      },
      name);
  ObjectRef info = pass_info(opt_level, tvm::ffi::String(name), tvm::ffi::Array<String>(), false);
  return make_module_pass(wrapped, info);
}
}  // namespace dpl_detail

template <typename FuncT, typename Callback>
FuncT RewriteCall(const DFPattern& pattern, Callback&& callback, const FuncT& func,
                  const RewriteOptions& options, const char* file, int line) {
  const std::string label = dpl_detail::RewriteLabel(dpl_detail::RewriteName(options, file, line));
  tvm::ffi::Function fn =
      dpl_detail::ExprCallback(label, std::decay_t<Callback>(std::forward<Callback>(callback)),
                               std::make_shared<dpl_detail::CallbackBudget>(options.max_callbacks));
  ObjectRef result =
      dpl_detail::Labelled(label, [&] { return dpl_detail::rewrite_call(pattern, fn, func); });
  if (result.same_as(func)) return func;
  if (options.check_well_formed) dpl_detail::CheckWellFormed(label, func, result);
  return FuncT(result);
}

template <typename FuncT, typename Callback>
FuncT RewriteBindings(const PatternContext& context, Callback&& callback, const FuncT& func,
                      const RewriteOptions& options, const char* file, int line) {
  using Fn = std::decay_t<Callback>;
  const std::string label = dpl_detail::RewriteLabel(dpl_detail::RewriteName(options, file, line));
  auto shared = std::make_shared<Fn>(std::forward<Callback>(callback));
  auto budget = std::make_shared<dpl_detail::CallbackBudget>(options.max_callbacks);
  tvm::ffi::Function fn = tvm::ffi::Function::FromTyped(
      [label, shared, budget](tvm::ffi::Map<ObjectRef, ObjectRef> matched,
                              Bindings bindings) -> Bindings {
        budget->Spend(label);
        return Guarded(label + ": the callback failed: ", [&]() -> Bindings {
          if constexpr (std::is_invocable_v<Fn&, const MatchMap&, const Bindings&>) {
            return (*shared)(MatchMap(std::move(matched)), bindings);
          } else {
            return (*shared)(MatchMap(std::move(matched)));
          }
        });
      });
  ObjectRef result =
      dpl_detail::Labelled(label, [&] { return dpl_detail::rewrite_bindings(context, fn, func); });
  if (result.same_as(func)) return func;
  if (options.check_well_formed) dpl_detail::CheckWellFormed(label, func, result);
  return FuncT(result);
}

template <typename Callback>
PatternMatchingRewriter PatternMatchingRewriter::FromPattern(const DFPattern& pattern,
                                                             Callback&& callback,
                                                             const RewriteOptions& options,
                                                             const char* file, int line) {
  std::string name = dpl_detail::RewriteName(options, file, line);
  std::string label = dpl_detail::RewriteLabel(name);
  auto budget = std::make_shared<dpl_detail::CallbackBudget>(options.max_callbacks);
  tvm::ffi::Function fn = dpl_detail::ExprCallback(
      label, std::decay_t<Callback>(std::forward<Callback>(callback)), budget);
  PatternMatchingRewriter made =
      dpl_detail::Labelled(label, [&] { return dpl_detail::rewriter_from_pattern(pattern, fn); });
  return PatternMatchingRewriter(made, std::move(name), options.check_well_formed,
                                 {std::move(budget)});
}

inline PatternMatchingRewriter PatternMatchingRewriter::FromModule(const ObjectRef& module,
                                                                   const RewriteOptions& options,
                                                                   const char* file, int line) {
  std::string name = dpl_detail::RewriteName(options, file, line);
  std::string label = dpl_detail::RewriteLabel(name);
  PatternMatchingRewriter made =
      dpl_detail::Labelled(label, [&] { return dpl_detail::rewriter_from_module(module); });
  return PatternMatchingRewriter(made, std::move(name), options.check_well_formed, {});
}

template <typename T>
T PatternMatchingRewriter::operator()(const T& expr_or_module) const {
  const std::string label = dpl_detail::RewriteLabel(name_);
  for (const auto& budget : budgets_) budget->calls = 0;
  ObjectRef result = dpl_detail::Labelled(
      label, [&] { return dpl_detail::rewriter_apply(*this, expr_or_module); });
  if (result.same_as(expr_or_module)) return expr_or_module;
  // well_formed takes a module or a relax function; other expressions are not checked.
  if (check_well_formed_) {
    static const std::string kModule = "ir.IRModule", kFunction = "relax.expr.Function";
    std::string key = result->GetTypeKey();
    if (key == kModule || key == kFunction) {
      dpl_detail::CheckWellFormed(label, expr_or_module, result);
    }
  }
  return T(result);
}

inline PatternMatchingRewriter PatternMatchingRewriter::operator|(
    const PatternMatchingRewriter& rhs) const {
  PatternMatchingRewriter made = dpl_detail::or_rewriter(*this, rhs);
  Budgets budgets = budgets_;
  budgets.insert(budgets.end(), rhs.budgets_.begin(), rhs.budgets_.end());
  return PatternMatchingRewriter(made, name_ + " | " + rhs.name_,
                                 check_well_formed_ || rhs.check_well_formed_, std::move(budgets));
}

inline ObjectRef PatternMatchingRewriter::MakePass(const std::string& pass_name,
                                                   int opt_level) const {
  PatternMatchingRewriter self = *this;
  return dpl_detail::MakeModulePass(pass_name, opt_level,
                                    [self](ObjectRef mod) { return self(std::move(mod)); });
}

}  // namespace dpl
}  // namespace relax
}  // namespace tvm_extend
#endif  // TVM_EXTEND_IR_RELAX_PATTERN_H_
