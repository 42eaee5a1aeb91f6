/*!
 * \file tvm_extend/extension/registry.h
 * \brief The registration macros and the entry point of an extension library.
 *
 * The macros only collect: a static initializer appends to a list private to this library. No
 * registration reaches TVM until the tvm-extend loader has checked the library's versions and
 * every name, and then it happens all or nothing. Two libraries that both say
 * "myext.name" therefore get an error naming both owners instead of an abort.
 */
#ifndef TVM_EXTEND_EXTENSION_REGISTRY_H_
#define TVM_EXTEND_EXTENSION_REGISTRY_H_

#include <tvm/ffi/c_api.h>
#include <tvm/ffi/error.h>
#include <tvm/ffi/function.h>
#include <tvm_extend/extension/abi.h>
#include <tvm_extend/extension/errors.h>
#include <tvm_extend/extension/load_hooks.h>
#include <tvm_extend/transform/prim_func_pass.h>
#include <tvm_extend/transform/relax_pass.h>

#include <exception>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#if !defined(TVM_EXTEND_BUILT_TVM_VERSION) || !defined(TVM_EXTEND_BUILT_FFI_VERSION)
#error \
    "tvm-extend: build extensions with tvm_extend_add_extension() from the tvm_extend CMake \
package; it records the TVM and tvm-ffi versions the library is built against."
#endif

// The tvm-ffi C ABI recorded in the stamp: the headers' own, unless the build overrides it (the
// CMake variable TVM_EXTEND_OVERRIDE_FFI_ABI_VERSION, which exists to test the loader's refusal).
#ifndef TVM_EXTEND_BUILT_FFI_ABI_MAJOR
#define TVM_EXTEND_BUILT_FFI_ABI_MAJOR TVM_FFI_VERSION_MAJOR
#define TVM_EXTEND_BUILT_FFI_ABI_MINOR TVM_FFI_VERSION_MINOR
#define TVM_EXTEND_BUILT_FFI_ABI_PATCH TVM_FFI_VERSION_PATCH
#endif

#define TVM_EXTEND_STRINGIFY_IMPL(x) #x
#define TVM_EXTEND_STRINGIFY(x) TVM_EXTEND_STRINGIFY_IMPL(x)
#define TVM_EXTEND_CONCAT_IMPL(a, b) a##b
#define TVM_EXTEND_CONCAT(a, b) TVM_EXTEND_CONCAT_IMPL(a, b)

#if defined(__clang__)
#define TVM_EXTEND_COMPILER_ID "clang " __clang_version__
#elif defined(__GNUC__)
#define TVM_EXTEND_COMPILER_ID "gcc " __VERSION__
#else
#define TVM_EXTEND_COMPILER_ID "unknown"
#endif

