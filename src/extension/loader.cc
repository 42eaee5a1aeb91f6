/*!
 * \file src/extension/loader.cc
 * \brief The extension loader: version checks, name checks, all-or-nothing registration.
 */
#include <dlfcn.h>
#include <sys/stat.h>
#include <tvm/ffi/c_api.h>
#include <tvm/ffi/error.h>
#include <tvm/ffi/function.h>
#include <tvm_extend/abi/version.h>
#include <tvm_extend/extension/abi.h>
#include <tvm_extend/extension/loader.h>

#include <climits>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace tvm_extend {
namespace {

using tvm::ffi::Error;
using tvm::ffi::Function;

struct LoadedExtension {
  ExtensionRecord record;
  void* handle = nullptr;
};

struct LoaderState {
  std::mutex mutex;
  std::vector<std::unique_ptr<LoadedExtension>> loaded;
  /*! \brief global name -> index into loaded, for active registrations. */
  std::map<std::string, size_t> owner;
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

bool IsRegularFile(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string ExtensionLabel(const ExtensionRecord& r) {
  return "extension '" + r.name + "' " + r.version + " (" + r.path + ")";
}

std::optional<Function> LookupGlobal(const std::string& name) { return Function::GetGlobal(name); }

void RemoveGlobal(const std::string& name) {
  static Function remove = Function::GetGlobalRequired("ffi.FunctionRemoveGlobal");
  remove(name);
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
  std::optional<Function> f = LookupGlobal(name);
  if (!f.has_value()) return "";
  return OwnerOfLiveFunction(name, *f);
}

const char* KindName(int32_t kind) {
  switch (kind) {
    case kTVMExtendFunction:
      return "function";
    case kTVMExtendPrimFuncPass:
      return "prim_func_pass";
    default:
      return nullptr;
  }
}

// Every check that can refuse the extension, before anything registers.
void CheckRegistrations(LoaderState& state, const ExtensionRecord& record) {
  std::set<std::string> seen;
  const std::string prefix = record.name + ".";
  for (const RegistrationRecord& reg : record.registrations) {
    if (reg.name.size() <= prefix.size() || reg.name.compare(0, prefix.size(), prefix) != 0) {
      Fail("DuplicateRegistrationError",
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

// Registers the created functions, removing the ones already set if one fails.
void RegisterAll(const ExtensionRecord& record, std::vector<TVMFFIObjectHandle>* handles) {
  size_t done = 0;
  std::string failure;
  for (; done < handles->size(); ++done) {
    const std::string& name = record.registrations[done].name;
    TVMFFIByteArray name_arr{name.data(), name.size()};
    if (TVMFFIFunctionSetGlobal(&name_arr, (*handles)[done], 0) != 0) {
      failure = "registering '" + name +
                "' failed: " + tvm::ffi::detail::MoveFromSafeCallRaised().message();
      break;
    }
  }
  if (done < handles->size()) {
    for (size_t i = 0; i < done; ++i) RemoveGlobal(record.registrations[i].name);
  }
  for (TVMFFIObjectHandle h : *handles) TVMFFIObjectDecRef(h);
  handles->clear();
  if (!failure.empty()) {
    Fail("ExtensionLoadError", "cannot load " + ExtensionLabel(record) + ": " + failure +
                                   ". Nothing of the extension stays registered.");
  }
}

}  // namespace

ExtensionRecord LoadExtension(const std::string& path_in) {
  LoaderState& state = State();
  std::lock_guard<std::mutex> lock(state.mutex);
  if (!IsRegularFile(path_in)) {
    Fail("ExtensionLoadError", "cannot load extension: no such file '" + path_in + "'");
  }
  const std::string path = CanonicalPath(path_in);
  for (const auto& ext : state.loaded) {
    if (ext->record.path == path && ext->record.active) return ext->record;
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
  // Name clashes first: they name the exact global and both owners.
  CheckRegistrations(state, record);
  for (const auto& ext : state.loaded) {
    if (ext->record.name == record.name && ext->record.active) {
      Fail("DuplicateRegistrationError", "cannot load " + ExtensionLabel(record) +
                                             ": an extension of the same name is "
                                             "already loaded: " +
                                             ExtensionLabel(ext->record) + ".");
    }
  }

  std::vector<TVMFFIObjectHandle> handles(record.registrations.size(), nullptr);
  if (!handles.empty() && info->create_functions(handles.data()) != 0) {
    Error e = tvm::ffi::detail::MoveFromSafeCallRaised();
    std::string why = e.kind() + ": " + e.message();
    Fail("ExtensionLoadError", "cannot load " + ExtensionLabel(record) + ": " + why +
                                   ". Nothing of the extension was registered.");
  }
  RegisterAll(record, &handles);

  guard.keep = true;
  auto loaded = std::make_unique<LoadedExtension>();
  loaded->record = record;
  loaded->handle = handle;
  size_t index = state.loaded.size();
  for (const RegistrationRecord& reg : record.registrations) state.owner[reg.name] = index;
  state.loaded.push_back(std::move(loaded));
  return record;
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
    if (ext->record.name != name || !ext->record.active) continue;
    for (const RegistrationRecord& reg : ext->record.registrations) {
      RemoveGlobal(reg.name);
      state.owner.erase(reg.name);
    }
    ext->record.active = false;
    return;
  }
  Fail("ExtensionLoadError", "cannot unload extension '" + name + "': it is not loaded");
}

std::string DescribeGlobalOwner(const std::string& global_name) {
  LoaderState& state = State();
  std::lock_guard<std::mutex> lock(state.mutex);
  return DescribeOwnerLocked(state, global_name);
}

}  // namespace tvm_extend
