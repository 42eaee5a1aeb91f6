/*!
 * \file src/extension/kind_object.cc
 * \brief Object types: a type key checked against every registered type and the other
 *        extensions, then registered through tvm-ffi's reflection by the extension's own code.
 *
 * tvm-ffi cannot unregister a type, so a type outlives its extension's unload. The loader
 * remembers which extension registered it and with which layout: the same extension may load
 * again (a reload, a load after unload) and reuse it unchanged; a changed layout is refused.
 */
#include <tvm/ffi/c_api.h>
#include <tvm/ffi/container/array.h>
#include <tvm/ffi/container/map.h>
#include <tvm/ffi/string.h>
#include <tvm_extend/extension/errors.h>

#include <map>
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

struct RegisteredType {
  std::string extension;  // the extension's name
  std::string label;      // the extension as in messages, when it registered the type
  std::vector<std::string> layout;
};

// type key -> who registered it through the loader. Never shrinks: types outlive unload.
std::map<std::string, RegisteredType>& Types() {
  static auto* types = new std::map<std::string, RegisteredType>();
  return *types;
}

bool TypeExists(const std::string& key, int32_t* index) {
  TVMFFIByteArray name{key.data(), key.size()};
  return TVMFFITypeKeyToIndex(&name, index) == 0;
}

std::string Describe(const std::vector<std::string>& layout) {
  std::string out;
  for (const std::string& item : layout) out += (out.empty() ? "" : "; ") + item;
  return "(" + out + ")";
}

class AppliedType : public Applied {
 public:
  // A type cannot be taken back; the loader keeps its record so the same extension reuses it.
  void Retire(bool) override {}
  void Settle() override {}
};

class PendingType : public Pending {
 public:
  PendingType(std::string key, RegisteredType record, std::optional<Function> do_register)
      : key_(std::move(key)), record_(std::move(record)), register_(std::move(do_register)) {}
  std::unique_ptr<Applied> Commit() override {
    if (register_.has_value()) (*register_)();
    Types()[key_] = record_;
    return std::make_unique<AppliedType>();
  }

 private:
  std::string key_;
  RegisteredType record_;
  std::optional<Function> register_;  // empty: the type is registered already, and unchanged
};

class ObjectTypeKindImpl : public Kind {
 public:
  const char* name() const override { return "object_type"; }

  void Plan(const Transaction& tx, const RegistrationRecord& reg,
            std::vector<Problem>* problems) const override {
    int32_t index = -1;
    if (!tx.type_existed(reg.name) || !TypeExists(reg.name, &index)) return;
    auto it = Types().find(reg.name);
    if (it != Types().end() && it->second.extension == tx.record.name) return;  // compared later
    std::string owner = it != Types().end() ? it->second.label
                                            : "TVM or a library outside tvm-extend (type index " +
                                                  std::to_string(index) + ")";
    problems->push_back({error_kind::kDuplicateRegistration,
                         "the object type '" + reg.name + "' is already registered by " + owner +
                             "; " + tx.label + " registers it again at " + reg.source});
  }

  std::unique_ptr<Pending> Prepare(const Transaction& tx, const RegistrationRecord& reg,
                                   Function created,
                                   std::vector<Problem>* problems) const override {
    auto spec = created().cast<Map<String, Any>>();
    RegisteredType record{tx.record.name, tx.label, {}};
    for (const String& item : spec["layout"].cast<tvm::ffi::Array<String>>()) {
      record.layout.push_back(item);
    }
    if (std::string(spec["type_key"].cast<String>()) != reg.name) {
      problems->push_back({error_kind::kExtensionLoad,
                           "the object type registered at " + reg.source + " declares type key '" +
                               std::string(spec["type_key"].cast<String>()) + "', not '" +
                               reg.name + "'"});
      return nullptr;
    }
    auto it = Types().find(reg.name);
    if (it == Types().end()) {
      Function do_register = GuardCalls("registering object type " + reg.name + " failed: ",
                                        spec["register"].cast<Function>());
      return std::make_unique<PendingType>(reg.name, std::move(record), do_register);
    }
    if (it->second.layout != record.layout) {
      problems->push_back(
          {error_kind::kExtensionLoad,
           "the object type '" + reg.name + "' (" + reg.source + ") changed its layout since " +
               it->second.label + " registered it in this process: it was " +
               Describe(it->second.layout) + ", it is now " + Describe(record.layout) +
               ". tvm-ffi cannot unregister a type, so the old layout stays for the life of the "
               "process: restart it to load the new layout"});
      return nullptr;
    }
    return std::make_unique<PendingType>(reg.name, std::move(record), std::nullopt);
  }
};

}  // namespace

const Kind& ObjectTypeKind() {
  static ObjectTypeKindImpl kind;
  return kind;
}

}  // namespace loader
}  // namespace tvm_extend
