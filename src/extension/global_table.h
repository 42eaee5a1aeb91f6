/*!
 * \file src/extension/global_table.h
 * \brief TVM's global function table as the loader sees it: set, remove, who owns a name, and
 *        snapshots that show what a library's own code registered behind the loader's back.
 *
 * Not thread-safe on its own: the loader calls it under its lock.
 */
#ifndef TVM_EXTEND_SRC_EXTENSION_GLOBAL_TABLE_H_
#define TVM_EXTEND_SRC_EXTENSION_GLOBAL_TABLE_H_

#include <tvm/ffi/function.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tvm_extend {
namespace global_table {

/*! \brief Put `f` under `name`; throws the tvm-ffi error when the name is taken and not
 *         `allow_override`. */
void Set(const std::string& name, const tvm::ffi::Function& f, bool allow_override);

/*! \brief Remove `name` from the table (nothing when absent). */
void Remove(const std::string& name);

/*! \brief Every name in the table. */
std::vector<std::string> Names();

/*!
 * \brief Who made the function `f` registered under `name`, from the library its code lives in:
 *        "TVM 0.27.0 (.../libtvm_compiler.so)", "the tvm-extend core (...)", "a Python
 *        function ...", or "the library X, which registered it directly, outside tvm-extend".
 */
std::string DescribeLiveOwner(const std::string& name, const tvm::ffi::Function& f);

/*! \brief One name whose function differs between two snapshots. */
struct Change {
  std::string name;
  /*! \brief The function before; empty when the name is new. */
  std::optional<tvm::ffi::Function> before;
  /*! \brief The function after; empty when the name was removed. */
  std::optional<tvm::ffi::Function> after;
};

/*! \brief The whole table at one moment: name -> function object (held, so none is freed). */
class Snapshot {
 public:
  static Snapshot Take();
  /*! \brief What differs in the table now, compared with this snapshot. */
  std::vector<Change> ChangesSince() const;
  /*! \brief Put every name of `changes` back as it was in this snapshot. */
  static void Undo(const std::vector<Change>& changes);
  /*! \brief "'a' (new), 'b' (replaced)", for error messages. */
  static std::string Describe(const std::vector<Change>& changes);

 private:
  std::map<std::string, tvm::ffi::Function> table_;
};

}  // namespace global_table
}  // namespace tvm_extend
#endif  // TVM_EXTEND_SRC_EXTENSION_GLOBAL_TABLE_H_
