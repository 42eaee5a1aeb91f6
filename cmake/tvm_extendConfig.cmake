# The tvm_extend CMake package: find_package(tvm_extend CONFIG REQUIRED). CMake finds it with
# the site-packages folder it is installed in on CMAKE_PREFIX_PATH (scikit-build-core puts it
# there; for a plain `cmake`, pass -DCMAKE_PREFIX_PATH=<site-packages>).
#
# It locates the TVM that extensions build against, in one of three ways:
#   default            the pip-installed apache-tvm and apache-tvm-ffi beside this package
#                      (or, installed elsewhere, found by the Python this package belongs to);
#   TVM_PREBUILD_PATH  a pip-installed TVM elsewhere (<site-packages>/tvm or its lib/ folder,
#                      with tvm_ffi beside it), or a TVM build folder (libtvm_compiler.so or
#                      libtvm.so, libtvm_runtime.so, libtvm_ffi.so) of a TVM source tree;
#   TVM_SOURCE_DIR     TVM sources of the same release, whose full C++ headers are added to
#                      extensions (combines with either of the above, which provide the
#                      libraries).
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

# The first version in a file: `__version__ = ...` (setuptools-scm's _version.py, or TVM's
# libinfo.py, where the line is indented) or `#define TVM_VERSION "..."` (TVM's C headers).
function(_tvm_extend_read_version file out)
  set(${out} "" PARENT_SCOPE)
  if(EXISTS "${file}")
    file(STRINGS "${file}" _lines
         REGEX "^[ \t]*(__version__[ \t]*=|#[ \t]*define[ \t]+TVM_VERSION[ \t])")
    if(_lines)
      list(GET _lines 0 _line)
      if(_line MATCHES "['\"]([^'\"]+)['\"]")
        set(${out} "${CMAKE_MATCH_1}" PARENT_SCOPE)
      endif()
    endif()
  endif()
endfunction()

# The version `git describe --tags` gives a git checkout of TVM (v0.27.0, v0.27.0-5-gabc).
function(_tvm_extend_git_describe tree out)
  set(${out} "" PARENT_SCOPE)
  if(EXISTS "${tree}/.git")  # only the tree's own checkout, never a repository around it
    find_package(Git QUIET)
    if(GIT_EXECUTABLE)
      execute_process(COMMAND "${GIT_EXECUTABLE}" -C "${tree}" describe --tags
                      OUTPUT_VARIABLE _described RESULT_VARIABLE _rc ERROR_QUIET
                      OUTPUT_STRIP_TRAILING_WHITESPACE)
      if(_rc EQUAL 0 AND _described MATCHES "^v?[0-9]+\\.[0-9]+")
        set(${out} "${_described}" PARENT_SCOPE)
      endif()
    endif()
  endif()
endfunction()

# The TVM version of a source tree, and where it came from: a generated python/tvm/_version.py,
# `git describe` of a git checkout, then the version TVM writes in its sources.
function(_tvm_extend_tree_version tree out from)
  foreach(_source python/tvm/_version.py "git describe" python/tvm/libinfo.py
                  include/tvm/runtime/base.h include/tvm/runtime/c_runtime_api.h version.py)
    if(_source STREQUAL "git describe")
      _tvm_extend_git_describe("${tree}" _version)
    else()
      _tvm_extend_read_version("${tree}/${_source}" _version)
    endif()
    if(_version)
      set(${out} "${_version}" PARENT_SCOPE)
      set(${from} "${_source}" PARENT_SCOPE)
      return()
    endif()
  endforeach()
  set(${out} "" PARENT_SCOPE)
  set(${from} "" PARENT_SCOPE)
endfunction()

# The release of a version, as major.minor.patch: 0.27.0.post1, v0.27.0-5-gabc and 0.27 give
# 0.27.0; 0.28.dev0 gives 0.28.0.
function(_tvm_extend_release version out)
  set(${out} "" PARENT_SCOPE)
  if(version MATCHES "^v?([0-9]+)\\.([0-9]+)(\\.([0-9]+))?")
    set(_patch 0)
    if(CMAKE_MATCH_4)
      set(_patch "${CMAKE_MATCH_4}")
    endif()
    set(${out} "${CMAKE_MATCH_1}.${CMAKE_MATCH_2}.${_patch}" PARENT_SCOPE)
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

set(TVM_PREBUILD_PATH "${TVM_PREBUILD_PATH}" CACHE PATH
    "A TVM to build against: <site-packages>/tvm, its lib/ folder, or a TVM build folder")
