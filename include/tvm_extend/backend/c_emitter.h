/*!
 * \file tvm_extend/backend/c_emitter.h
 * \brief Scalar TIR kernels to C, for backends that generate C (see c_module.h to compile and
 *        run it): subclass CEmitter to add code around loads and stores, or counters.
 *
 * \code
 * class Counting : public tvm_extend::backend::CEmitter {
 *   using CEmitter::CEmitter;
 *   std::string Load(const Var& buffer, const std::string& element) override {
 *     return "(++tvmx_counters[" + std::to_string(Counter(buffer.name() + ".loads")) + "], " +
 *            element + ")";
 *   }
 * };
 * std::string source = EmitC<Counting>(mod, &kernels);
 * \endcode
 *
 * Each kernel becomes `int32_t name(const tvmx_arg_t* args, uint64_t* counters)`: its
 * parameters in `args` (pointers in .p, integers in .i, floating point in .f), 0 on success, k
 * when its k-th assertion fails. Covered: loops, conditions, bindings, buffer declarations and
 * allocations (freed on every return), assertions, arithmetic with TIR's floor division,
 * casts, selects, math intrinsics and extern calls. Anything else (vector expressions, for one)
 * is refused with the node's type and the kernel's name. Written with the typed IR views, so it
 * binds to the running TVM's node layout when the extension loads.
 */
#ifndef TVM_EXTEND_BACKEND_C_EMITTER_H_
#define TVM_EXTEND_BACKEND_C_EMITTER_H_

#include <tvm_extend/ir/tir.h>

