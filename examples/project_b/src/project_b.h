/*! \file project_b.h \brief project_b's internal interfaces. */
#ifndef PROJECT_B_H_
#define PROJECT_B_H_

#include <tvm/ffi/object.h>

#include <string>
#include <utility>
#include <vector>

namespace project_b {

/*! \brief What the module needs to call one generated kernel and read its counters. */
struct KernelInfo {
  std::string name;
  /*! \brief Per parameter: 'p' pointer, 'i' integer, 'f' floating point. */
  std::vector<char> params;
  /*! \brief Counter slot k: loads of buffers[k] at 2k, stores at 2k + 1. */
  std::vector<std::string> buffers;
  /*! \brief The message of assertion k + 1 (a kernel returns k + 1 when it fails). */
  std::vector<std::string> asserts;
};

/*! \brief C source for the kernels (name, PrimFunc), with load and store counters if asked. */
std::string EmitC(const std::vector<std::pair<std::string, tvm::ffi::ObjectRef>>& kernels,
                  bool counters, std::vector<KernelInfo>* infos);

}  // namespace project_b
#endif  // PROJECT_B_H_
