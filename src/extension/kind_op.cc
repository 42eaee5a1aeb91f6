/*!
 * \file src/extension/kind_op.cc
 * \brief TIR and Relax ops: registered through TVM's own op functions, their attributes reset
 *        on retire.
 *
 * TVM cannot delete an op, so an op whose extension was unloaded stays known to TVM without the
 * attributes the extension set, and only an extension of the same name may register it again.
 * A Relax op is the same registration with other attributes (FInferType, FPurity, FLegalize,
 * FCallPacked) and named arguments; its callbacks are guarded so that an error names the op and
 * the call.
 */
#include <tvm/ffi/container/array.h>
#include <tvm/ffi/container/map.h>
#include <tvm/ffi/string.h>
#include <tvm_extend/abi/global.h>
#include <tvm_extend/extension/errors.h>

#include <exception>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "kind.h"

namespace tvm_extend {
namespace loader {
namespace {

using tvm::ffi::Any;
using tvm::ffi::Function;
using tvm::ffi::Map;
using tvm::ffi::String;

// op name -> the extension that registered it and was unloaded (TVM keeps the op).
std::map<std::string, std::string>& ReleasedOps() {
  static auto* released = new std::map<std::string, std::string>();
  return *released;
}

std::set<std::string> OpNames() {
  static Function list = Function::GetGlobalRequired("ir.ListOpNames");
  std::set<std::string> out;
  for (const String& name : list().cast<tvm::ffi::Array<String>>()) out.insert(name);
  return out;
}

Function RegisterLowering() {
  // tirx.* since TVM 0.27, ir.* before: the rename table knows both.
  return abi::RequireGlobal("tirx.RegisterOpLowerIntrinsic", "an op's lowering");
}

struct OpSpecData {
  std::string description;
  int64_t num_inputs = -1;
  Map<String, Any> attrs;
  Map<String, Function> lowerings;
  /*! \brief (name, type, description) of each argument; TVM keeps them with the op. */
  tvm::ffi::Array<tvm::ffi::Array<String>> arguments;
};

class AppliedOp : public Applied {
 public:
  AppliedOp(std::string name, std::string extension, OpSpecData spec, AppliedOp* displaced)
      : name_(std::move(name)),
        extension_(std::move(extension)),
        spec_(std::move(spec)),
        displaced_(displaced) {}

  // Sets the spec's attributes and lowerings; on failure resets what it set and throws.
  void Apply() {
    static Function get_op = Function::GetGlobalRequired("ir.GetOp");
    static Function set_num_inputs = Function::GetGlobalRequired("ir.OpSetNumInputs");
    static Function register_attr = Function::GetGlobalRequired("ir.RegisterOpAttr");
    static Function register_lowering = RegisterLowering();
    try {
      if (spec_.num_inputs >= 0) set_num_inputs(get_op(name_), spec_.num_inputs);
      for (const auto& [key, value] : spec_.attrs) {
        register_attr(name_, key, value, int64_t{10});
        keys_.push_back(key);
      }
      for (const auto& [target, lowering] : spec_.lowerings) {
        register_lowering(name_, lowering, target, int64_t{10});
        keys_.push_back(std::string(target) + ".FLowerIntrinsic");
      }
    } catch (...) {
      Reset();
      throw;
    }
  }

  // Resets every attribute this build set.
  void Reset() {
    static Function get_op = Function::GetGlobalRequired("ir.GetOp");
    static Function reset = Function::GetGlobalRequired("ir.OpResetAttr");
    if (keys_.empty()) return;
    Any op = get_op(name_);
    for (const std::string& key : keys_) reset(op, key);
    keys_.clear();
  }

  void Retire(bool restore) override {
    if (handed_over_) return;  // a reload's new build owns the op now
    Reset();
    if (restore && displaced_ != nullptr) {
      displaced_->TakeBack();
    } else {
      ReleasedOps()[name_] = extension_;
    }
  }
  void Settle() override { displaced_ = nullptr; }

  // A reload's new build takes the op over: this build's attributes go first.
  void HandOver() {
    Reset();
    handed_over_ = true;
  }
  // The new build was refused: this build's attributes come back.
  void TakeBack() {
    handed_over_ = false;
    Apply();
  }

