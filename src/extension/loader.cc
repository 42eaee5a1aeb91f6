/*!
 * \file src/extension/loader.cc
 * \brief The extension loader: version checks, name checks, all-or-nothing registration.
 */
#include <dlfcn.h>
#include <sys/stat.h>
#include <tvm/ffi/c_api.h>
#include <tvm/ffi/container/array.h>
#include <tvm/ffi/container/map.h>
#include <tvm/ffi/error.h>
#include <tvm/ffi/extra/module.h>
#include <tvm/ffi/function.h>
#include <tvm/ffi/string.h>
#include <tvm_extend/abi/version.h>
#include <tvm_extend/extension/abi.h>
#include <tvm_extend/extension/loader.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace tvm_extend {
namespace {

using tvm::ffi::Error;
using tvm::ffi::Function;

/*! \brief Identity of a library file, to notice a rebuilt file at an already mapped path. */
struct FileIdentity {
  dev_t device = 0;
  ino_t inode = 0;
  off_t size = 0;
  int64_t mtime_ns = 0;
  bool operator==(const FileIdentity& o) const {
    return device == o.device && inode == o.inode && size == o.size && mtime_ns == o.mtime_ns;
  }
};

struct LoadedExtension {
  ExtensionRecord record;
  void* handle = nullptr;
  FileIdentity file;
  /*! \brief The function objects this extension registered, to unregister only its own. */
  std::vector<Function> functions;
  /*! \brief op name -> the op attributes this extension set, to reset them on unload. */
  std::map<std::string, std::vector<std::string>> op_attrs;
};

/*! \brief A code generator an extension registered (tvm_extend/backend/backend.h). */
struct BackendEntry {
  std::string kind;
  std::string description;
  Function build;
  /*! \brief name -> (default value, doc). */
  std::map<std::string, std::pair<std::string, std::string>> options;
  /*! \brief ExtensionLabel of the owner, for error messages. */
  std::string owner;
  /*! \brief The kind's tensors live in host memory. */
  bool host_memory = false;
  /*! \brief Registered as ffi.Module.load_from_bytes.<name>, if given. */
  std::optional<Function> load_from_bytes;
};

std::string ModuleLoaderName(const std::string& backend) {
  return "ffi.Module.load_from_bytes." + backend;
}

struct LoaderState {
  std::mutex mutex;
  std::vector<std::unique_ptr<LoadedExtension>> loaded;
  /*! \brief global name -> index into loaded, for active registrations. */
  std::map<std::string, size_t> owner;
  /*! \brief op name -> extension that registered it and was unloaded (TVM keeps the op). */
  std::map<std::string, std::string> released_ops;
  /*! \brief backend name -> the backend, for the `target.build.<kind>` dispatchers. */
  std::map<std::string, BackendEntry> backends;
};

LoaderState& State() {
  static auto* state = new LoaderState();  // never destroyed: extensions outlive static dtors
  return *state;
}

[[noreturn]] void Fail(const char* kind, const std::string& message) {
  throw Error(kind, message, "");
}

std::string CanonicalPath(const std::string& path) {
  char buf[PATH_MAX];
  if (realpath(path.c_str(), buf) == nullptr) return path;
  return buf;
}

FileIdentity Identify(const struct stat& st) {
  FileIdentity id;
  id.device = st.st_dev;
  id.inode = st.st_ino;
  id.size = st.st_size;
  id.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  return id;
}

std::string ExtensionLabel(const ExtensionRecord& r) {
  return "extension '" + r.name + "' " + r.version + " (" + r.path + ")";
}

void RemoveGlobal(const std::string& name) {
  static Function remove = Function::GetGlobalRequired("ffi.FunctionRemoveGlobal");
  remove(name);
}

std::vector<std::string> ListGlobalNames() {
  static Function list = Function::GetGlobalRequired("ffi.FunctionListGlobalNamesFunctor");
  Function names = list().cast<Function>();
  int64_t count = names(int64_t{-1}).cast<int64_t>();
  std::vector<std::string> out;
  out.reserve(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) out.push_back(names(i).cast<tvm::ffi::String>());
  return out;
}

std::string OwnerOfLiveFunction(const std::string& global_name, const Function& f) {
  const auto* cell = static_cast<const tvm::ffi::FunctionObj*>(f.get());
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(cell->safe_call), &info) == 0 || !info.dli_fname) {
    return "a library that tvm-extend cannot identify";
  }
  std::string lib = info.dli_fname;
  std::string base = lib.substr(lib.find_last_of('/') + 1);
  if (base.rfind("libtvm_compiler", 0) == 0 || base.rfind("libtvm_runtime", 0) == 0 ||
      base.rfind("libtvm.", 0) == 0) {
    return "TVM " + abi::RunningTVMVersion() + " (" + lib + ")";
  }
  if (base.rfind("libtvm_extend", 0) == 0) return "the tvm-extend core (" + lib + ")";
  if (base.rfind("libtvm_ffi", 0) == 0 || base.rfind("core.", 0) == 0) {
    // Functions made through TVMFFIFunctionCreate (Python's register_global_func, other
    // language bindings) are cells of tvm-ffi itself.
    if (global_name.rfind("ffi.", 0) == 0) return "tvm-ffi (" + lib + ")";
    return "a Python function (or another binding's), registered through tvm-ffi's C API, "
           "e.g. with tvm_ffi.register_global_func";
  }
  return "the library " + lib + ", which registered it directly, outside tvm-extend";
}

