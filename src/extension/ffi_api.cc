/*!
 * \file src/extension/ffi_api.cc
 * \brief The `tvm_extend.*` global functions through which Python drives the loader.
 *
 * They are registered by TVMExtendCoreInit, not by a static initializer, so that a second copy
 * of the core in one process is detected instead of aborting it.
 */
#include <tvm/ffi/container/array.h>
#include <tvm/ffi/container/map.h>
#include <tvm/ffi/function.h>
#include <tvm/ffi/string.h>
#include <tvm_extend/abi/version.h>
#include <tvm_extend/extension/loader.h>

#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "kind_config.h"
#include "library_file.h"

namespace tvm_extend {
namespace {

using tvm::ffi::Any;
using tvm::ffi::Array;
using tvm::ffi::Function;
using tvm::ffi::Map;
using tvm::ffi::String;

Map<String, Any> ToMap(const ExtensionRecord& r) {
  Array<Any> regs;
  for (const RegistrationRecord& reg : r.registrations) {
    regs.push_back(Map<String, Any>{{"name", String(reg.name)},
                                    {"kind", String(reg.kind)},
                                    {"opt_level", static_cast<int64_t>(reg.opt_level)},
                                    {"source", String(reg.source)}});
  }
  return Map<String, Any>{{"name", String(r.name)},
                          {"version", String(r.version)},
                          {"path", String(r.path)},
                          {"built_tvm_version", String(r.built_tvm_version)},
                          {"built_ffi_package_version", String(r.built_ffi_package_version)},
                          {"built_ffi_abi_version", String(r.built_ffi_abi_version)},
                          {"compiler", String(r.compiler)},
                          {"exact_tvm_release", r.exact_tvm_release},
                          {"uses", String(r.uses)},
                          {"active", r.active},
                          {"registrations", regs}};
}

std::vector<std::pair<const char*, Function>> CoreFunctions() {
  return {
      {"tvm_extend.LoadExtension",
       Function::FromTyped([](String path) { return ToMap(LoadExtension(path)); },
                           "tvm_extend.LoadExtension")},
      {"tvm_extend.ReloadExtension",
       Function::FromTyped(
           [](String name, String path) { return ToMap(ReloadExtension(name, path)); },
           "tvm_extend.ReloadExtension")},
      {"tvm_extend.ListExtensions", Function::FromTyped(
                                        []() {
                                          Array<Any> out;
                                          for (const auto& r : ListExtensions()) {
                                            out.push_back(ToMap(r));
                                          }
                                          return out;
                                        },
                                        "tvm_extend.ListExtensions")},
      {"tvm_extend.UnloadExtension", Function::FromTyped([](String name) { UnloadExtension(name); },
                                                         "tvm_extend.UnloadExtension")},
      {"tvm_extend.ListBackends", Function::FromTyped(
                                      []() {
                                        Array<Any> out;
                                        for (const BackendRecord& b : ListBackends()) {
                                          Array<Any> options;
                                          for (const auto& o : b.options) {
                                            Array<String> option;
                                            for (const std::string& item : o)
                                              option.push_back(String(item));
                                            options.push_back(option);
                                          }
                                          out.push_back(Map<String, Any>{
                                              {"name", String(b.name)},
                                              {"target_kind", String(b.target_kind)},
                                              {"description", String(b.description)},
                                              {"owner", String(b.owner)},
                                              {"options", options}});
                                        }
                                        return out;
                                      },
                                      "tvm_extend.ListBackends")},
      {"tvm_extend.InspectLibrary",
       Function::FromTyped(
           [](String path) {
             library_file::Inspected file = library_file::Inspect(path, path);
             return Map<String, Any>{{"path", String(file.path)},
                                     {"size", static_cast<int64_t>(file.identity.size)},
                                     {"registers_globals_itself", file.registers_globals_itself}};
           },
           "tvm_extend.InspectLibrary")},
      {"tvm_extend.ListConfigOptions",
       Function::FromTyped([]() { return loader::DescribeConfigOptions(); },
                           "tvm_extend.ListConfigOptions")},
      {"tvm_extend.DescribeGlobalOwner",
       Function::FromTyped([](String name) { return String(DescribeGlobalOwner(name)); },
                           "tvm_extend.DescribeGlobalOwner")},
      {"tvm_extend.SetRunningTVMVersion",
       Function::FromTyped([](String v) { abi::SetRunningTVMVersion(v); },
                           "tvm_extend.SetRunningTVMVersion")},
      {"tvm_extend.RunningVersions", Function::FromTyped(
                                         []() {
                                           return Map<String, Any>{
                                               {"tvm", String(abi::RunningTVMVersion())},
                                               {"ffi_abi", String(abi::RunningFFIAbiVersion())}};
                                         },
                                         "tvm_extend.RunningVersions")},
      {"tvm_extend.CheckCompatible",
       Function::FromTyped(
           [](String built_tvm, String running_tvm, String built_ffi, String running_ffi) {
             auto b = abi::ParseVersion(built_ffi);
             auto r = abi::ParseVersion(running_ffi);
             if (!b || !r) return String("tvm-ffi ABI versions must look like 0.1.16");
             return String(abi::CheckCompatible(built_tvm, running_tvm, b->major, b->minor,
                                                b->patch, r->major, r->minor, r->patch));
           },
           "tvm_extend.CheckCompatible")},
  };
}

}  // namespace
}  // namespace tvm_extend

extern "C" int TVMExtendCoreInit(void) {
  static std::mutex mutex;
  static int state = -2;  // -2: not yet; 0: ours registered; 1: another copy's in use
  std::lock_guard<std::mutex> lock(mutex);
  if (state != -2) return state;
  TVM_FFI_SAFE_CALL_BEGIN();
  auto functions = tvm_extend::CoreFunctions();
  if (tvm::ffi::Function::GetGlobal(functions.front().first).has_value()) {
    state = 1;
    return state;
  }
  for (auto& [name, f] : functions) {
    tvm::ffi::Function::SetGlobal(name, f, false);
  }
  state = 0;
  TVM_FFI_SAFE_CALL_END();
}
