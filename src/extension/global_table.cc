/*!
 * \file src/extension/global_table.cc
 * \brief TVM's global function table: set, remove, owners, snapshots.
 */
#include "global_table.h"

#include <dlfcn.h>
#include <tvm/ffi/c_api.h>
#include <tvm/ffi/string.h>
#include <tvm_extend/abi/version.h>

namespace tvm_extend {
namespace global_table {

using tvm::ffi::Function;

void Set(const std::string& name, const Function& f, bool allow_override) {
  TVMFFIByteArray name_arr{name.data(), name.size()};
  auto* handle = const_cast<tvm::ffi::FunctionObj*>(f.get());
  if (TVMFFIFunctionSetGlobal(&name_arr, handle, allow_override ? 1 : 0) != 0) {
    throw tvm::ffi::detail::MoveFromSafeCallRaised();
  }
}

void Remove(const std::string& name) {
  static Function remove = Function::GetGlobalRequired("ffi.FunctionRemoveGlobal");
  remove(name);
}

std::vector<std::string> Names() {
  static Function list = Function::GetGlobalRequired("ffi.FunctionListGlobalNamesFunctor");
  Function names = list().cast<Function>();
  int64_t count = names(int64_t{-1}).cast<int64_t>();
  std::vector<std::string> out;
  out.reserve(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) out.push_back(names(i).cast<tvm::ffi::String>());
  return out;
}

std::string DescribeLiveOwner(const std::string& name, const Function& f) {
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
    if (name.rfind("ffi.", 0) == 0) return "tvm-ffi (" + lib + ")";
    return "a Python function (or another binding's), registered through tvm-ffi's C API, "
           "e.g. with tvm_ffi.register_global_func";
  }
  return "the library " + lib + ", which registered it directly, outside tvm-extend";
}

Snapshot Snapshot::Take() {
  Snapshot s;
  for (const std::string& name : Names()) {
    if (std::optional<Function> f = Function::GetGlobal(name)) s.table_.emplace(name, *f);
  }
  return s;
}

std::vector<Change> Snapshot::ChangesSince() const {
  std::vector<Change> out;
  std::map<std::string, Function> now = Take().table_;
  for (const auto& [name, f] : now) {
    auto it = table_.find(name);
    if (it == table_.end()) {
      out.push_back({name, std::nullopt, f});
    } else if (!it->second.same_as(f)) {
      out.push_back({name, it->second, f});
    }
  }
  for (const auto& [name, f] : table_) {
    if (!now.count(name)) out.push_back({name, f, std::nullopt});
  }
  return out;
}

void Snapshot::Undo(const std::vector<Change>& changes) {
  for (const Change& change : changes) {
    if (change.before.has_value()) {
      Set(change.name, *change.before, true);
    } else {
      Remove(change.name);
    }
  }
}

std::string Snapshot::Describe(const std::vector<Change>& changes) {
  std::string out;
  for (const Change& change : changes) {
    if (!out.empty()) out += ", ";
    out += "'" + change.name + "' (" +
           (!change.before  ? "new"
            : !change.after ? "removed"
                            : "replaced") +
           ")";
  }
  return out;
}

}  // namespace global_table
}  // namespace tvm_extend
