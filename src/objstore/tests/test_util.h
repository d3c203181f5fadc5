// Shared helpers for objstore tests: a temp directory removed on scope exit.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>

namespace carelog::objstore::test_util {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/carelog-objstore-test-XXXXXX";
    if (mkdtemp(tmpl) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace carelog::objstore::test_util
