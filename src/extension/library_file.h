/*!
 * \file src/extension/library_file.h
 * \brief The "inspect" step of a load: a library file is read and checked before any of its
 *        code runs in this process.
 *
 * dlopen of a truncated file dies of SIGBUS (glibc maps segments past the end of the file), a
 * static initializer that throws or claims a taken global name aborts the process, and a file
 * the linker is still writing is either of these. So the loader waits for a file to settle,
 * checks its ELF headers, segments and dynamic symbols here, and runs its static initializers
 * once in a forked probe process before mapping it into this one.
 */
#ifndef TVM_EXTEND_SRC_EXTENSION_LIBRARY_FILE_H_
#define TVM_EXTEND_SRC_EXTENSION_LIBRARY_FILE_H_

#include <sys/stat.h>

#include <cstdint>
#include <string>

namespace tvm_extend {
namespace library_file {

/*! \brief Identity of a file, to notice a rebuilt file at an already mapped path. */
struct Identity {
  dev_t device = 0;
  ino_t inode = 0;
  off_t size = 0;
  int64_t mtime_ns = 0;
  bool operator==(const Identity& o) const {
    return device == o.device && inode == o.inode && size == o.size && mtime_ns == o.mtime_ns;
  }
  bool operator!=(const Identity& o) const { return !(*this == o); }
};

/*! \brief The identity of `path`, waiting (a few seconds at most) while it is being modified.
 *  \throws tvm::ffi::Error of kind ExtensionLoadError when it is missing or not a file. */
Identity Stat(const std::string& path);

/*! \brief What inspection found out about a library, without running it. */
struct Inspected {
  /*! \brief Canonical absolute path. */
  std::string path;
  Identity identity;
  /*!
   * \brief Its code can register global functions itself: it imports tvm-ffi's registration
   *        (TVMFFIFunctionSetGlobal, as TVM_FFI_STATIC_INIT_BLOCK does), or its symbols could
   *        not be read. Only then does the loader compare TVM's global table before and after
   *        running its code.
   */
  bool registers_globals_itself = true;
  /*!
   * \brief It imports C++ symbols of TVM itself (outside tvm::ffi): it was compiled against
   *        TVM's C++ headers (LINK_TVM, TVM_SOURCE_DIR), whose ABI changes between releases, so
   *        it loads only into the release it was built against. Otherwise only tvm-ffi's C ABI
   *        and the binding of what it uses decide.
   */
  bool imports_tvm_cpp = false;
};

/*!
 * \brief Stat `path`, waiting (at most a few seconds) while it is still being modified, and check
 *        it is a complete ELF shared library for this machine that exports the tvm-extend entry
 *        point. `shown_as` names the file in errors (the user's path for a private copy).
 * \throws tvm::ffi::Error of kind ExtensionLoadError saying what is wrong with the file.
 */
Inspected Inspect(const std::string& path, const std::string& shown_as);

/*! \brief A private copy of a library file. */
struct Copy {
  std::string path;
  /*! \brief The identity of the source when it was copied. */
  Identity source;
};

/*!
 * \brief Copy `source` (settled first, read again if it changed while being read) to a new
 *        private file with the source's modification time. The caller unlinks it once mapped.
 */
Copy PrivateCopy(const std::string& source, const std::string& stem);

/*!
 * \brief Run the library's static initializers in a forked child and report how it ended, so a
 *        library that aborts, throws or hangs while being mapped is refused without harm.
 *        Skipped when TVM_EXTEND_LOAD_PROBE=0.
 * \throws tvm::ffi::Error of kind ExtensionLoadError with the child's last output.
 */
void ProbeStaticInitializers(const std::string& path, const std::string& shown_as);

/*!
 * \brief Drop the resident pages of a retired library's read-only segments (its code and
 *        constants): they are re-read from the file if old code runs again. Writable segments
 *        stay, so the old copy's state is kept. Returns the bytes of its writable segments,
 *        which is what a retired copy keeps resident.
 */
int64_t ReleaseCodePages(void* handle);

}  // namespace library_file
}  // namespace tvm_extend
#endif  // TVM_EXTEND_SRC_EXTENSION_LIBRARY_FILE_H_