#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <ostream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace tvm_extend {
namespace backend {

/*! \brief What a module needs to call one generated kernel. */
struct CKernel {
  /*! \brief The kernel's name in TVM (the host calls it by this name). */
  std::string name;
  /*! \brief Its C function. */
  std::string symbol;
  /*! \brief Per parameter: 'p' pointer, 'i' integer, 'f' floating point. */
  std::vector<char> params;
  /*! \brief The names of the kernel's counters, by slot. */
  std::vector<std::string> counters;
  /*! \brief "Kind: message" of assertion k + 1 (the kernel returns k + 1 when it fails). */
  std::vector<std::string> asserts;
};

namespace c_detail {
using tir::Expr;
using tir::PrimType;

[[noreturn]] inline void Unsupported(const std::string& kernel, const std::string& what) {
  throw tvm::ffi::Error(error_kind::kValue,
                        "the C emitter cannot generate " + what + " (in kernel '" + kernel +
                            "'). It emits scalar C: schedule ext_dev functions " +
                            "without vectorize or tensorize.",
                        "");
}

inline std::string CType(DLDataType t, const std::string& kernel) {
  if (t.lanes != 1) {
    Unsupported(kernel, "a vector type with " + std::to_string(t.lanes) + " lanes");
  }
  switch (t.code) {
    case kDLFloat:
      if (t.bits == 32) return "float";
      if (t.bits == 64) return "double";
      break;
    case kDLInt:
      if (t.bits == 8 || t.bits == 16 || t.bits == 32 || t.bits == 64) {
        return "int" + std::to_string(t.bits) + "_t";
      }
      break;
    case kDLUInt:
      if (t.bits == 1) return "int";
      if (t.bits == 8 || t.bits == 16 || t.bits == 32 || t.bits == 64) {
        return "uint" + std::to_string(t.bits) + "_t";
      }
      break;
    case kDLBool:
      return "int";
    case kDLOpaqueHandle:
      return "void*";
    default:
      break;
  }
  Unsupported(kernel, "the data type code " + std::to_string(t.code) + " with " +
                          std::to_string(t.bits) + " bits");
}

// The C type of a buffer element: TVM stores bool in one byte.
inline std::string ElemType(DLDataType t, const std::string& kernel) {
  if (t.code == kDLBool || (t.code == kDLUInt && t.bits == 1)) return "int8_t";
  return CType(t, kernel);
}

// Integer types narrower than C's int: C promotes them, TIR wraps around in them.
inline bool IsNarrowInt(DLDataType t) {
  return (t.code == kDLInt || t.code == kDLUInt) && t.bits < 32 && t.bits > 1;
}

inline bool IsBool(DLDataType t) { return t.code == kDLBool || (t.code == kDLUInt && t.bits == 1); }

inline DLDataType DTypeOf(const Expr& e) {
  PrimType t = e.ty().as<PrimType>();
  if (t.defined()) return t.dtype();
  return DLDataType{kDLOpaqueHandle, 64, 1};  // pointers
}

inline bool IsFloat(DLDataType t) { return t.code == kDLFloat; }

inline std::string Sanitize(const std::string& name) {
  std::string out;
  for (char c : name) out += (isalnum(static_cast<unsigned char>(c)) || c == '_') ? c : '_';
  if (out.empty() || isdigit(static_cast<unsigned char>(out[0]))) out = "v_" + out;
  return out;
}

}  // namespace c_detail

/*!
 * \brief Emits one kernel as C: `int32_t name(const tvmx_arg_t* args, uint64_t* counters)`.
 *        Subclasses add to the code through the hooks (Load, BeforeStore) and may keep named
 *        uint64 counters per kernel (Counter), which the module reads back.
 */
class CEmitter {
 public:
  using Add = tir::Add;
  using AllocBuffer = tir::AllocBuffer;
  using And = tir::And;
  using AssertStmt = tir::AssertStmt;
  using AttrStmt = tir::AttrStmt;
  using Bind = tir::Bind;
  using BitwiseAnd = tir::BitwiseAnd;
  using BitwiseNot = tir::BitwiseNot;
  using BitwiseOr = tir::BitwiseOr;
  using BitwiseXor = tir::BitwiseXor;
  using Broadcast = tir::Broadcast;
  using BufferStore = tir::BufferStore;
  using BufferType = tir::BufferType;
  using Call = tir::Call;
  using Cast = tir::Cast;
  using DeclBuffer = tir::DeclBuffer;
  using Div = tir::Div;
  using EQ = tir::EQ;
  using Evaluate = tir::Evaluate;
  using Expr = tir::Expr;
  using FloatImm = tir::FloatImm;
  using FloorDiv = tir::FloorDiv;
  using FloorMod = tir::FloorMod;
  using For = tir::For;
  using GE = tir::GE;
  using GT = tir::GT;
  using IfThenElse = tir::IfThenElse;
  using IntImm = tir::IntImm;
  using LE = tir::LE;
  using LShift = tir::LShift;
  using LT = tir::LT;
  using Max = tir::Max;
  using Min = tir::Min;
  using Mod = tir::Mod;
  using Mul = tir::Mul;
  using NE = tir::NE;
  using Not = tir::Not;
  using Op = tir::Op;
  using Or = tir::Or;
  using PrimFunc = tir::PrimFunc;
  using RShift = tir::RShift;
  using Ramp = tir::Ramp;
  using Select = tir::Select;
  using SeqStmt = tir::SeqStmt;
  using Shuffle = tir::Shuffle;
  using StringImm = tir::StringImm;
  using Sub = tir::Sub;
  using TensorLoad = tir::TensorLoad;
  using Var = tir::Var;
  using While = tir::While;

  explicit CEmitter(std::string name)
      : name_(std::move(name)), symbol_("tvmx_kernel_" + c_detail::Sanitize(name_)) {}
  virtual ~CEmitter() = default;

  CKernel Emit(const PrimFunc& func, std::ostream& os) {
    CKernel info;
    info.name = name_;
    info.symbol = symbol_;
    std::ostringstream body;
    out_ = &body;
    indent_ = 1;
    int index = 0;
    for (const Var& param : func.params()) {
      DLDataType t = c_detail::DTypeOf(param);
      char kind = t.code == kDLOpaqueHandle ? 'p' : c_detail::IsFloat(t) ? 'f' : 'i';
      info.params.push_back(kind);
      std::string field = kind == 'p' ? "p" : kind == 'f' ? "f" : "i";
      Line(c_detail::CType(t, name_) + " " + Name(param) + " = (" + c_detail::CType(t, name_) +
           ")args[" + std::to_string(index++) + "]." + field + ";");
    }
    Stmt(func.body());
    Line("return 0;");
    info.counters = counters_;
    info.asserts = asserts_;
    // The counters belong to the caller (one array per module), not to the library: two modules
    // with the same source share one mapped library.
    os << "static int32_t " << symbol_
       << "_body(const tvmx_arg_t* args, uint64_t* tvmx_counters, tvmx_pool_t* tvmx_pool) {\n"
       << "  (void)tvmx_counters;\n"
       << body.str() << "}\n";
    // Allocations are freed on every return, assertion failures included.
    os << "int32_t " << symbol_ << "(const tvmx_arg_t* args, uint64_t* counters) {\n"
       << "  tvmx_pool_t pool = {{0}, 0};\n"
       << "  int32_t rc = " << symbol_ << "_body(args, counters, &pool);\n"
       << "  while (pool.n > 0) free(pool.items[--pool.n]);\n"
       << "  return rc;\n}\n\n";
    return info;
  }

