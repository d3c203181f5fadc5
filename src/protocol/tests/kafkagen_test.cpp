// Runs tools/kafkagen.py --check on bad specs and checks that the error names
// the file and line.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace {

namespace fs = std::filesystem;

struct GenResult {
  int rc;
  std::string err;
};

GenResult run_generator(const std::string& file_name, const std::string& spec) {
  fs::path dir = fs::temp_directory_path() / ("kafkagen_test_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / file_name) << spec;
  fs::path err = dir / "stderr.txt";
  std::string cmd = std::string(CARELOG_PYTHON) + " " + CARELOG_KAFKAGEN + " --check --specs " +
                    dir.string() + " --out " + (dir / "out").string() + " 2>" + err.string();
  int rc = std::system(cmd.c_str());
  std::stringstream ss;
  ss << std::ifstream(err).rdbuf();
  fs::remove_all(dir);
  return {rc, ss.str()};
}

const char* kGood =
    "api Thing key=900 versions=0-3 flexible=2+\n"
    "request\n"
    "  name string\n"
    "  items []Item 1+\n"
    "    id int32\n"
    "  note string 2+ tag=0 nullable\n"
    "response\n"
    "  error_code int16\n";

TEST(Kafkagen, GoodSpecPasses) {
  auto r = run_generator("thing.spec", kGood);
  EXPECT_EQ(r.rc, 0) << r.err;
}

void expect_error(const std::string& spec, const std::string& where, const std::string& what,
                  const std::string& file = "thing.spec") {
  auto r = run_generator(file, spec);
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.err.find(file + ":" + where + ":"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(what), std::string::npos) << r.err;
}

TEST(Kafkagen, TaggedFieldOutsideFlexibleVersions) {
  expect_error(
      "api Thing key=900 versions=0-3 flexible=2+\nrequest\n  a int32 1+ tag=0\nresponse\n  b int16\n", "3",
      "flexible");
}

TEST(Kafkagen, FieldVersionsOutsideApiRange) {
  expect_error("api Thing key=900 versions=0-3 flexible=2+\nrequest\n  a int32 5+\nresponse\n  b int16\n",
               "3", "outside");
}

TEST(Kafkagen, UnknownTypeAndBadIndent) {
  expect_error("api Thing key=900 versions=0-3 flexible=none\nrequest\n  a int33\nresponse\n  b int16\n", "3",
               "unknown type");
  expect_error("api Thing key=900 versions=0-3 flexible=none\nrequest\n   a int32\nresponse\n  b int16\n",
               "3", "indent");
}

TEST(Kafkagen, UndefinedStructAndBadDefault) {
  expect_error("api Thing key=900 versions=0-3 flexible=none\nrequest\n  a []Missing\nresponse\n  b int16\n",
               "3", "Missing");
  expect_error(
      "api Thing key=900 versions=0-3 flexible=none\nrequest\n  a int8 default=300\nresponse\n  b int16\n",
      "3", "out of range");
}

TEST(Kafkagen, FileNameMustMatchApi) { expect_error(kGood, "1", "thing.spec", "other.spec"); }

TEST(Kafkagen, MissingSection) {
  expect_error("api Thing key=900 versions=0-3 flexible=none\nrequest\n  a int32\n", "4", "response");
}

}  // namespace
