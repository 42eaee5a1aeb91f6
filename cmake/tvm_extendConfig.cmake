# The tvm_extend CMake package: find_package(tvm_extend CONFIG REQUIRED).
#
# It locates the TVM that extensions build against, in one of three ways:
#   default            the pip-installed apache-tvm and apache-tvm-ffi beside this package
#                      (or found through the Python interpreter in Python_EXECUTABLE / PATH);
#   TVM_PREBUILD_PATH  a TVM build folder (libtvm_compiler.so or libtvm.so, libtvm_runtime.so,
#                      libtvm_ffi.so) in a TVM source checkout;
#   TVM_SOURCE_DIR     TVM sources, whose full C++ headers are added to extensions (combines
#                      with either of the above, which still provide the libraries).
#
# Results:
#   targets   tvm_extend::headers   tvm-extend and tvm-ffi headers (what extensions use)
#             tvm_extend::tvm_ffi   libtvm_ffi.so
#             tvm_extend::tvm       TVM's compiler library
#             tvm_extend::tvm_runtime
#             tvm_extend::core      the tvm-extend loader, for C++ programs that load extensions
#   variables tvm_extend_TVM_MODE ("pip" or "prebuild"), tvm_extend_TVM_VERSION,
#             tvm_extend_TVM_FFI_VERSION, tvm_extend_TVM_LIBRARY_DIR,
#             tvm_extend_TVM_FFI_LIBRARY_DIR, tvm_extend_TVM_SOURCE_INCLUDE_DIRS
#   function  tvm_extend_add_extension(<target> SOURCES ...), see TvmExtendFunctions.cmake
include_guard(GLOBAL)