std::string DescribeOwnerLocked(LoaderState& state, const std::string& name) {
  auto it = state.owner.find(name);
  if (it != state.owner.end()) return ExtensionLabel(state.loaded[it->second]->record);
  std::optional<Function> f = Function::GetGlobal(name);
  if (!f.has_value()) return "";
  return OwnerOfLiveFunction(name, *f);
}

const char* KindName(int32_t kind) {
  switch (kind) {
    case kTVMExtendFunction:
      return "function";
    case kTVMExtendPrimFuncPass:
      return "prim_func_pass";
    case kTVMExtendOp:
      return "op";
    case kTVMExtendBackend:
      return "backend";
    default:
      return nullptr;
  }
}

// The function `ext` registered under `name`, if it did.
std::optional<Function> OwnFunction(const LoadedExtension* ext, const std::string& name) {
  if (ext == nullptr) return std::nullopt;
  for (size_t i = 0; i < ext->record.registrations.size() && i < ext->functions.size(); ++i) {
    if (ext->record.registrations[i].name == name) return ext->functions[i];
  }
  return std::nullopt;
}

bool IsOp(const RegistrationRecord& reg) { return reg.kind == "op"; }
bool IsBackend(const RegistrationRecord& reg) { return reg.kind == "backend"; }
// Registrations the loader applies itself instead of putting a function into the global table.
bool IsApplied(const RegistrationRecord& reg) { return IsOp(reg) || IsBackend(reg); }

std::set<std::string> OpNames() {
  static Function list = Function::GetGlobalRequired("ir.ListOpNames");
  std::set<std::string> out;
  for (const tvm::ffi::String& name : list().cast<tvm::ffi::Array<tvm::ffi::String>>()) {
    out.insert(name);
  }
  return out;
}

void ResetOpAttrs(const std::map<std::string, std::vector<std::string>>& op_attrs) {
  static Function get_op = Function::GetGlobalRequired("ir.GetOp");
  static Function reset = Function::GetGlobalRequired("ir.OpResetAttr");
  for (const auto& [name, keys] : op_attrs) {
    tvm::ffi::Any op = get_op(name);
    for (const std::string& key : keys) reset(op, key);
  }
}

// Registers the ops of `record` (their specs are the created functions) through TVM's own
// functions; on failure, resets every attribute it set. Returns op name -> attributes set.
std::map<std::string, std::vector<std::string>> ApplyOps(const ExtensionRecord& record,
                                                         const std::vector<Function>& functions,
                                                         LoadedExtension* replacing) {
  static Function register_op = Function::GetGlobalRequired("ir.RegisterOp");
  static Function get_op = Function::GetGlobalRequired("ir.GetOp");
  static Function set_num_inputs = Function::GetGlobalRequired("ir.OpSetNumInputs");
  static Function register_attr = Function::GetGlobalRequired("ir.RegisterOpAttr");
  static Function register_lowering = Function::GetGlobalRequired("tirx.RegisterOpLowerIntrinsic");
  std::map<std::string, std::vector<std::string>> applied;
  const std::set<std::string> existing = OpNames();
  std::string current;
  try {
    for (size_t i = 0; i < record.registrations.size(); ++i) {
      if (!IsOp(record.registrations[i])) continue;
      current = record.registrations[i].name;
      auto spec = functions[i]().cast<tvm::ffi::Map<tvm::ffi::String, tvm::ffi::Any>>();
      if (replacing != nullptr && replacing->op_attrs.count(current)) {
        ResetOpAttrs({{current, replacing->op_attrs[current]}});  // the new build's replace them
      }
      if (!existing.count(current)) {
        register_op(current, spec["description"].cast<tvm::ffi::String>());
      }
      std::vector<std::string>& keys = applied[current];
      int64_t num_inputs = spec["num_inputs"].cast<int64_t>();
      if (num_inputs >= 0) set_num_inputs(get_op(current), num_inputs);
      for (const auto& [key, value] :
           spec["attrs"].cast<tvm::ffi::Map<tvm::ffi::String, tvm::ffi::Any>>()) {
        register_attr(current, key, value, int64_t{10});
        keys.push_back(key);
      }
      for (const auto& [target, lowering] :
           spec["lowerings"].cast<tvm::ffi::Map<tvm::ffi::String, tvm::ffi::Function>>()) {
        register_lowering(current, lowering, target, int64_t{10});
        keys.push_back(std::string(target) + ".FLowerIntrinsic");
      }
    }
  } catch (const Error& err) {
    ResetOpAttrs(applied);
    Fail("ExtensionLoadError", "cannot load " + ExtensionLabel(record) + ": registering op '" +
                                   current + "' failed: " + err.message() +
                                   ". The attributes it and the ops before it set were reset.");
  }
  return applied;
}

