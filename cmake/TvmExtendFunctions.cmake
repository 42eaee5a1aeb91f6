# tvm_extend_add_extension(<target> SOURCES <src>... [LINK_TVM] [NO_IR_VIEWS]
#                          [NO_PRECOMPILED_VIEWS] [OUTPUT_NAME <name>])
#
# Builds a TVM extension as a shared library `lib<target>.so`:
#  - C++17, symbols hidden except the tvm-extend entry point, no undefined symbols;
#  - linked to tvm-ffi (and to TVM's compiler library with LINK_TVM, or when TVM_SOURCE_DIR
#    brings TVM's C++ headers, whose inline code needs it);
#  - a run path that finds the TVM and tvm-ffi libraries it was built against, both where they
#    are now and relative to a site-packages install, so no LD_LIBRARY_PATH is needed;
#  - stamped with the TVM and tvm-ffi versions, which the loader checks against the running ones;
#  - with the typed views <tvm_extend/ir/tir.h> (TIR) and <tvm_extend/ir/relax.h> (Relax), which
#    share <tvm_extend/ir/ir.h> (the `ir.*` types), generated once per build folder from the
#    installed TVM's reflection metadata (unless NO_IR_VIEWS). The functors' bodies
#    (tir_functors.cc; the Relax ExprVisitor/ExprMutator, tvm_extend/ir/relax_functor.cc) and the
#    binding code (tvm_extend/ir/binding.cc) are compiled once per build folder into static
#    libraries the extension links (an extension that does not use them links nothing of
#    them); with several sources the kit's headers and the TIR views are a precompiled header
#    (unless NO_PRECOMPILED_VIEWS).
#
# tvm_extend_generate_ir_views(<out_dir> [TYPE_KEYS k...] [ONLY] [PRELOAD lib...] [EXTENSIONS lib...]
#                              [EXCLUDE k...] [NAMESPACE ns] [HEADER path])
# runs `python -m tvm_extend.ir_views` at configure time, with the Python this package is
# installed for (see _tvm_extend_find_python); the result is cached until the TVM version or the
# generator changes.
#
# TVM_EXTEND_OVERRIDE_TVM_VERSION and TVM_EXTEND_OVERRIDE_FFI_ABI_VERSION ("major.minor.patch"),
# when set, replace the TVM version and the tvm-ffi C ABI version in the stamp. They exist to
# test the loader's refusal of an extension built against another TVM or tvm-ffi.
include_guard(GLOBAL)

