/*!
 * \file tvm_extend/abi/version.h
 * \brief The version policy: which running TVM and tvm-ffi an extension may be loaded into.
 *
 * Policy (documented in docs/version-policy.md):
 *  - TVM: the running apache-tvm release must equal the one the extension was built against,
 *    compared on the release part (major.minor.patch). TVM's C++ ABI has changed within patch
 *    releases, so nothing wider is safe while extensions reach IR fields by layout. Suffixes
 *    that do not change the binaries (".postN" repackaging, "+local") are ignored.
 *  - tvm-ffi: the running C ABI must have the same major.minor and a patch at least as new as
 *    the headers the extension was compiled with. tvm-ffi keeps its C ABI stable that way.
 */
#ifndef TVM_EXTEND_ABI_VERSION_H_
#define TVM_EXTEND_ABI_VERSION_H_

#include <tvm_extend/abi/core_api.h>

#include <cstdint>
#include <optional>
#include <string>

namespace tvm_extend {
namespace abi {

/*! \brief A parsed PEP 440 version, as far as the policy needs it. */
struct ReleaseVersion {
  int major = 0;
  int minor = 0;
  int patch = 0;
  /*! \brief Anything after the release numbers that changes the binaries ("rc1", ".dev3"). */
  std::string pre;
};

/*! \brief Parse "0.27.0.post1", "0.22.dev0", "1.2.3rc1"; nullopt when it is not a version. */
TVM_EXTEND_CORE_API std::optional<ReleaseVersion> ParseVersion(const std::string& text);

/*! \brief The first TVM release of the IR model the views bind to (one `ir.Expr` for every
 *         expression): an extension built on it or later, that uses TVM only through tvm-ffi,
 *         may load into any release from it on where everything it uses binds. */
constexpr int kFirstPortableTVMMinor = 26;

/*!
 * \brief Check an extension's recorded versions against the running ones.
 * \param exact_release Whether the extension needs the very TVM release it was built against
 *        (it was compiled against TVM's C++ headers). Otherwise any release from 0.26 on is
 *        accepted here, and the binding of what it uses decides (tvm_extend/ir/view.h).
 * \return An empty string when compatible, else a sentence naming both versions of what differs.
 */
TVM_EXTEND_CORE_API std::string CheckCompatible(
    const std::string& built_tvm, const std::string& running_tvm, uint32_t built_ffi_major,
    uint32_t built_ffi_minor, uint32_t built_ffi_patch, uint32_t running_ffi_major,
    uint32_t running_ffi_minor, uint32_t running_ffi_patch, bool exact_release = true);

/*! \brief The running tvm-ffi C ABI version, "major.minor.patch". */
TVM_EXTEND_CORE_API std::string RunningFFIAbiVersion();

/*!
 * \brief The running apache-tvm version.
 *
 * The version set by SetRunningTVMVersion when there is one (the Python package sets
 * tvm.__version__); otherwise read from the `_version.py` beside the loaded TVM library.
 * Empty when TVM is not loaded.
 */
TVM_EXTEND_CORE_API std::string RunningTVMVersion();

/*! \brief Record the running TVM version, as known by the host (Python) side. */
TVM_EXTEND_CORE_API void SetRunningTVMVersion(const std::string& version);

}  // namespace abi
}  // namespace tvm_extend
#endif  // TVM_EXTEND_ABI_VERSION_H_
