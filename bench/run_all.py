"""Run every benchmark of this folder and print its figures (see bench/README.md)."""

import build_time
import import_time
import load_time
import matmul
import reload_memory
import transformer_block
import tvm_pass_noop_narrow
import tvm_pass_vectorize
import views_compile_cost

if __name__ == "__main__":
    print("== build_time ==")
    build_time.main()
    print("== views_compile_cost ==")
    views_compile_cost.main()
    print("== load_time ==")
    load_time.main()
    print("== import_time ==")
    import_time.main()
    print("== reload_memory ==")
    reload_memory.main()
    print("== matmul ==")
    matmul.main()
    print("== transformer_block ==")
    transformer_block.main()
    print("== tvm_pass_vectorize ==")
    tvm_pass_vectorize.main()
    print("== tvm_pass_noop_narrow ==")
    tvm_pass_noop_narrow.main()
