/*!
 * \file src/extension/loader.cc
 * \brief The extension loader: each load, reload and unload is one transaction.
 *
 *   inspect  the file is read, not run: settled, a complete ELF library for this machine with
 *            the entry point (library_file.h); its static initializers run first in a probe
 *   map      dlopen; whatever its static initializers registered themselves is undone and the
 *            library refused
 *   plan     versions, the extension's prefix, names used twice, and each kind's conflicts,
 *            all reported at once
 *   prepare  the extension's factories create its functions and specs; whatever they
 *            registered themselves is undone and the library refused; each kind checks its spec
 *   commit   each kind makes its registrations visible; a failure retires those made so far
 *   retire   on reload, the old build's registrations that the new one did not take over; the
 *            old copy stays mapped (code made by it may still run) with its code pages released
 *
 * Registration kinds plug in through kind.h. Everything runs under one recursive lock; a
 * transaction started from inside another (an extension's code calling the loader while it is
 * being loaded) is refused with an error, and read-only calls from there are answered.
 */
#include <dlfcn.h>
#include <tvm/ffi/c_api.h>
#include <tvm/ffi/container/array.h>
#include <tvm/ffi/error.h>
#include <tvm/ffi/function.h>
#include <tvm/ffi/string.h>
#include <tvm_extend/abi/version.h>
#include <tvm_extend/extension/abi.h>
#include <tvm_extend/extension/errors.h>
#include <tvm_extend/extension/loader.h>
#include <unistd.h>

#include <climits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "../backend/dispatch.h"
#include "global_table.h"
#include "kind.h"
#include "library_file.h"

namespace tvm_extend {
namespace {

using loader::Applied;
using loader::Problem;
using tvm::ffi::Error;
using tvm::ffi::Function;

struct LoadedExtension {
  ExtensionRecord record;
  void* handle = nullptr;
  /*! \brief The private copy of record.path that dlopen mapped (unlinked once mapped). */
  std::string mapped_path;
  /*! \brief Identity of record.path when it was loaded. */
  library_file::Identity file;
  /*! \brief Registration name -> what committing it made visible. */
  std::map<std::string, std::unique_ptr<Applied>> applied;
};

struct LoaderState {
  std::recursive_mutex mutex;
  /*! \brief The thread running a transaction, and what it is doing. */
  std::thread::id busy;
  std::string busy_with;
  std::vector<std::unique_ptr<LoadedExtension>> loaded;
  /*! \brief Name -> the active extension that registered it. */
  std::map<std::string, LoadedExtension*> owner;
};

LoaderState& State() {
  static auto* state = new LoaderState();  // never destroyed: extensions outlive static dtors
  return *state;
}

[[noreturn]] void Fail(const char* kind, const std::string& message,
                       const std::string& backtrace = "") {
  throw Error(kind, message, backtrace);
}

std::string ExtensionLabel(const ExtensionRecord& r) {
  return "extension '" + r.name + "' " + r.version + " (" + r.path + ")";
}

std::string DescribeOwnerLocked(const LoaderState& state, const std::string& name) {
  auto it = state.owner.find(name);
  if (it != state.owner.end()) return ExtensionLabel(it->second->record);
  std::optional<Function> f = Function::GetGlobal(name);
  if (!f.has_value()) return "";
  return global_table::DescribeLiveOwner(name, *f);
}

/*! \brief Marks the loader busy on this thread for one transaction; refuses a nested one. */
class TransactionScope {
 public:
  TransactionScope(LoaderState& state, std::string what) : state_(state) {
    if (state.busy == std::this_thread::get_id()) {
      Fail(error_kind::kExtensionLoad,
           "cannot " + what + " while the loader is busy to " + state.busy_with +
               " on this thread: code of the extension being loaded (a registration factory or "
               "a static initializer) called the loader. Load, reload and unload extensions "
               "after the load returns; listing them works from anywhere.");
    }
    state.busy = std::this_thread::get_id();
    state.busy_with = std::move(what);
  }
  ~TransactionScope() {
    state_.busy = std::thread::id();
    state_.busy_with.clear();
  }

