/*!
 * \file src/extension/kind_override.cc
 * \brief Owned overrides of an attribute of one of TVM's existing ops (a lowering such as
 *        `llvm.FLowerIntrinsic` on `tirx.exp`, or any other key).
 *
 * The registration's name is "<op>[<attribute>]", outside the extension's prefix: the op is
 * TVM's. Plan refuses an op that does not exist, an op an extension registered (its extension
 * sets its attributes) and an (op, attribute) that another extension overrides, naming both.
 * Commit saves TVM's value and sets the extension's above TVM's priority level; retire puts the
 * saved value back exactly (at TVM's default level), or resets the attribute when TVM had none.
 */
#include <tvm/ffi/any.h>
#include <tvm/ffi/container/array.h>
#include <tvm/ffi/container/map.h>
#include <tvm/ffi/string.h>
#include <tvm_extend/abi/global.h>
#include <tvm_extend/extension/errors.h>

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

// Above the level TVM registers its own attributes at (10), so that setting an override
// replaces TVM's value without a moment where the op has none.
constexpr int64_t kOverrideLevel = 101;
// The level TVM's own values are put back at.
constexpr int64_t kTVMLevel = 10;
constexpr const char kLoweringSuffix[] = ".FLowerIntrinsic";

struct Target {
  std::string op;
  std::string attr;
};

// "tirx.exp[llvm.FLowerIntrinsic]" -> {"tirx.exp", "llvm.FLowerIntrinsic"}; false if malformed.
bool Split(const std::string& name, Target* out) {
  const size_t open = name.find('[');
  if (open == std::string::npos || open == 0 || name.size() < open + 3 || name.back() != ']') {
    return false;
  }
  out->op = name.substr(0, open);
  out->attr = name.substr(open + 1, name.size() - open - 2);
  return out->attr.find_first_of("[]") == std::string::npos;
}

bool IsLowering(const std::string& attr) {
  const size_t n = sizeof(kLoweringSuffix) - 1;
  return attr.size() > n && attr.compare(attr.size() - n, n, kLoweringSuffix) == 0;
}

bool OpExists(const std::string& op) {
  static Function list = Function::GetGlobalRequired("ir.ListOpNames");
  for (const String& name : list().cast<tvm::ffi::Array<String>>()) {
    if (name == op) return true;
  }
  return false;
}

// The op's value of `attr`, or None when it has none (TVM cannot tell a reset one from none).
Any ReadAttr(const Target& t) {
  static Function get_op = Function::GetGlobalRequired("ir.GetOp");
  static Function has_attr = Function::GetGlobalRequired("ir.OpHasAttr");
  static Function get_attr = Function::GetGlobalRequired("ir.OpGetAttr");
  Any op = get_op(t.op);
  if (!has_attr(op, t.attr).cast<bool>()) return Any();  // no op has this attribute
  return get_attr(op, t.attr);
}

void Register(const Target& t, const Any& value, int64_t level) {
  static Function register_attr = Function::GetGlobalRequired("ir.RegisterOpAttr");
  // tirx.* since TVM 0.27, ir.* before: the rename table knows both.
  static Function register_lowering =
      abi::FindGlobal("tirx.RegisterOpLowerIntrinsic").value_or(Function());
  if (IsLowering(t.attr) && register_lowering != nullptr) {
    const size_t n = sizeof(kLoweringSuffix) - 1;
    register_lowering(t.op, value, t.attr.substr(0, t.attr.size() - n), level);
  } else {
    register_attr(t.op, t.attr, value, level);
  }
}

void Reset(const Target& t) {
  static Function get_op = Function::GetGlobalRequired("ir.GetOp");
  static Function reset = Function::GetGlobalRequired("ir.OpResetAttr");
  reset(get_op(t.op), t.attr);
}

bool Holds(const Target& t, const Any& value) { return tvm::ffi::AnyEqual()(ReadAttr(t), value); }

// Makes `value` the op's attribute. TVM keeps the value of the highest level and refuses a
// second value at the same level, so when one is there at our level or above (an override being
// replaced on reload, or TVM's own at a higher level) it is reset first.
void Install(const Target& t, const Any& value) {
  try {
    Register(t, value, kOverrideLevel);
  } catch (const tvm::ffi::Error&) {
    // the same level is taken: handled below
  }
  if (Holds(t, value)) return;
  Reset(t);
  Register(t, value, kOverrideLevel);
}

// Puts TVM's value back as TVM had it (None: TVM had none).
void Restore(const Target& t, const Any& previous) {
  Reset(t);
  if (previous != nullptr) Register(t, previous, kTVMLevel);
}

class AppliedOverride : public Applied {
 public:
  AppliedOverride(Target target, Any mine, Any previous, AppliedOverride* displaced)
      : target_(std::move(target)),
        mine_(std::move(mine)),
        previous_(std::move(previous)),
        displaced_(displaced) {}