# The Python interpreter this package is installed for, in <out>: Python_EXECUTABLE when the
# user gives one; else the first of <prefix>/bin/python3.X, python3, python beside the
# site-packages that holds the package (a venv's or the system's), then python3 and python on
# PATH, that imports tvm_extend from this very folder (checked by running it). Never another
# interpreter: the generated views must describe the TVM installed beside this package.
function(_tvm_extend_find_python out)
  if(Python_EXECUTABLE)
    set(${out} "${Python_EXECUTABLE}" PARENT_SCOPE)
    return()
  endif()
  get_property(_python GLOBAL PROPERTY _TVM_EXTEND_PYTHON)
  if(_python)
    set(${out} "${_python}" PARENT_SCOPE)
    return()
  endif()
  get_filename_component(_pkg "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/../../.." ABSOLUTE)
  get_filename_component(_pkg_real "${_pkg}" REALPATH)
  get_filename_component(_python_dir "${_pkg}/../.." ABSOLUTE)  # <prefix>/lib/python3.11
  get_filename_component(_python_dir "${_python_dir}" NAME)
  get_filename_component(_prefix "${_pkg}/../../../.." ABSOLUTE)
  set(_candidates "${_prefix}/bin/${_python_dir}" "${_prefix}/bin/python3"
                  "${_prefix}/bin/python")
  string(REPLACE ":" ";" _path "$ENV{PATH}")
  foreach(_dir IN LISTS _path)
    if(_dir)
      list(APPEND _candidates "${_dir}/python3" "${_dir}/python")
    endif()
  endforeach()
  list(REMOVE_DUPLICATES _candidates)
  string(CONCAT _where_code "import importlib.util as u, os; print(os.path.realpath("
                "u.find_spec('tvm_extend').submodule_search_locations[0]))")
  foreach(_python IN LISTS _candidates)
    if(EXISTS "${_python}" AND NOT IS_DIRECTORY "${_python}")
      execute_process(COMMAND "${_python}" -c "${_where_code}" RESULT_VARIABLE _rc
                      OUTPUT_VARIABLE _where OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
      if(_rc EQUAL 0 AND _where STREQUAL _pkg_real)
        message(STATUS "tvm_extend: Python ${_python}")
        set_property(GLOBAL PROPERTY _TVM_EXTEND_PYTHON "${_python}")
        set(${out} "${_python}" PARENT_SCOPE)
        return()
      endif()
    endif()
  endforeach()
  message(FATAL_ERROR
    "tvm_extend: cannot find the Python that tvm-extend at ${_pkg} is installed for: "
    "neither ${_prefix}/bin/${_python_dir} (nor python3, python there) nor a python3 or python "
    "on PATH imports tvm_extend from there. Give it with -DPython_EXECUTABLE=/path/to/python.")
endfunction()

function(tvm_extend_generate_ir_views out_dir)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "ONLY" "NAMESPACE;HEADER" "TYPE_KEYS;PRELOAD;EXTENSIONS;EXCLUDE")
  _tvm_extend_find_python(_python)
  set(_args --out "${out_dir}")
  foreach(_key IN LISTS ARG_TYPE_KEYS)
    list(APPEND _args --type-key "${_key}")
  endforeach()
  foreach(_lib IN LISTS ARG_PRELOAD)
    list(APPEND _args --preload "${_lib}")
  endforeach()
  foreach(_key IN LISTS ARG_EXCLUDE)
    list(APPEND _args --exclude "${_key}")
  endforeach()
  foreach(_ext IN LISTS ARG_EXTENSIONS)
    list(APPEND _args --extension "${_ext}")
  endforeach()
  if(ARG_ONLY)
    list(APPEND _args --only)
  endif()
  if(ARG_NAMESPACE)
    list(APPEND _args --namespace "${ARG_NAMESPACE}")
  endif()
  if(ARG_HEADER)
    list(APPEND _args --header "${ARG_HEADER}")
  endif()
  set(_header "tvm_extend/ir/tir.h")
  if(ARG_HEADER)
    set(_header "${ARG_HEADER}")
  endif()
  set(_inputs "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/../../../ir_views.py")
  foreach(_lib IN LISTS ARG_PRELOAD ARG_EXTENSIONS)
    if(EXISTS "${_lib}")
      list(APPEND _inputs "${_lib}")
    endif()
  endforeach()
  set(_gen_hash "")
  foreach(_input IN LISTS _inputs)
    file(SHA256 "${_input}" _h)
    string(APPEND _gen_hash "${_h}")
  endforeach()
  string(SHA256 _key "${tvm_extend_TVM_VERSION};${tvm_extend_TVM_FFI_VERSION};${tvm_extend_VERSION};${_args}")
  # Reconfigure when TVM is upgraded, so the views never describe another TVM.
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_inputs})
  set(_outputs "${out_dir}/${_header}")
  if(NOT ARG_ONLY AND NOT ARG_HEADER)  # the three headers of the default views
    list(APPEND _outputs "${out_dir}/tvm_extend/ir/ir.h" "${out_dir}/tvm_extend/ir/relax.h")
  endif()
  set(_have_outputs TRUE)
  foreach(_output IN LISTS _outputs)
    if(NOT EXISTS "${_output}")
      set(_have_outputs FALSE)
    endif()
  endforeach()
  if(DEFINED _TVM_EXTEND_IR_VIEWS_${_key} AND "${_TVM_EXTEND_IR_VIEWS_${_key}}" STREQUAL _gen_hash
     AND _have_outputs)
    return()
  endif()
  # Installed extensions are not autoloaded here: the views describe what TVM (and the libraries
  # named in PRELOAD and EXTENSIONS) register.
  execute_process(COMMAND "${CMAKE_COMMAND}" -E env TVM_EXTEND_NO_AUTOLOAD=1
                          "${_python}" -m tvm_extend.ir_views ${_args}
                  RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "tvm_extend: generating the IR views with ${_python} failed "
                        "(set Python_EXECUTABLE to the Python that has TVM and tvm-extend):\n"
                        "${_out}${_err}")
  endif()
  set(_TVM_EXTEND_IR_VIEWS_${_key} "${_gen_hash}" CACHE INTERNAL "")
endfunction()

# A static library of kit code compiled into extensions: hidden, position independent, C++17.
function(_tvm_extend_static_helper target)
  target_link_libraries(${target} PRIVATE tvm_extend::headers tvm_extend::tvm_ffi)
  target_compile_features(${target} PRIVATE cxx_std_17)
  set_target_properties(${target} PROPERTIES
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    POSITION_INDEPENDENT_CODE ON)
endfunction()