 private:
  LoaderState& state_;
};

/*! \brief The private copy a load maps; removed once mapped (or refused). */
struct PrivateCopy {
  std::string path;
  ~PrivateCopy() {
    if (!path.empty()) unlink(path.c_str());
  }
};

std::string Describe(const std::vector<Problem>& problems) {
  if (problems.size() == 1) return problems[0].message;
  std::string out = std::to_string(problems.size()) + " problems:";
  for (const Problem& p : problems) out += "\n  - " + p.message;
  return out;
}

ExtensionRecord ReadRecord(const TVMExtendExtensionInfo* info, const std::string& path,
                           std::vector<int32_t>* kinds) {
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
    const loader::Kind* kind = loader::KindFor(reg.kind);
    if (kind == nullptr) {
      Fail(error_kind::kExtensionLoad, "cannot load " + path + ": registration '" +
                                           std::string(reg.name ? reg.name : "?") +
                                           "' has an unknown kind " + std::to_string(reg.kind) +
                                           "; it was built with a newer tvm-extend");
    }
    kinds->push_back(reg.kind);
    r.registrations.push_back(RegistrationRecord{
        reg.name ? reg.name : "", kind->name(), reg.opt_level,
        std::string(reg.file ? reg.file : "?") + ":" + std::to_string(reg.line)});
  }
  return r;
}

// Problems that do not depend on the kind: the prefix (for kinds whose names are the
// extension's own), a name used twice, the namespace.
void PlanNames(const LoaderState& state, const ExtensionRecord& record, const std::string& label,
               const std::vector<int32_t>& kinds, std::vector<Problem>* problems) {
  const std::string prefix = record.name + ".";
  for (const std::string& existing : global_table::Names()) {
    if (existing.compare(0, prefix.size(), prefix) != 0 || state.owner.count(existing)) continue;
    problems->push_back({error_kind::kDuplicateRegistration,
                         "its namespace '" + prefix + "' is already used by " +
                             DescribeOwnerLocked(state, existing) + " (e.g. '" + existing +
                             "'). Give the extension a name of its own in TVM_EXTEND_EXTENSION."});
    break;
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < record.registrations.size(); ++i) {
    const RegistrationRecord& reg = record.registrations[i];
    const bool foreign = loader::KindFor(kinds[i])->ClaimsForeignNames();
    if (!foreign &&
        (reg.name.size() <= prefix.size() || reg.name.compare(0, prefix.size(), prefix) != 0)) {
      problems->push_back(
          {error_kind::kExtensionLoad,
           "the global name '" + reg.name + "' (" + reg.source + ") does not start with '" +
               prefix +
               "'; an extension's global names start with its own name, so that two extensions "
               "cannot claim one name by accident."});
    } else if (!seen.insert(reg.name).second) {
      problems->push_back({error_kind::kDuplicateRegistration,
                           "it registers '" + reg.name + "' twice (second at " + reg.source + ")"});
    }
  }
  (void)label;
}

class LoadTransaction {
 public:
  LoadTransaction(LoaderState& state, std::string path, LoadedExtension* replacing)
      : state_(state), source_(std::move(path)), replacing_(replacing) {}