void SetGlobal(const std::string& name, const Function& f, bool allow_override);

// ---------------------------------------------------------------------------------------------
// Backends: one dispatcher per target kind serves every extension's code generator for it.

std::string Join(const std::vector<std::string>& items, const std::string& none) {
  if (items.empty()) return none;
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "'" : ", '") + item + "'";
  return out;
}

std::vector<std::string> BackendsOfKind(const LoaderState& state, const std::string& kind) {
  std::vector<std::string> out;
  for (const auto& [name, entry] : state.backends) {
    if (entry.kind == kind) out.push_back(name);
  }
  return out;
}

// Builds `mod` for `target` with the backend the target's model names; called by TVM as
// target.build.<kind>.
tvm::ffi::Any DispatchBuild(const std::string& kind, tvm::ffi::Any mod, tvm::ffi::Any target) {
  static Function export_target = Function::GetGlobalRequired("target.TargetExport");
  auto config = export_target(target).cast<tvm::ffi::Map<tvm::ffi::String, tvm::ffi::Any>>();
  std::string model;
  if (auto it = config.find("model"); it != config.end()) {
    model = (*it).second.cast<tvm::ffi::String>();
  }
  BackendEntry entry;
  {
    LoaderState& state = State();
    std::lock_guard<std::mutex> lock(state.mutex);
    auto found = state.backends.find(model);
    if (found == state.backends.end() || found->second.kind != kind) {
      std::string known = Join(BackendsOfKind(state, kind), "none is loaded");
      Fail("ValueError", (model.empty() ? "the " + kind + " target names no backend"
                                        : "unknown " + kind + " backend '" + model + "'") +
                             ". Choose one with the target's model, e.g. Target({\"kind\": \"" +
                             kind +
                             "\", \"model\": NAME, \"host\": \"llvm\"}); loaded backends for " +
                             kind + ": " + known + ".");
    }
    entry = found->second;
  }
  std::map<std::string, std::string> values;
  for (const auto& [name, option] : entry.options) values[name] = option.first;
  if (auto it = config.find("libs"); it != config.end()) {
    for (const tvm::ffi::String& item : (*it).second.cast<tvm::ffi::Array<tvm::ffi::String>>()) {
      std::string text = item;
      size_t eq = text.find('=');
      std::string key = text.substr(0, eq);
      if (eq == std::string::npos || !entry.options.count(key)) {
        std::vector<std::string> known;
        for (const auto& [name, option] : entry.options) {
          known.push_back(name + "' (" + option.second + ", default '" + option.first + "')");
        }
        std::string listed;
        for (const std::string& k : known) listed += (listed.empty() ? "'" : "; '") + k;
        Fail("ValueError", "unknown option '" + text + "' for backend '" + model + "' of " +
                               entry.owner + ". Options are given as \"name=value\" in the " +
                               "target's libs; this backend knows: " +
                               (listed.empty() ? std::string("none") : listed) + ".");
      }
      values[key] = text.substr(eq + 1);
    }
  }
  tvm::ffi::Map<tvm::ffi::String, tvm::ffi::String> options;
  for (const auto& [k, v] : values) options.Set(k, v);
  tvm::ffi::Any result;
  try {
    result = entry.build(mod, target, options);
  } catch (const Error& err) {
    throw Error(err.kind(), "backend '" + model + "' of " + entry.owner + ": " + err.message(),
                err.backtrace());
  }
  if (result.as<tvm::ffi::ModuleObj>() == nullptr) {
    Fail("TypeError", "backend '" + model + "' of " + entry.owner + " returned " +
                          result.GetTypeKey() + " instead of a runtime Module");
  }
  return result;
}