// Hidden visibility keeps this state private to each extension library even when several
// libraries built from these headers share one process.
#pragma GCC visibility push(hidden)
namespace tvm_extend {
namespace detail {

/*! \brief One collected registration: what the loader sees, and how to make the function. */
struct PendingRegistration {
  TVMExtendRegistrationInfo info;
  std::function<tvm::ffi::Function()> create;
};

/*! \brief The registrations of this library, in declaration order. */
inline std::vector<PendingRegistration>& PendingRegistrations() {
  static std::vector<PendingRegistration> pending;
  return pending;
}

/*! \brief Appends to PendingRegistrations() from a static initializer; never touches TVM. */
struct Registrar {
  Registrar(const char* name, TVMExtendRegistrationKind kind, int opt_level, const char* file,
            int line, std::function<tvm::ffi::Function()> create) {
    PendingRegistrations().push_back(PendingRegistration{
        TVMExtendRegistrationInfo{name, kind, opt_level, file, line}, std::move(create)});
  }
};

/*! \brief Builds every function object, or none: the C side of create_functions. */
inline int CreateFunctions(TVMFFIObjectHandle* out) {
  std::vector<PendingRegistration>& pending = PendingRegistrations();
  size_t created = 0;
  bool in_hooks = true;
  std::string kind = error_kind::kRuntime;
  std::string message = "an exception that is not a std::exception";
  try {
    for (void (*hook)() : LoadHooks()) hook();
    in_hooks = false;
    for (; created < pending.size(); ++created) {
      tvm::ffi::Function f = pending[created].create();
      out[created] = tvm::ffi::detail::ObjectUnsafe::MoveObjectRefToTVMFFIObjectPtr(std::move(f));
    }
    return 0;
  } catch (const tvm::ffi::Error& err) {
    kind = err.kind();
    message = err.message();
  } catch (const std::exception& err) {
    message = err.what();
  } catch (...) {
    // An exception from user code that is not a std::exception must not cross the C boundary.
  }
  for (size_t i = 0; i < created; ++i) {
    TVMFFIObjectDecRef(out[i]);
    out[i] = nullptr;
  }
  if (in_hooks) {
    TVMFFIErrorSetRaisedFromCStr(kind.c_str(), message.c_str());
    return -1;
  }
  const TVMExtendRegistrationInfo& info = pending[created].info;
  std::string where =
      std::string(info.name) + " (" + info.file + ":" + std::to_string(info.line) + ")";
  TVMFFIErrorSetRaisedFromCStr(kind.c_str(), ("creating " + where + ": " + message).c_str());
  return -1;
}

/*! \brief Fills the record once; the registration list is complete by the time it is asked. */
inline const TVMExtendExtensionInfo* MakeExtensionInfo(const char* name, const char* version) {
  static std::vector<TVMExtendRegistrationInfo> infos;
  static TVMExtendExtensionInfo record;
  infos.clear();
  for (const PendingRegistration& p : PendingRegistrations()) infos.push_back(p.info);
  record.abi_version = TVM_EXTEND_ABI_VERSION;
  record.name = name;
  record.version = version;
  record.built_tvm_version = TVM_EXTEND_BUILT_TVM_VERSION;
  record.built_ffi_package_version = TVM_EXTEND_BUILT_FFI_VERSION;
  record.built_ffi_abi_major = TVM_EXTEND_BUILT_FFI_ABI_MAJOR;
  record.built_ffi_abi_minor = TVM_EXTEND_BUILT_FFI_ABI_MINOR;
  record.built_ffi_abi_patch = TVM_EXTEND_BUILT_FFI_ABI_PATCH;
  record.compiler = TVM_EXTEND_COMPILER_ID;
  record.num_registrations = static_cast<int32_t>(infos.size());
  record.registrations = infos.data();
  record.create_functions = &CreateFunctions;
  return &record;
}

}  // namespace detail
}  // namespace tvm_extend
#pragma GCC visibility pop

/*!
 * \brief Define the extension's one entry point. Use once per library, at namespace scope.
 * \param ext_name An identifier: the extension's name, which prefixes all its global names.
 * \param ext_version A version string for the extension itself, e.g. "1.0.0".
 */
#define TVM_EXTEND_EXTENSION(ext_name, ext_version)                                              \
  extern "C" __attribute__((visibility("default"))) const TVMExtendExtensionInfo*                \
  TVMExtendExtensionEntry_v1(void) {                                                             \
    return ::tvm_extend::detail::MakeExtensionInfo(TVM_EXTEND_STRINGIFY(ext_name), ext_version); \
  }                                                                                              \
  static_assert(sizeof(ext_version) > 1, "TVM_EXTEND_EXTENSION needs a non-empty version")

/*!
 * \brief Collect a global function made by a factory that may fail (for example one that looks
 *        up TVM functions it needs). A factory that throws makes the whole load fail, and
 *        nothing of the extension stays registered.
 */
#define TVM_EXTEND_REGISTER_FUNC_FACTORY(name, ...)                                             \
  static ::tvm_extend::detail::Registrar TVM_EXTEND_CONCAT(tvm_extend_registrar_, __COUNTER__)( \
      name, kTVMExtendFunction, 0, __FILE__, __LINE__,                                          \
      []() -> ::tvm::ffi::Function { return (__VA_ARGS__)(); })

/*!
 * \brief Collect a typed C++ function as the global function `name`. Arguments are converted
 *        and checked by tvm-ffi; a wrong argument type is an error naming the function. The
 *        function may be a lambda whose text holds commas: the macro is variadic.
 */
#define TVM_EXTEND_REGISTER_FUNC(name, ...)                                                     \
  static ::tvm_extend::detail::Registrar TVM_EXTEND_CONCAT(tvm_extend_registrar_, __COUNTER__)( \
      name, kTVMExtendFunction, 0, __FILE__, __LINE__,                                          \
      []() -> ::tvm::ffi::Function { return ::tvm::ffi::Function::FromTyped(__VA_ARGS__, name); })

