/*!
 * \file src/extension/library_file.cc
 * \brief Inspecting a library file before any of its code runs; private copies for reloads;
 *        the static-initializer probe; releasing a retired copy's code pages.
 */
#include "library_file.h"

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <tvm/ffi/error.h>
#include <tvm_extend/extension/abi.h>
#include <tvm_extend/extension/errors.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace tvm_extend {
namespace library_file {
namespace {

/*! \brief Whether a mangled name is in namespace tvm but not tvm::ffi (functions, const member
 *         functions, vtables, type infos and names). */
bool IsTVMCppSymbol(const char* name) {
  for (const char* prefix : {"_ZN3tvm", "_ZNK3tvm", "_ZTVN3tvm", "_ZTIN3tvm", "_ZTSN3tvm"}) {
    size_t n = std::strlen(prefix);
    if (std::strncmp(name, prefix, n) == 0) return std::strncmp(name + n, "3ffi", 4) != 0;
  }
  return false;
}

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// A file modified less than this long ago may still be being written.
constexpr int64_t kSettleNs = 300'000'000;
// The longest the loader waits for a file to settle.
constexpr milliseconds kSettleLimit{5000};
// The longest a library's static initializers may take in the probe.
constexpr milliseconds kProbeLimit{60000};

#if defined(__x86_64__)
constexpr uint16_t kHostMachine = EM_X86_64;
#elif defined(__aarch64__)
constexpr uint16_t kHostMachine = EM_AARCH64;
#elif defined(__powerpc64__)
constexpr uint16_t kHostMachine = EM_PPC64;
#elif defined(__riscv)
constexpr uint16_t kHostMachine = EM_RISCV;
#else
#error "tvm-extend: unknown host machine for the ELF check"
#endif

[[noreturn]] void Refuse(const std::string& shown_as, const std::string& why) {
  throw tvm::ffi::Error(error_kind::kExtensionLoad,
                        "cannot load extension '" + shown_as + "': " + why, "");
}

std::string MachineName(uint16_t machine) {
  switch (machine) {
    case EM_X86_64:
      return "x86-64";
    case EM_386:
      return "32-bit x86";
    case EM_AARCH64:
      return "AArch64 (64-bit ARM)";
    case EM_ARM:
      return "32-bit ARM";
    case EM_PPC64:
      return "64-bit PowerPC";
    case EM_RISCV:
      return "RISC-V";
    case EM_S390:
      return "IBM Z (s390)";
    default:
      return "ELF machine type " + std::to_string(machine);
  }
}

Identity Of(const struct stat& st) {
  Identity id;
  id.device = st.st_dev;
  id.inode = st.st_ino;
  id.size = st.st_size;
  id.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  return id;
}

int64_t WallNowNs() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

Identity StatOrRefuse(const std::string& path, const std::string& shown_as) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    throw tvm::ffi::Error(error_kind::kExtensionLoad,
                          "cannot load extension: no such file '" + shown_as +
                              "'. Check the path, or give the extension's package name.",
                          "");
  }
  if (!S_ISREG(st.st_mode)) {
    Refuse(shown_as, "it is a directory or a special file, not a library (lib<name>.so)");
  }
  return Of(st);
}

// Stats `path`, waiting while it was modified in the last kSettleNs, for at most kSettleLimit.
Identity StatSettled(const std::string& path, const std::string& shown_as) {
  const Clock::time_point start = Clock::now();
  Identity id = StatOrRefuse(path, shown_as);
  while (true) {
    const int64_t age = WallNowNs() - id.mtime_ns;
    if (age >= kSettleNs) return id;
    if (Clock::now() - start > kSettleLimit) {
      Refuse(shown_as, "it is still being written: it changed again within the last " +
                           std::to_string(kSettleNs / 1000000) + " ms after " +
                           std::to_string(kSettleLimit.count() / 1000) +
                           " s of waiting. Load it when the build that writes it has finished.");
    }
    const int64_t wait_ns = age < 0 ? kSettleNs : std::max<int64_t>(kSettleNs - age, 20'000'000);
    std::this_thread::sleep_for(std::chrono::nanoseconds(wait_ns));
    Identity again = StatOrRefuse(path, shown_as);
    if (again == id && age < 0) return id;  // a future timestamp that no longer moves
    id = again;
  }
}