// The specs of `record`'s backends, checked: nothing is applied yet.
std::map<std::string, BackendEntry> ReadBackends(const LoaderState& state,
                                                 const ExtensionRecord& record,
                                                 const std::vector<Function>& functions) {
  static Function list_kinds = Function::GetGlobalRequired("target.ListTargetKinds");
  std::map<std::string, BackendEntry> out;
  for (size_t i = 0; i < record.registrations.size(); ++i) {
    const RegistrationRecord& reg = record.registrations[i];
    if (!IsBackend(reg)) continue;
    auto spec = functions[i]().cast<tvm::ffi::Map<tvm::ffi::String, tvm::ffi::Any>>();
    BackendEntry entry;
    entry.kind = spec["target_kind"].cast<tvm::ffi::String>();
    entry.description = spec["description"].cast<tvm::ffi::String>();
    entry.owner = ExtensionLabel(record);
    entry.host_memory = spec["host_memory"].cast<bool>();
    const std::string where = "cannot load " + ExtensionLabel(record) + ": the backend '" +
                              reg.name + "' (" + reg.source + ") ";
    auto build = spec["build"].cast<tvm::ffi::Optional<Function>>();
    if (!build.has_value()) Fail("ExtensionLoadError", where + "has no build function");
    entry.build = *build;
    if (auto loader = spec["load_from_bytes"].cast<tvm::ffi::Optional<Function>>()) {
      entry.load_from_bytes = *loader;
    }
    std::vector<std::string> kinds;
    for (const tvm::ffi::String& k : list_kinds().cast<tvm::ffi::Array<tvm::ffi::String>>()) {
      kinds.push_back(k);
    }
    if (std::find(kinds.begin(), kinds.end(), entry.kind) == kinds.end()) {
      Fail("ExtensionLoadError", where + "serves the target kind '" + entry.kind + "', which TVM " +
                                     abi::RunningTVMVersion() +
                                     " does not know. Known kinds: " + Join(kinds, "none") + ".");
    }
    const std::string build_name = "target.build." + entry.kind;
    std::optional<Function> existing = Function::GetGlobal(build_name);
    if (existing.has_value() &&
        OwnerOfLiveFunction(build_name, *existing).rfind("the tvm-extend core", 0) != 0) {
      Fail("DuplicateRegistrationError",
           where + "serves the target kind '" + entry.kind + "', but " + build_name +
               " is already registered by " + OwnerOfLiveFunction(build_name, *existing) +
               ". An extension serves a kind TVM has no code generator for, such as 'ext_dev'.");
    }
    if (entry.load_from_bytes.has_value()) {
      const std::string loader = ModuleLoaderName(reg.name);
      std::optional<Function> taken = Function::GetGlobal(loader);
      auto own = state.backends.find(reg.name);
      bool ours = own != state.backends.end() && own->second.load_from_bytes.has_value() &&
                  taken.has_value() && taken->same_as(*own->second.load_from_bytes);
      if (taken.has_value() && !ours) {
        Fail("DuplicateRegistrationError", where + "loads its modules through " + loader +
                                               ", which is already registered by " +
                                               OwnerOfLiveFunction(loader, *taken) + ".");
      }
    }
    for (const auto& option :
         spec["options"].cast<tvm::ffi::Array<tvm::ffi::Array<tvm::ffi::String>>>()) {
      entry.options[option[0]] = {option[1], option[2]};
    }
    out[reg.name] = std::move(entry);
  }
  return out;
}

void RemoveBackend(LoaderState& state, const std::string& name) {
  auto it = state.backends.find(name);
  if (it == state.backends.end()) return;
  if (it->second.load_from_bytes.has_value()) {
    std::optional<Function> current = Function::GetGlobal(ModuleLoaderName(name));
    if (current.has_value() && current->same_as(*it->second.load_from_bytes)) {
      RemoveGlobal(ModuleLoaderName(name));
    }
  }
  state.backends.erase(it);
}

