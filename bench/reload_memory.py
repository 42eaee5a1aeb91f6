"""Resident memory across hot reloads: 200 reloads of one extension in one process.

Every reload maps a private copy of the new build, and the old copy stays mapped, because code
it made (functions fetched before the reload, pass objects, errors and strings its code
allocated) may still run or be freed by it. What the loader does to bound the cost: a retired
copy's read-only segments (code and constants) are released with madvise(MADV_DONTNEED) and read
again from the copy if old code runs; its writable segments (data, GOT, relocated constants)
stay. So each reload keeps about the writable size of the library, plus the dynamic linker's
own record of it. Prints RSS growth per reload, with and without the release (the second by
TVM_EXTEND_RELEASE_CODE=0, an off-switch kept for this measurement).
"""

import json
import os

from common import fresh_python

CODE = """
import json, os, tvm, tvm_extend
def rss_kib():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
ext = tvm_extend.load_extension("my_custom_pass")
f = tvm.get_global_func("my_custom_pass.rewrite_expr")
for _ in range(5):  # warm up: first copies, allocator pools
    tvm_extend.reload_extension("my_custom_pass")
start = rss_kib()
for _ in range({n}):
    tvm_extend.reload_extension("my_custom_pass")
end = rss_kib()
x = tvm.tirx.Var("x", "int32")
old = f(x * 8)  # a function fetched before all the reloads still runs its old code
new = tvm.get_global_func("my_custom_pass.rewrite_expr")(x * 8)
print(json.dumps({{"start_kib": start, "end_kib": end, "old": str(old), "new": str(new)}}))
"""


def writable_kib() -> float:
    """The writable PT_LOAD size of the example library, read from its program headers."""
    import struct

    import tvm_extend

    path = tvm_extend.find_extension_library("my_custom_pass")
    with open(path, "rb") as f:
        data = f.read()
    (phoff,) = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    total = 0
    for i in range(phnum):
        p_type, p_flags = struct.unpack_from("<II", data, phoff + i * phentsize)
        (p_memsz,) = struct.unpack_from("<Q", data, phoff + i * phentsize + 0x28)
        if p_type == 1 and p_flags & 2:
            total += p_memsz
    return total / 1024


def main(reloads: int = 200) -> dict:
    results = {}
    for label, release in (("released", "1"), ("kept", "0")):
        env = dict(os.environ, TVM_EXTEND_NO_AUTOLOAD="1", TVM_EXTEND_RELEASE_CODE=release)
        out = json.loads(fresh_python(CODE.format(n=reloads), env))
        growth = out["end_kib"] - out["start_kib"]
        results[label] = growth
        print(
            f"{reloads} reloads, code pages {label}: RSS +{growth / 1024:.1f} MiB "
            f"({growth / reloads:.1f} KiB per reload); old function still runs: {out['old']}"
        )
    print(f"writable segments of the library: {writable_kib():.1f} KiB")
    return results


if __name__ == "__main__":
    main()