 protected:
  /*! \brief The C expression that reads `element` (e.g. `A[i]`) of `buffer`. */
  virtual std::string Load(const Var& buffer, const std::string& element) {
    (void)buffer;
    return element;
  }
  /*! \brief Called before the C statement that stores to `buffer`; may emit Line()s. */
  virtual void BeforeStore(const Var& buffer) { (void)buffer; }
  /*! \brief The slot of the kernel's counter `name` (made on first use); in C it is
   *         `tvmx_counters[slot]`. */
  int Counter(const std::string& name) {
    for (size_t i = 0; i < counters_.size(); ++i) {
      if (counters_[i] == name) return static_cast<int>(i);
    }
    counters_.push_back(name);
    return static_cast<int>(counters_.size() - 1);
  }
  /*! \brief One line of C at the current indentation. */
  void Line(const std::string& text) { *out_ << std::string(2 * indent_, ' ') << text << "\n"; }
  const std::string& kernel_name() const { return name_; }

 private:
  std::string Name(const Var& v) {
    auto it = names_.find(v.get());
    if (it != names_.end()) return it->second;
    std::string name = Fresh(c_detail::Sanitize(v.name()));
    names_[v.get()] = name;
    return name;
  }

  BufferType BufferTypeOf(const Var& buffer) {
    BufferType t = buffer.ty().as<BufferType>();
    if (!t.defined())
      c_detail::Unsupported(name_, "an access to '" + buffer.name() + "', not a buffer");
    return t;
  }

  // The flat element index of an access, with the buffer's element offset.
  std::string Index(const Var& buffer, const ::tvm_extend::ir::List<Expr>& indices) {
    BufferType t = BufferTypeOf(buffer);
    std::string index;
    if (indices.size() == 1) {
      index = E(indices[0]);
    } else {
      auto shape = t.shape();
      if (shape.size() != indices.size()) {
        c_detail::Unsupported(name_, "an access to '" + buffer.name() +
                                         "' whose indices do not match "
                                         "its shape");
      }
      index = "0";
      for (int64_t i = 0; i < indices.size(); ++i) {
        index = "((" + index + ") * (int64_t)(" + E(shape[i]) + ") + (" + E(indices[i]) + "))";
      }
    }
    Expr offset = t.elem_offset();
    IntImm zero = offset.as<IntImm>();
    if (offset.defined() && !(zero.defined() && zero.value() == 0)) {
      index = "(" + index + ") + (" + E(offset) + ")";
    }
    return index;
  }