// Puts the backends in the table (replacing a reloaded extension's), and the dispatcher, host
// memory and module loader in place. Nothing here throws but a failing SetGlobal.
void CommitBackends(LoaderState& state, std::map<std::string, BackendEntry> backends) {
  for (auto& [name, entry] : backends) {
    const std::string build_name = "target.build." + entry.kind;
    if (!Function::GetGlobal(build_name).has_value()) {
      std::string kind = entry.kind;
      SetGlobal(build_name, Function::FromTyped([kind](tvm::ffi::Any mod, tvm::ffi::Any target) {
                  return DispatchBuild(kind, mod, target);
                }),
                false);
    }
    const std::string api_name = "device_api." + entry.kind;
    if (entry.host_memory && !Function::GetGlobal(api_name).has_value()) {
      Function cpu = Function::GetGlobalRequired("device_api.cpu");
      SetGlobal(api_name, Function::FromPacked([cpu](tvm::ffi::PackedArgs args, tvm::ffi::Any* rv) {
                  cpu.CallPacked(args, rv);
                }),
                false);
    }
    RemoveBackend(state, name);  // a reloaded build's old entry, and its module loader
    if (entry.load_from_bytes.has_value()) {
      SetGlobal(ModuleLoaderName(name), *entry.load_from_bytes, true);
    }
    state.backends[name] = std::move(entry);
  }
}

// Every check that can refuse the extension on its names, before anything registers.
void CheckRegistrations(LoaderState& state, const ExtensionRecord& record,
                        const LoadedExtension* replacing) {
  const std::string prefix = record.name + ".";
  // The namespace must not be one that TVM, Python or a library outside tvm-extend uses.
  for (const std::string& existing : ListGlobalNames()) {
    if (existing.compare(0, prefix.size(), prefix) != 0 || state.owner.count(existing)) continue;
    Fail("DuplicateRegistrationError",
         "cannot load " + ExtensionLabel(record) + ": its namespace '" + prefix +
             "' is already used by " + DescribeOwnerLocked(state, existing) + " (e.g. '" +
             existing + "'). Give the extension a name of its own in TVM_EXTEND_EXTENSION.");
  }
  std::set<std::string> seen;
  std::set<std::string> ops;
  for (const RegistrationRecord& reg : record.registrations) {
    if (IsOp(reg) && ops.empty()) ops = OpNames();
    if (reg.name.size() <= prefix.size() || reg.name.compare(0, prefix.size(), prefix) != 0) {
      Fail("ExtensionLoadError",
           "cannot load " + ExtensionLabel(record) + ": the global name '" + reg.name + "' (" +
               reg.source + ") does not start with '" + prefix +
               "'; an extension's global names start with its own name, so that two extensions "
               "cannot claim one name by accident.");
    }
    if (!seen.insert(reg.name).second) {
      Fail("DuplicateRegistrationError", "cannot load " + ExtensionLabel(record) +
                                             ": it registers '" + reg.name + "' twice (second at " +
                                             reg.source + ").");
    }
    if (OwnFunction(replacing, reg.name).has_value()) continue;  // being replaced
    auto released = state.released_ops.find(reg.name);
    if (IsOp(reg) && ops.count(reg.name) &&
        !(released != state.released_ops.end() && released->second == record.name)) {
      auto it = state.owner.find(reg.name);
      std::string owner =
          it != state.owner.end() ? ExtensionLabel(state.loaded[it->second]->record)
          : released != state.released_ops.end()
              ? "extension '" + released->second + "' (unloaded; TVM cannot delete an op)"
              : "TVM or a library outside tvm-extend";
      Fail("DuplicateRegistrationError", "cannot load " + ExtensionLabel(record) + ": the op '" +
                                             reg.name + "' is already registered by " + owner +
                                             "; " + ExtensionLabel(record) +
                                             " registers it again at " + reg.source +
                                             ". Nothing of the new extension was "
                                             "registered.");
    }
    std::string owner = DescribeOwnerLocked(state, reg.name);
    if (!owner.empty()) {
      Fail("DuplicateRegistrationError",
           "cannot load " + ExtensionLabel(record) + ": the global name '" + reg.name +
               "' is already registered by " + owner + "; " + ExtensionLabel(record) +
               " registers it again at " + reg.source +
               ". Nothing of the new extension was registered.");
    }
  }
}

ExtensionRecord ReadRecord(const TVMExtendExtensionInfo* info, const std::string& path) {
  ExtensionRecord r;
  r.name = info->name ? info->name : "";
  r.version = info->version ? info->version : "";
  r.path = path;
  r.built_tvm_version = info->built_tvm_version ? info->built_tvm_version : "";
  r.built_ffi_package_version =
      info->built_ffi_package_version ? info->built_ffi_package_version : "";
  r.built_ffi_abi_version = std::to_string(info->built_ffi_abi_major) + "." +
                            std::to_string(info->built_ffi_abi_minor) + "." +
                            std::to_string(info->built_ffi_abi_patch);
  r.compiler = info->compiler ? info->compiler : "";
  for (int32_t i = 0; i < info->num_registrations; ++i) {
    const TVMExtendRegistrationInfo& reg = info->registrations[i];
    const char* kind = KindName(reg.kind);
    if (kind == nullptr) {
      Fail("ExtensionLoadError", "cannot load " + path + ": registration '" +
                                     std::string(reg.name ? reg.name : "?") +
                                     "' has an unknown kind " + std::to_string(reg.kind));
    }
    r.registrations.push_back(RegistrationRecord{
        reg.name ? reg.name : "", kind, reg.opt_level,
        std::string(reg.file ? reg.file : "?") + ":" + std::to_string(reg.line)});
  }
  return r;
}