 private:
  std::string name_;
  std::string extension_;
  OpSpecData spec_;
  AppliedOp* displaced_;
  std::vector<std::string> keys_;
  bool handed_over_ = false;
};

class PendingOp : public Pending {
 public:
  PendingOp(std::string name, std::string extension, OpSpecData spec, AppliedOp* displaced)
      : name_(std::move(name)),
        extension_(std::move(extension)),
        spec_(std::move(spec)),
        displaced_(displaced) {}
  std::unique_ptr<Applied> Commit() override {
    static Function register_op = Function::GetGlobalRequired("ir.RegisterOp");
    static Function get_op = Function::GetGlobalRequired("ir.GetOp");
    static Function add_argument = Function::GetGlobalRequired("ir.OpAddArgument");
    if (displaced_ != nullptr) displaced_->HandOver();
    try {
      if (!OpNames().count(name_)) {
        register_op(name_, String(spec_.description));
        // TVM cannot remove an argument: an op registered again keeps its first ones.
        Any op = get_op(name_);
        for (const auto& arg : spec_.arguments) add_argument(op, arg[0], arg[1], arg[2]);
      }
      auto applied = std::make_unique<AppliedOp>(name_, extension_, spec_, displaced_);
      applied->Apply();
      ReleasedOps().erase(name_);
      return applied;
    } catch (...) {
      if (displaced_ != nullptr) displaced_->TakeBack();
      throw;
    }
  }