set(TVM_SOURCE_DIR "${TVM_SOURCE_DIR}" CACHE PATH "TVM sources whose C++ headers to add")

# A pip-installed TVM is a `tvm` package folder with lib/libtvm_compiler.so and a `tvm_ffi`
# package beside it; _tvm_pkg and _ffi_pkg name them when that is what we build against.
set(_tvm_pkg "")
set(_ffi_pkg "")
if(TVM_PREBUILD_PATH)
  set(tvm_extend_TVM_MODE "prebuild")
  get_filename_component(_given "${TVM_PREBUILD_PATH}" ABSOLUTE)
  get_filename_component(_given_name "${_given}" NAME)
  if(EXISTS "${_given}/__init__.py" AND EXISTS "${_given}/lib")
    set(_tvm_pkg "${_given}")
  elseif(_given_name STREQUAL "lib" AND EXISTS "${_given}/../__init__.py")
    get_filename_component(_tvm_pkg "${_given}/.." ABSOLUTE)
  endif()
  if(_tvm_pkg)
    get_filename_component(_ffi_pkg "${_tvm_pkg}/../tvm_ffi" ABSOLUTE)
    if(NOT EXISTS "${_ffi_pkg}/lib/libtvm_ffi.so" OR NOT EXISTS "${_ffi_pkg}/include/tvm/ffi")
      message(FATAL_ERROR
        "tvm_extend: TVM_PREBUILD_PATH=${_given} is a pip-installed TVM, but tvm-ffi is not "
        "installed beside it: expected ${_ffi_pkg}/lib/libtvm_ffi.so and "
        "${_ffi_pkg}/include/tvm/ffi. Install apache-tvm-ffi into the same site-packages.")
    endif()
  else()
    # --- a TVM build folder ---------------------------------------------------------------
    set(_build "${_given}")
    _tvm_extend_first_existing(_tvm_lib "${_build}/libtvm_compiler.so" "${_build}/libtvm.so"
                               "${_build}/lib/libtvm_compiler.so" "${_build}/lib/libtvm.so")
    if(NOT _tvm_lib)
      message(FATAL_ERROR
        "tvm_extend: TVM_PREBUILD_PATH=${_build} is neither a TVM build folder nor a "
        "pip-installed TVM: it holds no libtvm_compiler.so or libtvm.so (nor does its lib/ "
        "folder). Point it at the folder TVM was built in, or at <site-packages>/tvm.")
    endif()
    # The source tree the build folder was configured from (its headers and version): the one
    # its CMakeCache.txt names, else the folder above it.
    get_filename_component(_tree "${_build}/.." ABSOLUTE)
    if(EXISTS "${_build}/CMakeCache.txt")
      file(STRINGS "${_build}/CMakeCache.txt" _home REGEX "^CMAKE_HOME_DIRECTORY:INTERNAL=")
      string(REGEX REPLACE "^[^=]*=" "" _home "${_home}")
      if(_home AND IS_DIRECTORY "${_home}")
        set(_tree "${_home}")
      endif()
    endif()
    _tvm_extend_first_existing(_tvm_runtime_lib "${_build}/libtvm_runtime.so"
                               "${_build}/lib/libtvm_runtime.so")
    _tvm_extend_first_existing(_ffi_lib "${_build}/lib/libtvm_ffi.so" "${_build}/libtvm_ffi.so"
                               "${_build}/3rdparty/tvm-ffi/lib/libtvm_ffi.so")
    _tvm_extend_first_existing(_ffi_include "${_tree}/3rdparty/tvm-ffi/include"
                               "${_tree}/ffi/include")
    _tvm_extend_first_existing(_dlpack_include
                               "${_tree}/3rdparty/tvm-ffi/3rdparty/dlpack/include"
                               "${_tree}/3rdparty/dlpack/include")
    set(_missing "")
    if(NOT _tvm_runtime_lib)
      list(APPEND _missing "libtvm_runtime.so (in ${_build} or its lib/)")
    endif()
    if(NOT _ffi_lib)
      list(APPEND _missing "libtvm_ffi.so (in ${_build}, its lib/ or its 3rdparty/tvm-ffi/lib/)")
    endif()
    if(NOT _ffi_include)
      list(APPEND _missing "tvm-ffi's headers (${_tree}/3rdparty/tvm-ffi/include)")
    endif()
    if(NOT _dlpack_include)
      list(APPEND _missing
           "DLPack's headers (${_tree}/3rdparty/tvm-ffi/3rdparty/dlpack/include)")
    endif()
    if(_missing)
      list(JOIN _missing "\n  " _missing)
      message(FATAL_ERROR
        "tvm_extend: TVM_PREBUILD_PATH=${_build} holds ${_tvm_lib} but not the rest of a TVM "
        "build of the source tree ${_tree}; missing:\n  ${_missing}")
    endif()
    if(NOT TVM_VERSION)
      _tvm_extend_tree_version("${_tree}" TVM_VERSION _from)
    endif()
    if(NOT TVM_VERSION)
      message(FATAL_ERROR
        "tvm_extend: cannot tell the TVM version of the build folder ${_build}: its source "
        "tree ${_tree} has no python/tvm/libinfo.py or include/tvm/runtime/base.h with a "
        "version, and is not a git checkout with tags. Give it with -DTVM_VERSION=X.Y.Z.")
    endif()
    if(NOT TVM_FFI_VERSION)
      _tvm_extend_read_version("${_tree}/3rdparty/tvm-ffi/python/tvm_ffi/_version.py"
                               TVM_FFI_VERSION)
    endif()
  endif()