  // ---- statements ----
  void Stmt(const tvm_extend::tir::Stmt& s) {
    if (!s.defined()) return;
    if (auto seq = s.as<SeqStmt>(); seq.defined()) {
      // An allocation lives to the end of its sequence: freed there, so an allocation inside a
      // loop does not pile up (the pool frees what is left when an assertion returns early).
      size_t outer = allocs_.size();
      for (const tvm_extend::tir::Stmt& item : seq.seq()) Stmt(item);
      while (allocs_.size() > outer) {
        Line("tvmx_free(tvmx_pool, " + allocs_.back() + ");");
        allocs_.pop_back();
      }
    } else if (auto decl = s.as<DeclBuffer>(); decl.defined()) {
      Var buffer = decl.buffer();
      BufferType t = BufferTypeOf(buffer);
      std::string ctype = c_detail::ElemType(t.dtype().dtype(), name_);
      Line(ctype + "* " + Name(buffer) + " = (" + ctype + "*)(" + E(decl.data()) + ");");
    } else if (auto alloc = s.as<AllocBuffer>(); alloc.defined()) {
      Var buffer = alloc.buffer();
      BufferType t = BufferTypeOf(buffer);
      std::string ctype = c_detail::ElemType(t.dtype().dtype(), name_);
      std::string count = "1";
      for (const Expr& extent : t.shape()) count += " * (int64_t)(" + E(extent) + ")";
      Line(ctype + "* " + Name(buffer) + " = (" + ctype + "*)tvmx_alloc(tvmx_pool, (" + count +
           ") * sizeof(" + ctype + "));");
      Line("if (" + Name(buffer) + " == 0) return -1;");
      allocs_.push_back(Name(buffer));
    } else if (auto bind = s.as<Bind>(); bind.defined()) {
      Var v = bind.var();
      std::string value = E(bind.value());
      Line(c_detail::CType(c_detail::DTypeOf(v), name_) + " " + Name(v) + " = " + value + ";");
    } else if (auto loop = s.as<For>(); loop.defined()) {
      Var v = loop.loop_var();
      std::string ctype = c_detail::CType(c_detail::DTypeOf(v), name_);
      std::string var = Name(v);
      std::string end = Fresh(var + "_end");
      std::string step = loop.step().defined() ? E(loop.step()) : "1";
      Line("{");
      ++indent_;
      Line(ctype + " " + end + " = (" + E(loop.min()) + ") + (" + E(loop.extent()) + ");");
      Line("for (" + ctype + " " + var + " = " + E(loop.min()) + "; " + var + " < " + end + "; " +
           var + " += " + step + ") {");
      ++indent_;
      Stmt(loop.body());
      --indent_;
      Line("}");
      --indent_;
      Line("}");
    } else if (auto branch = s.as<IfThenElse>(); branch.defined()) {
      Line("if (" + E(branch.condition()) + ") {");
      ++indent_;
      Stmt(branch.then_case());
      --indent_;
      if (branch.else_case().defined()) {
        Line("} else {");
        ++indent_;
        Stmt(branch.else_case());
        --indent_;
      }
      Line("}");
    } else if (auto loop2 = s.as<While>(); loop2.defined()) {
      Line("while (" + E(loop2.condition()) + ") {");
      ++indent_;
      Stmt(loop2.body());
      --indent_;
      Line("}");
    } else if (auto store = s.as<BufferStore>(); store.defined()) {
      Var buffer = store.buffer();
      std::string value = E(store.value());
      std::string index = Index(buffer, store.indices());
      BeforeStore(buffer);
      Line(Name(buffer) + "[" + index + "] = " + value + ";");
    } else if (auto eval = s.as<Evaluate>(); eval.defined()) {
      if (eval.value().as<IntImm>().defined()) return;
      Line("(void)(" + E(eval.value()) + ");");
    } else if (auto check = s.as<AssertStmt>(); check.defined()) {
      std::string message;
      for (const StringImm& part : check.message_parts()) message += std::string(part.value());
      asserts_.push_back(std::string(check.error_kind().value()) + ": " + message);
      Line("if (!(" + E(check.condition()) + ")) return " + std::to_string(asserts_.size()) + ";");
    } else if (auto attr = s.as<AttrStmt>(); attr.defined()) {
      std::string key = attr.attr_key();
      if (key == "thread_extent" || key == "virtual_thread") {
        // A thread index becomes a serial loop; a kernel that synchronises its threads is
        // refused where the barrier is (an unsupported call).
        tir::IterVar iv(attr.node().cast<tvm::ffi::ObjectRef>());
        Var v = iv.var();
        std::string ctype = c_detail::CType(c_detail::DTypeOf(v), name_);
        std::string var = Name(v);
        Line("for (" + ctype + " " + var + " = 0; " + var + " < (" + E(attr.value()) + "); ++" +
             var + ") {");
        ++indent_;
        Stmt(attr.body());
        --indent_;
        Line("}");
      } else {
        Stmt(attr.body());  // device_scope, pragmas: nothing to emit
      }
    } else {
      c_detail::Unsupported(name_, "the statement " + s.type_key());
    }
  }