std::string IncompleteHint(const Identity& id) {
  const int64_t age_s = (WallNowNs() - id.mtime_ns) / 1000000000;
  std::string when = age_s >= 0 && age_s < 3600
                         ? ", last written " + std::to_string(age_s) + " s ago"
                         : std::string();
  return " (the file has " + std::to_string(id.size) + " bytes" + when +
         "). It is incomplete or still being written: load it when the build that writes it "
         "has finished.";
}

class FileReader {
 public:
  FileReader(const std::string& path, const std::string& shown_as) {
    fd_ = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) Refuse(shown_as, std::string("cannot open it: ") + std::strerror(errno));
  }
  ~FileReader() { close(fd_); }
  bool Read(uint64_t offset, size_t size, void* out) const {
    size_t done = 0;
    while (done < size) {
      ssize_t n = pread(fd_, static_cast<char*>(out) + done, size - done,
                        static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  }

 private:
  int fd_;
};

bool Within(uint64_t offset, uint64_t size, uint64_t file_size) {
  return offset <= file_size && size <= file_size - offset;
}

}  // namespace

Identity Stat(const std::string& path) { return StatSettled(path, path); }

Inspected Inspect(const std::string& path, const std::string& shown_as) {
  Inspected out;
  out.identity = StatSettled(path, shown_as);
  char resolved[PATH_MAX];
  out.path = realpath(path.c_str(), resolved) ? resolved : path;
  const Identity& id = out.identity;
  const uint64_t size = static_cast<uint64_t>(id.size);
  FileReader file(path, shown_as);

  unsigned char ident[EI_NIDENT] = {0};
  const size_t head = static_cast<size_t>(std::min<uint64_t>(size, EI_NIDENT));
  if (!file.Read(0, head, ident)) Refuse(shown_as, "it cannot be read" + IncompleteHint(id));
  const size_t magic = std::min<size_t>(head, SELFMAG);
  if (magic > 0 && std::all_of(ident, ident + magic, [](unsigned char c) { return c == 0; })) {
    Refuse(shown_as,
           "it is not a loadable shared library: it starts with zero bytes" + IncompleteHint(id));
  }
  if (std::memcmp(ident, ELFMAG, magic) != 0) {
    Refuse(shown_as, "it is not a loadable shared library (not an ELF file)");
  }
  if (head < EI_NIDENT) {
    Refuse(shown_as, "it is not a loadable shared library: " + std::to_string(size) +
                         " bytes are too few for an ELF header" + IncompleteHint(id));
  }
  if (ident[EI_CLASS] != ELFCLASS64) {
    Refuse(shown_as, "it is a 32-bit ELF file, built for another machine; this machine (" +
                         MachineName(kHostMachine) + ") loads 64-bit libraries");
  }
  if (ident[EI_DATA] != ELFDATA2LSB) {
    Refuse(shown_as, "it is a big-endian ELF file, built for another machine than this one (" +
                         MachineName(kHostMachine) + ")");
  }
  Elf64_Ehdr eh;
  if (size < sizeof(eh) || !file.Read(0, sizeof(eh), &eh)) {
    Refuse(shown_as, "its ELF header is cut off" + IncompleteHint(id));
  }
  if (eh.e_machine != kHostMachine) {
    Refuse(shown_as, "it is built for " + MachineName(eh.e_machine) + ", but this machine is " +
                         MachineName(kHostMachine) + ". Build the extension on this machine.");
  }
  if (eh.e_type != ET_DYN) {
    const char* what = eh.e_type == ET_EXEC   ? "an executable"
                       : eh.e_type == ET_REL  ? "an object file (.o)"
                       : eh.e_type == ET_CORE ? "a core dump"
                                              : "an ELF file of an unknown type";
    Refuse(shown_as, std::string("it is ") + what +
                         ", not a shared library. Build the extension with "
                         "tvm_extend_add_extension(), which makes lib<name>.so.");
  }
  // Program headers: every loaded segment must lie inside the file, or dlopen maps pages past
  // its end and the first touch is a SIGBUS.
  if (eh.e_phentsize != sizeof(Elf64_Phdr) ||
      !Within(eh.e_phoff, uint64_t{eh.e_phnum} * sizeof(Elf64_Phdr), size)) {
    Refuse(shown_as, "its program headers lie past the end of the file" + IncompleteHint(id));
  }
  std::vector<Elf64_Phdr> phdrs(eh.e_phnum);
  if (!file.Read(eh.e_phoff, phdrs.size() * sizeof(Elf64_Phdr), phdrs.data())) {
    Refuse(shown_as, "its program headers cannot be read" + IncompleteHint(id));
  }
  bool dynamic = false;
  for (size_t i = 0; i < phdrs.size(); ++i) {
    const Elf64_Phdr& ph = phdrs[i];
    if (ph.p_type == PT_DYNAMIC) dynamic = true;
    if (ph.p_type == PT_LOAD && !Within(ph.p_offset, ph.p_filesz, size)) {
      Refuse(shown_as, "its loadable segment " + std::to_string(i) + " (bytes " +
                           std::to_string(ph.p_offset) + " to " +
                           std::to_string(ph.p_offset + ph.p_filesz) +
                           ") runs past the end of the file" + IncompleteHint(id));
    }
  }
  if (!dynamic) Refuse(shown_as, "it has no dynamic section, so it is not a shared library");
  // Section headers: the linker writes them last, so a cut-off file loses them first.
  if (eh.e_shoff == 0 || eh.e_shnum == 0) {
    return out;  // stripped of its section table (rare): dlsym checks the entry point later
  }
  if (eh.e_shentsize != sizeof(Elf64_Shdr) ||
      !Within(eh.e_shoff, uint64_t{eh.e_shnum} * sizeof(Elf64_Shdr), size)) {
    Refuse(shown_as, "its section headers (at byte " + std::to_string(eh.e_shoff) +
                         ") lie past the end of the file" + IncompleteHint(id));
  }
  std::vector<Elf64_Shdr> shdrs(eh.e_shnum);
  if (!file.Read(eh.e_shoff, shdrs.size() * sizeof(Elf64_Shdr), shdrs.data())) {
    Refuse(shown_as, "its section headers cannot be read" + IncompleteHint(id));
  }
  for (const Elf64_Shdr& sh : shdrs) {
    if (sh.sh_type != SHT_NOBITS && !Within(sh.sh_offset, sh.sh_size, size)) {
      Refuse(shown_as, "a section (bytes " + std::to_string(sh.sh_offset) + " to " +
                           std::to_string(sh.sh_offset + sh.sh_size) +
                           ") runs past the end of the file" + IncompleteHint(id));
    }
  }
  bool has_entry = false;
  out.registers_globals_itself = false;
  for (const Elf64_Shdr& sh : shdrs) {
    if (sh.sh_type != SHT_DYNSYM || sh.sh_link >= shdrs.size() ||
        sh.sh_entsize != sizeof(Elf64_Sym)) {
      continue;
    }
    const Elf64_Shdr& strtab = shdrs[sh.sh_link];
    std::vector<Elf64_Sym> syms(sh.sh_size / sizeof(Elf64_Sym));
    std::string names(strtab.sh_size, '\0');
    if (!file.Read(sh.sh_offset, syms.size() * sizeof(Elf64_Sym), syms.data()) ||
        !file.Read(strtab.sh_offset, names.size(), names.data())) {
      Refuse(shown_as, "its dynamic symbol table cannot be read" + IncompleteHint(id));
    }
    for (const Elf64_Sym& sym : syms) {
      if (sym.st_name >= names.size()) continue;
      const char* name = names.c_str() + sym.st_name;
      if (sym.st_shndx != SHN_UNDEF) {
        if (ELF64_ST_TYPE(sym.st_info) == STT_FUNC &&
            std::strcmp(name, TVM_EXTEND_ENTRY_SYMBOL) == 0) {
          has_entry = true;
        }
      } else if (std::strcmp(name, "TVMFFIFunctionSetGlobal") == 0 ||
                 std::strcmp(name, "TVMFFIFunctionSetGlobalFromMethodInfo") == 0) {
        out.registers_globals_itself = true;
      } else if (IsTVMCppSymbol(name)) {
        out.imports_tvm_cpp = true;
      }
    }
  }
  if (!has_entry) {
    std::string why = std::string("it has no tvm-extend entry point (") + TVM_EXTEND_ENTRY_SYMBOL +
                      "). Define one with TVM_EXTEND_EXTENSION(name, \"version\") from "
                      "<tvm_extend/extension.h>.";
    if (out.registers_globals_itself) {
      why +=
          " It registers global functions itself (it imports TVMFFIFunctionSetGlobal, as "
          "TVM_FFI_STATIC_INIT_BLOCK does), unchecked, while it is being mapped; a name "
          "someone else owns would abort the process. It was not loaded: register with "
          "TVM_EXTEND_REGISTER_FUNC instead.";
    }
    Refuse(shown_as, why);
  }
  return out;
}

