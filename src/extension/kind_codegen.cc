/*!
 * \file src/extension/kind_codegen.cc
 * \brief BYOC codegens: the claimed global `relax.ext.<name>` that TVM's RunCodegen calls, and
 *        the codegen's patterns `<name>.*` in TVM's pattern table (relax.backend.*Patterns).
 *
 * The registration's name is the claimed global, outside the extension's prefix: Plan refuses a
 * name someone else holds (another extension, TVM, Python), naming both owners, and a codegen
 * whose patterns are already in TVM's table. Commit sets the global and registers the patterns;
 * retire removes both (a reload hands them to the new build, and a refused one takes them back).
 */
#include <tvm/ffi/container/array.h>
#include <tvm/ffi/container/map.h>
#include <tvm/ffi/extra/module.h>
#include <tvm/ffi/reflection/accessor.h>
#include <tvm/ffi/string.h>
#include <tvm_extend/extension/errors.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "global_table.h"
#include "kind.h"

namespace tvm_extend {
namespace loader {
namespace {

using tvm::ffi::Any;
using tvm::ffi::Array;
using tvm::ffi::Function;
using tvm::ffi::Map;
using tvm::ffi::ObjectRef;
using tvm::ffi::String;

constexpr const char kPrefix[] = "relax.ext.";

// "relax.ext.name" -> "name"; "" when the registration's name is not a codegen's.
std::string CodegenName(const std::string& claimed) {
  const std::string prefix = kPrefix;
  if (claimed.compare(0, prefix.size(), prefix) != 0) return "";
  std::string name = claimed.substr(prefix.size());
  // FuseOpsByPattern names the codegen after a pattern's name up to its first dot.
  if (name.empty() || name.find('.') != std::string::npos) return "";
  return name;
}

Array<ObjectRef> PatternsWithPrefix(const std::string& prefix) {
  static Function get = Function::GetGlobalRequired("relax.backend.GetPatternsWithPrefix");
  return get(prefix).cast<Array<ObjectRef>>();
}

std::string PatternName(const ObjectRef& pattern) {
  static tvm::ffi::reflection::FieldGetter name("relax.transform.FusionPattern", "name");
  return name(pattern).cast<String>();
}

// The function's `global_symbol`: the symbol RunCodegen calls and the module must provide.
std::string GlobalSymbol(const ObjectRef& func) {
  static tvm::ffi::reflection::FieldGetter attrs("ir.BaseFunc", "attrs");
  static tvm::ffi::reflection::FieldGetter dict("ir.DictAttrs", "__dict__");
  auto a = attrs(func).cast<tvm::ffi::Optional<ObjectRef>>();
  if (!a.has_value()) return "";
  auto map = dict(*a).cast<Map<String, Any>>();
  auto it = map.find("global_symbol");
  return it == map.end() ? "" : std::string((*it).second.cast<String>());
}

// The global RunCodegen calls: (functions, options, constant names) -> modules, calling the
// extension's codegen once per function, so that a failure names the function.
Function MakeCodegenEntry(const std::string& claimed, const std::string& label, Function codegen) {
  return Function::FromTyped([claimed, label, codegen](Array<ObjectRef> functions,
                                                       Map<String, Any> options,
                                                       Any) -> Array<tvm::ffi::Module> {
    Array<tvm::ffi::Module> out;
    for (const ObjectRef& func : functions) {
      const std::string symbol = GlobalSymbol(func);
      const std::string what =
          "codegen " + claimed + " of " + label + " failed for function '" + symbol + "': ";
      tvm::ffi::Module mod =
          Guarded(what, [&] { return codegen(func, options).cast<tvm::ffi::Module>(); });
      if (!mod->ImplementsFunction(symbol, /*query_imports=*/true)) {
        throw tvm::ffi::Error(error_kind::kRuntime,
                              what + "the module it returned has no function '" + symbol +
                                  "', which the compiled program calls",
                              "");
      }
      out.push_back(mod);
    }
    return out;
  });
}

class AppliedCodegen : public Applied {
 public:
  AppliedCodegen(std::string claimed, Function entry, Array<ObjectRef> patterns,
                 AppliedCodegen* displaced)
      : claimed_(std::move(claimed)),
        entry_(std::move(entry)),
        patterns_(std::move(patterns)),
        displaced_(displaced) {}

  // Sets the global and registers the patterns; undoes its part and throws on failure.
  void Install() {
    static Function register_patterns =
        Function::GetGlobalRequired("relax.backend.RegisterPatterns");
    global_table::Set(claimed_, entry_, /*allow_override=*/false);
    try {
      // TVM's table answers the newest first: registered last to first, the patterns are
      // tried in the order the spec declares them.
      register_patterns(Array<ObjectRef>(patterns_.rbegin(), patterns_.rend()));
    } catch (...) {
      global_table::Remove(claimed_);
      throw;
    }
  }
  void Uninstall() {
    static Function remove_patterns = Function::GetGlobalRequired("relax.backend.RemovePatterns");
    try {
      Array<String> names;
      for (const ObjectRef& p : patterns_) names.push_back(PatternName(p));
      remove_patterns(names);
      std::optional<Function> current = Function::GetGlobal(claimed_);
      if (current.has_value() && current->same_as(entry_)) global_table::Remove(claimed_);
    } catch (...) {
      // Retire does not throw.
    }
  }

