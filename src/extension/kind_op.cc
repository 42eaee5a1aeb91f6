/*!
 * \file src/extension/kind_op.cc
 * \brief TIR ops: registered through TVM's own op functions, their attributes reset on retire.
 *
 * TVM cannot delete an op, so an op whose extension was unloaded stays known to TVM without the
 * attributes the extension set, and only an extension of the same name may register it again.
 */
#include <tvm/ffi/container/array.h>
#include <tvm/ffi/container/map.h>
#include <tvm/ffi/string.h>
#include <tvm_extend/abi/global.h>
#include <tvm_extend/extension/errors.h>

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
    if (displaced_ != nullptr) displaced_->HandOver();
    try {
      if (!OpNames().count(name_)) register_op(name_, String(spec_.description));
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

class OpKindImpl : public Kind {
 public:
  const char* name() const override { return "op"; }
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
    problems->push_back({error_kind::kDuplicateRegistration,
                         "the op '" + reg.name + "' is already registered by " + owner + "; " +
                             tx.label + " registers it again at " + reg.source});
  }
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

}  // namespace

const Kind& OpKind() {
  static OpKindImpl kind;
  return kind;
}

}  // namespace loader
}  // namespace tvm_extend
