/*!
 * \file backend.cc
 * \brief project_b.counting_c: an ext_dev backend that generates C with a load and a store
 *        counter per buffer, compiles it with the system C compiler, and returns a runnable
 *        module whose counters a profiler reads (project_b.profile in Python).
 *
 * Options (in the target's libs, "name=value"): counters=on|off, opt=0..3, cc=<compiler>,
 * cache=<folder for the generated source and library>.
 */
#include <dlfcn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <tvm/ffi/container/array.h>
#include <tvm/ffi/container/map.h>
#include <tvm/ffi/extra/module.h>
#include <tvm/ffi/function.h>
#include <tvm/ffi/reflection/registry.h>
#include <tvm_extend/backend/backend.h>
#include <tvm_extend/extension.h>
#include <tvm_extend/ir/tir.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "project_b.h"

namespace project_b {
namespace {
using tvm::ffi::Any;
using tvm::ffi::Array;
using tvm::ffi::Function;
using tvm::ffi::Map;
using tvm::ffi::String;

union Arg {
  void* p;
  int64_t i;
  double f;
};
using KernelFn = int32_t (*)(const Arg*, uint64_t*);

/*! \brief A loaded library of generated kernels; unmapped when the last user is gone. */
struct Library {
  void* handle = nullptr;
  ~Library() {
    if (handle != nullptr) dlclose(handle);
  }
};

/*! \brief Generated source, compiled and loaded. */
struct Compiled {
  std::string source;
  std::string source_path;
  /*! \brief The compiler and its flags. */
  std::string command;
  std::shared_ptr<Library> lib;
};

class CountingModuleObj : public tvm::ffi::ModuleObj {
 public:
  CountingModuleObj(Compiled compiled, std::vector<KernelInfo> kernels)
      : source_(std::move(compiled.source)),
        source_path_(std::move(compiled.source_path)),
        command_(std::move(compiled.command)),
        lib_(std::move(compiled.lib)),
        kernels_(std::move(kernels)) {
    for (const KernelInfo& k : kernels_) {
      counters_.push_back(std::make_shared<std::vector<uint64_t>>(2 * k.buffers.size() + 1, 0));
    }
  }

  const char* kind() const final { return "project_b.counting_c"; }
  int GetPropertyMask() const final {
    return tvm::ffi::Module::kRunnable | tvm::ffi::Module::kBinarySerializable;
  }
  // The source, the compiler command and the kernels' calling information: loading compiles
  // the source again (or finds it in the cache).
  tvm::ffi::Bytes SaveToBytes() const final {
    std::string out;
    Put(&out, source_);
    Put(&out, command_);
    Put(&out, std::to_string(kernels_.size()));
    for (const KernelInfo& k : kernels_) {
      Put(&out, k.name);
      Put(&out, std::string(k.params.begin(), k.params.end()));
      Put(&out, std::to_string(k.buffers.size()));
      for (const std::string& b : k.buffers) Put(&out, b);
      Put(&out, std::to_string(k.asserts.size()));
      for (const std::string& a : k.asserts) Put(&out, a);
    }
    return tvm::ffi::Bytes(out);
  }
  String InspectSource(const String&) const final { return source_; }

  tvm::ffi::Optional<Function> GetFunction(const String& name) final {
    std::string n = name;
    if (n == "project_b.counters") return Function::FromTyped([this]() { return Counters(); });
    if (n == "project_b.reset_counters") {
      return Function::FromTyped([this]() { ResetCounters(); });
    }
    if (n == "project_b.source_path") {
      return Function::FromTyped([this]() { return String(source_path_); });
    }
    for (size_t i = 0; i < kernels_.size(); ++i) {
      if (kernels_[i].name == n) return MakeKernel(kernels_[i], counters_[i]);
    }
    return std::nullopt;
  }

 private:
  void* Symbol(const std::string& name) const {
    void* sym = dlsym(lib_->handle, name.c_str());
    if (sym == nullptr) {
      throw tvm::ffi::Error(
          "RuntimeError",
          "project_b: the generated library " + source_path_ + " has no symbol '" + name + "'", "");
    }
    return sym;
  }