/*!
 * \brief Collect a PrimFunc pass. The global function `name` takes no argument and returns a
 *        new `tvm.tirx.transform.PrimFuncPass` named `name`, whose body is
 *        `fn(PrimFunc, IRModule, PassContext) -> PrimFunc` on tvm::ffi::ObjectRef values.
 */
#define TVM_EXTEND_REGISTER_PRIM_FUNC_PASS(name, fn, opt_level)                                   \
  static ::tvm_extend::detail::Registrar TVM_EXTEND_CONCAT(tvm_extend_registrar_, __COUNTER__)(   \
      name, kTVMExtendPrimFuncPass, opt_level, __FILE__, __LINE__, []() -> ::tvm::ffi::Function { \
        return ::tvm::ffi::Function::FromTyped(                                                   \
            []() { return ::tvm_extend::transform::MakePrimFuncPass(name, fn, opt_level); },      \
            name);                                                                                \
      })

/*!
 * \brief Collect a PrimFunc pass that takes options: the global function `name` is `fn`, a
 *        typed function of the options that returns
 *        tvm_extend::transform::MakePrimFuncPass(name, body, opt_level). Listed as a pass.
 */
#define TVM_EXTEND_REGISTER_PRIM_FUNC_PASS_FACTORY(name, ...)                                   \
  static ::tvm_extend::detail::Registrar TVM_EXTEND_CONCAT(tvm_extend_registrar_, __COUNTER__)( \
      name, kTVMExtendPrimFuncPass, 0, __FILE__, __LINE__,                                      \
      []() -> ::tvm::ffi::Function { return ::tvm::ffi::Function::FromTyped(__VA_ARGS__, name); })

/*!
 * \brief Collect a Relax function pass. The global function `name` takes no argument and returns
 *        a new `tvm.relax.transform.FunctionPass` named `name`, whose body is
 *        `fn(Function, IRModule, PassContext) -> Function` on tvm::ffi::ObjectRef values
 *        (tvm_extend/transform/relax_pass.h). Like every pass registration, it is a pass factory
 *        to the loader (kTVMExtendPrimFuncPass): listed in `Extension.passes`.
 */
#define TVM_EXTEND_REGISTER_RELAX_FUNCTION_PASS(name, fn, opt_level)                              \
  static ::tvm_extend::detail::Registrar TVM_EXTEND_CONCAT(tvm_extend_registrar_, __COUNTER__)(   \
      name, kTVMExtendPrimFuncPass, opt_level, __FILE__, __LINE__, []() -> ::tvm::ffi::Function { \
        return ::tvm::ffi::Function::FromTyped(                                                   \
            []() { return ::tvm_extend::transform::MakeRelaxFunctionPass(name, fn, opt_level); }, \
            name);                                                                                \
      })

/*!
 * \brief Collect a dataflow-block pass: `name` returns a new
 *        `tvm.relax.transform.DataflowBlockPass` whose body is
 *        `fn(DataflowBlock, IRModule, PassContext) -> DataflowBlock`.
 */
#define TVM_EXTEND_REGISTER_DATAFLOW_BLOCK_PASS(name, fn, opt_level)                              \
  static ::tvm_extend::detail::Registrar TVM_EXTEND_CONCAT(tvm_extend_registrar_, __COUNTER__)(   \
      name, kTVMExtendPrimFuncPass, opt_level, __FILE__, __LINE__, []() -> ::tvm::ffi::Function { \
        return ::tvm::ffi::Function::FromTyped(                                                   \
            []() { return ::tvm_extend::transform::MakeDataflowBlockPass(name, fn, opt_level); }, \
            name);                                                                                \
      })

/*!
 * \brief Collect a module pass: `name` returns a new `tvm.transform.ModulePass` whose body is
 *        `fn(IRModule, PassContext) -> IRModule`.
 */
#define TVM_EXTEND_REGISTER_MODULE_PASS(name, fn, opt_level)                                      \
  static ::tvm_extend::detail::Registrar TVM_EXTEND_CONCAT(tvm_extend_registrar_, __COUNTER__)(   \
      name, kTVMExtendPrimFuncPass, opt_level, __FILE__, __LINE__, []() -> ::tvm::ffi::Function { \
        return ::tvm::ffi::Function::FromTyped(                                                   \
            []() { return ::tvm_extend::transform::MakeModulePass(name, fn, opt_level); }, name); \
      })