Copy PrivateCopy(const std::string& source, const std::string& stem) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    Identity before = StatSettled(source, source);
    std::string data(static_cast<size_t>(before.size), '\0');
    {
      FileReader file(source, source);
      if (!file.Read(0, data.size(), data.data())) continue;
    }
    if (StatOrRefuse(source, source) != before) continue;  // written to while we read it
    // Beside the source first, so that the copy's $ORIGIN (its RPATH) is the source's folder;
    // in TMPDIR when that folder is not writable.
    const char* tmp = std::getenv("TMPDIR");
    const std::string source_dir = source.substr(0, source.find_last_of('/') + 1);
    int fd = -1;
    std::vector<char> name;
    for (const std::string& dir : {source_dir.empty() ? std::string("./") : source_dir,
                                   std::string(tmp && *tmp ? tmp : "/tmp") + "/"}) {
      std::string templ = dir + ".lib" + stem + ".tvm_extend.XXXXXX.so";
      name.assign(templ.begin(), templ.end());
      name.push_back('\0');
      fd = mkstemps(name.data(), 3);
      if (fd >= 0) break;
    }
    if (fd < 0) {
      Refuse(source, std::string("cannot make a private copy to load (beside it or in TMPDIR): ") +
                         std::strerror(errno));
    }
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = write(fd, data.data() + done, data.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    // The source's time, so that inspecting the copy does not wait for it to settle.
    struct timespec times[2] = {{0, UTIME_OMIT},
                                {static_cast<time_t>(before.mtime_ns / 1000000000),
                                 static_cast<long>(before.mtime_ns % 1000000000)}};  // NOLINT
    futimens(fd, times);
    close(fd);
    if (done != data.size()) {
      unlink(name.data());
      Refuse(source, "cannot write its private copy " + std::string(name.data()) + " (disk full?)");
    }
    return Copy{name.data(), before};
  }
  Refuse(source,
         "it kept changing while it was being read. Load it when the build that "
         "writes it has finished.");
}

