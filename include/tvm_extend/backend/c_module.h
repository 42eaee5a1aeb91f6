/*!
 * \file tvm_extend/backend/c_module.h
 * \brief Compile C that TVM's C generator wrote (see c_source.h) and run it as a TVM runtime
 *        module.
 *
 * BuildCModule writes the source into a cache folder keyed by the source and the compiler
 * command, compiles it unless the library is there, and loads it. The compiler finds the running
 * TVM's headers (the apache-tvm and apache-tvm-ffi wheels ship them beside their libraries), and
 * the library is linked against libtvm_ffi and libtvm_runtime, so a call of a function that
 * does not exist fails when the library is linked, not when it is loaded. The module it returns:
 * - calls each kernel, a tvm-ffi packed function `__tvm_ffi_<name>` (the symbol TVM's C
 *   generator gives a function built with MakePackedAPI), with the arguments TVM's host code
 *   passes; an error the kernel raises (a failed assertion) comes out as that error;
 * - keeps each kernel's int64 counters (counters.h) per module, read with its function
 *   "tvm_extend.counters" ({kernel: {counter: value}}) and zeroed with
 *   "tvm_extend.reset_counters" (plain increments: calls of one module from several threads at
 *   once may lose counts);
 * - gives the generated source (InspectSource) and its path ("tvm_extend.source_path");
 * - is binary serializable, so tvm.compile links it and export_library saves it. A saved
 *   module holds its source and compiler command, and loading it compiles again (or finds the
 *   library in the cache): the machine that loads it needs the compiler.
 * The compiler runs without a shell: the command is split into words at spaces.
 */
#ifndef TVM_EXTEND_BACKEND_C_MODULE_H_
#define TVM_EXTEND_BACKEND_C_MODULE_H_

#include <dlfcn.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <tvm/ffi/c_api.h>
#include <tvm/ffi/cast.h>
#include <tvm/ffi/container/array.h>
#include <tvm/ffi/container/map.h>
#include <tvm/ffi/extra/module.h>
#include <tvm/ffi/function.h>
#include <tvm_extend/extension/errors.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

extern char** environ;

namespace tvm_extend {
namespace backend {

/*! \brief What a module needs to call one kernel of the generated source. */
struct CKernel {
  /*! \brief The kernel's name in TVM (the host calls it by this name); its C function is the
   *         packed function `__tvm_ffi_<name>`. */
  std::string name;
  /*! \brief How many of the host's arguments the kernel takes; the launch extents of thread
   *         bindings that the host passes after them are dropped. */
  int64_t num_args = 0;
  /*! \brief The names of the kernel's int64 counters, by slot; when there are any, the module
   *         passes a pointer to them as the kernel's last argument (counters.h). */
  std::vector<std::string> counters;
};

namespace c_detail {
using tvm::ffi::Any;
using tvm::ffi::AnyView;
using tvm::ffi::Function;
using tvm::ffi::Map;
using tvm::ffi::String;

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
  /*! \brief The compiler and its flags, as the backend gave them. */
  std::string command;
  std::shared_ptr<Library> lib;
};

class CModuleObj : public tvm::ffi::ModuleObj {
 public:
  CModuleObj(std::string kind, Compiled compiled, std::vector<CKernel> kernels)
      : kind_(std::move(kind)),
        source_(std::move(compiled.source)),
        source_path_(std::move(compiled.source_path)),
        command_(std::move(compiled.command)),
        lib_(std::move(compiled.lib)),
        kernels_(std::move(kernels)) {
    for (const CKernel& k : kernels_) {
      counters_.push_back(std::make_shared<std::vector<int64_t>>(k.counters.size() + 1, 0));
    }
  }

  const char* kind() const final { return kind_.c_str(); }
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
    for (const CKernel& k : kernels_) {
      Put(&out, k.name);
      Put(&out, std::to_string(k.num_args));
      Put(&out, std::to_string(k.counters.size()));
      for (const std::string& c : k.counters) Put(&out, c);
    }
    return tvm::ffi::Bytes(out);
  }
  String InspectSource(const String&) const final { return source_; }

