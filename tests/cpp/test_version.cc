// The version policy of tvm_extend/abi/version.h.
#include <gtest/gtest.h>
#include <tvm_extend/abi/version.h>

namespace {
using tvm_extend::abi::CheckCompatible;
using tvm_extend::abi::ParseVersion;

TEST(ParseVersion, ReleasesPostAndLocalSuffixes) {
  auto v = ParseVersion("0.27.0.post1");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->major, 0);
  EXPECT_EQ(v->minor, 27);
  EXPECT_EQ(v->patch, 0);
  EXPECT_EQ(v->pre, "");
  EXPECT_EQ(ParseVersion("1.2")->patch, 0);
  EXPECT_EQ(ParseVersion("0.22.dev0")->pre, "dev0");
  EXPECT_EQ(ParseVersion("0.22.0rc1")->pre, "rc1");
  EXPECT_EQ(ParseVersion("0.27.0+cu128")->minor, 27);
}

TEST(ParseVersion, RejectsNonVersions) {
  EXPECT_FALSE(ParseVersion("").has_value());
  EXPECT_FALSE(ParseVersion("latest").has_value());
  EXPECT_FALSE(ParseVersion("0.27.x").has_value());
}

TEST(CheckCompatible, SameReleaseIgnoringPost) {
  EXPECT_EQ(CheckCompatible("0.27.0", "0.27.0.post1", 0, 1, 16, 0, 1, 16), "");
  EXPECT_EQ(CheckCompatible("0.27.0.post1", "0.27.0.post2", 0, 1, 16, 0, 1, 17), "");
}

TEST(CheckCompatible, OtherTvmReleaseNamesBoth) {
  std::string err = CheckCompatible("0.26.0", "0.27.0.post1", 0, 1, 16, 0, 1, 16);
  EXPECT_NE(err.find("built against TVM 0.26.0"), std::string::npos) << err;
  EXPECT_NE(err.find("running TVM is 0.27.0.post1"), std::string::npos) << err;
  EXPECT_NE(CheckCompatible("0.27.0", "0.27.1", 0, 1, 16, 0, 1, 16), "");
  EXPECT_NE(CheckCompatible("0.27.0rc1", "0.27.0", 0, 1, 16, 0, 1, 16), "");
}

TEST(CheckCompatible, PortableExtensionsLoadFromRelease026On) {
  // An extension that uses TVM only through tvm-ffi: the binding of what it uses decides.
  EXPECT_EQ(CheckCompatible("0.27.0.post1", "0.26.0", 0, 1, 16, 0, 1, 16, false), "");
  EXPECT_EQ(CheckCompatible("0.26.0", "0.28.0", 0, 1, 16, 0, 1, 16, false), "");
  std::string old = CheckCompatible("0.27.0", "0.25.0", 0, 1, 16, 0, 1, 16, false);
  EXPECT_NE(old.find("before 0.26 have another IR model"), std::string::npos) << old;
  EXPECT_NE(CheckCompatible("0.25.0", "0.27.0", 0, 1, 16, 0, 1, 16, false), "");
  // The tvm-ffi C ABI rule still holds.
  EXPECT_NE(CheckCompatible("0.27.0", "0.26.0", 0, 1, 17, 0, 1, 16, false), "");
}

TEST(CheckCompatible, FfiAbiNeedsSameMinorAndNewerPatch) {
  EXPECT_EQ(CheckCompatible("0.27.0", "0.27.0", 0, 1, 15, 0, 1, 16), "");
  std::string older = CheckCompatible("0.27.0", "0.27.0", 0, 1, 17, 0, 1, 16);
  EXPECT_NE(older.find("tvm-ffi C ABI 0.1.17"), std::string::npos) << older;
  EXPECT_NE(older.find("running tvm-ffi C ABI is 0.1.16"), std::string::npos) << older;
  EXPECT_NE(CheckCompatible("0.27.0", "0.27.0", 0, 2, 0, 0, 1, 16), "");
}

TEST(CheckCompatible, GarbageStamp) {
  EXPECT_NE(CheckCompatible("unknown", "0.27.0", 0, 1, 16, 0, 1, 16).find("not a version"),
            std::string::npos);
}
}  // namespace