  // A C name not used yet in this kernel, nor reserved (C keywords, the math functions, the
  // emitter's own names).
  std::string Fresh(const std::string& base) {
    static const char* kReserved[] = {
        "auto",     "break",  "case",   "char",     "const",    "continue", "default",  "do",
        "double",   "else",   "enum",   "extern",   "float",    "for",      "goto",     "if",
        "inline",   "int",    "long",   "register", "restrict", "return",   "short",    "signed",
        "sizeof",   "static", "struct", "switch",   "typedef",  "union",    "unsigned", "void",
        "volatile", "while",  "args",   "counters", "pool",     "rc",       "main",     "exp",
        "exp2",     "log",    "log2",   "log10",    "log1p",    "sqrt",     "fabs",     "floor",
        "ceil",     "trunc",  "round",  "pow",      "tanh",     "erf",      "fma",      "atanh",
        "fmod",     "isnan",  "malloc", "free",     "NAN",      "INFINITY"};
    if (used_.empty()) {
      for (const char* r : kReserved) used_.insert({r, true});
    }
    std::string name = base.rfind("tvmx_", 0) == 0 ? "v_" + base : base;
    std::string candidate = name;
    for (int i = 1; used_.count(candidate); ++i) candidate = name + "_" + std::to_string(i);
    used_.insert({candidate, true});
    return candidate;
  }

  // ---- expressions ----
  // `text`, wrapped back into the type of `e` where C would have widened it.
  std::string Wrap(const Expr& e, const std::string& text) {
    DLDataType t = c_detail::DTypeOf(e);
    if (!c_detail::IsNarrowInt(t)) return text;
    return "((" + c_detail::CType(t, name_) + ")" + text + ")";
  }
  template <typename T>
  std::string Bin(const T& op, const char* sym) {
    return Wrap(op, "(" + E(op.a()) + " " + sym + " " + E(op.b()) + ")");
  }
  template <typename T>
  std::string MinMax(const T& op, const char* cmp) {
    std::string t = c_detail::CType(c_detail::DTypeOf(op), name_);
    return "({ " + t + " tvmx_a = " + E(op.a()) + "; " + t + " tvmx_b = " + E(op.b()) +
           "; tvmx_a " + cmp + " tvmx_b ? tvmx_a : tvmx_b; })";
  }

