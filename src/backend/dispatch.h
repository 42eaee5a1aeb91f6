/*!
 * \file src/backend/dispatch.h
 * \brief The code generators of loaded extensions at run time: one `target.build.<kind>`
 *        function per target kind dispatches each build to the backend the target's `model`
 *        names. The loader's backend kind fills the table; tvm.compile reads it.
 *
 * Thread-safe: the table has its own lock, so builds never wait for a load.
 */
#ifndef TVM_EXTEND_SRC_BACKEND_DISPATCH_H_
#define TVM_EXTEND_SRC_BACKEND_DISPATCH_H_

#include <tvm/ffi/function.h>
#include <tvm_extend/extension/loader.h>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tvm_extend {
namespace backend {

/*! \brief A code generator an extension registered (tvm_extend/backend/backend.h). */
struct Entry {
  std::string kind;
  std::string description;
  tvm::ffi::Function build;
  /*! \brief name -> (default value, doc). */
  std::map<std::string, std::pair<std::string, std::string>> options;
  /*! \brief The owner's label, for error messages. */
  std::string owner;
  /*! \brief The kind's tensors live in host memory. */
  bool host_memory = false;
  /*! \brief Registered as ffi.Module.load_from_bytes.<name>, if given. */
  std::optional<tvm::ffi::Function> load_from_bytes;
};

/*! \brief "'a', 'b'" for messages; `none` when there are no items. */
std::string QuotedList(const std::vector<std::string>& items, const std::string& none);

/*! \brief The global name of a backend's module loader. */
std::string ModuleLoaderName(const std::string& backend);

/*! \brief The backend `name`, if one is installed. */
std::optional<Entry> Find(const std::string& name);

/*!
 * \brief Put `entry` in the table under `name` (replacing one of that name), and the kind's
 *        dispatcher, host memory and module loader in TVM's global table.
 */
void Install(const std::string& name, Entry entry);

/*! \brief Take the backend `name` and its module loader out again. */
void Remove(const std::string& name);

/*! \brief Every installed backend. */
std::vector<BackendRecord> List();

}  // namespace backend
}  // namespace tvm_extend
#endif  // TVM_EXTEND_SRC_BACKEND_DISPATCH_H_