void ProbeStaticInitializers(const std::string& path, const std::string& shown_as) {
  if (const char* probe = std::getenv("TVM_EXTEND_LOAD_PROBE");
      probe && std::strcmp(probe, "0") == 0) {
    return;
  }
  constexpr int kDlopenFailed = 97;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return;  // no probe possible: load as before
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return;
  }
  if (pid == 0) {
    // The child: only async-signal-safe calls besides dlopen itself, and never a return.
    dup2(fds[1], STDOUT_FILENO);
    dup2(fds[1], STDERR_FILENO);
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    signal(SIGABRT, SIG_DFL);  // no crash handler of the parent's (Python's faulthandler)
    signal(SIGSEGV, SIG_DFL);
    signal(SIGBUS, SIG_DFL);
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* why = dlerror();
      if (why) (void)!write(STDERR_FILENO, why, std::strlen(why));
      _exit(kDlopenFailed);
    }
    _exit(0);
  }
  close(fds[1]);
  std::string output;
  int status = 0;
  bool exited = false;
  const Clock::time_point start = Clock::now();
  while (!exited) {
    struct pollfd p = {fds[0], POLLIN, 0};
    if (poll(&p, 1, 20) > 0) {
      char buf[4096];
      ssize_t n = read(fds[0], buf, sizeof(buf));
      if (n > 0) output.append(buf, static_cast<size_t>(n));
      if (output.size() > 16384) output.erase(0, output.size() - 16384);
    }
    if (waitpid(pid, &status, WNOHANG) == pid) exited = true;
    if (!exited && Clock::now() - start > kProbeLimit) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      close(fds[0]);
      Refuse(shown_as, "its static initializers did not finish within " +
                           std::to_string(kProbeLimit.count() / 1000) +
                           " s in a probe process; it was not loaded into this one (set "
                           "TVM_EXTEND_LOAD_PROBE=0 to skip the probe)");
    }
  }
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof(buf))) > 0;) output.append(buf, n);
  close(fds[0]);
  while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) output.pop_back();
  if (output.size() > 1500) output = "..." + output.substr(output.size() - 1500);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
  if (WIFEXITED(status) && WEXITSTATUS(status) == kDlopenFailed) {
    Refuse(shown_as, "it is not a loadable shared library (" + output + ")");
  }
  // C++'s own last words say most; a backtrace before them is tvm-ffi's, kept only if alone.
  if (size_t at = output.find("terminate called"); at != std::string::npos) {
    output = output.substr(at);
  }
  for (size_t at = 0; (at = output.find('\n', at)) != std::string::npos; at += 3) {
    output.replace(at, 1, "\n  ");
  }
  std::string how = WIFSIGNALED(status)
                        ? std::string("was killed by signal ") + strsignal(WTERMSIG(status))
                        : "exited with status " + std::to_string(WEXITSTATUS(status));
  Refuse(shown_as,
         "mapping it runs code that ends the process: a probe process that ran its static "
         "initializers " +
             how + (output.empty() ? std::string(".") : ", saying:\n  " + output + "\n") +
             "It was not loaded into this process. A static initializer must not throw, abort or "
             "register global names itself (TVM_FFI_STATIC_INIT_BLOCK); register with "
             "TVM_EXTEND_REGISTER_FUNC, which the loader checks first.");
}

