"""Configure and build of examples/my_custom_pass from a clean folder. Target: <= 20 s."""

import importlib.util
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from common import summary

ROOT = Path(__file__).resolve().parent.parent
# The site-packages holding tvm_extend, as a user passes it to a plain `cmake`.
SITE_PACKAGES = Path(importlib.util.find_spec("tvm_extend").submodule_search_locations[0]).parent


def one_build() -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        shutil.copytree(
            ROOT / "examples" / "my_custom_pass", src, ignore=shutil.ignore_patterns("build")
        )
        build = Path(tmp) / "build"
        t0 = time.perf_counter()
        subprocess.run(
            [
                "cmake",
                "-S",
                str(src),
                "-B",
                str(build),
                "-DCMAKE_BUILD_TYPE=Release",
                f"-DCMAKE_PREFIX_PATH={SITE_PACKAGES}",
            ],
            check=True,
            capture_output=True,
        )
        t1 = time.perf_counter()
        subprocess.run(
            ["cmake", "--build", str(build), "--parallel", "2"], check=True, capture_output=True
        )
        t2 = time.perf_counter()
        assert (build / "libmy_custom_pass.so").is_file()
        return t1 - t0, t2 - t0


def main(runs: int = 3) -> dict:
    results = [one_build() for _ in range(runs)]
    configure = [r[0] for r in results]
    total = [r[1] for r in results]
    print(f"configure (s): {summary(configure)}")
    print(f"configure + build from clean (s): {summary(total)}   target <= 20 s")
    return {"configure_s": configure, "total_s": total}


if __name__ == "__main__":
    main()