 private:
  std::string name_;
  std::string extension_;
  OpSpecData spec_;
  AppliedOp* displaced_;
};

// The plan both kinds share: the op's name must be free (or released by this extension).
class OpKindBase : public Kind {
 public:
  void Plan(const Transaction& tx, const RegistrationRecord& reg,
            std::vector<Problem>* problems) const override {
    if (tx.replaced_owns(reg.name) || !OpNames().count(reg.name)) return;
    auto released = ReleasedOps().find(reg.name);
    const bool released_by_us =
        released != ReleasedOps().end() && released->second == tx.record.name;
    if (released_by_us) return;
    std::string owner = tx.owner_of(reg.name);
    if (owner.empty()) {
      owner = released != ReleasedOps().end()
                  ? "extension '" + released->second + "' (unloaded; TVM cannot delete an op)"
                  : "TVM or a library outside tvm-extend";
    }
    const char* what = std::string(name()) == "relax_op" ? "the Relax op '" : "the op '";
    problems->push_back({error_kind::kDuplicateRegistration,
                         what + reg.name + "' is already registered by " + owner + "; " + tx.label +
                             " registers it again at " + reg.source});
  }
};

class OpKindImpl : public OpKindBase {
 public:
  const char* name() const override { return "op"; }
  std::unique_ptr<Pending> Prepare(const Transaction& tx, const RegistrationRecord& reg,
                                   Function created, std::vector<Problem>*) const override {
    auto map = created().cast<Map<String, Any>>();
    OpSpecData spec;
    spec.description = map["description"].cast<String>();
    spec.num_inputs = map["num_inputs"].cast<int64_t>();
    spec.attrs = map["attrs"].cast<Map<String, Any>>();
    for (const auto& [target, lowering] : map["lowerings"].cast<Map<String, Function>>()) {
      spec.lowerings.Set(target, GuardCalls("lowering op " + reg.name + " for target '" +
                                                std::string(target) + "' failed: ",
                                            lowering));
    }
    return std::make_unique<PendingOp>(reg.name, tx.record.name, std::move(spec),
                                       dynamic_cast<AppliedOp*>(tx.replaced_applied(reg.name)));
  }
};

// TVM 0.27 calls struct info "type": the inference attribute is FInferType there and
// FInferStructInfo before. The key TVM's own Relax ops use is the one TVM reads.
std::string InferTypeKey() {
  static Function get_op = Function::GetGlobalRequired("ir.GetOp");
  static Function has_attr = Function::GetGlobalRequired("ir.OpHasAttr");
  return has_attr(get_op("relax.add"), "FInferType").cast<bool>() ? "FInferType"
                                                                  : "FInferStructInfo";
}

// The call as TVMScript, shortened, for an error message; never throws.
std::string DescribeCall(const tvm::ffi::AnyView& call) {
  try {
    static Function repr = Function::GetGlobalRequired("ffi.ReprPrint");
    std::string text = repr(call).cast<String>();
    if (text.size() > 240) text = text.substr(0, 240) + "...";
    return text;
  } catch (...) {
    return "a call it cannot print";
  }
}

// `f`, with whatever it throws turned into an error that starts "<what> failed for <call>: ";
// argument `call_index` is the call.
Function GuardOpCallback(std::string what, Function f, int call_index) {
  return Function::FromPacked(
      [f = std::move(f), what = std::move(what), call_index](tvm::ffi::PackedArgs args, Any* rv) {
        try {
          f.CallPacked(args, rv);
        } catch (...) {
          std::exception_ptr thrown = std::current_exception();
          std::string call = call_index < args.size() ? DescribeCall(args[call_index]) : "?";
          Guarded(what + " failed for " + call + ": ", [&] { std::rethrow_exception(thrown); });
        }
      });
}

class RelaxOpKindImpl : public OpKindBase {
 public:
  const char* name() const override { return "relax_op"; }
  std::unique_ptr<Pending> Prepare(const Transaction& tx, const RegistrationRecord& reg,
                                   Function created,
                                   std::vector<Problem>* problems) const override {
    auto map = created().cast<Map<String, Any>>();
    const std::string where = "the Relax op '" + reg.name + "' (" + reg.source + ") ";
    OpSpecData spec;
    spec.description = map["description"].cast<String>();
    spec.arguments = map["inputs"].cast<tvm::ffi::Array<tvm::ffi::Array<String>>>();
    if (!spec.arguments.empty()) spec.num_inputs = static_cast<int64_t>(spec.arguments.size());
    spec.attrs = map["attrs"].cast<Map<String, Any>>();
    auto infer = map["infer_type"].cast<tvm::ffi::Optional<Function>>();
    if (!infer.has_value()) {
      problems->push_back({error_kind::kExtensionLoad,
                           where + "has no type inference (RelaxOpSpec::infer_type): TVM's "
                                   "normalizer needs it for every call of the op"});
      return nullptr;
    }
    spec.attrs.Set(InferTypeKey(),
                   GuardOpCallback("type inference of Relax op " + reg.name, *infer, 0));
    if (auto pure = map["pure"].cast<tvm::ffi::Optional<bool>>()) spec.attrs.Set("FPurity", *pure);
    if (auto legalize = map["legalize"].cast<tvm::ffi::Optional<Function>>()) {
      spec.attrs.Set("FLegalize",
                     GuardOpCallback("legalization of Relax op " + reg.name, *legalize, 1));
    }
    const std::string packed = map["call_packed"].cast<String>();
    if (!packed.empty()) {
      bool own = false;
      for (const RegistrationRecord& r : tx.record.registrations) {
        own = own || (r.name == packed && r.kind == "function");
      }
      if (!own && !Function::GetGlobal(packed).has_value()) {
        problems->push_back({error_kind::kExtensionLoad,
                             where + "lowers to a call of '" + packed +
                                 "' (call_packed), but neither TVM nor the extension has a "
                                 "global function of that name"});
        return nullptr;
      }
      spec.attrs.Set("FCallPacked", String(packed));
    }
    // TVMScript prints an op outside TVM's `relax.` namespace through the TIR printer, which
    // warns on every print without this attribute.
    if (!spec.attrs.count("TScriptPrinterName")) spec.attrs.Set("TScriptPrinterName", reg.name);
    return std::make_unique<PendingOp>(reg.name, tx.record.name, std::move(spec),
                                       dynamic_cast<AppliedOp*>(tx.replaced_applied(reg.name)));
  }
};

}  // namespace

const Kind& OpKind() {
  static OpKindImpl kind;
  return kind;
}

const Kind& RelaxOpKind() {
  static RelaxOpKindImpl kind;
  return kind;
}

}  // namespace loader
}  // namespace tvm_extend
