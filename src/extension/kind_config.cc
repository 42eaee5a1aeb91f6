/*!
 * \file src/extension/kind_config.cc
 * \brief Pass config options: registered with TVM's PassContext, found at run time.
 *
 * TVM has no FFI function that registers a config option. Its compiler library exports the C++
 * static member tvm::transform::PassContext::RegisterConfigOption(const char*, ffi::String,
 * std::function<ffi::Any(ffi::Any)>), which this module finds at run time (the core is built
 * against tvm-ffi only): the library serving TVM's `transform.ListConfigs` (dladdr), reopened
 * with RTLD_NOLOAD, then dlsym of the mangled name. TVM aborts on a key registered twice and
 * cannot remove one, so every key is checked against `transform.ListConfigs` first, and an
 * option outlives its extension: a later load of the same extension reuses it if its type is
 * the same, and is refused naming both types if it changed.
 */
#include "kind_config.h"

#include <dlfcn.h>
#include <link.h>
#include <tvm/ffi/container/array.h>
#include <tvm/ffi/container/map.h>
#include <tvm/ffi/string.h>
#include <tvm_extend/abi/version.h>
#include <tvm_extend/config/config.h>
#include <tvm_extend/extension/errors.h>

#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "kind.h"

namespace tvm_extend {
namespace loader {
namespace {

using tvm::ffi::Any;
using tvm::ffi::Error;
using tvm::ffi::Function;
using tvm::ffi::Map;
using tvm::ffi::String;

using RegisterFn = void (*)(const char*, String, std::function<Any(Any)>);

// `nm -D libtvm_compiler.so` of apache-tvm 0.27 (g++ / Itanium ABI).
constexpr char kRegisterSymbol[] =
    "_ZN3tvm9transform11PassContext20RegisterConfigOptionEPKcNS_3ffi6StringESt8functionIFNS4_"
    "3AnyES7_EE";
constexpr char kRegisterSignature[] =
    "tvm::transform::PassContext::RegisterConfigOption(const char*, tvm::ffi::String, "
    "std::function<tvm::ffi::Any(tvm::ffi::Any)>)";

/*! \brief An option some extension registered with TVM (TVM keeps it for good). */
struct OptionRecord {
  /*! \brief The extension (by name) it belongs to; only that extension may register it again. */
  std::string extension;
  /*! \brief The build that registered it last, as in messages. */
  std::string label;
  std::string source;
  int32_t code = 0;
  Any default_value;
  std::string doc;
  /*! \brief The Applied of the build that owns it now; null once unloaded. */
  const Applied* holder = nullptr;
};

std::mutex& OptionsMutex() {
  static auto* mutex = new std::mutex();
  return *mutex;
}

// key -> the option, for every key tvm-extend registered with TVM in this process.
std::map<std::string, OptionRecord>& Options() {
  static auto* options = new std::map<std::string, OptionRecord>();
  return *options;
}

std::string WithArticle(const char* type) {
  return (std::strcmp(type, "int") == 0 ? "an " : "a ") + std::string(type);
}

/*! \brief TVM's registration function, or why it cannot be had. */
struct TVMConfigApi {
  std::optional<Function> list;
  RegisterFn register_option = nullptr;
  /*! \brief The library serving transform.ListConfigs: TVM's compiler library. */
  std::string library;
  std::string why_not;
};

const TVMConfigApi& ConfigApi() {
  static TVMConfigApi found;
  if (found.register_option != nullptr) return found;
  TVMConfigApi api;
  api.list = Function::GetGlobal("transform.ListConfigs");
  if (!api.list.has_value()) {
    api.why_not =
        "TVM's compiler library is not loaded in this process (there is no global "
        "function transform.ListConfigs)";
    return found = api;
  }
  const auto* cell = static_cast<const tvm::ffi::FunctionObj*>(api.list->get());
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(cell->safe_call), &info) == 0 || info.dli_fname == nullptr) {
    api.why_not = "tvm-extend cannot tell which library serves transform.ListConfigs";
    return found = api;
  }
  api.library = info.dli_fname;
  // The library is loaded already; this only takes a reference to it (never released).
  void* handle = dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD);
  void* symbol = handle != nullptr ? dlsym(handle, kRegisterSymbol) : nullptr;
  if (symbol == nullptr) {
    if (handle != nullptr) dlclose(handle);
    api.why_not = "the library serving its transform.ListConfigs (" + api.library +
                  ") does not export " + kRegisterSignature + " (symbol " + kRegisterSymbol + ")";
    return found = api;
  }
  api.register_option = reinterpret_cast<RegisterFn>(symbol);
  return found = api;
}

/*! \brief key -> type of every option TVM knows (`transform.ListConfigs`). */
std::map<std::string, std::string> TakenKeys(const TVMConfigApi& api) {
  std::map<std::string, std::string> out;
  auto configs = (*api.list)().cast<Map<String, Map<String, String>>>();
  for (const auto& [key, info] : configs) {
    auto type = info.find("type");
    out[key] = type != info.end() ? std::string((*type).second) : std::string("?");
  }
  return out;
}

