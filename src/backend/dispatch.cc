/*!
 * \file src/backend/dispatch.cc
 * \brief `target.build.<kind>` for extension backends: dispatch by the target's model, options
 *        from the target's libs, errors that name the backend and its owner.
 */
#include "dispatch.h"

#include <tvm/ffi/container/array.h>
#include <tvm/ffi/container/map.h>
#include <tvm/ffi/error.h>
#include <tvm/ffi/extra/module.h>
#include <tvm/ffi/string.h>
#include <tvm_extend/extension/errors.h>

#include <mutex>

#include "../extension/global_table.h"

namespace tvm_extend {
namespace backend {
namespace {

using tvm::ffi::Function;
using tvm::ffi::Map;
using tvm::ffi::String;

struct Table {
  std::mutex mutex;
  std::map<std::string, Entry> backends;
};

Table& TheTable() {
  static auto* table = new Table();  // never destroyed: builds may run during static dtors
  return *table;
}

// Builds `mod` for `target` with the backend the target's model names.
tvm::ffi::Any DispatchBuild(const std::string& kind, tvm::ffi::Any mod, tvm::ffi::Any target) {
  static Function export_target = Function::GetGlobalRequired("target.TargetExport");
  auto config = export_target(target).cast<Map<String, tvm::ffi::Any>>();
  std::string model;
  if (auto it = config.find("model"); it != config.end()) model = (*it).second.cast<String>();
  Entry entry;
  {
    Table& table = TheTable();
    std::lock_guard<std::mutex> lock(table.mutex);
    auto found = table.backends.find(model);
    if (found == table.backends.end() || found->second.kind != kind) {
      std::vector<std::string> known;
      for (const auto& [name, e] : table.backends) {
        if (e.kind == kind) known.push_back(name);
      }
      throw tvm::ffi::Error(error_kind::kValue,
                            (model.empty() ? "the " + kind + " target names no backend"
                                           : "unknown " + kind + " backend '" + model + "'") +
                                ". Choose one with the target's model, e.g. Target({\"kind\": \"" +
                                kind +
                                "\", \"model\": NAME, \"host\": \"llvm\"}); loaded backends for " +
                                kind + ": " + QuotedList(known, "none is loaded") + ".",
                            "");
    }
    entry = found->second;
  }
  std::map<std::string, std::string> values;
  for (const auto& [name, option] : entry.options) values[name] = option.first;
  if (auto it = config.find("libs"); it != config.end()) {
    for (const String& item : (*it).second.cast<tvm::ffi::Array<String>>()) {
      std::string text = item;
      size_t eq = text.find('=');
      std::string key = text.substr(0, eq);
      if (eq == std::string::npos || !entry.options.count(key)) {
        std::string listed;
        for (const auto& [name, option] : entry.options) {
          listed += (listed.empty() ? "'" : "; '") + name + "' (" + option.second + ", default '" +
                    option.first + "')";
        }
        throw tvm::ffi::Error(error_kind::kValue,
                              "unknown option '" + text + "' for backend '" + model + "' of " +
                                  entry.owner +
                                  ". Options are given as \"name=value\" in the target's libs; "
                                  "this backend knows: " +
                                  (listed.empty() ? std::string("none") : listed) + ".",
                              "");
      }
      values[key] = text.substr(eq + 1);
    }
  }
  Map<String, String> options;
  for (const auto& [k, v] : values) options.Set(k, v);
  tvm::ffi::Any result = Guarded("backend '" + model + "' of " + entry.owner + ": ",
                                 [&] { return entry.build(mod, target, options); });
  if (result.as<tvm::ffi::ModuleObj>() == nullptr) {
    throw tvm::ffi::Error(error_kind::kType,
                          "backend '" + model + "' of " + entry.owner + " returned " +
                              result.GetTypeKey() + " instead of a runtime Module",
                          "");
  }
  return result;
}

}  // namespace

std::string QuotedList(const std::vector<std::string>& items, const std::string& none) {
  if (items.empty()) return none;
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "'" : ", '") + item + "'";
  return out;
}

std::string ModuleLoaderName(const std::string& backend) {
  return "ffi.Module.load_from_bytes." + backend;
}

std::optional<Entry> Find(const std::string& name) {
  Table& table = TheTable();
  std::lock_guard<std::mutex> lock(table.mutex);
  auto it = table.backends.find(name);
  if (it == table.backends.end()) return std::nullopt;
  return it->second;
}

void Install(const std::string& name, Entry entry) {
  const std::string build_name = "target.build." + entry.kind;
  if (!Function::GetGlobal(build_name).has_value()) {
    std::string kind = entry.kind;
    global_table::Set(build_name,
                      Function::FromTyped([kind](tvm::ffi::Any mod, tvm::ffi::Any target) {
                        return DispatchBuild(kind, mod, target);
                      }),
                      false);
  }
  const std::string api_name = "device_api." + entry.kind;
  if (entry.host_memory && !Function::GetGlobal(api_name).has_value()) {
    Function cpu = Function::GetGlobalRequired("device_api.cpu");
    global_table::Set(api_name,
                      Function::FromPacked([cpu](tvm::ffi::PackedArgs args, tvm::ffi::Any* rv) {
                        cpu.CallPacked(args, rv);
                      }),
                      false);
  }
  Remove(name);  // a reloaded build's old entry, and its module loader
  if (entry.load_from_bytes.has_value()) {
    global_table::Set(ModuleLoaderName(name), *entry.load_from_bytes, true);
  }
  Table& table = TheTable();
  std::lock_guard<std::mutex> lock(table.mutex);
  table.backends[name] = std::move(entry);
}

void Remove(const std::string& name) {
  Table& table = TheTable();
  std::lock_guard<std::mutex> lock(table.mutex);
  auto it = table.backends.find(name);
  if (it == table.backends.end()) return;
  if (it->second.load_from_bytes.has_value()) {
    std::optional<Function> current = Function::GetGlobal(ModuleLoaderName(name));
    if (current.has_value() && current->same_as(*it->second.load_from_bytes)) {
      global_table::Remove(ModuleLoaderName(name));
    }
  }
  table.backends.erase(it);
}

std::vector<BackendRecord> List() {
  Table& table = TheTable();
  std::lock_guard<std::mutex> lock(table.mutex);
  std::vector<BackendRecord> out;
  for (const auto& [name, entry] : table.backends) {
    BackendRecord r{name, entry.kind, entry.description, entry.owner, {}};
    for (const auto& [option, value] : entry.options) {
      r.options.push_back({option, value.first, value.second});
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace backend
}  // namespace tvm_extend