  void Retire(bool restore) override {
    if (handed_over_) return;  // a reload's new build owns the override now
    try {
      if (!Holds(target_, mine_)) return;  // someone else set it since: theirs stays
      if (restore && displaced_ != nullptr) {
        displaced_->TakeBack();
      } else {
        Restore(target_, previous_);
      }
    } catch (...) {
      // Retire does not throw; TVM refusing to put a value back leaves the attribute reset.
    }
  }
  void Settle() override { displaced_ = nullptr; }

  const Any& previous() const { return previous_; }
  // A reload's new build takes the override over and installs its own value over this one.
  void HandOver() { handed_over_ = true; }
  // The new build was refused: this build's value comes back.
  void TakeBack() {
    handed_over_ = false;
    Install(target_, mine_);
  }

 private:
  Target target_;
  Any mine_;
  Any previous_;
  AppliedOverride* displaced_;
  bool handed_over_ = false;
};

class PendingOverride : public Pending {
 public:
  PendingOverride(Target target, Any value, AppliedOverride* displaced)
      : target_(std::move(target)), value_(std::move(value)), displaced_(displaced) {}

  std::unique_ptr<Applied> Commit() override {
    // On reload TVM's value is the one the old build saved, not the old build's own.
    Any previous = displaced_ != nullptr ? displaced_->previous() : ReadAttr(target_);
    if (displaced_ != nullptr) displaced_->HandOver();
    try {
      Install(target_, value_);
    } catch (...) {
      if (displaced_ != nullptr) {
        displaced_->TakeBack();
      } else {
        Restore(target_, previous);
      }
      throw;
    }
    return std::make_unique<AppliedOverride>(target_, value_, previous, displaced_);
  }

 private:
  Target target_;
  Any value_;
  AppliedOverride* displaced_;
};

class OverrideKindImpl : public Kind {
 public:
  const char* name() const override { return "op_override"; }
  bool ClaimsForeignNames() const override { return true; }

  void Plan(const Transaction& tx, const RegistrationRecord& reg,
            std::vector<Problem>* problems) const override {
    Target t;
    if (!Split(reg.name, &t)) {
      problems->push_back({error_kind::kExtensionLoad,
                           "the op override '" + reg.name + "' (" + reg.source +
                               ") does not name an op and an attribute as 'op[attribute]'"});
      return;
    }
    if (!OpExists(t.op)) {
      problems->push_back({error_kind::kExtensionLoad,
                           "it overrides the attribute '" + t.attr + "' of the op '" + t.op +
                               "' (" + reg.source + "), but TVM has no op '" + t.op +
                               "'; an override changes one of TVM's existing ops (a new op is "
                               "TVM_EXTEND_REGISTER_OP under the extension's own name)"});
      return;
    }
    const std::string op_owner = tx.owner_of(t.op);
    if (op_owner.rfind("extension '", 0) == 0) {
      problems->push_back({error_kind::kDuplicateRegistration,
                           "it overrides the attribute '" + t.attr + "' of the op '" + t.op +
                               "' (" + reg.source + "), but that op belongs to " + op_owner +
                               ", which sets its attributes in its OpSpec"});
      return;
    }
    if (tx.replaced_owns(reg.name)) return;  // the build a reload replaces: taken over
    const std::string owner = tx.owner_of(reg.name);
    if (owner.empty()) return;
    problems->push_back({error_kind::kDuplicateRegistration,
                         "the attribute '" + t.attr + "' of the op '" + t.op +
                             "' is already overridden by " + owner + "; " + tx.label +
                             " overrides it again at " + reg.source});
  }

  std::unique_ptr<Pending> Prepare(const Transaction& tx, const RegistrationRecord& reg,
                                   Function created,
                                   std::vector<Problem>* problems) const override {
    Target t;
    Split(reg.name, &t);
    auto spec = created().cast<Map<String, Any>>();
    Any value = spec["value"];
    if (value == nullptr) {
      problems->push_back({error_kind::kExtensionLoad, "the op override '" + reg.name + "' (" +
                                                           reg.source + ") gives no value"});
      return nullptr;
    }
    if (auto f = value.as<Function>()) {
      value = GuardCalls("override " + reg.name + " of extension '" + tx.record.name + "' failed: ",
                         *f);
    } else if (IsLowering(t.attr)) {
      problems->push_back(
          {error_kind::kExtensionLoad, "the op override '" + reg.name + "' (" + reg.source +
                                           ") is a lowering, but its value is a " +
                                           value.GetTypeKey() + ", not a function"});
      return nullptr;
    }
    return std::make_unique<PendingOverride>(
        t, std::move(value), dynamic_cast<AppliedOverride*>(tx.replaced_applied(reg.name)));
  }
};

}  // namespace

const Kind& OpOverrideKind() {
  static OverrideKindImpl kind;
  return kind;
}

}  // namespace loader
}  // namespace tvm_extend
