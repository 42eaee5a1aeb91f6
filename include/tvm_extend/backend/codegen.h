/*!
 * \file tvm_extend/backend/codegen.h
 * \brief A BYOC codegen from an extension: TVM's `relax.ext.<name>` with its pattern table.
 *
 * \code
 * TVM_EXTEND_REGISTER_CODEGEN("myext_blas", [] {
 *   return tvm_extend::backend::CodegenSpec("matmuls on a BLAS-like CPU kernel")
 *       .pattern("matmul", MatmulPattern(), CheckMatmul)  // "myext_blas.matmul"
 *       .codegen(Codegen);  // tvm::ffi::Module(tvm::ffi::ObjectRef function, CodegenOptions)
 * });
 * \endcode
 *
 * TVM's flow: `relax.transform.FuseOpsByPattern(patterns, annotate_codegen=True)` wraps each
 * match of a pattern `<name>.<pattern>` in a function with the attribute `Codegen = <name>`, and
 * `relax.transform.RunCodegen()` calls the global `relax.ext.<name>` with those functions; each
 * becomes a `call_dps_packed` of the function's `global_symbol`, which a returned module must
 * provide (inputs, then the output, destination-passing), and tvm.compile links the modules.
 *
 * The loader claims `relax.ext.<name>` for the extension (another extension, TVM or Python
 * holding it is refused with both owners named), puts the patterns into TVM's pattern table
 * (`relax.backend.RegisterPatterns`; `relax.backend.get_patterns_with_prefix("<name>")` in Python
 * finds them) and takes both back on unload. The codegen is called once per function: whatever
 * it throws, or a module without the function's symbol, fails RunCodegen with an error naming
 * the codegen and the function. A pattern's check function is guarded the same way.
 *
 * A codegen for a CPU kernel can build it with TVM's own compiler: a PrimFunc made with the TIR
 * builder (<tvm_extend/ir/tir_builder.h>) named after the function's global_symbol, compiled by
 * `tirx.build` (tvm_extend::backend::BuildTIR below).
 */
#ifndef TVM_EXTEND_BACKEND_CODEGEN_H_
#define TVM_EXTEND_BACKEND_CODEGEN_H_

#include <tvm/ffi/container/array.h>
#include <tvm/ffi/container/map.h>
#include <tvm/ffi/extra/module.h>
#include <tvm/ffi/function.h>
#include <tvm/ffi/optional.h>
#include <tvm/ffi/string.h>
#include <tvm_extend/abi/global.h>

#include <string>
#include <utility>

namespace tvm_extend {
namespace backend {

/*! \brief The options RunCodegen passes a codegen (`target_options[<name>]`). */
using CodegenOptions = tvm::ffi::Map<tvm::ffi::String, tvm::ffi::Any>;

/*! \brief What a codegen is: the loader serves it as `relax.ext.<name>`. */
class CodegenSpec {
 public:
  explicit CodegenSpec(std::string description) : description_(std::move(description)) {}

  /*!
   * \brief A pattern of the codegen's table, named "<codegen>.<name>" in TVM's pattern table.
   * \param pattern A relax.dpl.DFPattern.
   */
  CodegenSpec& pattern(const std::string& name, tvm::ffi::ObjectRef pattern) {
    return AddPattern(name, std::move(pattern), std::nullopt, {});
  }
  /*!
   * \brief A pattern with a check: `bool(ObjectRef context)` (a
   *        relax.transform.PatternCheckContext) says whether a match may be offloaded; it reads
   *        the named sub-patterns `annotations` from the context's `annotated_expr`.
   */
  template <typename F>
  CodegenSpec& pattern(const std::string& name, tvm::ffi::ObjectRef pattern, F&& check,
                       tvm::ffi::Map<tvm::ffi::String, tvm::ffi::ObjectRef> annotations = {}) {
    return AddPattern(name, std::move(pattern),
                      tvm::ffi::Function::FromTyped(std::forward<F>(check)),
                      std::move(annotations));
  }
  /*!
   * \brief The codegen: `(function, options) -> tvm::ffi::Module`, once per function that
   *        FuseOpsByPattern annotated. `function` is the relax.expr.Function holding the match
   *        (its `global_symbol` attribute names the symbol the module must provide).
   */
  template <typename F>
  CodegenSpec& codegen(F&& fn) {
    codegen_ = tvm::ffi::Function::FromTyped(std::forward<F>(fn));
    return *this;
  }

  /*! \brief The spec as the loader reads it. */
  tvm::ffi::Map<tvm::ffi::String, tvm::ffi::Any> ToMap() const {
    return {{"description", tvm::ffi::String(description_)},
            {"patterns", patterns_},
            {"codegen", codegen_}};
  }

 private:
  CodegenSpec& AddPattern(const std::string& name, tvm::ffi::ObjectRef pattern,
                          tvm::ffi::Optional<tvm::ffi::Function> check,
                          tvm::ffi::Map<tvm::ffi::String, tvm::ffi::ObjectRef> annotations) {
    patterns_.push_back(
        tvm::ffi::Map<tvm::ffi::String, tvm::ffi::Any>{{"name", tvm::ffi::String(name)},
                                                       {"pattern", pattern},
                                                       {"check", check},
                                                       {"annotations", annotations}});
    return *this;
  }

  std::string description_;
  tvm::ffi::Array<tvm::ffi::Map<tvm::ffi::String, tvm::ffi::Any>> patterns_;
  tvm::ffi::Optional<tvm::ffi::Function> codegen_;
};

/*!
 * \brief Compile TIR with TVM's own compiler (the global `tirx.build`, which TVM's Python
 *        registers: available wherever RunCodegen runs from Python) for `target` ("llvm").
 *        Each PrimFunc of `mod` (an IRModule or one PrimFunc) becomes a function of the module
 *        named by its `global_symbol`.
 */
inline tvm::ffi::Module BuildTIR(tvm::ffi::ObjectRef mod, const std::string& target = "llvm") {
  // Looked up on each call: it is a Python function, registered when tvm.tirx is imported.
  tvm::ffi::Function build = abi::RequireGlobal("tirx.build", "BuildTIR");
  return build(mod, tvm::ffi::String(target)).cast<tvm::ffi::Module>();
}

}  // namespace backend
}  // namespace tvm_extend
#endif  // TVM_EXTEND_BACKEND_CODEGEN_H_