void SetGlobal(const std::string& name, const Function& f, bool allow_override) {
  TVMFFIByteArray name_arr{name.data(), name.size()};
  auto* handle = const_cast<tvm::ffi::FunctionObj*>(f.get());
  if (TVMFFIFunctionSetGlobal(&name_arr, handle, allow_override ? 1 : 0) != 0) {
    throw tvm::ffi::detail::MoveFromSafeCallRaised();
  }
}

// Registers the created functions, all or nothing. Names that `replacing` owns are overridden;
// if one registration fails, every name is put back as it was.
std::vector<Function> RegisterAll(const ExtensionRecord& record,
                                  std::vector<TVMFFIObjectHandle>* handles,
                                  const LoadedExtension* replacing) {
  std::vector<Function> functions;
  for (TVMFFIObjectHandle h : *handles) {
    functions.push_back(tvm::ffi::detail::ObjectUnsafe::ObjectRefFromObjectPtr<Function>(
        tvm::ffi::detail::ObjectUnsafe::ObjectPtrFromOwned<tvm::ffi::Object>(
            static_cast<TVMFFIObject*>(h))));
  }
  handles->clear();
  size_t done = 0;
  std::string failure;
  for (; done < functions.size(); ++done) {
    const std::string& name = record.registrations[done].name;
    if (IsApplied(record.registrations[done])) continue;  // ops and backends are applied
    try {
      SetGlobal(name, functions[done], OwnFunction(replacing, name).has_value());
    } catch (const Error& err) {
      failure = "registering '" + name + "' failed: " + err.message();
      break;
    }
  }
  if (!failure.empty()) {
    for (size_t i = 0; i < done; ++i) {
      const std::string& name = record.registrations[i].name;
      if (IsApplied(record.registrations[i])) continue;
      if (std::optional<Function> old = OwnFunction(replacing, name)) {
        SetGlobal(name, *old, true);
      } else {
        RemoveGlobal(name);
      }
    }
    Fail("ExtensionLoadError", "cannot load " + ExtensionLabel(record) + ": " + failure + ". The " +
                                   std::to_string(done) +
                                   " name(s) registered before it were put back as they were; "
                                   "nothing of the new library stays registered.");
  }
  return functions;
}

// Unregisters what `ext` registered, leaving names that someone else has taken over since.
void UnregisterLocked(LoaderState& state, LoadedExtension& ext) {
  ResetOpAttrs(ext.op_attrs);
  ext.op_attrs.clear();
  for (size_t i = 0; i < ext.record.registrations.size(); ++i) {
    const std::string& name = ext.record.registrations[i].name;
    if (IsOp(ext.record.registrations[i])) {
      state.owner.erase(name);
      state.released_ops[name] = ext.record.name;
      continue;
    }
    if (IsBackend(ext.record.registrations[i])) {
      RemoveBackend(state, name);
      state.owner.erase(name);
      continue;
    }
    std::optional<Function> current = Function::GetGlobal(name);
    if (current.has_value() && i < ext.functions.size() && current->same_as(ext.functions[i])) {
      RemoveGlobal(name);
    }
    state.owner.erase(name);
  }
  ext.functions.clear();
  ext.record.active = false;
}

}  // namespace

