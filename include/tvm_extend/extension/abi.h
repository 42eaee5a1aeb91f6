/*!
 * \file tvm_extend/extension/abi.h
 * \brief The C boundary between a compiled extension and the tvm-extend loader.
 *
 * An extension library exports exactly one C symbol, TVM_EXTEND_ENTRY_SYMBOL. The loader reads
 * the returned record, checks it, and only then asks the extension to create its functions.
 * Everything that crosses this boundary is plain C: no C++ type, no exception.
 *
 * Ownership: the record and every string in it are static data of the extension library; they
 * live until the library is unmapped. The loader never frees them.
 */
#ifndef TVM_EXTEND_EXTENSION_ABI_H_
#define TVM_EXTEND_EXTENSION_ABI_H_

#include <stdint.h>
#include <tvm/ffi/c_api.h>

#ifdef __cplusplus
extern "C" {
#endif

/*!
 * \brief Version of this record's layout. Bumped on any change to the structs below; the
 *        loader refuses a record whose layout version it does not know.
 */
#define TVM_EXTEND_ABI_VERSION 1

/*! \brief The one exported entry point of every extension library. */
#define TVM_EXTEND_ENTRY_SYMBOL "TVMExtendExtensionEntry_v1"

/*! \brief What kind of thing a registration puts into TVM's global table. */
typedef enum {
  /*! \brief A plain global function. */
  kTVMExtendFunction = 0,
  /*! \brief A global function that returns a new tirx PrimFuncPass on each call. */
  kTVMExtendPrimFuncPass = 1,
  /*!
   * \brief A TIR op. Its created function takes no argument and returns the op's spec
   *        (tvm_extend/op/op.h); the loader registers the op, not the function.
   */
  kTVMExtendOp = 2,
  /*!
   * \brief A code generator for a target kind. Its created function takes no argument and
   *        returns the backend's spec (tvm_extend/backend/backend.h); the loader serves it as
   *        `target.build.<kind>` for targets whose `model` is the registration's name.
   */
  kTVMExtendBackend = 3,
  /*!
   * \brief An object type; the registration's name is its type key. Its created function takes
   *        no argument and returns the type's spec (tvm_extend/object/object.h), whose
   *        "register" function the loader calls after its checks.
   */
  kTVMExtendObjectType = 4,
  /*!
   * \brief A pass config option (`PassContext(config={name: value})`); its opt_level is the
   *        value's TVMExtendConfigValueType. Its created function takes no argument and returns
   *        {"type", "default", "doc"} (tvm_extend/config/config.h); the loader registers the
   *        option with TVM, which keeps it for the life of the process.
   */
  kTVMExtendPassConfig = 5,
  /*!
   * \brief An owned override of an attribute of one of TVM's existing ops; the registration's
   *        name is "<op>[<attribute>]" (outside the extension's prefix). Its created function
   *        takes no argument and returns {"value": the attribute's value} (tvm_extend/op/op.h).
   */
  kTVMExtendOpOverride = 6,
  /*!
   * \brief A Relax op. Its created function takes no argument and returns the op's spec
   *        (tvm_extend/op/relax_op.h): arguments, type inference, purity, legalization and
   *        packed-call lowering; the loader registers the op, not the function.
   */
  kTVMExtendRelaxOp = 8,
  /*!
   * \brief A BYOC codegen with its pattern table; the registration's name is the claimed
   *        global "relax.ext.<codegen>" (outside the extension's prefix). Its created function
   *        takes no argument and returns the codegen's spec (tvm_extend/backend/codegen.h).
   */
  kTVMExtendCodegen = 9,
} TVMExtendRegistrationKind;

/*! \brief The value type of a pass config option (kTVMExtendPassConfig), in its opt_level. */
typedef enum {
  kTVMExtendConfigBool = 0,
  kTVMExtendConfigInt = 1,
  kTVMExtendConfigFloat = 2,
  kTVMExtendConfigString = 3,
} TVMExtendConfigValueType;

/*! \brief One collected registration, in the order the extension declared it. */
typedef struct {
  /*! \brief The global name, dotted and starting with the extension's name. */
  const char* name;
  /*! \brief A TVMExtendRegistrationKind. */
  int32_t kind;
  /*! \brief For a pass: its opt_level; for a config option: its value type. Zero otherwise. */
  int32_t opt_level;
  /*! \brief Source file and line of the registration, for error messages. */
  const char* file;
  int32_t line;
} TVMExtendRegistrationInfo;

/*! \brief The record an extension returns from its entry point. */
typedef struct {
  /*! \brief TVM_EXTEND_ABI_VERSION of the headers the extension was compiled with. */
  uint32_t abi_version;
  /*! \brief The extension's name (the identifier given to TVM_EXTEND_EXTENSION). */
  const char* name;
  /*! \brief The extension's own version string. */
  const char* version;
  /*! \brief Version of the apache-tvm package the extension was built against. */
  const char* built_tvm_version;
  /*! \brief Version of the apache-tvm-ffi package the extension was built against. */
  const char* built_ffi_package_version;
  /*! \brief tvm-ffi C ABI version from the headers the extension was compiled with. */
  uint32_t built_ffi_abi_major;
  uint32_t built_ffi_abi_minor;
  uint32_t built_ffi_abi_patch;
  /*! \brief Compiler identification, for diagnostics. */
  const char* compiler;
  /*! \brief Number of entries in registrations. */
  int32_t num_registrations;
  /*! \brief The collected registrations. */
  const TVMExtendRegistrationInfo* registrations;
  /*!
   * \brief Create the function object of every registration, all or nothing.
   *
   * \param out An array of num_registrations handles. On success each holds a new reference to
   *        an ffi.Function that the caller owns. On failure none does.
   * \return 0 on success; -1 on failure, with the error set through TVMFFIErrorSetRaised.
   */
  int (*create_functions)(TVMFFIObjectHandle* out);
} TVMExtendExtensionInfo;

/*! \brief Signature of the entry point. Never fails and never throws. */
typedef const TVMExtendExtensionInfo* (*TVMExtendEntryFunc)(void);

#ifdef __cplusplus
}  // extern "C"
#endif
#endif  // TVM_EXTEND_EXTENSION_ABI_H_