  ExtensionRecord Run() {
    // inspect: every load maps a private copy, so the user's file can be rebuilt, overwritten
    // in place (cp) or truncated while the loaded build runs, and loaded or reloaded again.
    char resolved[PATH_MAX];
    shown_path_ = realpath(source_.c_str(), resolved) ? resolved : source_;
    if (replacing_ == nullptr) {
      library_file::Identity now = library_file::Stat(source_);
      for (const auto& ext : state_.loaded) {
        if (ext->record.path != shown_path_ || !ext->record.active) continue;
        if (ext->file == now) return ext->record;  // loaded already, from this very file
        Fail(error_kind::kExtensionLoad,
             "cannot load '" + shown_path_ + "': the file changed since " +
                 ExtensionLabel(ext->record) +
                 " was loaded from it, and that build is still loaded. Reload it "
                 "(tvm_extend.reload_extension('" +
                 ext->record.name + "')) or unload it first.");
      }
    }
    std::string stem = shown_path_.substr(shown_path_.find_last_of('/') + 1);
    if (stem.rfind("lib", 0) == 0) stem = stem.substr(3);
    stem = stem.substr(0, stem.find('.'));
    library_file::Copy copy = library_file::PrivateCopy(source_, stem);
    copy_.path = copy.path;
    source_identity_ = copy.source;
    const library_file::Inspected file = library_file::Inspect(copy_.path, source_);
    const std::string& map_path = copy_.path;
    library_file::ProbeStaticInitializers(map_path, shown_path_);

    // map (tvm-ffi allocates the index of each object type the library declares while it is
    // mapped, so which types existed is noted before)
    static Function type_keys = Function::GetGlobalRequired("ffi.GetRegisteredTypeKeys");
    for (const tvm::ffi::String& key : type_keys().cast<tvm::ffi::Array<tvm::ffi::String>>()) {
      types_before_.insert(key);
    }
    // Only code that imports tvm-ffi's registration can put names into the table itself.
    std::optional<global_table::Snapshot> before;
    if (file.registers_globals_itself) before = global_table::Snapshot::Take();
    dlerror();
    void* handle = dlopen(map_path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* why = dlerror();
      Fail(error_kind::kExtensionLoad, "cannot load extension '" + shown_path_ +
                                           "': it is not a loadable shared library (" +
                                           (why ? why : "unknown dlopen error") + ")");
    }
    struct CloseOnFailure {
      void* handle;
      bool keep = false;
      ~CloseOnFailure() {
        if (!keep) dlclose(handle);
      }
    } guard{handle};
    RefuseStrays(before, "its static initializers registered");

    auto entry = reinterpret_cast<TVMExtendEntryFunc>(dlsym(handle, TVM_EXTEND_ENTRY_SYMBOL));
    if (entry == nullptr) {
      Fail(error_kind::kExtensionLoad,
           "cannot load extension '" + shown_path_ + "': it has no tvm-extend entry point (" +
               TVM_EXTEND_ENTRY_SYMBOL +
               "). Define one with TVM_EXTEND_EXTENSION(name, \"version\") from "
               "<tvm_extend/extension.h>.");
    }
    const TVMExtendExtensionInfo* info = entry();
    if (info == nullptr || info->abi_version != TVM_EXTEND_ABI_VERSION) {
      Fail(error_kind::kExtensionLoad,
           "cannot load extension '" + shown_path_ + "': its tvm-extend record layout is version " +
               (info ? std::to_string(info->abi_version) : std::string("(none)")) +
               " but this tvm-extend reads version " + std::to_string(TVM_EXTEND_ABI_VERSION) +
               ". Rebuild the extension with this tvm-extend.");
    }
    std::vector<int32_t> kinds;
    record_ = ReadRecord(info, shown_path_, &kinds);
    record_.exact_tvm_release = file.imports_tvm_cpp;
    // What its code uses of TVM's IR (tvm_extend/ir/view.h), for the record and for doctor.
    using UsedSchemaFunc = const char* (*)();
    if (auto used = reinterpret_cast<UsedSchemaFunc>(dlsym(handle, "TVMExtendUsedSchema"))) {
      record_.uses = used();
    }
    label_ = ExtensionLabel(record_);

    // plan
    CheckVersions(*info);
    CheckIdentity();
    loader::Transaction tx = MakeTransaction();
    std::vector<Problem> problems;
    PlanNames(state_, record_, label_, kinds, &problems);
    for (size_t i = 0; i < kinds.size(); ++i) {
      loader::KindFor(kinds[i])->Plan(tx, record_.registrations[i], &problems);
    }
    for (const auto& ext : state_.loaded) {
      if (ext.get() != replacing_ && ext->record.name == record_.name && ext->record.active) {
        problems.push_back(
            {error_kind::kDuplicateRegistration,
             "an extension of the same name is already loaded: " + ExtensionLabel(ext->record)});
      }
    }
    RefuseIf(problems);

    // prepare
    std::vector<Function> created = Create(*info, before);
    std::vector<std::unique_ptr<loader::Pending>> pending;
    for (size_t i = 0; i < kinds.size(); ++i) {
      const RegistrationRecord& reg = record_.registrations[i];
      try {
        pending.push_back(loader::KindFor(kinds[i])->Prepare(tx, reg, created[i], &problems));
      } catch (const Error& err) {
        problems.push_back({error_kind::kExtensionLoad, "the " + reg.kind + " '" + reg.name +
                                                            "' (" + reg.source +
                                                            ") has a bad spec: " + err.message()});
      }
    }
    RefuseIf(problems);

    // commit
    std::map<std::string, std::unique_ptr<Applied>> applied;
    for (size_t i = 0; i < pending.size(); ++i) {
      const RegistrationRecord& reg = record_.registrations[i];
      try {
        applied[reg.name] = pending[i]->Commit();
      } catch (const Error& err) {
        for (auto& [name, done] : applied) done->Retire(/*restore=*/true);
        Fail(error_kind::kExtensionLoad,
             "cannot load " + label_ + ": registering " + reg.kind + " '" + reg.name +
                 "' failed: " + err.message() + ". The " + std::to_string(applied.size()) +
                 " registration(s) made before it were taken back (a reloaded build's own put "
                 "back); nothing of the new library stays registered.",
             err.backtrace());
      }
    }

    // retire
    void* retired_handle = nullptr;
    if (replacing_ != nullptr) {
      Retire(*replacing_);
      retired_handle = replacing_->handle;  // released last; the slot may go to the new build
    }
    for (auto& [name, done] : applied) done->Settle();
    guard.keep = true;
    // An unloaded build from the same file keeps its place in the list; its copy stays mapped.
    LoadedExtension* slot = nullptr;
    for (const auto& ext : state_.loaded) {
      if (!ext->record.active && ext->record.path == record_.path) slot = ext.get();
    }
    if (slot == nullptr) {
      state_.loaded.push_back(std::make_unique<LoadedExtension>());
      slot = state_.loaded.back().get();
    }
    slot->record = record_;
    slot->handle = handle;
    slot->mapped_path = map_path;
    slot->file = source_identity_;
    slot->applied = std::move(applied);
    for (const RegistrationRecord& reg : record_.registrations) state_.owner[reg.name] = slot;
    if (retired_handle != nullptr) library_file::ReleaseCodePages(retired_handle);
    return record_;
  }

