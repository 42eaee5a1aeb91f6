/*!
 * \file tvm_extend/extension/loader.h
 * \brief Loading extension libraries into the running TVM: checks first, then all or nothing.
 *
 * This API lives in the tvm_extend core library (target tvm_extend::core). The Python package
 * reaches the same loader through the `tvm_extend.*` global functions, so C++ and Python
 * share one table of loaded extensions per process.
 *
 * Threading: every function here may be called from any thread; loads are serialized.
 * Errors: tvm::ffi::Error with one of the kinds below; the process state is unchanged.
 *  - "ExtensionLoadError": missing file, not a library, no entry point, unknown record layout,
 *    an extension of the same name from another file, a factory that threw.
 *  - "ExtensionVersionError": built against another TVM or tvm-ffi (both versions named).
 *  - "DuplicateRegistrationError": a name that TVM or another extension already owns (both
 *    owners named), or a name outside the extension's prefix.
 */
#ifndef TVM_EXTEND_EXTENSION_LOADER_H_
#define TVM_EXTEND_EXTENSION_LOADER_H_

#include <tvm_extend/abi/core_api.h>

#include <string>
#include <vector>

namespace tvm_extend {

/*! \brief One name an extension put into TVM's global table. */
struct RegistrationRecord {
  std::string name;
  /*! \brief "function", "prim_func_pass", "op" or "backend". */
  std::string kind;
  int opt_level = 0;
  /*! \brief "file:line" of the registration macro. */
  std::string source;
};

/*! \brief A loaded extension. */
struct ExtensionRecord {
  std::string name;
  std::string version;
  /*! \brief The library file, as a canonical absolute path. */
  std::string path;
  std::string built_tvm_version;
  std::string built_ffi_package_version;
  std::string built_ffi_abi_version;
  std::string compiler;
  /*! \brief False once unloaded: its names were removed from TVM's table. */
  bool active = true;
  std::vector<RegistrationRecord> registrations;
};

/*!
 * \brief Load an extension library and register everything it collected.
 *
 * Loading the same file again returns the existing record and registers nothing.
 * \param path Path of the shared library.
 * \return The record of the loaded extension.
 */
TVM_EXTEND_CORE_API ExtensionRecord LoadExtension(const std::string& path);

/*!
 * \brief Replace a loaded extension by the library at `path` (a new build of it), atomically:
 *        the new library is checked and its functions created first; then its names replace
 *        the old ones in one step, names the new build dropped are removed, and on any failure
 *        the old functions stay registered. The old library stays mapped, so functions fetched
 *        and pass objects made before the reload keep running the old code.
 * \param path Must differ from every path already loaded (copy a rebuilt file first).
 */
TVM_EXTEND_CORE_API ExtensionRecord ReloadExtension(const std::string& name,
                                                    const std::string& path);

/*! \brief The extensions loaded in this process, in load order, unloaded ones included. */
TVM_EXTEND_CORE_API std::vector<ExtensionRecord> ListExtensions();

/*!
 * \brief Remove an extension's names from TVM's global table. The library stays mapped, so
 *        objects its code made (pass instances, functions held by callers) stay valid.
 */
TVM_EXTEND_CORE_API void UnloadExtension(const std::string& name);

/*! \brief A code generator an extension registered (tvm_extend/backend/backend.h). */
struct BackendRecord {
  std::string name;
  std::string target_kind;
  std::string description;
  /*! \brief The extension that registered it, as in error messages. */
  std::string owner;
  /*! \brief (name, default value, doc) of each option. */
  std::vector<std::vector<std::string>> options;
};

/*! \brief The backends of the loaded extensions, by name. */
TVM_EXTEND_CORE_API std::vector<BackendRecord> ListBackends();

/*!
 * \brief Say who owns a global name: "extension 'x' 1.0 (path)", "TVM (libtvm_compiler.so)",
 *        "a Python function", or the library that holds its code. Empty when nobody does.
 */
TVM_EXTEND_CORE_API std::string DescribeGlobalOwner(const std::string& global_name);

}  // namespace tvm_extend

extern "C" {
/*!
 * \brief Register the loader's `tvm_extend.*` global functions. Idempotent.
 * \return 0 when this library's functions are registered, 1 when another copy of the
 *         tvm-extend core already registered them (they are used instead), -1 on error
 *         (set through TVMFFIErrorSetRaised).
 */
TVM_EXTEND_CORE_API int TVMExtendCoreInit(void);
}

#endif  // TVM_EXTEND_EXTENSION_LOADER_H_