/*!
 * \brief Collect a pass of any kind that takes options: the global function `name` is `fn`, a
 *        typed function of the options that returns a pass (MakeRelaxFunctionPass,
 *        MakeDataflowBlockPass, MakeModulePass or MakePrimFuncPass). Listed as a pass.
 */
#define TVM_EXTEND_REGISTER_PASS_FACTORY(name, ...) \
  TVM_EXTEND_REGISTER_PRIM_FUNC_PASS_FACTORY(name, __VA_ARGS__)

/*!
 * \brief Contribute the pass `pass_name` (a string literal: a pass this extension registers) to
 *        one of TVM's own pipelines: `ir` "relax" or "tir", `pipeline` "default" (what a plain
 *        `tvm.compile` runs) or another of TVM's, `where` "before", "after" or "replace",
 *        `anchor` the name of a pass of that pipeline ("LegalizeOps", "tirx.FlattenBuffer").
 *        Loading the extension (`import tvm` loads installed ones) contributes it through
 *        tvm_extend.pipeline.contribute, owned by the extension; an anchor the pipeline lacks
 *        refuses the load with a PipelineError listing the pipeline's passes; unloading the
 *        extension withdraws it. One contribution per pass (a function named
 *        "<pass_name>.pipeline_contribution" describes it).
 */
#define TVM_EXTEND_CONTRIBUTE_PASS(pass_name, ir, pipeline, where, anchor)                      \
  static ::tvm_extend::detail::Registrar TVM_EXTEND_CONCAT(tvm_extend_registrar_, __COUNTER__)( \
      pass_name ".pipeline_contribution", kTVMExtendFunction, 0, __FILE__, __LINE__,            \
      []() -> ::tvm::ffi::Function {                                                            \
        ::tvm::ffi::Map<::tvm::ffi::String, ::tvm::ffi::String> spec{{"pass", pass_name},       \
                                                                     {"ir", ir},                \
                                                                     {"pipeline", pipeline},    \
                                                                     {"where", where},          \
                                                                     {"anchor", anchor}};       \
        return ::tvm::ffi::Function::FromTyped([spec]() { return spec; });                      \
      })

/*!
 * \brief Collect a TIR op: `factory()` returns a tvm_extend::op::OpSpec (include
 *        <tvm_extend/op/op.h>). The loader registers it with TVM after its checks.
 */
#define TVM_EXTEND_REGISTER_OP(name, ...)                                                       \
  static ::tvm_extend::detail::Registrar TVM_EXTEND_CONCAT(tvm_extend_registrar_, __COUNTER__)( \
      name, kTVMExtendOp, 0, __FILE__, __LINE__, []() -> ::tvm::ffi::Function {                 \
        auto spec = (__VA_ARGS__)().ToMap();                                                    \
        return ::tvm::ffi::Function::FromTyped([spec]() { return spec; });                      \
      })

/*!
 * \brief Collect a Relax op: `factory()` returns a tvm_extend::op::RelaxOpSpec (include
 *        <tvm_extend/op/relax_op.h>). The loader registers it with TVM after its checks.
 */
#define TVM_EXTEND_REGISTER_RELAX_OP(name, ...)                                                 \
  static ::tvm_extend::detail::Registrar TVM_EXTEND_CONCAT(tvm_extend_registrar_, __COUNTER__)( \
      name, kTVMExtendRelaxOp, 0, __FILE__, __LINE__, []() -> ::tvm::ffi::Function {            \
        auto spec = (__VA_ARGS__)().ToMap();                                                    \
        return ::tvm::ffi::Function::FromTyped([spec]() { return spec; });                      \
      })

/*!
 * \brief Collect a BYOC codegen: `factory()` returns a tvm_extend::backend::CodegenSpec
 *        (include <tvm_extend/backend/codegen.h>). `codegen_name` (a string literal) is the
 *        name `FuseOpsByPattern` annotates functions with; the extension claims the global
 *        "relax.ext.<codegen_name>", which RunCodegen calls, and the patterns
 *        "<codegen_name>.*" of TVM's pattern table.
 */
