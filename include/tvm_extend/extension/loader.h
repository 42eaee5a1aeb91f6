/*!
 * \file tvm_extend/extension/loader.h
 * \brief Loading extension libraries into the running TVM: checks first, then all or nothing.
 *
 * This API lives in the tvm_extend core library (target tvm_extend::core). The Python package
 * reaches the same loader through the `tvm_extend.*` global functions, so C++ and Python
 * share one table of loaded extensions per process.
 *
 * Each load, reload and unload is one transaction (docs/loader.md): a private copy of the file
 * is mapped (the user's file may be rebuilt or overwritten while the loaded build runs) and
 * inspected before any of its code runs (complete, an ELF library for this machine, with the entry
 * point; its static initializers are run first in a forked probe process), then versions and every
 * name are checked and all problems reported at once, then the extension's factories run, and
 * only then is anything registered, all or nothing. Names the library's own code registers
 * behind the loader's back are put back and the library refused. Every registered function is
 * guarded: whatever it throws comes back as a tvm::ffi::Error naming it.
 *
 * Threading: every function here may be called from any thread; transactions are serialized.
 * Code of an extension being loaded may list extensions and ask owners; a load, reload or
 * unload from there is refused with an error (never a deadlock).
 * Errors: tvm::ffi::Error with one of the kinds of <tvm_extend/extension/errors.h>; the
 * process state is unchanged.
 *  - "ExtensionLoadError": missing, incomplete (still being written), foreign or non-library
 *    file, no entry point, unknown record layout, a static initializer that aborts, throws or
 *    registers names itself, a factory that threw, a call into the loader from inside a load.
 *  - "ExtensionVersionError": built against another TVM or tvm-ffi (both versions named).
 *  - "DuplicateRegistrationError": a name that TVM or another extension already owns (both
 *    owners named), or an extension of the same name from another file.
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
  /*! \brief It uses TVM's C++ ABI, so only the release it was built against loads it. */
  bool exact_tvm_release = false;
  /*! \brief JSON of the types, fields and global functions its code uses (TVMExtendUsedSchema);
   *         empty when it uses no views. */
  std::string uses;
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
 *        and pass objects made before the reload keep running the old code; its code pages are
 *        released (read again from its private copy if old code runs).
 * \param path The new build; empty for the file the extension was loaded from. It may be the
 *        same path, rebuilt in place: the loader waits (a few seconds at most) while the file is
 *        still being written, maps a private copy of it, and names `path` in its errors.
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