else()
  # --- the pip-installed TVM beside this package, or where its Python finds it ---------------
  set(tvm_extend_TVM_MODE "pip")
  get_filename_component(_site "${_tvm_extend_pkg_dir}/.." ABSOLUTE)
  set(_tvm_pkg "${_site}/tvm")
  set(_ffi_pkg "${_site}/tvm_ffi")
  if(NOT EXISTS "${_tvm_pkg}/_version.py" OR NOT EXISTS "${_ffi_pkg}/include/tvm/ffi/c_api.h")
    # Without importing tvm, which takes most of a second.
    _tvm_extend_find_python(_python)
    execute_process(
      COMMAND "${_python}" -c
              "import importlib.util as u;print(u.find_spec('tvm').submodule_search_locations[0]);print(u.find_spec('tvm_ffi').submodule_search_locations[0])"
      OUTPUT_VARIABLE _found RESULT_VARIABLE _rc ERROR_VARIABLE _err
      OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(NOT _rc EQUAL 0)
      message(FATAL_ERROR "tvm_extend: no pip-installed TVM found by ${_python} "
                          "(pip install apache-tvm), and no TVM_PREBUILD_PATH given.\n${_err}")
    endif()
    string(REPLACE "\n" ";" _found "${_found}")
    list(GET _found 0 _tvm_pkg)
    list(GET _found 1 _ffi_pkg)
  endif()
endif()

if(_tvm_pkg)
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
  if(NOT TVM_VERSION)
    _tvm_extend_read_version("${_tvm_pkg}/libinfo.py" TVM_VERSION)
  endif()
  if(NOT TVM_FFI_VERSION)
    _tvm_extend_read_version("${_ffi_pkg}/_version.py" TVM_FFI_VERSION)
  endif()
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
  # Headers of another release than the libraries give silent ABI breaks: refuse them.
  _tvm_extend_tree_version("${_src}" _src_version _src_from)
  _tvm_extend_release("${_src_version}" _src_release)
  _tvm_extend_release("${TVM_VERSION}" _lib_release)
  set(_override "or set TVM_EXTEND_ALLOW_SOURCE_MISMATCH=ON to use its headers at your own risk")
  if(TVM_EXTEND_ALLOW_SOURCE_MISMATCH)
    message(STATUS "tvm_extend: TVM_SOURCE_DIR holds TVM '${_src_version}', the libraries are "
                   "${TVM_VERSION}: used anyway (TVM_EXTEND_ALLOW_SOURCE_MISMATCH)")
  elseif(NOT _src_version)
    message(FATAL_ERROR
      "tvm_extend: cannot tell which TVM release TVM_SOURCE_DIR=${_src} holds: it has no "
      "python/tvm/libinfo.py or include/tvm/runtime/base.h with a version, and is not a git "
      "checkout with tags. The TVM it links is ${TVM_VERSION} (${tvm_extend_TVM_LIBRARY_DIR}); "
      "point TVM_SOURCE_DIR at TVM ${_lib_release}'s sources, ${_override}.")
  elseif(NOT _src_release STREQUAL _lib_release)
    message(FATAL_ERROR
      "tvm_extend: TVM_SOURCE_DIR=${_src} holds TVM ${_src_version} (${_src_from}), but the "
      "TVM it links is ${TVM_VERSION} (${tvm_extend_TVM_LIBRARY_DIR}); C++ headers must come "
      "from the same release. Check out v${_lib_release} there, ${_override}.")
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