  std::string E(const Expr& e) {
    if (auto v = e.as<Var>(); v.defined()) return Name(v);
    if (auto i = e.as<IntImm>(); i.defined()) {
      DLDataType t = c_detail::DTypeOf(e);
      int64_t v = i.value();
      std::string literal =
          v == INT64_MIN ? "(-9223372036854775807LL - 1)" : std::to_string(v) + "LL";
      return "((" + c_detail::CType(t, name_) + ")" + literal + ")";
    }
    if (auto f = e.as<FloatImm>(); f.defined()) {
      double v = f.value();
      char buf[64];
      if (std::isnan(v)) {
        std::snprintf(buf, sizeof(buf), "NAN");
      } else if (std::isinf(v)) {
        std::snprintf(buf, sizeof(buf), v > 0 ? "INFINITY" : "(-INFINITY)");
      } else {
        std::snprintf(buf, sizeof(buf), "%a", v);  // exact
      }
      return "((" + c_detail::CType(c_detail::DTypeOf(e), name_) + ")" + buf + ")";
    }
    if (auto load = e.as<TensorLoad>(); load.defined()) {
      Var buffer = load.source().as<Var>();
      if (!buffer.defined())
        c_detail::Unsupported(name_, "a load from " + load.source().type_key());
      return Load(buffer, Name(buffer) + "[" + Index(buffer, load.indices()) + "]");
    }
    if (auto n = e.as<Add>(); n.defined()) return Bin(n, "+");
    if (auto n = e.as<Sub>(); n.defined()) return Bin(n, "-");
    if (auto n = e.as<Mul>(); n.defined()) return Bin(n, "*");
    if (auto n = e.as<Div>(); n.defined()) return Bin(n, "/");
    if (auto n = e.as<Mod>(); n.defined()) {
      if (c_detail::IsFloat(c_detail::DTypeOf(e)))
        return "fmod(" + E(n.a()) + ", " + E(n.b()) + ")";
      return Bin(n, "%");
    }
    if (auto n = e.as<FloorDiv>(); n.defined()) {
      std::string t = c_detail::CType(c_detail::DTypeOf(e), name_);
      if (c_detail::IsFloat(c_detail::DTypeOf(e)))
        return "((" + t + ")floor(" + E(n.a()) + " / " + E(n.b()) + "))";
      return "((" + t + ")tvmx_floordiv(" + E(n.a()) + ", " + E(n.b()) + "))";
    }
    if (auto n = e.as<FloorMod>(); n.defined()) {
      std::string t = c_detail::CType(c_detail::DTypeOf(e), name_);
      if (c_detail::IsFloat(c_detail::DTypeOf(e))) {
        return "({ " + t + " tvmx_a = " + E(n.a()) + "; " + t + " tvmx_b = " + E(n.b()) +
               "; tvmx_a - floor(tvmx_a / tvmx_b) * tvmx_b; })";
      }
      return "((" + t + ")tvmx_floormod(" + E(n.a()) + ", " + E(n.b()) + "))";
    }
    if (auto n = e.as<Min>(); n.defined()) return MinMax(n, "<");
    if (auto n = e.as<Max>(); n.defined()) return MinMax(n, ">");
    if (auto n = e.as<EQ>(); n.defined()) return Bin(n, "==");
    if (auto n = e.as<NE>(); n.defined()) return Bin(n, "!=");
    if (auto n = e.as<LT>(); n.defined()) return Bin(n, "<");
    if (auto n = e.as<LE>(); n.defined()) return Bin(n, "<=");
    if (auto n = e.as<GT>(); n.defined()) return Bin(n, ">");
    if (auto n = e.as<GE>(); n.defined()) return Bin(n, ">=");
    if (auto n = e.as<And>(); n.defined()) return Bin(n, "&&");
    if (auto n = e.as<Or>(); n.defined()) return Bin(n, "||");
    if (auto n = e.as<Not>(); n.defined()) return "(!" + E(n.a()) + ")";
    if (auto n = e.as<BitwiseAnd>(); n.defined()) return Bin(n, "&");
    if (auto n = e.as<BitwiseOr>(); n.defined()) return Bin(n, "|");
    if (auto n = e.as<BitwiseXor>(); n.defined()) return Bin(n, "^");
    if (auto n = e.as<BitwiseNot>(); n.defined()) return Wrap(e, "(~" + E(n.a()) + ")");
    if (auto n = e.as<LShift>(); n.defined()) return Bin(n, "<<");
    if (auto n = e.as<RShift>(); n.defined()) return Bin(n, ">>");
    if (auto n = e.as<Cast>(); n.defined()) {
      DLDataType t = c_detail::DTypeOf(e);
      if (c_detail::IsBool(t)) return "(" + E(n.value()) + " != 0)";  // not a truncation
      return "((" + c_detail::CType(t, name_) + ")" + E(n.value()) + ")";
    }
    if (auto n = e.as<tir::Let>(); n.defined()) {
      Var v = n.var();
      std::string value = E(n.value());
      return "({ " + c_detail::CType(c_detail::DTypeOf(v), name_) + " " + Name(v) + " = " + value +
             "; " + E(n.body()) + "; })";
    }
    if (auto n = e.as<Select>(); n.defined()) {
      return "(" + E(n.condition()) + " ? " + E(n.true_value()) + " : " + E(n.false_value()) + ")";
    }
    if (auto n = e.as<Call>(); n.defined()) return CallExpr(n);
    if (e.as<Ramp>().defined() || e.as<Broadcast>().defined() || e.as<Shuffle>().defined()) {
      c_detail::Unsupported(name_, "the vector expression " + e.type_key());
    }
    c_detail::Unsupported(name_, "the expression " + e.type_key());
  }

  std::string Args(const Call& call, int64_t first) {
    std::string out;
    auto args = call.args();
    for (int64_t i = first; i < args.size(); ++i) out += (out.empty() ? "" : ", ") + E(args[i]);
    return out;
  }

