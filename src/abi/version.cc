/*!
 * \file src/abi/version.cc
 * \brief The version policy of tvm_extend/abi/version.h.
 */
#include <dlfcn.h>
#include <tvm/ffi/c_api.h>
#include <tvm/ffi/function.h>
#include <tvm_extend/abi/version.h>

#include <cctype>
#include <fstream>
#include <mutex>
#include <regex>
#include <sstream>

namespace tvm_extend {
namespace abi {

std::optional<ReleaseVersion> ParseVersion(const std::string& text) {
  // release numbers, then an optional pre/dev part, then ignored post/local parts.
  static const std::regex pattern(
      R"(^\s*v?(\d+)\.(\d+)(?:\.(\d+))?((?:\.?(?:a|b|rc|alpha|beta|dev)\d*)*)(?:\.?post\d*)?(?:\+[\w.]+)?\s*$)",
      std::regex::icase);
  std::smatch m;
  if (!std::regex_match(text, m, pattern)) return std::nullopt;
  ReleaseVersion v;
  v.major = std::stoi(m[1].str());
  v.minor = std::stoi(m[2].str());
  v.patch = m[3].matched ? std::stoi(m[3].str()) : 0;
  v.pre = m[4].str();
  for (char& c : v.pre) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!v.pre.empty() && v.pre[0] == '.') v.pre.erase(0, 1);
  return v;
}

namespace {
std::string ReleaseString(const ReleaseVersion& v) {
  std::ostringstream os;
  os << v.major << "." << v.minor << "." << v.patch << v.pre;
  return os.str();
}
}  // namespace

std::string CheckCompatible(const std::string& built_tvm, const std::string& running_tvm,
                            uint32_t built_ffi_major, uint32_t built_ffi_minor,
                            uint32_t built_ffi_patch, uint32_t running_ffi_major,
                            uint32_t running_ffi_minor, uint32_t running_ffi_patch,
                            bool exact_release) {
  std::ostringstream err;
  std::optional<ReleaseVersion> built = ParseVersion(built_tvm);
  std::optional<ReleaseVersion> running = ParseVersion(running_tvm);
  if (!built) {
    err << "it records TVM version '" << built_tvm << "', which is not a version";
    return err.str();
  }
  if (!running) {
    err << "the running TVM version '" << running_tvm << "' is not a version";
    return err.str();
  }
  bool portable = !exact_release && built->major == 0 && running->major == 0 &&
                  built->minor >= kFirstPortableTVMMinor &&
                  running->minor >= kFirstPortableTVMMinor;
  if (ReleaseString(*built) != ReleaseString(*running) && !portable) {
    err << "it was built against TVM " << built_tvm << " but the running TVM is " << running_tvm;
    if (exact_release) {
      err << " (it uses TVM's C++ ABI, which changes between releases, so the release must "
             "match; rebuild the extension against TVM "
          << running_tvm << ")";
    } else {
      err << " (an extension that uses TVM only through tvm-ffi loads into any release from 0."
          << kFirstPortableTVMMinor << " on where what it uses binds; releases before 0."
          << kFirstPortableTVMMinor << " have another IR model; rebuild the extension against TVM "
          << running_tvm << ")";
    }
    return err.str();
  }
  if (built_ffi_major != running_ffi_major || built_ffi_minor != running_ffi_minor ||
      built_ffi_patch > running_ffi_patch) {
    err << "it was built against the tvm-ffi C ABI " << built_ffi_major << "." << built_ffi_minor
        << "." << built_ffi_patch << " but the running tvm-ffi C ABI is " << running_ffi_major
        << "." << running_ffi_minor << "." << running_ffi_patch
        << " (needs the same major.minor and a patch at least as new)";
    return err.str();
  }
  return "";
}

std::string RunningFFIAbiVersion() {
  TVMFFIVersion v;
  TVMFFIGetVersion(&v);
  std::ostringstream os;
  os << v.major << "." << v.minor << "." << v.patch;
  return os.str();
}

namespace {
std::mutex& VersionMutex() {
  static std::mutex m;
  return m;
}
std::string& HostTVMVersion() {
  static std::string v;
  return v;
}

// The library that holds TVM's own `transform.PassInfo` is the running TVM; its package's
// _version.py sits one folder above the library folder.
std::string ReadTVMVersionBesideLibrary() {
  std::optional<tvm::ffi::Function> f = tvm::ffi::Function::GetGlobal("transform.PassInfo");
  if (!f.has_value()) return "";
  const auto* cell = static_cast<const tvm::ffi::FunctionObj*>(f->get());
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(cell->safe_call), &info) == 0 || !info.dli_fname) return "";
  std::string lib = info.dli_fname;
  std::string lib_dir = lib.substr(0, lib.find_last_of('/'));
  std::string pkg_dir = lib_dir.substr(0, lib_dir.find_last_of('/'));
  std::ifstream in(pkg_dir + "/_version.py");
  static const std::regex line_re(R"(^__version__\s*=\s*(?:version\s*=\s*)?['"]([^'"]+)['"])");
  std::string line;
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_search(line, m, line_re)) return m[1].str();
  }
  return "";
}
}  // namespace

std::string RunningTVMVersion() {
  std::lock_guard<std::mutex> lock(VersionMutex());
  if (HostTVMVersion().empty()) HostTVMVersion() = ReadTVMVersionBesideLibrary();
  return HostTVMVersion();
}

void SetRunningTVMVersion(const std::string& version) {
  std::lock_guard<std::mutex> lock(VersionMutex());
  HostTVMVersion() = version;
}

}  // namespace abi
}  // namespace tvm_extend