  /*! \brief Takes back every registration of `ext`; its library stays mapped. */
  static void Retire(LoaderState& state, LoadedExtension& ext) {
    for (auto& [name, applied] : ext.applied) {
      applied->Retire(/*restore=*/false);
      auto it = state.owner.find(name);
      if (it != state.owner.end() && it->second == &ext) state.owner.erase(it);
    }
    ext.applied.clear();
    ext.record.active = false;
  }

  /*!
   * \brief Releases the code pages of a retired build: its private copy is ours alone, so they
   *        can be read again from it if old code runs. Call it last: freeing what the old build
   *        made runs its code, and touches its pages again.
   */
  static void ReleaseRetired(const LoadedExtension& ext) {
    if (!ext.record.active) library_file::ReleaseCodePages(ext.handle);
  }

 private:
  void Retire(LoadedExtension& ext) { Retire(state_, ext); }

  void CheckVersions(const TVMExtendExtensionInfo& info) {
    TVMFFIVersion running_ffi;
    TVMFFIGetVersion(&running_ffi);
    std::string version_error = abi::CheckCompatible(
        record_.built_tvm_version, abi::RunningTVMVersion(), info.built_ffi_abi_major,
        info.built_ffi_abi_minor, info.built_ffi_abi_patch, running_ffi.major, running_ffi.minor,
        running_ffi.patch, record_.exact_tvm_release);
    if (!version_error.empty()) {
      Fail(error_kind::kExtensionVersion, "cannot load " + label_ + ": " + version_error + ".");
    }
  }

  void CheckIdentity() {
    if (replacing_ != nullptr && record_.name != replacing_->record.name) {
      Fail(error_kind::kExtensionLoad, "cannot reload " + ExtensionLabel(replacing_->record) +
                                           " from " + shown_path_ +
                                           ": that library is extension '" + record_.name + "'");
    }
  }

  loader::Transaction MakeTransaction() {
    LoadedExtension* replacing = replacing_;
    LoaderState* state = &state_;
    return loader::Transaction{
        record_,
        label_,
        [replacing](const std::string& name) {
          return replacing != nullptr && replacing->applied.count(name) > 0;
        },
        [replacing](const std::string& name) -> Applied* {
          if (replacing == nullptr) return nullptr;
          auto it = replacing->applied.find(name);
          return it == replacing->applied.end() ? nullptr : it->second.get();
        },
        [state](const std::string& name) { return DescribeOwnerLocked(*state, name); },
        [this](const std::string& key) { return types_before_.count(key) > 0; }};
  }

  void RefuseIf(const std::vector<Problem>& problems) {
    if (problems.empty()) return;
    Fail(problems[0].kind, "cannot load " + label_ + ": " + Describe(problems) +
                               ". Nothing of the extension was registered.");
  }