/*! \brief True when `text` is a string constant of the loaded library `path` (read-only data). */
bool LibraryHasString(const std::string& path, const std::string& text) {
  struct Search {
    const std::string* path;
    std::string needle;
    bool found = false;
  } search{&path, std::string(1, '\0') + text + std::string(1, '\0')};
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) -> int {
        auto* s = static_cast<Search*>(data);
        if (info->dlpi_name == nullptr || *s->path != info->dlpi_name) return 0;
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr)& ph = info->dlpi_phdr[i];
          if (ph.p_type != PT_LOAD || ph.p_flags != PF_R) continue;  // read-only data only
          const void* start = reinterpret_cast<const void*>(info->dlpi_addr + ph.p_vaddr);
          if (memmem(start, ph.p_filesz, s->needle.data(), s->needle.size()) != nullptr) {
            s->found = true;
          }
        }
        return 1;
      },
      &search);
  return search.found;
}

/*! \brief Who registered `key`, which tvm-extend did not: TVM itself or another library. */
std::string OutsideOwner(const TVMConfigApi& api, const std::string& key) {
  if (LibraryHasString(api.library, key)) {
    return "TVM " + abi::RunningTVMVersion() + " (" + api.library + ")";
  }
  return "a library outside tvm-extend (through TVM's C++ PassContext::RegisterConfigOption; it "
         "is not one of TVM " +
         abi::RunningTVMVersion() + "'s own options)";
}

/*! \brief TVM's legalization: converts a value given in a PassContext, or refuses it. */
std::function<Any(Any)> Legalization(std::string key, int32_t code, std::string extension) {
  return [key = std::move(key), code, extension = std::move(extension)](Any value) -> Any {
    if (std::optional<Any> converted = config::Convert(code, value)) return *converted;
    throw Error(error_kind::kType,
                "pass config option '" + key + "' (of extension '" + extension + "') takes " +
                    WithArticle(config::TypeName(code)) + ", not " + config::DescribeValue(value),
                "");
  };
}

class AppliedConfig : public Applied {
 public:
  AppliedConfig(std::string key, std::optional<OptionRecord> previous)
      : key_(std::move(key)), previous_(std::move(previous)) {}
  // TVM keeps the option: retiring it only gives it up (or back to the build it displaced).
  void Retire(bool restore) override {
    std::lock_guard<std::mutex> lock(OptionsMutex());
    auto it = Options().find(key_);
    if (it == Options().end() || it->second.holder != this) return;  // a newer build's now
    if (restore && previous_.has_value()) {
      it->second = *previous_;
    } else {
      it->second.holder = nullptr;
    }
  }
  void Settle() override { previous_.reset(); }

 private:
  std::string key_;
  std::optional<OptionRecord> previous_;
};

class PendingConfig : public Pending {
 public:
  PendingConfig(const Transaction& tx, const RegistrationRecord& reg, int32_t code,
                Any default_value, std::string doc)
      : extension_(tx.record.name),
        label_(tx.label),
        key_(reg.name),
        source_(reg.source),
        code_(code),
        default_(std::move(default_value)),
        doc_(std::move(doc)) {}

  std::unique_ptr<Applied> Commit() override {
    const TVMConfigApi& api = ConfigApi();
    std::optional<OptionRecord> previous;
    {
      std::lock_guard<std::mutex> lock(OptionsMutex());
      auto it = Options().find(key_);
      if (it != Options().end()) previous = it->second;
    }
    if (!previous.has_value()) {
      if (api.register_option == nullptr) throw Error(error_kind::kExtensionLoad, api.why_not, "");
      // Checked again: TVM ends the process on a key registered twice.
      if (TakenKeys(api).count(key_)) {
        throw Error(error_kind::kDuplicateRegistration,
                    "the pass config option '" + key_ + "' was registered by " +
                        OutsideOwner(api, key_) + " while the load was under way",
                    "");
      }
      Guarded("TVM refused it: ", [&] {
        api.register_option(key_.c_str(), String(config::TypeName(code_)),
                            Legalization(key_, code_, extension_));
      });
    }
    auto applied = std::make_unique<AppliedConfig>(key_, previous);
    std::lock_guard<std::mutex> lock(OptionsMutex());
    Options()[key_] =
        OptionRecord{extension_, label_, source_, code_, default_, doc_, applied.get()};
    return applied;
  }

 private:
  std::string extension_, label_, key_, source_;
  int32_t code_;
  Any default_;
  std::string doc_;
};

class PassConfigKindImpl : public Kind {
 public:
  const char* name() const override { return "pass_config"; }

