/*!
 * \file src/extension/kind_backend.cc
 * \brief Code generators: checked against TVM's target kinds and code generators, then put in
 *        the run-time table of src/backend/dispatch.h.
 */
#include <tvm/ffi/container/array.h>
#include <tvm/ffi/container/map.h>
#include <tvm/ffi/string.h>
#include <tvm_extend/abi/version.h>
#include <tvm_extend/extension/errors.h>

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "../backend/dispatch.h"
#include "global_table.h"
#include "kind.h"

namespace tvm_extend {
namespace loader {
namespace {

using tvm::ffi::Any;
using tvm::ffi::Function;
using tvm::ffi::Map;
using tvm::ffi::String;

class AppliedBackend : public Applied {
 public:
  AppliedBackend(std::string name, Function build, std::optional<backend::Entry> displaced)
      : name_(std::move(name)), build_(std::move(build)), displaced_(std::move(displaced)) {}
  void Retire(bool restore) override {
    std::optional<backend::Entry> current = backend::Find(name_);
    if (!current.has_value() || !current->build.same_as(build_)) return;
    if (restore && displaced_.has_value()) {
      backend::Install(name_, *displaced_);
    } else {
      backend::Remove(name_);
    }
  }
  void Settle() override { displaced_.reset(); }

 private:
  std::string name_;
  Function build_;
  std::optional<backend::Entry> displaced_;
};

class PendingBackend : public Pending {
 public:
  PendingBackend(std::string name, backend::Entry entry, bool replaces)
      : name_(std::move(name)), entry_(std::move(entry)), replaces_(replaces) {}
  std::unique_ptr<Applied> Commit() override {
    std::optional<backend::Entry> displaced =
        replaces_ ? backend::Find(name_) : std::optional<backend::Entry>();
    backend::Install(name_, entry_);
    return std::make_unique<AppliedBackend>(name_, entry_.build, std::move(displaced));
  }

 private:
  std::string name_;
  backend::Entry entry_;
  bool replaces_;
};

class BackendKindImpl : public Kind {
 public:
  const char* name() const override { return "backend"; }
  void Plan(const Transaction& tx, const RegistrationRecord& reg,
            std::vector<Problem>* problems) const override {
    PlanOwnedName(tx, reg, "backend name", problems);
  }

  std::unique_ptr<Pending> Prepare(const Transaction& tx, const RegistrationRecord& reg,
                                   Function created,
                                   std::vector<Problem>* problems) const override {
    static Function list_kinds = Function::GetGlobalRequired("target.ListTargetKinds");
    auto spec = created().cast<Map<String, Any>>();
    backend::Entry entry;
    entry.kind = spec["target_kind"].cast<String>();
    entry.description = spec["description"].cast<String>();
    entry.owner = tx.label;
    entry.host_memory = spec["host_memory"].cast<bool>();
    const std::string where = "the backend '" + reg.name + "' (" + reg.source + ") ";
    auto refuse = [&](const char* kind, const std::string& why) {
      problems->push_back({kind, where + why});
      return nullptr;
    };
    auto build = spec["build"].cast<tvm::ffi::Optional<Function>>();
    if (!build.has_value()) return refuse(error_kind::kExtensionLoad, "has no build function");
    entry.build = *build;
    if (auto loader = spec["load_from_bytes"].cast<tvm::ffi::Optional<Function>>()) {
      entry.load_from_bytes =
          GuardCalls("loading a module of backend '" + reg.name + "' failed: ", *loader);
    }
    std::vector<std::string> kinds;
    for (const String& k : list_kinds().cast<tvm::ffi::Array<String>>()) kinds.push_back(k);
    if (std::find(kinds.begin(), kinds.end(), entry.kind) == kinds.end()) {
      return refuse(error_kind::kExtensionLoad,
                    "serves the target kind '" + entry.kind + "', which TVM " +
                        abi::RunningTVMVersion() +
                        " does not know. Known kinds: " + backend::QuotedList(kinds, "none") + ".");
    }
    const std::string build_name = "target.build." + entry.kind;
    if (std::optional<Function> existing = Function::GetGlobal(build_name)) {
      std::string owner = global_table::DescribeLiveOwner(build_name, *existing);
      if (owner.rfind("the tvm-extend core", 0) != 0) {
        return refuse(error_kind::kDuplicateRegistration,
                      "serves the target kind '" + entry.kind + "', but " + build_name +
                          " is already registered by " + owner +
                          ". An extension serves a kind TVM has no code generator for, such as "
                          "'ext_dev'.");
      }
    }
    if (entry.load_from_bytes.has_value()) {
      const std::string loader = backend::ModuleLoaderName(reg.name);
      std::optional<Function> taken = Function::GetGlobal(loader);
      std::optional<backend::Entry> own = backend::Find(reg.name);
      bool ours = own.has_value() && own->load_from_bytes.has_value() && taken.has_value() &&
                  taken->same_as(*own->load_from_bytes);
      if (taken.has_value() && !ours) {
        return refuse(error_kind::kDuplicateRegistration,
                      "loads its modules through " + loader + ", which is already registered by " +
                          global_table::DescribeLiveOwner(loader, *taken) + ".");
      }
    }
    for (const auto& option : spec["options"].cast<tvm::ffi::Array<tvm::ffi::Array<String>>>()) {
      entry.options[option[0]] = {option[1], option[2]};
    }
    return std::make_unique<PendingBackend>(reg.name, std::move(entry), tx.replaced_owns(reg.name));
  }
};

}  // namespace

const Kind& BackendKind() {
  static BackendKindImpl kind;
  return kind;
}

}  // namespace loader
}  // namespace tvm_extend
