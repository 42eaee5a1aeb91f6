// Pass config options of each type, read by a C++ pass (from its PassContext argument) and by a
// function (from the current PassContext). Built three times: libcfg_ext.so, libcfg_ext_copy.so
// (the same extension from another file) and, with CFG_CHANGED_TYPE, libcfg_ext_changed.so,
// whose cfg_ext.tile is a float.
#include <tvm_extend/config/config.h>
#include <tvm_extend/extension.h>
#include <tvm_extend/ir/global_function.h>
#include <tvm_extend/ir/tir.h>

#include <sstream>
#include <string>

TVM_EXTEND_EXTENSION(cfg_ext, "1.0.0");

#ifdef CFG_CHANGED_TYPE
TVM_EXTEND_REGISTER_PASS_CONFIG("cfg_ext.tile", double, 16.0, "columns per tile, now a float");
#else
TVM_EXTEND_REGISTER_PASS_CONFIG("cfg_ext.tile", int64_t, 16, "columns per tile");
#endif
TVM_EXTEND_REGISTER_PASS_CONFIG("cfg_ext.scale", double, 1.5, "a scale");
TVM_EXTEND_REGISTER_PASS_CONFIG("cfg_ext.fast", bool, false, "take shortcuts");
TVM_EXTEND_REGISTER_PASS_CONFIG("cfg_ext.mode", tvm::ffi::String, "auto", "how to schedule");

namespace {
using tvm_extend::config::PassConfig;

const PassConfig<int64_t> tile{"cfg_ext.tile", 16};
const PassConfig<double> scale{"cfg_ext.scale", 1.5};
const PassConfig<bool> fast{"cfg_ext.fast", false};
const PassConfig<tvm::ffi::String> mode{"cfg_ext.mode", "auto"};

tvm_extend::ir::GlobalFunction<tvm_extend::tir::BaseFunc(tvm::ffi::ObjectRef, tvm::ffi::String,
                                                         tvm::ffi::Any)>
    with_attr{"ir.BaseFuncWithAttr"};

std::string Seen(const tvm::ffi::ObjectRef& ctx) {
  std::ostringstream os;
  os << "tile=" << tile.Get(ctx) << " scale=" << scale.Get(ctx) << " fast=" << fast.Get(ctx)
     << " mode=" << std::string(mode.Get(ctx));
  return os.str();
}

// Records the options it saw in the function's attribute "cfg_ext.seen".
tvm::ffi::ObjectRef Record(tvm::ffi::ObjectRef func, tvm::ffi::ObjectRef, tvm::ffi::ObjectRef ctx) {
  return with_attr(func, "cfg_ext.seen", tvm::ffi::String(Seen(ctx)));
}

tvm::ffi::String Read() { return Seen(tvm_extend::config::CurrentPassContext()); }

// Reads cfg_ext.mode (a str) as an int: a TypeError naming the option when it is set.
int64_t ReadModeAsInt() { return PassConfig<int64_t>{"cfg_ext.mode", 0}.Get(); }
}  // namespace

TVM_EXTEND_REGISTER_PRIM_FUNC_PASS("cfg_ext.transform.Record", Record, 0);
TVM_EXTEND_REGISTER_FUNC("cfg_ext.read", Read);
TVM_EXTEND_REGISTER_FUNC("cfg_ext.read_mode_as_int", ReadModeAsInt);
