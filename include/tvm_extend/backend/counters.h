/*!
 * \file tvm_extend/backend/counters.h
 * \brief Counters in a kernel, for backends built on c_source.h: a TIR pass that runs before
 *        code generation adds int64 counters to a kernel with KernelCounters; the module
 *        (c_module.h) gives each module its own, and reads them back ("tvm_extend.counters").
 *
 * \code
 * KernelCounters counters({"stores"});
 * // in a StmtExprMutator, before each BufferStore: counters.Increment("stores")
 * return counters.AddTo(func, new_body);
 * \endcode
 *
 * A kernel with counters carries the attribute "tvm_extend.counters" (their names, by slot) and
 * takes, as its last parameter, a pointer to that many int64 counters; its body declares them
 * as a buffer first and adds one to a counter with a store:
 *
 *     def kernel(A_ptr: T.handle("float32", "global"), counters_ptr: T.handle("int64", "global")):
 *         T.func_attr({"tvm_extend.counters": ["stores"]})
 *         counters = T.decl_buffer((1,), "int64", data=counters_ptr)
 *         ...
 *         counters[0] = counters[0] + T.int64(1)
 *
 * Needs the generated <tvm_extend/ir/tir.h>.
 */
#ifndef TVM_EXTEND_BACKEND_COUNTERS_H_
#define TVM_EXTEND_BACKEND_COUNTERS_H_

#include <tvm/ffi/container/array.h>
#include <tvm/ffi/string.h>
#include <tvm_extend/extension/errors.h>
#include <tvm_extend/ir/global_function.h>
#include <tvm_extend/ir/tir.h>
#include <tvm_extend/ir/tir_builder.h>

#include <string>
#include <utility>
#include <vector>

namespace tvm_extend {
namespace backend {

/*! \brief The attribute of a kernel with counters: their names, by slot. */
inline constexpr const char kCountersAttr[] = "tvm_extend.counters";

namespace counters_detail {
#pragma GCC visibility push(hidden)
// TVM takes the function as an rvalue reference, which a schema check cannot name.
inline ::tvm_extend::ir::GlobalFunction<tir::BaseFunc(tvm::ffi::ObjectRef, tvm::ffi::String,
                                                      tvm::ffi::Any)>
    with_attr{"ir.BaseFuncWithAttr"};
#pragma GCC visibility pop
}  // namespace counters_detail

/*! \brief The counters a pass adds to one kernel; not changed once made. */
class KernelCounters {
 public:
  /*!
   * \brief Counters `names` (slot i counts names[i]), in a buffer named `buffer` whose data is
   *        the parameter `<buffer>_ptr`.
   */
  explicit KernelCounters(std::vector<std::string> names, const std::string& buffer = "counters")
      : names_(std::move(names)),
        data_(tir::Var::Make(buffer + "_ptr",
                             tir::PointerType::Make(tir::PrimType::Make(tir::kInt64), "global"))),
        buffer_(tir::FunctionBuilder::MakeBuffer(buffer, {static_cast<int64_t>(names_.size())},
                                                 tir::kInt64)) {}

  /*! \brief The slot of counter `name`; a ValueError when there is no such counter. */
  int64_t Slot(const std::string& name) const {
    for (size_t i = 0; i < names_.size(); ++i) {
      if (names_[i] == name) return static_cast<int64_t>(i);
    }
    throw tvm::ffi::Error(error_kind::kValue, "no kernel counter named '" + name + "'", "");
  }

  /*! \brief `counters[slot] = counters[slot] + by` for counter `name`. */
  tir::Stmt Increment(const std::string& name, int64_t by = 1) const {
    auto index = tir::builder_detail::ToList(
        std::vector<tir::Expr>{tir::IntImm::Make(tir::kInt32, Slot(name))});
    tir::Expr count = tir::builder_detail::MakeLoad(buffer_, index);
    return tir::BufferStore::Make(buffer_,
                                  tir::Add::Make(count, tir::IntImm::Make(tir::kInt64, by)), index);
  }

  /*!
   * \brief `func` (a tirx.PrimFunc) with the counters: `body` after the declaration of their
   *        buffer, their pointer as the last parameter, and the attribute naming them; `func`
   *        itself when there are no counters.
   */
  tvm::ffi::ObjectRef AddTo(const tvm::ffi::ObjectRef& func, const tir::Stmt& body) const {
    if (names_.empty()) return func;
    tir::PrimFunc f(func);
    std::vector<tir::Var> params;
    for (const tir::Var& p : f.params()) params.push_back(p);
    params.push_back(data_);
    std::vector<tir::Stmt> seq{tir::DeclBuffer::Make(buffer_, data_)};
    if (tir::SeqStmt items = body.as<tir::SeqStmt>(); items.defined()) {
      for (const tir::Stmt& s : items.seq()) seq.push_back(s);
    } else {
      seq.push_back(body);
    }
    tvm::ffi::Array<tvm::ffi::String> names;
    for (const std::string& n : names_) names.push_back(n);
    tir::PrimFunc out = f.with_params(tir::builder_detail::ToList(params))
                            .with_body(tir::SeqStmt::Make(tir::builder_detail::ToList(seq)));
    return counters_detail::with_attr(out, kCountersAttr, names);
  }

  const std::vector<std::string>& names() const { return names_; }
  /*! \brief The counters' buffer. */
  const tir::Var& buffer() const { return buffer_; }

 private:
  std::vector<std::string> names_;
  tir::Var data_;
  tir::Var buffer_;
};

}  // namespace backend
}  // namespace tvm_extend
#endif  // TVM_EXTEND_BACKEND_COUNTERS_H_