  // Undoes and refuses what the library's own code put into the global table since `before`.
  void RefuseStrays(const std::optional<global_table::Snapshot>& before, const std::string& who) {
    if (!before.has_value()) return;
    std::vector<global_table::Change> strays = before->ChangesSince();
    if (strays.empty()) return;
    global_table::Snapshot::Undo(strays);
    Fail(error_kind::kExtensionLoad,
         "cannot load extension '" + shown_path_ + "': " + who +
             " global names themselves, behind the loader's back: " +
             global_table::Snapshot::Describe(strays) +
             ". They were put back as they were and the library was refused. Register through "
             "the loader (TVM_EXTEND_REGISTER_FUNC and friends), which checks names first.");
  }

  // Runs the extension's factories: every registration's function object, or an error.
  std::vector<Function> Create(const TVMExtendExtensionInfo& info,
                               const std::optional<global_table::Snapshot>& before) {
    std::vector<TVMFFIObjectHandle> handles(record_.registrations.size(), nullptr);
    if (!handles.empty() && info.create_functions(handles.data()) != 0) {
      Error e = tvm::ffi::detail::MoveFromSafeCallRaised();
      if (before.has_value()) global_table::Snapshot::Undo(before->ChangesSince());
      const bool schema = e.kind() == error_kind::kSchema;
      Fail(schema ? error_kind::kSchema : error_kind::kExtensionLoad,
           "cannot load " + label_ + ": " + (schema ? "" : e.kind() + ": ") + e.message() +
               ". Nothing of the extension was registered.",
           e.backtrace());
    }
    std::vector<Function> created;
    for (TVMFFIObjectHandle h : handles) {
      created.push_back(tvm::ffi::detail::ObjectUnsafe::ObjectRefFromObjectPtr<Function>(
          tvm::ffi::detail::ObjectUnsafe::ObjectPtrFromOwned<tvm::ffi::Object>(
              static_cast<TVMFFIObject*>(h))));
    }
    RefuseStrays(before, "its registration factories registered");
    return created;
  }

  LoaderState& state_;
  std::string source_;
  LoadedExtension* replacing_;
  PrivateCopy copy_;
  std::string shown_path_;
  library_file::Identity source_identity_;
  ExtensionRecord record_;
  std::string label_;
  std::set<std::string> types_before_;
};

}  // namespace

ExtensionRecord LoadExtension(const std::string& path) {
  LoaderState& state = State();
  std::lock_guard<std::recursive_mutex> lock(state.mutex);
  TransactionScope scope(state, "load '" + path + "'");
  return LoadTransaction(state, path, nullptr).Run();
}

ExtensionRecord ReloadExtension(const std::string& name, const std::string& path) {
  LoaderState& state = State();
  std::lock_guard<std::recursive_mutex> lock(state.mutex);
  TransactionScope scope(state, "reload extension '" + name + "'");
  for (auto& ext : state.loaded) {
    if (ext->record.name == name && ext->record.active) {
      return LoadTransaction(state, path.empty() ? ext->record.path : path, ext.get()).Run();
    }
  }
  Fail(error_kind::kExtensionLoad, "cannot reload extension '" + name + "': it is not loaded");
}

std::vector<ExtensionRecord> ListExtensions() {
  LoaderState& state = State();
  std::lock_guard<std::recursive_mutex> lock(state.mutex);
  std::vector<ExtensionRecord> out;
  for (const auto& ext : state.loaded) out.push_back(ext->record);
  return out;
}

void UnloadExtension(const std::string& name) {
  LoaderState& state = State();
  std::lock_guard<std::recursive_mutex> lock(state.mutex);
  TransactionScope scope(state, "unload extension '" + name + "'");
  for (auto& ext : state.loaded) {
    if (ext->record.name == name && ext->record.active) {
      LoadTransaction::Retire(state, *ext);
      LoadTransaction::ReleaseRetired(*ext);
      return;
    }
  }
  Fail(error_kind::kExtensionLoad, "cannot unload extension '" + name + "': it is not loaded");
}

std::vector<BackendRecord> ListBackends() { return backend::List(); }

std::string DescribeGlobalOwner(const std::string& global_name) {
  LoaderState& state = State();
  std::lock_guard<std::recursive_mutex> lock(state.mutex);
  return DescribeOwnerLocked(state, global_name);
}

}  // namespace tvm_extend