  Function MakeKernel(const KernelInfo& k, std::shared_ptr<std::vector<uint64_t>> counters) const {
    auto fn = reinterpret_cast<KernelFn>(Symbol(k.name));
    std::shared_ptr<Library> keep = lib_;
    KernelInfo info = k;
    return Function::FromPacked([fn, keep, info, counters](tvm::ffi::PackedArgs args, Any*) {
      if (args.size() != static_cast<int>(info.params.size())) {
        throw tvm::ffi::Error("TypeError",
                              "kernel '" + info.name + "' takes " +
                                  std::to_string(info.params.size()) + " arguments, got " +
                                  std::to_string(args.size()),
                              "");
      }
      std::vector<Arg> values(info.params.size());
      for (size_t i = 0; i < info.params.size(); ++i) {
        if (info.params[i] == 'p') {
          values[i].p = args[i].cast<void*>();
        } else if (info.params[i] == 'f') {
          values[i].f = args[i].cast<double>();
        } else {
          values[i].i = args[i].cast<int64_t>();
        }
      }
      int32_t rc = fn(values.data(), counters->data());
      if (rc > 0 && static_cast<size_t>(rc) <= info.asserts.size()) {
        const std::string& m = info.asserts[rc - 1];
        size_t colon = m.find(": ");
        throw tvm::ffi::Error(m.substr(0, colon), m.substr(colon + 2), "");
      }
      if (rc != 0) {
        throw tvm::ffi::Error("RuntimeError",
                              "kernel '" + info.name +
                                  "' failed (out of memory or too many "
                                  "allocations)",
                              "");
      }
    });
  }

  Map<String, Any> Counters() const {
    Map<String, Any> out;
    for (size_t i = 0; i < kernels_.size(); ++i) {
      const KernelInfo& k = kernels_[i];
      const std::vector<uint64_t>& c = *counters_[i];
      Map<String, Any> per_buffer;
      for (size_t b = 0; b < k.buffers.size(); ++b) {
        per_buffer.Set(k.buffers[b],
                       Map<String, Any>{{"loads", static_cast<int64_t>(c[2 * b])},
                                        {"stores", static_cast<int64_t>(c[2 * b + 1])}});
      }
      out.Set(k.name, per_buffer);
    }
    return out;
  }

  void ResetCounters() const {
    for (const auto& c : counters_) std::fill(c->begin(), c->end(), 0);
  }

  static void Put(std::string* out, const std::string& item) {
    *out += std::to_string(item.size()) + ":" + item;
  }