  void Retire(bool restore) override {
    if (handed_over_) return;  // a reload's new build serves the codegen now
    Uninstall();
    if (restore && displaced_ != nullptr) displaced_->TakeBack();
  }
  void Settle() override { displaced_ = nullptr; }

  // A reload's new build takes the codegen over.
  void HandOver() {
    Uninstall();
    handed_over_ = true;
  }
  // The new build was refused: this build's codegen and patterns come back.
  void TakeBack() {
    handed_over_ = false;
    try {
      Install();
    } catch (...) {
      // Retire does not throw; the codegen stays unregistered.
    }
  }

 private:
  std::string claimed_;
  Function entry_;
  Array<ObjectRef> patterns_;
  AppliedCodegen* displaced_;
  bool handed_over_ = false;
};

class PendingCodegen : public Pending {
 public:
  PendingCodegen(std::string claimed, Function entry, Array<ObjectRef> patterns,
                 AppliedCodegen* displaced)
      : claimed_(std::move(claimed)),
        entry_(std::move(entry)),
        patterns_(std::move(patterns)),
        displaced_(displaced) {}
  std::unique_ptr<Applied> Commit() override {
    if (displaced_ != nullptr) displaced_->HandOver();
    auto applied = std::make_unique<AppliedCodegen>(claimed_, entry_, patterns_, displaced_);
    try {
      applied->Install();
    } catch (...) {
      if (displaced_ != nullptr) displaced_->TakeBack();
      throw;
    }
    return applied;
  }

 private:
  std::string claimed_;
  Function entry_;
  Array<ObjectRef> patterns_;
  AppliedCodegen* displaced_;
};

class CodegenKindImpl : public Kind {
 public:
  const char* name() const override { return "codegen"; }
  bool ClaimsForeignNames() const override { return true; }

  void Plan(const Transaction& tx, const RegistrationRecord& reg,
            std::vector<Problem>* problems) const override {
    const std::string codegen = CodegenName(reg.name);
    if (codegen.empty()) {
      problems->push_back({error_kind::kExtensionLoad,
                           "the codegen '" + reg.name + "' (" + reg.source +
                               ") is not named relax.ext.<name> with a name without dots"});
      return;
    }
    if (tx.replaced_owns(reg.name)) return;  // the build a reload replaces: taken over
    const std::string owner = tx.owner_of(reg.name);
    if (!owner.empty()) {
      problems->push_back({error_kind::kDuplicateRegistration,
                           "the codegen '" + reg.name + "' is already registered by " + owner +
                               "; " + tx.label + " claims it again at " + reg.source});
      return;
    }
    Array<ObjectRef> taken = PatternsWithPrefix(codegen + ".");
    if (!taken.empty()) {
      std::string names;
      for (const ObjectRef& p : taken)
        names += (names.empty() ? "'" : ", '") + PatternName(p) + "'";
      problems->push_back(
          {error_kind::kDuplicateRegistration,
           "TVM's pattern table already has patterns of the codegen '" + codegen + "' (" + names +
               "), registered outside tvm-extend (Python's register_patterns or a library); " +
               tx.label + " claims '" + reg.name + "' at " + reg.source});
    }
  }

  std::unique_ptr<Pending> Prepare(const Transaction& tx, const RegistrationRecord& reg,
                                   Function created,
                                   std::vector<Problem>* problems) const override {
    static Function make_pattern = Function::GetGlobalRequired("relax.transform.FusionPattern");
    const std::string codegen = CodegenName(reg.name);
    const std::string where = "the codegen '" + reg.name + "' (" + reg.source + ") ";
    auto spec = created().cast<Map<String, Any>>();
    auto fn = spec["codegen"].cast<tvm::ffi::Optional<Function>>();
    if (!fn.has_value()) {
      problems->push_back(
          {error_kind::kExtensionLoad, where + "has no codegen function (CodegenSpec::codegen)"});
      return nullptr;
    }
    Array<ObjectRef> patterns;
    for (const auto& p : spec["patterns"].cast<Array<Map<String, Any>>>()) {
      const std::string name = codegen + "." + std::string(p["name"].cast<String>());
      auto check = p["check"].cast<tvm::ffi::Optional<Function>>();
      if (check.has_value()) {
        check = GuardCalls("pattern check " + name + " of " + tx.label + " failed: ", *check);
      }
      patterns.push_back(
          make_pattern(name, p["pattern"], p["annotations"], check, tvm::ffi::Optional<Function>())
              .cast<ObjectRef>());
    }
    return std::make_unique<PendingCodegen>(
        reg.name, MakeCodegenEntry(reg.name, tx.label, *fn), std::move(patterns),
        dynamic_cast<AppliedCodegen*>(tx.replaced_applied(reg.name)));
  }
};

}  // namespace

const Kind& CodegenKind() {
  static CodegenKindImpl kind;
  return kind;
}

}  // namespace loader
}  // namespace tvm_extend