get_filename_component(_tvm_extend_pkg_dir "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
set(tvm_extend_INCLUDE_DIR "${_tvm_extend_pkg_dir}/include")
set(tvm_extend_CORE_LIBRARY "${_tvm_extend_pkg_dir}/lib/libtvm_extend.so")
if(NOT EXISTS "${tvm_extend_INCLUDE_DIR}/tvm_extend/extension.h")
  message(FATAL_ERROR "tvm_extend: the package at ${_tvm_extend_pkg_dir} has no headers; "
                      "reinstall it with `pip install tvm-extend`.")
endif()
include("${CMAKE_CURRENT_LIST_DIR}/TvmExtendFunctions.cmake")

# Reads `__version__ = version = '...'` (setuptools-scm style) or `__version__ = "..."`.
function(_tvm_extend_read_version file out)
  set(${out} "" PARENT_SCOPE)
  if(EXISTS "${file}")
    file(STRINGS "${file}" _line REGEX "^__version__ *=")
    if(_line MATCHES "['\"]([^'\"]+)['\"]")
      set(${out} "${CMAKE_MATCH_1}" PARENT_SCOPE)
    endif()
  endif()
endfunction()

function(_tvm_extend_first_existing out)
  foreach(_candidate IN LISTS ARGN)
    if(EXISTS "${_candidate}")
      set(${out} "${_candidate}" PARENT_SCOPE)
      return()
    endif()
  endforeach()
  set(${out} "" PARENT_SCOPE)
endfunction()

set(TVM_PREBUILD_PATH "${TVM_PREBUILD_PATH}" CACHE PATH "A TVM build folder to build against")
set(TVM_SOURCE_DIR "${TVM_SOURCE_DIR}" CACHE PATH "TVM sources whose C++ headers to add")

if(TVM_PREBUILD_PATH)
  # --- a TVM build folder -------------------------------------------------------------------
  get_filename_component(_build "${TVM_PREBUILD_PATH}" ABSOLUTE)
  get_filename_component(_tree "${_build}/.." ABSOLUTE)
  _tvm_extend_first_existing(_tvm_lib "${_build}/libtvm_compiler.so" "${_build}/libtvm.so"
                             "${_build}/lib/libtvm_compiler.so" "${_build}/lib/libtvm.so")
  _tvm_extend_first_existing(_tvm_runtime_lib "${_build}/libtvm_runtime.so"
                             "${_build}/lib/libtvm_runtime.so")
  _tvm_extend_first_existing(_ffi_lib "${_build}/lib/libtvm_ffi.so" "${_build}/libtvm_ffi.so"
                             "${_build}/3rdparty/tvm-ffi/lib/libtvm_ffi.so")
  _tvm_extend_first_existing(_ffi_include "${_tree}/3rdparty/tvm-ffi/include"
                             "${_tree}/ffi/include")
  _tvm_extend_first_existing(_dlpack_include "${_tree}/3rdparty/tvm-ffi/3rdparty/dlpack/include"
                             "${_tree}/3rdparty/dlpack/include")
  foreach(_need _tvm_lib _tvm_runtime_lib _ffi_lib _ffi_include _dlpack_include)
    if(NOT ${_need})
      message(FATAL_ERROR
        "tvm_extend: TVM_PREBUILD_PATH=${_build} is not a usable TVM build folder: "
        "missing ${_need} (looked for libtvm_compiler.so or libtvm.so, libtvm_runtime.so and "
        "libtvm_ffi.so in it, and for 3rdparty/tvm-ffi/include and its dlpack beside it).")
    endif()
  endforeach()
  if(NOT TVM_VERSION)
    _tvm_extend_read_version("${_tree}/python/tvm/_version.py" TVM_VERSION)
  endif()
  if(NOT TVM_VERSION)
    _tvm_extend_read_version("${_tree}/version.py" TVM_VERSION)
  endif()
  if(NOT TVM_FFI_VERSION)
    _tvm_extend_read_version("${_tree}/3rdparty/tvm-ffi/python/tvm_ffi/_version.py"
                             TVM_FFI_VERSION)
  endif()
  if(NOT TVM_VERSION)
    message(FATAL_ERROR "tvm_extend: cannot tell the TVM version of ${_build}; set -DTVM_VERSION=")
  endif()
  set(tvm_extend_TVM_MODE "prebuild")
else()
  # --- the pip-installed TVM ------------------------------------------------------------------
  get_filename_component(_site "${_tvm_extend_pkg_dir}/.." ABSOLUTE)
  set(_tvm_pkg "${_site}/tvm")
  set(_ffi_pkg "${_site}/tvm_ffi")
  if(NOT EXISTS "${_tvm_pkg}/_version.py" OR NOT EXISTS "${_ffi_pkg}/include/tvm/ffi/c_api.h")
    # tvm-extend and TVM live in different places: ask the Python interpreter, without
    # importing tvm (which takes most of a second).
    if(NOT Python_EXECUTABLE)
      find_package(Python COMPONENTS Interpreter REQUIRED)
    endif()
    execute_process(
      COMMAND "${Python_EXECUTABLE}" -c
              "import importlib.util as u;print(u.find_spec('tvm').submodule_search_locations[0]);print(u.find_spec('tvm_ffi').submodule_search_locations[0])"
      OUTPUT_VARIABLE _found RESULT_VARIABLE _rc ERROR_VARIABLE _err
      OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(NOT _rc EQUAL 0)
      message(FATAL_ERROR "tvm_extend: no pip-installed TVM found by ${Python_EXECUTABLE} "
                          "(pip install apache-tvm), and no TVM_PREBUILD_PATH given.\n${_err}")
    endif()
    string(REPLACE "\n" ";" _found "${_found}")
    list(GET _found 0 _tvm_pkg)
    list(GET _found 1 _ffi_pkg)
  endif()
  set(_tvm_lib "${_tvm_pkg}/lib/libtvm_compiler.so")
  set(_tvm_runtime_lib "${_tvm_pkg}/lib/libtvm_runtime.so")
  set(_ffi_lib "${_ffi_pkg}/lib/libtvm_ffi.so")
  set(_ffi_include "${_ffi_pkg}/include")
  set(_dlpack_include "${_ffi_pkg}/include")
  foreach(_need _tvm_lib _tvm_runtime_lib _ffi_lib)
    if(NOT EXISTS "${${_need}}")
      message(FATAL_ERROR "tvm_extend: the installed TVM at ${_tvm_pkg} lacks ${${_need}}; "
                          "reinstall apache-tvm and apache-tvm-ffi.")
    endif()
  endforeach()
  if(NOT TVM_VERSION)
    _tvm_extend_read_version("${_tvm_pkg}/_version.py" TVM_VERSION)
  endif()
  if(NOT TVM_FFI_VERSION)
    _tvm_extend_read_version("${_ffi_pkg}/_version.py" TVM_FFI_VERSION)
  endif()
  set(tvm_extend_TVM_MODE "pip")
endif()

if(NOT TVM_FFI_VERSION)
  set(TVM_FFI_VERSION "unknown")
endif()
set(tvm_extend_TVM_VERSION "${TVM_VERSION}")
set(tvm_extend_TVM_FFI_VERSION "${TVM_FFI_VERSION}")
get_filename_component(tvm_extend_TVM_LIBRARY_DIR "${_tvm_lib}" DIRECTORY)
get_filename_component(tvm_extend_TVM_FFI_LIBRARY_DIR "${_ffi_lib}" DIRECTORY)

# --- TVM's own C++ headers, from sources -------------------------------------------------------
set(tvm_extend_TVM_SOURCE_INCLUDE_DIRS "")
if(TVM_SOURCE_DIR)
  get_filename_component(_src "${TVM_SOURCE_DIR}" ABSOLUTE)
  if(NOT EXISTS "${_src}/include/tvm")
    message(FATAL_ERROR "tvm_extend: TVM_SOURCE_DIR=${_src} has no include/tvm; "
                        "point it at a TVM source checkout.")
  endif()
  _tvm_extend_read_version("${_src}/python/tvm/_version.py" _src_version)
  if(NOT _src_version)
    _tvm_extend_read_version("${_src}/version.py" _src_version)
  endif()
  # Headers from another release than the libraries give silent ABI breaks: refuse.
  string(REGEX MATCH "^[0-9]+\\.[0-9]+(\\.[0-9]+)?" _src_release "${_src_version}")
  string(REGEX MATCH "^[0-9]+\\.[0-9]+(\\.[0-9]+)?" _lib_release "${TVM_VERSION}")
  if(_src_release AND NOT _src_release STREQUAL _lib_release AND NOT TVM_EXTEND_ALLOW_SOURCE_MISMATCH)
    message(FATAL_ERROR "tvm_extend: TVM_SOURCE_DIR holds TVM ${_src_version} but the TVM "
                        "libraries are ${TVM_VERSION}; C++ headers must come from the same "
                        "release (or set TVM_EXTEND_ALLOW_SOURCE_MISMATCH=ON at your own risk).")
  endif()
  foreach(_dir include src 3rdparty/tvm-ffi/include 3rdparty/tvm-ffi/3rdparty/dlpack/include
               3rdparty/dmlc-core/include)
    if(EXISTS "${_src}/${_dir}")
      list(APPEND tvm_extend_TVM_SOURCE_INCLUDE_DIRS "${_src}/${_dir}")
    endif()
  endforeach()
endif()

# --- imported targets ---------------------------------------------------------------------------
if(NOT TARGET tvm_extend::tvm_ffi)
  add_library(tvm_extend::tvm_ffi SHARED IMPORTED)
  set_target_properties(tvm_extend::tvm_ffi PROPERTIES
    IMPORTED_LOCATION "${_ffi_lib}"
    INTERFACE_INCLUDE_DIRECTORIES "${_ffi_include};${_dlpack_include}")

  add_library(tvm_extend::tvm SHARED IMPORTED)
  set_target_properties(tvm_extend::tvm PROPERTIES IMPORTED_LOCATION "${_tvm_lib}"
    INTERFACE_INCLUDE_DIRECTORIES "${tvm_extend_TVM_SOURCE_INCLUDE_DIRS}")
  set_property(TARGET tvm_extend::tvm PROPERTY IMPORTED_NO_SONAME TRUE)
  add_library(tvm_extend::tvm_runtime SHARED IMPORTED)
  set_target_properties(tvm_extend::tvm_runtime PROPERTIES IMPORTED_LOCATION "${_tvm_runtime_lib}")

  add_library(tvm_extend::headers INTERFACE IMPORTED)
  set_target_properties(tvm_extend::headers PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${tvm_extend_INCLUDE_DIR};${tvm_extend_TVM_SOURCE_INCLUDE_DIRS}"
    INTERFACE_COMPILE_FEATURES cxx_std_17
    INTERFACE_LINK_LIBRARIES tvm_extend::tvm_ffi)

  add_library(tvm_extend::core SHARED IMPORTED)
  set_target_properties(tvm_extend::core PROPERTIES IMPORTED_LOCATION "${tvm_extend_CORE_LIBRARY}"
    INTERFACE_LINK_LIBRARIES tvm_extend::headers)
endif()

if(NOT tvm_extend_FIND_QUIETLY)
  message(STATUS "tvm_extend ${tvm_extend_VERSION}: TVM ${tvm_extend_TVM_VERSION} "
                 "(${tvm_extend_TVM_MODE}, ${tvm_extend_TVM_LIBRARY_DIR}), "
                 "tvm-ffi ${tvm_extend_TVM_FFI_VERSION}")
endif()