  std::string source_;
  std::string source_path_;
  std::string command_;
  std::shared_ptr<Library> lib_;
  std::vector<KernelInfo> kernels_;
  /*! \brief Per kernel: loads of buffer k at 2k, stores at 2k + 1. */
  std::vector<std::shared_ptr<std::vector<uint64_t>>> counters_;
};

std::string CacheRoot(const std::string& option) {
  if (!option.empty()) return option;
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  const char* home = std::getenv("HOME");
  std::string base = xdg && *xdg ? xdg : std::string(home && *home ? home : "/tmp") + "/.cache";
  return base + "/tvm_extend/project_b";
}

void MakeDirs(const std::string& path) {
  for (size_t pos = 1; pos != std::string::npos;) {
    pos = path.find('/', pos + 1);
    mkdir(path.substr(0, pos).c_str(), 0755);
  }
}

// Runs `command`, returning its exit status and output.
int Run(const std::string& command, std::string* output) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return -1;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) output->append(buf, n);
  int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

[[noreturn]] void BuildFailure(const std::string& message) {
  throw tvm::ffi::Error("RuntimeError", message, "");
}

// Writes the source into the cache (keyed by source and command), compiles it unless the library
// is there already, and loads the library.
Compiled Compile(const std::string& source, const std::string& command, const std::string& cache) {
  char hash[32];
  std::snprintf(hash, sizeof(hash), "%016zx", std::hash<std::string>()(source + command));
  const std::string dir = CacheRoot(cache) + "/" + hash;
  MakeDirs(dir);
  const std::string c_path = dir + "/kernels.c";
  const std::string so_path = dir + "/kernels.so";
  struct stat st;
  if (stat(so_path.c_str(), &st) != 0) {
    const std::string tmp = c_path + "." + std::to_string(getpid());
    {
      std::ofstream out(tmp);
      out << source;
      if (!out) BuildFailure("project_b: cannot write the generated source to " + c_path);
    }
    std::rename(tmp.c_str(), c_path.c_str());
    const std::string tmp_so = so_path + "." + std::to_string(getpid());
    std::string output;
    int rc = Run(command + " -o '" + tmp_so + "' '" + c_path + "' -lm", &output);
    if (rc != 0) {
      std::remove(tmp_so.c_str());
      BuildFailure("project_b: the C compiler (" + command + ") failed with exit status " +
                   std::to_string(rc) + " on the generated source " + c_path + ":\n" +
                   output.substr(0, 4000));
    }
    std::rename(tmp_so.c_str(), so_path.c_str());
  }
  auto lib = std::make_shared<Library>();
  lib->handle = dlopen(so_path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (lib->handle == nullptr) {
    const char* why = dlerror();
    BuildFailure("project_b: cannot load " + so_path + " built from " + c_path + ": " +
                 (why ? why : "unknown error"));
  }
  return Compiled{source, c_path, command, std::move(lib)};
}

tvm::ffi::Module Build(tvm::ffi::ObjectRef mod, tvm::ffi::ObjectRef,
                       tvm_extend::backend::Options options) {
  const std::string counters = options["counters"];
  if (counters != "on" && counters != "off") {
    throw tvm::ffi::Error("ValueError", "option counters=" + counters + ": give on or off", "");
  }
  const std::string opt = options["opt"];
  if (opt.size() != 1 || opt[0] < '0' || opt[0] > '3') {
    throw tvm::ffi::Error("ValueError", "option opt=" + opt + ": give 0, 1, 2 or 3", "");
  }
  std::vector<std::pair<std::string, tvm::ffi::ObjectRef>> kernels;
  for (const auto& [gv, func] : tvm_extend::tir::IRModule(mod).functions()) {
    kernels.emplace_back(tvm_extend::tir::GlobalVar(gv.cast<tvm::ffi::ObjectRef>()).name_hint(),
                         func.cast<tvm::ffi::ObjectRef>());
  }
  std::vector<KernelInfo> infos;
  const std::string source = EmitC(kernels, counters == "on", &infos);
  const std::string cc = options["cc"];
  const std::string flags = "-O" + opt +
                            " -std=gnu11 -shared -fPIC -Werror=implicit-function-declaration "
                            "-Werror=int-conversion -Wno-unused";
  Compiled compiled = Compile(source, cc + " " + flags, options["cache"]);
  return tvm::ffi::Module(
      tvm::ffi::make_object<CountingModuleObj>(std::move(compiled), std::move(infos)));
}

// Reads what SaveToBytes wrote.
class Reader {
 public:
  explicit Reader(std::string data) : data_(std::move(data)) {}
  std::string Next() {
    size_t colon = data_.find(':', pos_);
    if (colon == std::string::npos) Corrupt();
    size_t n = std::stoull(data_.substr(pos_, colon - pos_));
    if (colon + 1 + n > data_.size()) Corrupt();
    std::string item = data_.substr(colon + 1, n);
    pos_ = colon + 1 + n;
    return item;
  }
  size_t Count() { return std::stoull(Next()); }

 private:
  [[noreturn]] static void Corrupt() {
    throw tvm::ffi::Error("ValueError", "project_b: a saved counting_c module is corrupt", "");
  }
  std::string data_;
  size_t pos_ = 0;
};

tvm::ffi::Module LoadFromBytes(tvm::ffi::Bytes bytes) {
  Reader in(std::string(bytes.data(), bytes.size()));
  std::string source = in.Next();
  std::string command = in.Next();
  std::vector<KernelInfo> kernels(in.Count());
  for (KernelInfo& k : kernels) {
    k.name = in.Next();
    std::string params = in.Next();
    k.params.assign(params.begin(), params.end());
    k.buffers.resize(in.Count());
    for (std::string& b : k.buffers) b = in.Next();
    k.asserts.resize(in.Count());
    for (std::string& a : k.asserts) a = in.Next();
  }
  return tvm::ffi::Module(
      tvm::ffi::make_object<CountingModuleObj>(Compile(source, command, ""), std::move(kernels)));
}

}  // namespace
}  // namespace project_b

TVM_EXTEND_REGISTER_BACKEND("project_b.counting_c", [] {
  return tvm_extend::backend::BackendSpec(
             "C with a load and a store counter per buffer, compiled by the system C compiler")
      .target_kind("ext_dev")
      .host_memory()
      .option("counters", "on", "count loads and stores per buffer: on or off")
      .option("opt", "2", "optimisation level of the C compiler: 0 to 3")
      .option("cc", "cc", "the C compiler")
      .option("cache", "", "folder for the generated source and library (default: the user cache)")
      .build(project_b::Build)
      .load_from_bytes(project_b::LoadFromBytes);
});