int64_t ReleaseCodePages(void* handle) {
  // An off-switch for bench/reload_memory.py, which measures what the release saves.
  if (const char* release = std::getenv("TVM_EXTEND_RELEASE_CODE");
      release && std::strcmp(release, "0") == 0) {
    return -1;
  }
  struct link_map* map = nullptr;
  if (dlinfo(handle, RTLD_DI_LINKMAP, &map) != 0 || map == nullptr) return -1;
  for (const ElfW(Dyn)* d = map->l_ld; d && d->d_tag != DT_NULL; ++d) {
    if (d->d_tag == DT_TEXTREL) return -1;  // its code pages were written to: keep them
    if (d->d_tag == DT_FLAGS && (d->d_un.d_val & DF_TEXTREL)) return -1;
  }
  struct Search {
    struct link_map* map;
    int64_t writable = -1;
  } search{map};
  dl_iterate_phdr(
      [](struct dl_phdr_info* info, size_t, void* data) -> int {
        auto* s = static_cast<Search*>(data);
        if (info->dlpi_addr != s->map->l_addr || !info->dlpi_name ||
            std::strcmp(info->dlpi_name, s->map->l_name) != 0) {
          return 0;
        }
        const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
        s->writable = 0;
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr)& ph = info->dlpi_phdr[i];
          if (ph.p_type != PT_LOAD) continue;
          if (ph.p_flags & PF_W) {
            s->writable += static_cast<int64_t>(ph.p_memsz);
            continue;
          }
          // Whole pages inside the segment only, so no page of a writable neighbour is touched.
          uintptr_t begin = (info->dlpi_addr + ph.p_vaddr + page - 1) & ~(page - 1);
          uintptr_t end = (info->dlpi_addr + ph.p_vaddr + ph.p_memsz) & ~(page - 1);
          if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
        }
        return 1;
      },
      &search);
  return search.writable;
}

}  // namespace library_file
}  // namespace tvm_extend