namespace {
ExtensionRecord LoadLocked(LoaderState& state, const std::string& path_in,
                           LoadedExtension* replacing) {
  struct stat st;
  if (stat(path_in.c_str(), &st) != 0) {
    Fail("ExtensionLoadError", "cannot load extension: no such file '" + path_in +
                                   "'. Check the path, or give the extension's package name.");
  }
  if (!S_ISREG(st.st_mode)) {
    Fail("ExtensionLoadError", "cannot load extension '" + path_in +
                                   "': it is a directory or a special file, not a library "
                                   "(lib<name>.so)");
  }
  const std::string path = CanonicalPath(path_in);
  const FileIdentity file = Identify(st);
  LoadedExtension* previous = nullptr;
  for (const auto& ext : state.loaded) {
    if (ext->record.path != path) continue;
    if (replacing != nullptr && ext.get() == replacing && ext->file == file) {
      Fail("ExtensionLoadError", "cannot reload " + ExtensionLabel(replacing->record) +
                                     " from the file it was loaded from: a library cannot be "
                                     "mapped twice from one path. Load a copy of the new build "
                                     "(tvm_extend.reload_extension does this).");
    }
    if (ext->record.active) {
      if (ext->file == file) return ext->record;
      Fail("ExtensionLoadError",
           "cannot load '" + path + "': the file changed since " + ExtensionLabel(ext->record) +
               " was loaded from it, and the old library is still in use. Unload it first "
               "(tvm_extend.unload_extension('" +
               ext->record.name + "')).");
    }
    previous = ext.get();
  }
  if (previous != nullptr && !(previous->file == file)) {
    // dlopen would hand back the library still mapped at this path, i.e. the old code.
    Fail("ExtensionLoadError",
         "cannot load '" + path + "': it was rebuilt after " + ExtensionLabel(previous->record) +
             " was loaded from it, and a library cannot be mapped twice from one path in a "
             "process. Load the new build from another path.");
  }
  dlerror();
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    Fail("ExtensionLoadError", "cannot load extension '" + path +
                                   "': it is not a loadable shared library (" +
                                   (why ? why : "unknown dlopen error") + ")");
  }
  // A refused library is unmapped again; its static initializers only collected.
  struct CloseOnFailure {
    void* handle;
    bool keep = false;
    ~CloseOnFailure() {
      if (!keep) dlclose(handle);
    }
  } guard{handle};

  auto entry = reinterpret_cast<TVMExtendEntryFunc>(dlsym(handle, TVM_EXTEND_ENTRY_SYMBOL));
  if (entry == nullptr) {
    Fail("ExtensionLoadError",
         "cannot load extension '" + path + "': it has no tvm-extend entry point (" +
             TVM_EXTEND_ENTRY_SYMBOL +
             "). Define one with TVM_EXTEND_EXTENSION(name, \"version\") from "
             "<tvm_extend/extension.h>.");
  }
  const TVMExtendExtensionInfo* info = entry();
  if (info == nullptr || info->abi_version != TVM_EXTEND_ABI_VERSION) {
    Fail("ExtensionLoadError",
         "cannot load extension '" + path + "': its tvm-extend record layout is version " +
             (info ? std::to_string(info->abi_version) : std::string("(none)")) +
             " but this tvm-extend reads version " + std::to_string(TVM_EXTEND_ABI_VERSION) +
             ". Rebuild the extension with this tvm-extend.");
  }
  ExtensionRecord record = ReadRecord(info, path);

  TVMFFIVersion running_ffi;
  TVMFFIGetVersion(&running_ffi);
  std::string version_error = abi::CheckCompatible(
      record.built_tvm_version, abi::RunningTVMVersion(), info->built_ffi_abi_major,
      info->built_ffi_abi_minor, info->built_ffi_abi_patch, running_ffi.major, running_ffi.minor,
      running_ffi.patch);
  if (!version_error.empty()) {
    Fail("ExtensionVersionError",
         "cannot load " + ExtensionLabel(record) + ": " + version_error + ".");
  }
  if (replacing != nullptr && record.name != replacing->record.name) {
    Fail("ExtensionLoadError", "cannot reload " + ExtensionLabel(replacing->record) + " from " +
                                   path + ": that library is extension '" + record.name + "'");
  }
  // Name clashes first: they name the exact global and both owners.
  CheckRegistrations(state, record, replacing);
  for (const auto& ext : state.loaded) {
    if (ext.get() != replacing && ext->record.name == record.name && ext->record.active) {
      Fail("DuplicateRegistrationError", "cannot load " + ExtensionLabel(record) +
                                             ": an extension of the same name is already loaded: " +
                                             ExtensionLabel(ext->record) + ".");
    }
  }