function(tvm_extend_add_extension target)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "LINK_TVM;NO_IR_VIEWS;NO_PRECOMPILED_VIEWS" "OUTPUT_NAME"
                        "SOURCES")
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "tvm_extend_add_extension(${target}): give SOURCES")
  endif()
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "tvm_extend_add_extension(${target}): unknown arguments "
                        "${ARG_UNPARSED_ARGUMENTS}")
  endif()
  add_library(${target} SHARED ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE tvm_extend::headers tvm_extend::tvm_ffi)
  # The views' binding code (tvm_extend/ir/binding.cc), compiled once per build folder; linked
  # into the extension only if its code uses views or global function handles.
  if(NOT TARGET tvm_extend_ir_binding)
    # (with the Relax pass factories of tvm_extend/transform/relax_pass.h, compiled once here)
    add_library(tvm_extend_ir_binding STATIC
                "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/../../../include/tvm_extend/ir/binding.cc"
                "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/../../../include/tvm_extend/transform/relax_pass.cc")
    _tvm_extend_static_helper(tvm_extend_ir_binding)
  endif()
  target_link_libraries(${target} PRIVATE tvm_extend_ir_binding)
  if(NOT ARG_NO_IR_VIEWS)
    set(_views "${CMAKE_BINARY_DIR}/tvm_extend_generated")
    tvm_extend_generate_ir_views("${_views}")
    target_include_directories(${target} PRIVATE "${_views}")
    # The functors' bodies, compiled once per build folder into a static library: an extension
    # links (and binds) them only if it uses a visitor or a mutator.
    if(NOT TARGET tvm_extend_ir_functors)
      add_library(tvm_extend_ir_functors STATIC "${_views}/tvm_extend/ir/tir_functors.cc")
      target_include_directories(tvm_extend_ir_functors PRIVATE "${_views}")
      _tvm_extend_static_helper(tvm_extend_ir_functors)
      target_link_libraries(tvm_extend_ir_functors PRIVATE tvm_extend_ir_binding)
    endif()
    target_link_libraries(${target} PRIVATE tvm_extend_ir_functors)
    # The Relax ExprVisitor/ExprMutator and BlockBuilder (tvm_extend/ir/relax_functor.h), the
    # same way: linked only where used.
    if(NOT TARGET tvm_extend_ir_relax_functors)
      add_library(tvm_extend_ir_relax_functors STATIC
                  "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/../../../include/tvm_extend/ir/relax_functor.cc")
      target_include_directories(tvm_extend_ir_relax_functors PRIVATE "${_views}")
      _tvm_extend_static_helper(tvm_extend_ir_relax_functors)
      target_link_libraries(tvm_extend_ir_relax_functors PRIVATE tvm_extend_ir_binding)
    endif()
    target_link_libraries(${target} PRIVATE tvm_extend_ir_relax_functors)
    # With several sources, the kit's headers and the views are parsed once (a precompiled
    # header, about 0.6 s of CPU saved per translation unit; bench/views_compile_cost.py).
    list(LENGTH ARG_SOURCES _n_sources)
    if(_n_sources GREATER 1 AND NOT ARG_NO_PRECOMPILED_VIEWS)
      target_precompile_headers(${target} PRIVATE <tvm_extend/extension.h>
                                "${_views}/tvm_extend/ir/tir.h")
    endif()
  endif()
  if(ARG_LINK_TVM OR tvm_extend_TVM_SOURCE_INCLUDE_DIRS)
    target_link_libraries(${target} PRIVATE tvm_extend::tvm tvm_extend::tvm_runtime)
  endif()
  set(_stamp_tvm "${tvm_extend_TVM_VERSION}")
  if(TVM_EXTEND_OVERRIDE_TVM_VERSION)
    set(_stamp_tvm "${TVM_EXTEND_OVERRIDE_TVM_VERSION}")
  endif()
  target_compile_definitions(${target} PRIVATE
    TVM_EXTEND_BUILT_TVM_VERSION="${_stamp_tvm}"
    TVM_EXTEND_BUILT_FFI_VERSION="${tvm_extend_TVM_FFI_VERSION}")
  if(TVM_EXTEND_OVERRIDE_FFI_ABI_VERSION)
    string(REPLACE "." ";" _abi "${TVM_EXTEND_OVERRIDE_FFI_ABI_VERSION}")
    list(GET _abi 0 _abi_major)
    list(GET _abi 1 _abi_minor)
    list(GET _abi 2 _abi_patch)
    target_compile_definitions(${target} PRIVATE TVM_EXTEND_BUILT_FFI_ABI_MAJOR=${_abi_major}
      TVM_EXTEND_BUILT_FFI_ABI_MINOR=${_abi_minor} TVM_EXTEND_BUILT_FFI_ABI_PATCH=${_abi_patch})
  endif()
  target_compile_features(${target} PRIVATE cxx_std_17)
  set(_rpath
    "\$ORIGIN/../tvm_ffi/lib" "\$ORIGIN/../tvm/lib"
    "\$ORIGIN/../../tvm_ffi/lib" "\$ORIGIN/../../tvm/lib"
    "${tvm_extend_TVM_FFI_LIBRARY_DIR}" "${tvm_extend_TVM_LIBRARY_DIR}")
  set_target_properties(${target} PROPERTIES
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    POSITION_INDEPENDENT_CODE ON
    PREFIX "lib"
    SUFFIX ".so"
    BUILD_RPATH "${_rpath}"
    INSTALL_RPATH "${_rpath}")
  if(ARG_OUTPUT_NAME)
    set_target_properties(${target} PROPERTIES OUTPUT_NAME "${ARG_OUTPUT_NAME}")
  endif()
  target_link_options(${target} PRIVATE "LINKER:--no-undefined" "LINKER:--disable-new-dtags")
endfunction()