  tvm::ffi::Optional<Function> GetFunction(const String& name) final {
    std::string n = name;
    // The functions keep the module alive: they may outlive every other reference to it.
    tvm::ffi::ObjectPtr<CModuleObj> self = tvm::ffi::GetObjectPtr<CModuleObj>(this);
    if (n == "tvm_extend.counters")
      return Function::FromTyped([self]() { return self->Counters(); });
    if (n == "tvm_extend.reset_counters") {
      return Function::FromTyped([self]() { self->ResetCounters(); });
    }
    if (n == "tvm_extend.source_path") {
      return Function::FromTyped([self]() { return String(self->source_path_); });
    }
    for (size_t i = 0; i < kernels_.size(); ++i) {
      if (kernels_[i].name == n) return MakeKernel(kernels_[i], counters_[i]);
    }
    return std::nullopt;
  }

 private:
  Function MakeKernel(const CKernel& k, std::shared_ptr<std::vector<int64_t>> counters) const {
    const std::string symbol = "__tvm_ffi_" + k.name;
    auto fn = reinterpret_cast<TVMFFISafeCallType>(dlsym(lib_->handle, symbol.c_str()));
    if (fn == nullptr) {
      throw tvm::ffi::Error(
          error_kind::kRuntime,
          "tvm-extend: the generated library " + source_path_ + " has no symbol '" + symbol + "'",
          "");
    }
    std::shared_ptr<Library> keep = lib_;
    CKernel info = k;
    return Function::FromPacked([fn, keep, info, counters](tvm::ffi::PackedArgs args, Any* rv) {
      if (args.size() < info.num_args) {
        throw tvm::ffi::Error(error_kind::kType,
                              "kernel '" + info.name + "' takes " + std::to_string(info.num_args) +
                                  " arguments, got " + std::to_string(args.size()),
                              "");
      }
      std::vector<AnyView> values(args.data(), args.data() + info.num_args);
      if (!info.counters.empty()) values.push_back(static_cast<void*>(counters->data()));
      TVM_FFI_CHECK_SAFE_CALL(fn(nullptr, reinterpret_cast<const TVMFFIAny*>(values.data()),
                                 static_cast<int32_t>(values.size()),
                                 reinterpret_cast<TVMFFIAny*>(rv)));
    });
  }

  Map<String, Any> Counters() const {
    Map<String, Any> out;
    for (size_t i = 0; i < kernels_.size(); ++i) {
      const CKernel& k = kernels_[i];
      const std::vector<int64_t>& c = *counters_[i];
      Map<String, Any> values;
      for (size_t slot = 0; slot < k.counters.size(); ++slot) values.Set(k.counters[slot], c[slot]);
      out.Set(k.name, values);
    }
    return out;
  }

  void ResetCounters() const {
    for (const auto& c : counters_) std::fill(c->begin(), c->end(), 0);
  }

  static void Put(std::string* out, const std::string& item) {
    *out += std::to_string(item.size()) + ":" + item;
  }