  std::vector<TVMFFIObjectHandle> handles(record.registrations.size(), nullptr);
  if (!handles.empty() && info->create_functions(handles.data()) != 0) {
    Error e = tvm::ffi::detail::MoveFromSafeCallRaised();
    const bool schema = e.kind() == "SchemaError";
    Fail(schema ? "SchemaError" : "ExtensionLoadError",
         "cannot load " + ExtensionLabel(record) + ": " + (schema ? "" : e.kind() + ": ") +
             e.message() + ". Nothing of the extension was registered.");
  }
  std::vector<Function> created;
  for (TVMFFIObjectHandle h : handles) {
    created.push_back(tvm::ffi::detail::ObjectUnsafe::ObjectRefFromObjectPtr<Function>(
        tvm::ffi::detail::ObjectUnsafe::ObjectPtrFromUnowned<tvm::ffi::Object>(
            static_cast<TVMFFIObject*>(h))));
  }
  std::map<std::string, std::vector<std::string>> op_attrs;
  std::map<std::string, BackendEntry> backends;
  try {
    backends = ReadBackends(state, record, created);
    op_attrs = ApplyOps(record, created, replacing);
  } catch (...) {
    for (TVMFFIObjectHandle h : handles) TVMFFIObjectDecRef(h);
    throw;
  }
  std::vector<Function> functions;
  try {
    functions = RegisterAll(record, &handles, replacing);
  } catch (...) {
    ResetOpAttrs(op_attrs);
    throw;
  }
  if (replacing != nullptr) {
    // The new library is in place: retire the old one's remaining names and entry. Its
    // library stays mapped, so objects made by its code keep working.
    std::set<std::string> kept;
    for (const RegistrationRecord& reg : record.registrations) kept.insert(reg.name);
    for (size_t i = 0; i < replacing->record.registrations.size(); ++i) {
      const std::string& name = replacing->record.registrations[i].name;
      if (kept.count(name)) {
        state.owner.erase(name);
        continue;
      }
      if (IsBackend(replacing->record.registrations[i])) {  // a backend the new build dropped
        RemoveBackend(state, name);
        state.owner.erase(name);
        continue;
      }
      if (IsOp(replacing->record.registrations[i])) {  // an op the new build dropped
        ResetOpAttrs({{name, replacing->op_attrs[name]}});
        state.owner.erase(name);
        state.released_ops[name] = replacing->record.name;
        continue;
      }
      std::optional<Function> current = Function::GetGlobal(name);
      if (current.has_value() && i < replacing->functions.size() &&
          current->same_as(replacing->functions[i])) {
        RemoveGlobal(name);
      }
      state.owner.erase(name);
    }
    replacing->functions.clear();
    replacing->op_attrs.clear();
    replacing->record.active = false;
  }

  CommitBackends(state, std::move(backends));
  guard.keep = true;
  LoadedExtension* slot = previous;
  if (slot == nullptr) {
    state.loaded.push_back(std::make_unique<LoadedExtension>());
    slot = state.loaded.back().get();
  } else {
    dlclose(handle);  // the earlier load's reference keeps the library mapped
    handle = slot->handle;
  }
  size_t index = 0;
  while (state.loaded[index].get() != slot) ++index;
  slot->record = record;
  slot->handle = handle;
  slot->file = file;
  slot->functions = std::move(functions);
  slot->op_attrs = std::move(op_attrs);
  for (const RegistrationRecord& reg : record.registrations) state.owner[reg.name] = index;
  return record;
}
}  // namespace

ExtensionRecord LoadExtension(const std::string& path) {
  LoaderState& state = State();
  std::lock_guard<std::mutex> lock(state.mutex);
  return LoadLocked(state, path, nullptr);
}

ExtensionRecord ReloadExtension(const std::string& name, const std::string& path) {
  LoaderState& state = State();
  std::lock_guard<std::mutex> lock(state.mutex);
  for (auto& ext : state.loaded) {
    if (ext->record.name == name && ext->record.active) return LoadLocked(state, path, ext.get());
  }
  Fail("ExtensionLoadError", "cannot reload extension '" + name + "': it is not loaded");
}

std::vector<ExtensionRecord> ListExtensions() {
  LoaderState& state = State();
  std::lock_guard<std::mutex> lock(state.mutex);
  std::vector<ExtensionRecord> out;
  for (const auto& ext : state.loaded) out.push_back(ext->record);
  return out;
}

void UnloadExtension(const std::string& name) {
  LoaderState& state = State();
  std::lock_guard<std::mutex> lock(state.mutex);
  for (auto& ext : state.loaded) {
    if (ext->record.name == name && ext->record.active) {
      UnregisterLocked(state, *ext);
      return;
    }
  }
  Fail("ExtensionLoadError", "cannot unload extension '" + name + "': it is not loaded");
}

std::vector<BackendRecord> ListBackends() {
  LoaderState& state = State();
  std::lock_guard<std::mutex> lock(state.mutex);
  std::vector<BackendRecord> out;
  for (const auto& [name, entry] : state.backends) {
    BackendRecord r{name, entry.kind, entry.description, entry.owner, {}};
    for (const auto& [option, value] : entry.options) {
      r.options.push_back({option, value.first, value.second});
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::string DescribeGlobalOwner(const std::string& global_name) {
  LoaderState& state = State();
  std::lock_guard<std::mutex> lock(state.mutex);
  return DescribeOwnerLocked(state, global_name);
}

}  // namespace tvm_extend
