/*!
 * \file src/extension/kind_function.cc
 * \brief Global functions and pass factories: a name in TVM's global table, guarded so that any
 *        exception from the extension's code becomes an error that names the function.
 */
#include <tvm_extend/extension/abi.h>
#include <tvm_extend/extension/errors.h>

#include <optional>
#include <string>
#include <utility>

#include "global_table.h"
#include "kind.h"

namespace tvm_extend {
namespace loader {
namespace {

using tvm::ffi::Function;

class AppliedFunction : public Applied {
 public:
  AppliedFunction(std::string name, Function mine, std::optional<Function> displaced)
      : name_(std::move(name)), mine_(std::move(mine)), displaced_(std::move(displaced)) {}
  void Retire(bool restore) override {
    std::optional<Function> current = Function::GetGlobal(name_);
    if (!current.has_value() || !current->same_as(mine_)) return;  // someone else's now
    if (restore && displaced_.has_value()) {
      global_table::Set(name_, *displaced_, true);
    } else {
      global_table::Remove(name_);
    }
  }
  void Settle() override { displaced_.reset(); }

 private:
  std::string name_;
  Function mine_;
  std::optional<Function> displaced_;
};

class PendingFunction : public Pending {
 public:
  PendingFunction(std::string name, Function f, bool replaces)
      : name_(std::move(name)), f_(std::move(f)), replaces_(replaces) {}
  std::unique_ptr<Applied> Commit() override {
    std::optional<Function> displaced =
        replaces_ ? Function::GetGlobal(name_) : std::optional<Function>();
    global_table::Set(name_, f_, displaced.has_value());
    return std::make_unique<AppliedFunction>(name_, f_, std::move(displaced));
  }

 private:
  std::string name_;
  Function f_;
  bool replaces_;
};

class GlobalFunctionKind : public Kind {
 public:
  explicit GlobalFunctionKind(const char* name) : name_(name) {}
  const char* name() const override { return name_; }
  void Plan(const Transaction& tx, const RegistrationRecord& reg,
            std::vector<Problem>* problems) const override {
    PlanOwnedName(tx, reg, "global name", problems);
  }
  std::unique_ptr<Pending> Prepare(const Transaction& tx, const RegistrationRecord& reg,
                                   Function created, std::vector<Problem>*) const override {
    return std::make_unique<PendingFunction>(
        reg.name, GuardCalls("function " + reg.name + " failed: ", std::move(created)),
        tx.replaced_owns(reg.name));
  }

 private:
  const char* name_;
};

}  // namespace

void PlanOwnedName(const Transaction& tx, const RegistrationRecord& reg, const char* what,
                   std::vector<Problem>* problems) {
  if (tx.replaced_owns(reg.name)) return;
  std::string owner = tx.owner_of(reg.name);
  if (owner.empty()) return;
  problems->push_back(
      {error_kind::kDuplicateRegistration, std::string("the ") + what + " '" + reg.name +
                                               "' is already registered by " + owner + "; " +
                                               tx.label + " registers it again at " + reg.source});
}

Function GuardCalls(std::string what, Function f) {
  return Function::FromPacked(
      [f = std::move(f), what = std::move(what)](tvm::ffi::PackedArgs args, tvm::ffi::Any* rv) {
        Guarded(what, [&] { f.CallPacked(args, rv); });
      });
}

const Kind& FunctionKind() {
  static GlobalFunctionKind kind("function");
  return kind;
}

const Kind& PrimFuncPassKind() {
  static GlobalFunctionKind kind("prim_func_pass");
  return kind;
}

const Kind* KindFor(int32_t abi_kind) {
  switch (abi_kind) {
    case kTVMExtendFunction:
      return &FunctionKind();
    case kTVMExtendPrimFuncPass:
      return &PrimFuncPassKind();
    case kTVMExtendOp:
      return &OpKind();
    case kTVMExtendBackend:
      return &BackendKind();
    case kTVMExtendOpOverride:
      return &OpOverrideKind();
    case kTVMExtendObjectType:
      return &ObjectTypeKind();
    case kTVMExtendPassConfig:
      return &PassConfigKind();
    case kTVMExtendRelaxOp:
      return &RelaxOpKind();
    case kTVMExtendCodegen:
      return &CodegenKind();
    default:
      return nullptr;
  }
}

}  // namespace loader
}  // namespace tvm_extend
