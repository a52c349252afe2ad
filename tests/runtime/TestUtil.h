// TestUtil: helpers shared by the runtime tests: a temporary directory that
// cleans up after itself, file I/O, capturing an exception's message, and a
// small model plan used by several tests.
#pragma once

#include "runtime/ModelPlan.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace recc::rt::test {

/// A fresh directory under the system temp dir, removed on destruction.
class TempDir {
public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "recc-rt-XXXXXX").string();
    Path = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::permissions(Path, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::add, ec);
    std::filesystem::remove_all(Path, ec);
  }
  std::string file(const std::string& name) const { return Path + "/" + name; }
  const std::string& path() const { return Path; }

private:
  std::string Path;
};

inline void writeText(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

inline std::string readText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// The message of the exception `f` throws, or "<no error>".
template <typename F> std::string errorOf(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "<no error>";
}

inline ::testing::AssertionResult contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not contain '" << part << "'";
}

/// A small CTR plan: a user id, a multi-valued history sharing the item
/// table, a raw and a tanh_zscore dense feature, a click label, and AUC/GAUC/
/// logloss metrics. No step buffers (tests add what they need).
inline ModelPlan smallPlan() {
  ModelPlan p;
  p.model = "tiny";
  using K = FeatureSpec::Kind;
  p.features = {
      {"user_id", "user_id", K::Categorical, 10, 0, "user_emb", "none"},
      {"hist", "hist", K::MultiCategorical, 20, 3, "item_emb", "none"},
      {"price", "price", K::Dense, 0, 0, "", "none"},
      {"num_3", "num_3", K::Dense, 0, 0, "", "tanh_zscore"},
  };
  p.labels = {{"click", "click"}};
  p.tables = {{"user_emb", 10, 4, {"uniform", 0.05}}, {"item_emb", 20, 4, {"normal", 0.01}}};
  p.params = {{"w0", {3, 2}, {"glorot_uniform", 0}}, {"b0", {2}, {"zeros", 0}}};
  p.metrics = {{"auc", "auc", "p", "click", "", ""},
               {"gauc", "gauc", "p", "click", "", "user_id"},
               {"logloss", "logloss", "p", "click", "", ""}};
  return p;
}

} // namespace recc::rt::test
