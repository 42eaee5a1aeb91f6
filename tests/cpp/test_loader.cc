// The C++ loader in a C++ host program (no Python): TVM's version is read beside its library.
#include <gtest/gtest.h>
#include <tvm/ffi/error.h>
#include <tvm/ffi/function.h>
#include <tvm_extend/abi/version.h>
#include <tvm_extend/extension/loader.h>

#include <cstdlib>
#include <string>

namespace {

std::string ExtensionDir() {
  const char* dir = std::getenv("TVM_EXTEND_TEST_EXTENSIONS");
  return dir ? dir : "";
}

std::string KindOfLoadError(const std::string& path) {
  try {
    tvm_extend::LoadExtension(path);
  } catch (const tvm::ffi::Error& err) {
    return err.kind() + ": " + err.message();
  }
  return "";
}

TEST(Loader, RunningTvmVersionWithoutPython) {
  std::string v = tvm_extend::abi::RunningTVMVersion();
  EXPECT_TRUE(tvm_extend::abi::ParseVersion(v).has_value()) << "'" << v << "'";
}

TEST(Loader, LoadsAndRegistersAllOrNothing) {
  ASSERT_FALSE(ExtensionDir().empty()) << "set TVM_EXTEND_TEST_EXTENSIONS";
  tvm_extend::ExtensionRecord rec = tvm_extend::LoadExtension(ExtensionDir() + "/libext_b.so");
  EXPECT_EQ(rec.name, "ext_b");
  EXPECT_EQ(rec.registrations.size(), 5u);
  auto add_one = tvm::ffi::Function::GetGlobalRequired("ext_b.add_one");
  EXPECT_EQ(add_one(int64_t{1}).cast<int64_t>(), 2);

  std::string midway = KindOfLoadError(ExtensionDir() + "/libmidway.so");
  EXPECT_EQ(midway.rfind("ExtensionLoadError", 0), 0u) << midway;
  EXPECT_FALSE(tvm::ffi::Function::GetGlobal("midway.a").has_value());

  std::string other = KindOfLoadError(ExtensionDir() + "/libother_tvm.so");
  EXPECT_EQ(other.rfind("ExtensionVersionError", 0), 0u) << other;

  std::string clash = KindOfLoadError(ExtensionDir() + "/libtvm_clash.so");
  EXPECT_EQ(clash.rfind("DuplicateRegistrationError", 0), 0u) << clash;
  EXPECT_NE(clash.find("is already used by TVM"), std::string::npos) << clash;

  EXPECT_EQ(tvm_extend::ListExtensions().size(), 1u);
  tvm_extend::UnloadExtension("ext_b");
  EXPECT_FALSE(tvm::ffi::Function::GetGlobal("ext_b.add_one").has_value());
}

TEST(Loader, BadFiles) {
  std::string missing = KindOfLoadError("/nonexistent/libx.so");
  EXPECT_NE(missing.find("no such file"), std::string::npos) << missing;
  std::string no_entry = KindOfLoadError(ExtensionDir() + "/libno_entry.so");
  EXPECT_NE(no_entry.find("no tvm-extend entry point"), std::string::npos) << no_entry;
}

}  // namespace
