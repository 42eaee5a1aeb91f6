/*!
 * \file tvm_extend/extension/errors.h
 * \brief The error kinds tvm-extend raises, and the guard that turns any C++ exception from
 *        extension code into a tvm::ffi::Error naming what failed.
 *
 * Each kind is the `kind()` of a tvm::ffi::Error; Python raises the class of the same name
 * (tvm_extend.ExtensionLoadError, ...), registered with tvm_ffi.register_error.
 */
#ifndef TVM_EXTEND_EXTENSION_ERRORS_H_
#define TVM_EXTEND_EXTENSION_ERRORS_H_

#include <cxxabi.h>
#include <tvm/ffi/error.h>

#include <cstdlib>
#include <exception>
#include <string>
#include <typeinfo>

namespace tvm_extend {
namespace error_kind {
/*! \brief A file that is missing, incomplete, foreign, not an extension, or whose code failed. */
inline constexpr const char kExtensionLoad[] = "ExtensionLoadError";
/*! \brief Built against another TVM or tvm-ffi; both versions are named. */
inline constexpr const char kExtensionVersion[] = "ExtensionVersionError";
/*! \brief A name someone else owns; both owners are named. */
inline constexpr const char kDuplicateRegistration[] = "DuplicateRegistrationError";
/*! \brief An IR type or field the extension uses changed in the running TVM. */
inline constexpr const char kSchema[] = "SchemaError";
inline constexpr const char kValue[] = "ValueError";
inline constexpr const char kType[] = "TypeError";
inline constexpr const char kRuntime[] = "RuntimeError";
}  // namespace error_kind

namespace detail {
/*! \brief "std::runtime_error" for a std::runtime_error, from the exception's dynamic type. */
inline std::string ExceptionTypeName(const std::exception& err) {
  int status = 0;
  char* demangled = ::abi::__cxa_demangle(typeid(err).name(), nullptr, nullptr, &status);
  std::string name = status == 0 && demangled ? demangled : typeid(err).name();
  std::free(demangled);
  return name;
}
}  // namespace detail

/*!
 * \brief Run `body`. Whatever it throws comes out as a tvm::ffi::Error whose message starts with
 *        `what` (for example "pass myext.transform.X failed: "): an ffi Error keeps its kind and
 *        backtrace; a std::exception becomes a RuntimeError naming its C++ type; anything else
 *        (`throw 42`) a RuntimeError that says so. Nothing else escapes, so an exception from
 *        extension code never reaches a C boundary, where it would end the process.
 */
template <typename Body>
auto Guarded(const std::string& what, Body&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const tvm::ffi::Error& err) {
    throw tvm::ffi::Error(err.kind(), what + err.message(), err.backtrace());
  } catch (const std::exception& err) {
    throw tvm::ffi::Error(error_kind::kRuntime,
                          what + err.what() + " (" + detail::ExceptionTypeName(err) + ")", "");
  } catch (...) {
    throw tvm::ffi::Error(error_kind::kRuntime,
                          what + "it threw a C++ value that is not a std::exception", "");
  }
}

}  // namespace tvm_extend
#endif  // TVM_EXTEND_EXTENSION_ERRORS_H_
