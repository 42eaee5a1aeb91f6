/*!
 * \file emit_c.cc
 * \brief TIR kernels to C with a load and a store counter per buffer.
 *
 * Written with tvm-extend's typed IR views, so the emitter binds to the running TVM's node
 * layout at load time. The emitter covers scalar TIR after TVM's lowering: loops, conditions,
 * bindings, buffer declarations and allocations, assertions, arithmetic, casts, selects, math
 * intrinsics and extern calls. Anything else (vector expressions, for one) is refused with the
 * node's type and the kernel's name.
 */
#include <tvm_extend/ir/tir.h>

#include <cstdio>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "project_b.h"

namespace project_b {
namespace {
using namespace tvm_extend::tir;  // NOLINT(build/namespaces)

[[noreturn]] void Unsupported(const std::string& kernel, const std::string& what) {
  throw tvm::ffi::Error("ValueError",
                        "the counting C backend cannot generate " + what + " (in kernel '" +
                            kernel + "'). It emits scalar C: schedule ext_dev functions " +
                            "without vectorize or tensorize.",
                        "");
}

std::string CType(DLDataType t, const std::string& kernel) {
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

DLDataType DTypeOf(const Expr& e) {
  PrimType t = e.ty().as<PrimType>();
  if (t.defined()) return t.dtype();
  return DLDataType{kDLOpaqueHandle, 64, 1};  // pointers
}

bool IsFloat(DLDataType t) { return t.code == kDLFloat; }

std::string Sanitize(const std::string& name) {
  std::string out;
  for (char c : name) out += (isalnum(static_cast<unsigned char>(c)) || c == '_') ? c : '_';
  if (out.empty() || isdigit(static_cast<unsigned char>(out[0]))) out = "v_" + out;
  return out;
}

// One kernel: a C function `int32_t name(const tvmx_arg_t* args)`.
class KernelEmitter {
 public:
  KernelEmitter(std::string name, bool counters) : name_(std::move(name)), counters_(counters) {}

  KernelInfo Emit(const PrimFunc& func, std::ostringstream& os) {
    KernelInfo info;
    info.name = name_;
    std::ostringstream body;
    out_ = &body;
    indent_ = 1;
    int index = 0;
    for (const Var& param : func.params()) {
      DLDataType t = DTypeOf(param);
      char kind = t.code == kDLOpaqueHandle ? 'p' : IsFloat(t) ? 'f' : 'i';
      info.params.push_back(kind);
      std::string field = kind == 'p' ? "p" : kind == 'f' ? "f" : "i";
      Line(CType(t, name_) + " " + Name(param) + " = (" + CType(t, name_) + ")args[" +
           std::to_string(index++) + "]." + field + ";");
    }
    Stmt(func.body());
    Line("return 0;");
    info.buffers = buffers_;
    info.asserts = asserts_;
    // The counters belong to the caller (one array per module), not to the library: two modules
    // with the same source share one mapped library.
    os << "#define TVMX_COUNT(slot) " << (counters_ ? "(++tvmx_counters[slot])" : "((void)0)")
       << "\n";
    os << "static int32_t " << name_
       << "_body(const tvmx_arg_t* args, uint64_t* tvmx_counters, tvmx_pool_t* tvmx_pool) {\n"
       << body.str() << "}\n#undef TVMX_COUNT\n";
    // Allocations are freed on every return, assertion failures included.
    os << "int32_t " << name_ << "(const tvmx_arg_t* args, uint64_t* counters) {\n"
       << "  tvmx_pool_t pool = {{0}, 0};\n"
       << "  int32_t rc = " << name_ << "_body(args, counters, &pool);\n"
       << "  while (pool.n > 0) free(pool.items[--pool.n]);\n"
       << "  return rc;\n}\n\n";
    return info;
  }

 private:
  void Line(const std::string& text) { *out_ << std::string(2 * indent_, ' ') << text << "\n"; }

  std::string Name(const Var& v) {
    auto it = names_.find(v.get());
    if (it != names_.end()) return it->second;
    std::string base = Sanitize(v.name());
    std::string name = base;
    for (int i = 1; used_.count(name); ++i) name = base + "_" + std::to_string(i);
    used_.insert({name, true});
    names_[v.get()] = name;
    return name;
  }

  // The counter slot of a buffer: its loads at 2k, its stores at 2k + 1.
  int Slot(const Var& buffer) {
    std::string name = buffer.name();
    for (size_t i = 0; i < buffers_.size(); ++i) {
      if (buffers_[i] == name) return static_cast<int>(i);
    }
    buffers_.push_back(name);
    return static_cast<int>(buffers_.size() - 1);
  }

  BufferType BufferTypeOf(const Var& buffer) {
    BufferType t = buffer.ty().as<BufferType>();
    if (!t.defined()) Unsupported(name_, "an access to '" + buffer.name() + "', not a buffer");
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
        Unsupported(name_, "an access to '" + buffer.name() +
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
      for (const tvm_extend::tir::Stmt& item : seq.seq()) Stmt(item);
    } else if (auto decl = s.as<DeclBuffer>(); decl.defined()) {
      Var buffer = decl.buffer();
      BufferType t = BufferTypeOf(buffer);
      std::string ctype = CType(t.dtype().dtype(), name_);
      Line(ctype + "* " + Name(buffer) + " = (" + ctype + "*)(" + E(decl.data()) + ");");
    } else if (auto alloc = s.as<AllocBuffer>(); alloc.defined()) {
      Var buffer = alloc.buffer();
      BufferType t = BufferTypeOf(buffer);
      std::string ctype = CType(t.dtype().dtype(), name_);
      std::string count = "1";
      for (const Expr& extent : t.shape()) count += " * (int64_t)(" + E(extent) + ")";
      Line(ctype + "* " + Name(buffer) + " = (" + ctype + "*)tvmx_alloc(tvmx_pool, (" + count +
           ") * sizeof(" + ctype + "));");
      Line("if (" + Name(buffer) + " == 0) return -1;");
    } else if (auto bind = s.as<Bind>(); bind.defined()) {
      Var v = bind.var();
      std::string value = E(bind.value());
      Line(CType(DTypeOf(v), name_) + " " + Name(v) + " = " + value + ";");
    } else if (auto loop = s.as<For>(); loop.defined()) {
      Var v = loop.loop_var();
      std::string ctype = CType(DTypeOf(v), name_);
      std::string var = Name(v);
      std::string step = loop.step().defined() ? E(loop.step()) : "1";
      Line("{");
      ++indent_;
      Line(ctype + " " + var + "_end = (" + E(loop.min()) + ") + (" + E(loop.extent()) + ");");
      Line("for (" + ctype + " " + var + " = " + E(loop.min()) + "; " + var + " < " + var +
           "_end; " + var + " += " + step + ") {");
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
      Line("TVMX_COUNT(" + std::to_string(2 * Slot(buffer) + 1) + ");");
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
      Stmt(attr.body());  // device_scope, pragmas: nothing to emit
    } else {
      Unsupported(name_, "the statement " + s.type_key());
    }
  }

  // ---- expressions ----
  template <typename T>
  std::string Bin(const T& op, const char* sym) {
    return "(" + E(op.a()) + " " + sym + " " + E(op.b()) + ")";
  }
  template <typename T>
  std::string MinMax(const T& op, const char* cmp) {
    std::string t = CType(DTypeOf(op), name_);
    return "({ " + t + " tvmx_a = " + E(op.a()) + "; " + t + " tvmx_b = " + E(op.b()) +
           "; tvmx_a " + cmp + " tvmx_b ? tvmx_a : tvmx_b; })";
  }

  std::string E(const Expr& e) {
    if (auto v = e.as<Var>(); v.defined()) return Name(v);
    if (auto i = e.as<IntImm>(); i.defined()) {
      DLDataType t = DTypeOf(e);
      return "((" + CType(t, name_) + ")" + std::to_string(i.value()) + "LL)";
    }
    if (auto f = e.as<FloatImm>(); f.defined()) {
      char buf[64];
      std::snprintf(buf, sizeof(buf), "%a", f.value());
      return "((" + CType(DTypeOf(e), name_) + ")" + buf + ")";
    }
    if (auto load = e.as<TensorLoad>(); load.defined()) {
      Var buffer = load.source().as<Var>();
      if (!buffer.defined()) Unsupported(name_, "a load from " + load.source().type_key());
      return "(TVMX_COUNT(" + std::to_string(2 * Slot(buffer)) + "), " + Name(buffer) + "[" +
             Index(buffer, load.indices()) + "])";
    }
    if (auto n = e.as<Add>(); n.defined()) return Bin(n, "+");
    if (auto n = e.as<Sub>(); n.defined()) return Bin(n, "-");
    if (auto n = e.as<Mul>(); n.defined()) return Bin(n, "*");
    if (auto n = e.as<Div>(); n.defined()) return Bin(n, "/");
    if (auto n = e.as<Mod>(); n.defined()) {
      if (IsFloat(DTypeOf(e))) return "fmod(" + E(n.a()) + ", " + E(n.b()) + ")";
      return Bin(n, "%");
    }
    if (auto n = e.as<FloorDiv>(); n.defined()) {
      std::string t = CType(DTypeOf(e), name_);
      if (IsFloat(DTypeOf(e))) return "((" + t + ")floor(" + E(n.a()) + " / " + E(n.b()) + "))";
      return "((" + t + ")tvmx_floordiv(" + E(n.a()) + ", " + E(n.b()) + "))";
    }
    if (auto n = e.as<FloorMod>(); n.defined()) {
      std::string t = CType(DTypeOf(e), name_);
      if (IsFloat(DTypeOf(e))) {
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
    if (auto n = e.as<BitwiseNot>(); n.defined()) return "(~" + E(n.a()) + ")";
    if (auto n = e.as<LShift>(); n.defined()) return Bin(n, "<<");
    if (auto n = e.as<RShift>(); n.defined()) return Bin(n, ">>");
    if (auto n = e.as<Cast>(); n.defined()) {
      return "((" + CType(DTypeOf(e), name_) + ")" + E(n.value()) + ")";
    }
    if (auto n = e.as<Select>(); n.defined()) {
      return "(" + E(n.condition()) + " ? " + E(n.true_value()) + " : " + E(n.false_value()) + ")";
    }
    if (auto n = e.as<Call>(); n.defined()) return CallExpr(n);
    if (e.as<Ramp>().defined() || e.as<Broadcast>().defined() || e.as<Shuffle>().defined()) {
      Unsupported(name_, "the vector expression " + e.type_key());
    }
    Unsupported(name_, "the expression " + e.type_key());
  }

  std::string Args(const Call& call, int64_t first) {
    std::string out;
    auto args = call.args();
    for (int64_t i = first; i < args.size(); ++i) out += (out.empty() ? "" : ", ") + E(args[i]);
    return out;
  }

  std::string CallExpr(const Call& call) {
    Op op = call.op().as<Op>();
    if (!op.defined()) Unsupported(name_, "a call to " + call.op().type_key());
    std::string name = op.name();
    auto args = call.args();
    if (name == "tirx.call_extern" || name == "tirx.call_pure_extern") {
      StringImm callee = args[0].as<StringImm>();
      if (!callee.defined()) Unsupported(name_, "an extern call without a function name");
      return std::string(callee.value()) + "(" + Args(call, 1) + ")";
    }
    if (name == "prim.if_then_else") {
      return "(" + E(args[0]) + " ? " + E(args[1]) + " : " + E(args[2]) + ")";
    }
    if (name == "prim.likely") return E(args[0]);
    if (name == "tirx.buffer_data") {
      Var buffer = args[0].as<Var>();
      if (!buffer.defined()) Unsupported(name_, "the data of " + args[0].type_key());
      return "((void*)" + Name(buffer) + ")";
    }
    if (name == "tirx.address_of") {
      TensorLoad load = args[0].as<TensorLoad>();
      Var buffer = load.defined() ? load.source().as<Var>() : Var();
      if (!buffer.defined()) Unsupported(name_, "the address of " + args[0].type_key());
      return "((void*)&" + Name(buffer) + "[" + Index(buffer, load.indices()) + "])";
    }
    if (name == "tirx.isnan") return "isnan(" + E(args[0]) + ")";
    static const char* kMath[] = {"exp",  "exp2", "log",   "log2", "log10", "log1p",
                                  "sqrt", "fabs", "floor", "ceil", "trunc", "round",
                                  "pow",  "tanh", "erf",   "fma",  "atanh"};
    std::string base = name.substr(name.find_last_of('.') + 1);
    for (const char* m : kMath) {
      if (base == m && (name == std::string("tirx.") + m || name == std::string("prim.") + m)) {
        bool single = DTypeOf(call).bits == 32 && IsFloat(DTypeOf(call));
        return base + (single ? "f" : "") + "(" + Args(call, 0) + ")";
      }
    }
    if (name == "tirx.rsqrt") return "(1 / sqrt(" + E(args[0]) + "))";
    if (name == "tirx.sigmoid") return "(1 / (1 + exp(-(" + E(args[0]) + "))))";
    Unsupported(name_, "a call to the op '" + name + "'");
  }

  std::string name_;
  bool counters_;
  std::ostringstream* out_ = nullptr;
  int indent_ = 0;
  std::map<const tvm::ffi::Object*, std::string> names_;
  std::map<std::string, bool> used_;
  std::vector<std::string> buffers_;
  std::vector<std::string> asserts_;
};

const char* kPrelude = R"(/* Generated by project_b's counting C backend (tvm-extend example). */
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
)";

}  // namespace

std::string EmitC(const std::vector<std::pair<std::string, tvm::ffi::ObjectRef>>& kernels,
                  bool counters, std::vector<KernelInfo>* infos) {
  std::ostringstream os;
  os << kPrelude << "\n";
  for (const auto& [name, func] : kernels) {
    infos->push_back(KernelEmitter(name, counters).Emit(PrimFunc(func), os));
  }
  return os.str();
}

}  // namespace project_b
