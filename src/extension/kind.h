/*!
 * \file src/extension/kind.h
 * \brief One registration kind's part in the loader's transaction.
 *
 * A load is inspect -> plan -> prepare -> commit (-> retire the old build, on reload). The
 * loader does the generic parts (the file, versions, the extension's prefix, names used twice,
 * what the library's own code registered behind its back); each kind plugs in here:
 *  - Plan: every reason the registration cannot be made, from its name alone. No code of the
 *    extension has run but its static initializers.
 *  - Prepare: read what the extension's factory created (a spec) and check it; nothing visible.
 *  - Commit (Pending::Commit): make it visible; on failure undo its own part and throw.
 *  - Retire (Applied::Retire): take it back on unload, on rollback, or when a reload's new
 *    build no longer has it, putting back what it displaced if asked.
 * To add a kind: a TVMExtendRegistrationKind in abi.h, a macro in registry.h, a Kind here
 * (kind_<name>.cc) and its line in KindFor (kind.cc). Everything runs under the loader's lock.
 */
#ifndef TVM_EXTEND_SRC_EXTENSION_KIND_H_
#define TVM_EXTEND_SRC_EXTENSION_KIND_H_

#include <tvm/ffi/function.h>
#include <tvm_extend/extension/loader.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace tvm_extend {
namespace loader {

/*! \brief A reason a load is refused; all of them are reported at once. */
struct Problem {
  /*! \brief An error_kind constant. */
  const char* kind;
  std::string message;
};

/*! \brief A registration made visible. Owned by its extension's entry in the loader. */
class Applied {
 public:
  virtual ~Applied() = default;
  /*!
   * \brief Take the registration back if it is still in place. With `restore`, put back what it
   *        displaced in this transaction (the build a reload replaces). Does not throw.
   */
  virtual void Retire(bool restore) = 0;
  /*! \brief The transaction committed: what it displaced is retired for good. */
  virtual void Settle() = 0;
};

/*! \brief A registration prepared for commit. */
class Pending {
 public:
  virtual ~Pending() = default;
  virtual std::unique_ptr<Applied> Commit() = 0;
};

/*! \brief What a kind sees of the transaction it is part of. */
struct Transaction {
  const ExtensionRecord& record;
  /*! \brief "extension 'x' 1.0 (path)", for messages. */
  std::string label;
  /*! \brief True when `name` is registered by the build this transaction replaces (reload). */
  std::function<bool(const std::string& name)> replaced_owns;
  /*! \brief The Applied of the replaced build for `name`, or null. */
  std::function<Applied*(const std::string& name)> replaced_applied;
  /*! \brief Who else owns `name`: an extension's label, TVM, Python or a library; or "". */
  std::function<std::string(const std::string& name)> owner_of;
  /*!
   * \brief Whether the object type `key` was registered before the library was mapped (its
   *        static initializers allocate the indices of the types it declares).
   */
  std::function<bool(const std::string& key)> type_existed;
};

class Kind {
 public:
  virtual ~Kind() = default;
  /*! \brief As in RegistrationRecord::kind: "function", "op", ... */
  virtual const char* name() const = 0;
  /*!
   * \brief True when the kind's registration names are someone else's (an override of TVM's
   *        op attribute is named after TVM's op): the loader's prefix check lets them through.
   */
  virtual bool ClaimsForeignNames() const { return false; }
  virtual void Plan(const Transaction& tx, const RegistrationRecord& reg,
                    std::vector<Problem>* problems) const = 0;
  /*! \brief Null with `problems` appended when the created spec is refused. May throw. */
  virtual std::unique_ptr<Pending> Prepare(const Transaction& tx, const RegistrationRecord& reg,
                                           tvm::ffi::Function created,
                                           std::vector<Problem>* problems) const = 0;
};

/*!
 * \brief `f`, with every exception it throws (C++ or not) turned into a tvm::ffi::Error whose
 *        message starts with `what`, e.g. "function myext.f failed: ". Extension code that TVM
 *        calls is wrapped in this, so no exception of it reaches a C boundary.
 */
tvm::ffi::Function GuardCalls(std::string what, tvm::ffi::Function f);

/*!
 * \brief The common plan of a name the extension owns: a DuplicateRegistrationError naming both
 *        owners when someone other than the build being replaced owns `reg.name`. `what` is
 *        how the message calls it ("global name", "backend name").
 */
void PlanOwnedName(const Transaction& tx, const RegistrationRecord& reg, const char* what,
                   std::vector<Problem>* problems);

/*! \brief The kind of a TVMExtendRegistrationKind, or null for one this loader does not know. */
const Kind* KindFor(int32_t abi_kind);

const Kind& FunctionKind();
const Kind& PrimFuncPassKind();
const Kind& OpKind();
const Kind& RelaxOpKind();
const Kind& CodegenKind();
const Kind& BackendKind();
const Kind& OpOverrideKind();
const Kind& ObjectTypeKind();
const Kind& PassConfigKind();

}  // namespace loader
}  // namespace tvm_extend
#endif  // TVM_EXTEND_SRC_EXTENSION_KIND_H_