  std::string CallExpr(const Call& call) {
    Op op = call.op().as<Op>();
    if (!op.defined()) c_detail::Unsupported(name_, "a call to " + call.op().type_key());
    std::string name = op.name();
    auto args = call.args();
    if (name == "tirx.call_extern" || name == "tirx.call_pure_extern") {
      StringImm callee = args[0].as<StringImm>();
      if (!callee.defined()) c_detail::Unsupported(name_, "an extern call without a function name");
      return std::string(callee.value()) + "(" + Args(call, 1) + ")";
    }
    if (name == "prim.if_then_else") {
      return "(" + E(args[0]) + " ? " + E(args[1]) + " : " + E(args[2]) + ")";
    }
    if (name == "prim.likely") return E(args[0]);
    if (name == "tirx.buffer_data") {
      Var buffer = args[0].as<Var>();
      if (!buffer.defined()) c_detail::Unsupported(name_, "the data of " + args[0].type_key());
      return "((void*)" + Name(buffer) + ")";
    }
    if (name == "tirx.address_of") {
      TensorLoad load = args[0].as<TensorLoad>();
      Var buffer = load.defined() ? load.source().as<Var>() : Var();
      if (!buffer.defined()) c_detail::Unsupported(name_, "the address of " + args[0].type_key());
      return "((void*)&" + Name(buffer) + "[" + Index(buffer, load.indices()) + "])";
    }
    if (name == "tirx.isnan") return "isnan(" + E(args[0]) + ")";
    static const char* kMath[] = {"exp",  "exp2", "log",   "log2", "log10", "log1p",
                                  "sqrt", "fabs", "floor", "ceil", "trunc", "round",
                                  "pow",  "tanh", "erf",   "fma",  "atanh"};
    std::string base = name.substr(name.find_last_of('.') + 1);
    for (const char* m : kMath) {
      if (base == m && (name == std::string("tirx.") + m || name == std::string("prim.") + m)) {
        bool single =
            c_detail::DTypeOf(call).bits == 32 && c_detail::IsFloat(c_detail::DTypeOf(call));
        return base + (single ? "f" : "") + "(" + Args(call, 0) + ")";
      }
    }
    if (name == "tirx.rsqrt") return "(1 / sqrt(" + E(args[0]) + "))";
    if (name == "tirx.sigmoid") return "(1 / (1 + exp(-(" + E(args[0]) + "))))";
    c_detail::Unsupported(name_, "a call to the op '" + name + "'");
  }

  std::string name_;
  std::string symbol_;
  std::ostringstream* out_ = nullptr;
  int indent_ = 0;
  std::map<const tvm::ffi::Object*, std::string> names_;
  std::map<std::string, bool> used_;
  std::vector<std::string> counters_;
  std::vector<std::string> asserts_;
  std::vector<std::string> allocs_;
};

inline const char* kCPrelude = R"(/* Generated by a tvm-extend C backend. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
typedef union { void* p; int64_t i; double f; } tvmx_arg_t;
typedef struct { void* items[64]; int n; } tvmx_pool_t;
static inline int64_t tvmx_floordiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}
static inline int64_t tvmx_floormod(int64_t a, int64_t b) {
  int64_t r = a % b;
  return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
}
static void* tvmx_alloc(tvmx_pool_t* pool, int64_t bytes) {
  if (pool->n == 64) return 0;
  void* p = malloc(bytes > 0 ? (size_t)bytes : 1);
  if (p) pool->items[pool->n++] = p;
  return p;
}
static void tvmx_free(tvmx_pool_t* pool, void* p) {
  for (int i = pool->n - 1; i >= 0; --i) {
    if (pool->items[i] == p) {
      pool->items[i] = pool->items[--pool->n];
      free(p);
      return;
    }
  }
}
)";

/*! \brief C source for every PrimFunc of `mod` (an IRModule of kernels), one `Emitter` each. */
template <typename Emitter = CEmitter>
std::string EmitC(const tvm::ffi::ObjectRef& mod, std::vector<CKernel>* kernels) {
  std::ostringstream os;
  os << kCPrelude << "\n";
  for (const auto& [gv, func] : tir::IRModule(mod).functions()) {
    std::string name = tir::GlobalVar(gv.template cast<tvm::ffi::ObjectRef>()).name_hint();
    kernels->push_back(
        Emitter(name).Emit(tir::PrimFunc(func.template cast<tvm::ffi::ObjectRef>()), os));
  }
  return os.str();
}

}  // namespace backend
}  // namespace tvm_extend
#endif  // TVM_EXTEND_BACKEND_C_EMITTER_H_