  void Plan(const Transaction& tx, const RegistrationRecord& reg,
            std::vector<Problem>* problems) const override {
    const char* type = config::TypeName(reg.opt_level);
    if (type == nullptr) {
      problems->push_back({error_kind::kExtensionLoad,
                           "the pass config option '" + reg.name + "' (" + reg.source +
                               ") has an unknown value type " + std::to_string(reg.opt_level) +
                               "; it was built with a newer tvm-extend"});
      return;
    }
    std::optional<OptionRecord> mine;
    {
      std::lock_guard<std::mutex> lock(OptionsMutex());
      auto it = Options().find(reg.name);
      if (it != Options().end()) mine = it->second;
    }
    if (mine.has_value()) {
      PlanKnown(tx, reg, type, *mine, problems);
      return;
    }
    const TVMConfigApi& api = ConfigApi();
    if (api.register_option == nullptr) {
      bool said = false;  // the reason once, then only the other options' names
      for (const Problem& p : *problems) said |= p.message.find(api.why_not) != std::string::npos;
      problems->push_back(
          {error_kind::kExtensionLoad,
           "the pass config option '" + reg.name + "' (" + reg.source + ") cannot be registered " +
               (said ? std::string("either")
                     : "with TVM " + abi::RunningTVMVersion() + ": " + api.why_not +
                           ". TVM has no FFI function that registers config options; tvm-extend "
                           "calls this C++ function, which TVM 0.27's compiler library exports")});
      return;
    }
    const std::map<std::string, std::string> taken_keys = TakenKeys(api);
    auto taken = taken_keys.find(reg.name);
    if (taken != taken_keys.end()) {
      problems->push_back(
          {error_kind::kDuplicateRegistration,
           "the pass config option '" + reg.name + "' is already registered by " +
               OutsideOwner(api, reg.name) + " as " + WithArticle(taken->second.c_str()) + "; " +
               tx.label + " registers it again at " + reg.source +
               " (TVM cannot remove or replace a config option: give it a name of its own)"});
    }
  }

  std::unique_ptr<Pending> Prepare(const Transaction& tx, const RegistrationRecord& reg,
                                   Function created,
                                   std::vector<Problem>* problems) const override {
    auto spec = created().cast<Map<String, Any>>();
    const int32_t code = static_cast<int32_t>(spec["code"].cast<int64_t>());
    std::optional<Any> default_value = config::Convert(code, spec["default"]);
    if (code != reg.opt_level || !default_value.has_value()) {
      problems->push_back(
          {error_kind::kExtensionLoad, "the pass config option '" + reg.name + "' (" + reg.source +
                                           ") has a default that is not " +
                                           WithArticle(config::TypeName(reg.opt_level)) + ": " +
                                           config::DescribeValue(spec["default"])});
      return nullptr;
    }
    if (code == kTVMExtendConfigString) {  // a copy of the core's: the record outlives the build
      default_value = Any(String(std::string(default_value->cast<String>())));
    }
    return std::make_unique<PendingConfig>(tx, reg, code, *default_value,
                                           std::string(spec["doc"].cast<String>()));
  }

 private:
  // `reg.name` was registered through tvm-extend before: by this extension (a reload, or a load
  // after an unload) it is reused if its type is the same; by another library, refused.
  static void PlanKnown(const Transaction& tx, const RegistrationRecord& reg, const char* type,
                        const OptionRecord& known, std::vector<Problem>* problems) {
    const bool replaced = tx.replaced_owns(reg.name);
    if (known.holder != nullptr && !replaced) {
      problems->push_back({error_kind::kDuplicateRegistration,
                           "the pass config option '" + reg.name + "' is already registered by " +
                               known.label + " (at " + known.source + "); " + tx.label +
                               " registers it again at " + reg.source});
      return;
    }
    if (known.extension != tx.record.name) {
      problems->push_back({error_kind::kDuplicateRegistration,
                           "the pass config option '" + reg.name + "' is already registered by " +
                               known.label + " (unloaded; TVM cannot remove a config option); " +
                               tx.label + " registers it again at " + reg.source});
      return;
    }
    if (known.code != reg.opt_level) {
      problems->push_back(
          {error_kind::kExtensionLoad,
           "the pass config option '" + reg.name + "' (" + reg.source + ") changed its type: " +
               known.label + " registered it as " + WithArticle(config::TypeName(known.code)) +
               " in this process, and " + tx.label + " declares it as " + WithArticle(type) +
               ". TVM cannot remove or change a config option, so it keeps its type until the "
               "process ends: keep the type, or give the option a new name"});
    }
  }
};

}  // namespace

const Kind& PassConfigKind() {
  static PassConfigKindImpl kind;
  return kind;
}

tvm::ffi::Array<tvm::ffi::Any> DescribeConfigOptions() {
  std::lock_guard<std::mutex> lock(OptionsMutex());
  tvm::ffi::Array<Any> out;
  for (const auto& [key, option] : Options()) {
    out.push_back(Map<String, Any>{{"name", String(key)},
                                   {"type", String(config::TypeName(option.code))},
                                   {"default", option.default_value},
                                   {"doc", String(option.doc)},
                                   {"extension", String(option.extension)},
                                   {"owner", String(option.label)},
                                   {"source", String(option.source)},
                                   {"active", option.holder != nullptr}});
  }
  return out;
}

}  // namespace loader
}  // namespace tvm_extend