#define TVM_EXTEND_REGISTER_CODEGEN(codegen_name, ...)                                          \
  static ::tvm_extend::detail::Registrar TVM_EXTEND_CONCAT(tvm_extend_registrar_, __COUNTER__)( \
      "relax.ext." codegen_name, kTVMExtendCodegen, 0, __FILE__, __LINE__,                      \
      []() -> ::tvm::ffi::Function {                                                            \
        auto spec = (__VA_ARGS__)().ToMap();                                                    \
        return ::tvm::ffi::Function::FromTyped([spec]() { return spec; });                      \
      })

/*!
 * \brief Collect an owned override of attribute `attr_key` of TVM's existing op `op_name`
 *        (both string literals; the registration is named "op_name[attr_key]"). The value is a
 *        function (a lowering, for "<target>.FLowerIntrinsic"; its calls are guarded) or a value
 *        (bool, int, string, object); include <tvm_extend/op/op.h>. The loader refuses an op TVM
 *        does not have and an (op, attribute) another extension overrides, saves TVM's value
 *        and puts it back on unload.
 */
#define TVM_EXTEND_OVERRIDE_OP_ATTR(op_name, attr_key, ...)                                     \
  static ::tvm_extend::detail::Registrar TVM_EXTEND_CONCAT(tvm_extend_registrar_, __COUNTER__)( \
      op_name "[" attr_key "]", kTVMExtendOpOverride, 0, __FILE__, __LINE__,                    \
      []() -> ::tvm::ffi::Function {                                                            \
        ::tvm::ffi::Map<::tvm::ffi::String, ::tvm::ffi::Any> spec{                              \
            {"value", ::tvm_extend::op::OverrideValue(__VA_ARGS__)}};                           \
        return ::tvm::ffi::Function::FromTyped([spec]() { return spec; });                      \
      })

/*!
 * \brief Collect a code generator: `factory()` returns a tvm_extend::backend::BackendSpec
 *        (include <tvm_extend/backend/backend.h>). `name` is the backend's name, which a target
 *        selects with its `model` attribute.
 */
#define TVM_EXTEND_REGISTER_BACKEND(name, ...)                                                  \
  static ::tvm_extend::detail::Registrar TVM_EXTEND_CONCAT(tvm_extend_registrar_, __COUNTER__)( \
      name, kTVMExtendBackend, 0, __FILE__, __LINE__, []() -> ::tvm::ffi::Function {            \
        auto spec = (__VA_ARGS__)().ToMap();                                                    \
        return ::tvm::ffi::Function::FromTyped([spec]() { return spec; });                      \
      })

/*!
 * \brief Collect a pass config option `name` of type T (bool, int64_t, double or
 *        tvm::ffi::String) with its default and a doc string (include
 *        <tvm_extend/config/config.h>; read it with tvm_extend::config::PassConfig<T>).
 */
#define TVM_EXTEND_REGISTER_PASS_CONFIG(name, T, default_value, doc)                               \
  static ::tvm_extend::detail::Registrar TVM_EXTEND_CONCAT(tvm_extend_registrar_, __COUNTER__)(    \
      name, kTVMExtendPassConfig, ::tvm_extend::config::ValueTraits<T>::kCode, __FILE__, __LINE__, \
      []() -> ::tvm::ffi::Function {                                                               \
        auto spec = ::tvm_extend::config::detail::MakeSpec<T>(default_value, doc);                 \
        return ::tvm::ffi::Function::FromTyped([spec]() { return spec; });                         \
      })

/*!
 * \brief Collect an object type: `ObjClass` declares its type key with
 *        TVM_FFI_DECLARE_OBJECT_INFO(_FINAL), and `factory()` returns a
 *        tvm_extend::object::ObjectSpec<ObjClass> (include <tvm_extend/object/object.h>).
 */
#define TVM_EXTEND_REGISTER_OBJECT(ObjClass, ...)                                               \
  static ::tvm_extend::detail::Registrar TVM_EXTEND_CONCAT(tvm_extend_registrar_, __COUNTER__)( \
      ObjClass::_type_key, kTVMExtendObjectType, 0, __FILE__, __LINE__,                         \
      []() -> ::tvm::ffi::Function {                                                            \
        auto spec = (__VA_ARGS__)().ToMap();                                                    \
        return ::tvm::ffi::Function::FromTyped([spec]() { return spec; });                      \
      })

#endif  // TVM_EXTEND_EXTENSION_REGISTRY_H_