  std::string kind_;
  std::string source_;
  std::string source_path_;
  std::string command_;
  std::shared_ptr<Library> lib_;
  std::vector<CKernel> kernels_;
  /*! \brief Per kernel, its counters by slot (one more, so that none is empty). */
  std::vector<std::shared_ptr<std::vector<int64_t>>> counters_;
};

inline std::string CacheRoot(const std::string& option) {
  if (!option.empty()) return option;
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  const char* home = std::getenv("HOME");
  std::string base = xdg && *xdg ? xdg : std::string(home && *home ? home : "/tmp") + "/.cache";
  return base + "/tvm_extend/c_backends";
}

inline void MakeDirs(const std::string& path) {
  for (size_t pos = 1; pos != std::string::npos;) {
    pos = path.find('/', pos + 1);
    mkdir(path.substr(0, pos).c_str(), 0755);
  }
}

[[noreturn]] inline void BuildFailure(const std::string& message) {
  throw tvm::ffi::Error(error_kind::kRuntime, message, "");
}

inline bool IsFile(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// The file of the shared library that holds `address`.
inline std::string LibraryOf(const void* address) {
  Dl_info info;
  if (dladdr(address, &info) == 0 || info.dli_fname == nullptr) return "";
  return info.dli_fname;
}

inline std::string Folder(const std::string& path) { return path.substr(0, path.rfind('/')); }

/*!
 * \brief The compiler flags for TVM's generated C: where the running TVM's headers are, and its
 *        libraries to link against. The wheels keep the headers in `include/` beside the
 *        library folder: tvm_ffi/{lib,include} and tvm/{lib,include}.
 */
inline std::vector<std::string> TVMFlags() {
  static const std::vector<std::string> flags = [] {
    const std::string ffi_lib =
        LibraryOf(reinterpret_cast<const void*>(&TVMFFIErrorMoveFromRaised));
    std::optional<Function> build_c = Function::GetGlobal("target.build.c");
    const std::string tvm_lib =
        build_c.has_value()
            ? LibraryOf(reinterpret_cast<const void*>(
                  static_cast<const tvm::ffi::FunctionObj*>(build_c->get())->safe_call))
            : "";
    std::vector<std::string> out;
    struct Needed {
      std::string library, header;
    };
    for (const Needed& n :
         {Needed{ffi_lib, "tvm/ffi/c_api.h"}, Needed{tvm_lib, "tvm/runtime/c_backend_api.h"}}) {
      const std::string include = Folder(Folder(n.library)) + "/include";
      if (n.library.empty() || !IsFile(include + "/" + n.header)) {
        BuildFailure("cannot find the running TVM's C header " + n.header + " for the generated " +
                     "C source: looked in " + (n.library.empty() ? "(no library)" : include) +
                     ", beside " + (n.library.empty() ? "TVM's library" : n.library));
      }
      out.push_back("-I" + include);
    }
    out.push_back(ffi_lib);
    const std::string runtime = Folder(tvm_lib) + "/libtvm_runtime.so";
    if (IsFile(runtime)) out.push_back(runtime);
    return out;
  }();
  return flags;
}

// Runs `argv` without a shell, returning its exit status and its output (stdout and stderr).
inline int Run(const std::vector<std::string>& argv, std::string* output) {
  int fds[2];
  if (pipe(fds) != 0) return -1;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid;
  int spawned = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (spawned != 0) {
    close(fds[0]);
    *output = "cannot run '" + argv[0] + "': " + std::strerror(spawned);
    return 127;
  }
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof(buf))) > 0) output->append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The words of a compiler command ("cc -O2 -std=gnu11"); no shell quoting.
inline std::vector<std::string> Words(const std::string& command) {
  std::vector<std::string> out;
  std::istringstream in(command);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// A file name no other thread or process of this machine uses at the same time.
inline std::string Unique(const std::string& path) {
  static std::atomic<uint64_t> counter{0};
  return path + "." + std::to_string(getpid()) + "." + std::to_string(++counter) + ".tmp";
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return in ? text.str() : std::string();
}

// Writes the source into the cache (keyed by source, command and TVM's flags), compiles it
// unless the library is there already, and loads the library.
inline Compiled Compile(const std::string& source, const std::string& command,
                        const std::string& cache) {
  std::vector<std::string> argv = Words(command);
  if (argv.empty()) BuildFailure("no C compiler given (the compiler command is empty)");
  const std::vector<std::string> tvm_flags = TVMFlags();
  std::string key = source + "\n" + command;
  for (const std::string& flag : tvm_flags) key += " " + flag;
  char hash[32];
  std::snprintf(hash, sizeof(hash), "%016zx", std::hash<std::string>()(key));
  std::string dir = CacheRoot(cache) + "/" + hash;
  MakeDirs(dir);
  std::string c_path = dir + "/kernels.c";
  // A folder is the cache entry of exactly this source (and command): a hash collision, or a
  // folder another source occupies, gets a fresh folder of its own.
  std::string cached = ReadFile(c_path);
  if (!cached.empty() && cached != source) {
    dir = Unique(dir);
    MakeDirs(dir);
    c_path = dir + "/kernels.c";
    cached.clear();
  }
  const std::string so_path = dir + "/kernels.so";
  auto load = [&](std::string* why) {
    auto lib = std::make_shared<Library>();
    lib->handle = dlopen(so_path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (lib->handle == nullptr) {
      const char* err = dlerror();
      *why = err ? err : "unknown error";
      return std::shared_ptr<Library>();
    }
    return lib;
  };
  std::string why;
  std::shared_ptr<Library> lib;
  if (cached == source && IsFile(so_path)) lib = load(&why);
  if (!lib) {  // not cached, or a cached library that does not load: build it
    if (cached != source) {
      const std::string tmp = Unique(c_path);
      {
        std::ofstream out(tmp);
        out << source;
        if (!out) BuildFailure("cannot write the generated source to " + c_path);
      }
      if (std::rename(tmp.c_str(), c_path.c_str()) != 0) {
        BuildFailure("cannot write the generated source to " + c_path + ": " +
                     std::strerror(errno));
      }
    }
    const std::string tmp_so = Unique(so_path);
    std::vector<std::string> compile = argv;
    for (const char* arg : {"-shared", "-fPIC", "-Wl,--no-undefined", "-o"}) {
      compile.push_back(arg);
    }
    compile.push_back(tmp_so);
    compile.push_back(c_path);
    compile.insert(compile.end(), tvm_flags.begin(), tvm_flags.end());
    compile.push_back("-lm");
    std::string output;
    int rc = Run(compile, &output);
    if (rc != 0) {
      std::remove(tmp_so.c_str());
      BuildFailure("the C compiler (" + command + ") failed with exit status " +
                   std::to_string(rc) + " on the generated source " + c_path + ":\n" +
                   output.substr(0, 4000));
    }
    if (std::rename(tmp_so.c_str(), so_path.c_str()) != 0) {
      BuildFailure("cannot put the library built from " + c_path +
                   " in place: " + std::strerror(errno));
    }
    lib = load(&why);
    if (!lib) BuildFailure("cannot load " + so_path + " built from " + c_path + ": " + why);
  }
  return Compiled{source, c_path, command, std::move(lib)};
}

// Reads what SaveToBytes wrote.
class Reader {
 public:
  explicit Reader(std::string data) : data_(std::move(data)) {}
  std::string Next() {
    size_t colon = data_.find(':', pos_);
    if (colon == std::string::npos) Corrupt();
    size_t n = Number(data_.substr(pos_, colon - pos_));
    if (colon + 1 + n > data_.size()) Corrupt();
    std::string item = data_.substr(colon + 1, n);
    pos_ = colon + 1 + n;
    return item;
  }
  size_t Count() { return Number(Next()); }

 private:
  static size_t Number(const std::string& text) {
    if (text.empty() || text.size() > 18 ||
        text.find_first_not_of("0123456789") != std::string::npos) {
      Corrupt();
    }
    return std::stoull(text);
  }
  [[noreturn]] static void Corrupt() {
    throw tvm::ffi::Error(error_kind::kValue, "tvm-extend: a saved C backend module is corrupt",
                          "");
  }
  std::string data_;
  size_t pos_ = 0;
};

}  // namespace c_detail

/*!
 * \brief Load a module that SaveToBytes wrote: compiles its source again, or finds it in the
 *        cache. Give it to BackendSpec::load_from_bytes, with the backend's name as `kind`.
 */
inline tvm::ffi::Module LoadCModule(const std::string& kind, const tvm::ffi::Bytes& bytes) {
  using namespace c_detail;  // NOLINT(build/namespaces)
  Reader in(std::string(bytes.data(), bytes.size()));
  std::string source = in.Next();
  std::string command = in.Next();
  std::vector<CKernel> kernels(in.Count());
  for (CKernel& k : kernels) {
    k.name = in.Next();
    k.num_args = static_cast<int64_t>(in.Count());
    k.counters.resize(in.Count());
    for (std::string& c : k.counters) c = in.Next();
  }
  return tvm::ffi::Module(
      tvm::ffi::make_object<CModuleObj>(kind, Compile(source, command, ""), std::move(kernels)));
}

/*!
 * \brief Compile C `source` with `command` (compiler and flags; -shared -fPIC and the running
 *        TVM's include folders and libraries are added) in the cache folder `cache` ("" for the
 *        user cache), load it, and return a runnable module of kind `kind` (the backend's name)
 *        that calls `kernels`. The module can be saved (export_library) and loaded back through
 *        LoadCModule. A compiler failure raises a RuntimeError with the compiler's message and
 *        the generated source's path.
 */
inline tvm::ffi::Module BuildCModule(const std::string& kind, const std::string& source,
                                     std::vector<CKernel> kernels, const std::string& command,
                                     const std::string& cache) {
  return tvm::ffi::Module(tvm::ffi::make_object<c_detail::CModuleObj>(
      kind, c_detail::Compile(source, command, cache), std::move(kernels)));
}

}  // namespace backend
}  // namespace tvm_extend
#endif  // TVM_EXTEND_BACKEND_C_MODULE_H_
