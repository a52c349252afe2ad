// Tests of checkpoints: the safetensors layout, a full round trip (params,
// tables, optimizer state, feature statistics, counters), clear errors for
// truncated / malformed / mismatched files, and atomic replacement: a save
// that fails midway leaves the previous checkpoint byte-for-byte intact.
#include "runtime/Checkpoint.h"
#include "runtime/SafeTensors.h"

#include "TestUtil.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <csignal>
#include <limits>
#include <cstring>

namespace recc::rt {
namespace {

using test::contains;
using test::errorOf;

/// A trained-looking state: one Adam step on w0 and on two rows of item_emb.
ModelState trainedState(ModelPlan plan = test::smallPlan()) {
  ModelState s(std::move(plan));
  s.params.grad("w0").fill(0.5f);
  const std::vector<int> which{s.params.indexOf("w0")};
  s.denseOptimizer.step(s.params, which, 1);
  const std::vector<int64_t> ids{3, 7};
  const std::vector<float> g(8, 1.0f);
  const EmbeddingTable::RowGradients src{ids, g.data()};
  s.tables[1].applyGradients({&src, 1}, s.plan().optimizer, 1);
  s.stats[3] = {4.5, 2.25, true};
  s.step = 1;
  s.epoch = 2;
  return s;
}

void expectSame(const Tensor& a, const Tensor& b) {
  ASSERT_EQ(a.shape(), b.shape());
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.bytes()), 0);
}

class CheckpointTest : public ::testing::Test {
protected:
  std::string msg(const std::function<void()>& f) {
    std::string m = errorOf(f);
    std::string prefix = Dir.path() + "/";
    for (size_t p; (p = m.find(prefix)) != std::string::npos;)
      m.erase(p, prefix.size());
    return m;
  }
  test::TempDir Dir;
  std::string Path = Dir.file("ckpt.safetensors");
};

TEST_F(CheckpointTest, FileIsSafetensors) {
  saveCheckpoint(Path, trainedState());
  std::string bytes = test::readText(Path);
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i)
    n |= uint64_t(static_cast<unsigned char>(bytes[i])) << (8 * i);
  EXPECT_EQ(n % 8, 0u);
  auto header = nlohmann::json::parse(bytes.substr(8, n));
  EXPECT_EQ(header["__metadata__"]["model"], "tiny");
  EXPECT_EQ(header["__metadata__"]["step"], "1");
  EXPECT_EQ(header["__metadata__"]["epoch"], "2");
  EXPECT_EQ(header["__metadata__"]["format_version"], kCheckpointFormatVersion);
  EXPECT_EQ(header["w0"]["dtype"], "F32");
  EXPECT_EQ(header["w0"]["shape"], nlohmann::json({3, 2}));
  EXPECT_TRUE(header.contains("adam_m/w0"));
  EXPECT_TRUE(header.contains("adam_v/item_emb"));
  EXPECT_FALSE(header.contains("adam_m/b0"));  // never updated: no state
  EXPECT_EQ(header["feature_stats/num_3"]["shape"], nlohmann::json({2}));
  auto end = header["item_emb"]["data_offsets"][1].get<uint64_t>();
  EXPECT_LE(end, bytes.size() - 8 - n);
  EXPECT_EQ(planFromJson(header["__metadata__"]["plan"]).model, "tiny");
}

TEST_F(CheckpointTest, RoundTripRestoresEverything) {
  ModelState a = trainedState();
  saveCheckpoint(Path, a);
  ModelPlan other = test::smallPlan();
  other.seed = 999;  // different initial values, all overwritten by the load
  ModelState b(other);
  loadCheckpoint(Path, b);
  for (int i = 0; i < a.params.size(); ++i)
    expectSame(a.params.value(i), b.params.value(i));
  for (size_t t = 0; t < a.tables.size(); ++t)
    expectSame(a.tables[t].weights(), b.tables[t].weights());
  const OptimizerSpec& s = a.plan().optimizer;
  expectSame(a.tables[1].slot(s, 0), b.tables[1].slot(s, 0));
  expectSame(a.tables[1].slot(s, 1), b.tables[1].slot(s, 1));
  expectSame(*a.denseOptimizer.slotIfAllocated(0, 1), *b.denseOptimizer.slotIfAllocated(0, 1));
  EXPECT_EQ(b.denseOptimizer.slotIfAllocated(1, 0), nullptr);
  EXPECT_EQ(b.step, 1);
  EXPECT_EQ(b.epoch, 2);
  EXPECT_TRUE(b.stats[3].ready);
  EXPECT_DOUBLE_EQ(b.stats[3].mean, 4.5);
  EXPECT_DOUBLE_EQ(b.stats[3].stddev, 2.25);
}

// Feature statistics come back as the exact doubles training computed (the
// F32 tensor alone would round them), so resuming is bit-identical.
TEST_F(CheckpointTest, FeatureStatisticsRoundTripExactly) {
  ModelState a = trainedState();
  a.stats[3] = {0.1, 1.0 / 3.0, true};  // neither is a float
  saveCheckpoint(Path, a);
  ModelState b(test::smallPlan());
  loadCheckpoint(Path, b);
  EXPECT_EQ(b.stats[3].mean, 0.1);
  EXPECT_EQ(b.stats[3].stddev, 1.0 / 3.0);
  SafeTensorsReader in(Path);
  float ms[2];
  in.read("feature_stats/num_3", ms);
  EXPECT_EQ(ms[0], 0.1f);  // the tensor stays readable by other tools
}

TEST_F(CheckpointTest, TruncatedFile) {
  saveCheckpoint(Path, trainedState());
  std::string bytes = test::readText(Path);
  uint64_t headerLen = 0;
  for (int i = 0; i < 8; ++i)
    headerLen |= uint64_t(static_cast<unsigned char>(bytes[i])) << (8 * i);
  const uint64_t dataBytes = bytes.size() - 8 - headerLen;
  test::writeText(Path, bytes.substr(0, bytes.size() - 100));
  ModelState s(test::smallPlan());
  EXPECT_EQ(msg([&] { loadCheckpoint(Path, s); }),
            fmt::format("ckpt.safetensors: truncated: header says {} bytes of data, file has {}",
                        dataBytes, dataBytes - 100));
  test::writeText(Path, bytes.substr(0, 5));
  EXPECT_EQ(msg([&] { loadCheckpoint(Path, s); }),
            "ckpt.safetensors: truncated: file has 5 bytes, fewer than the 8-byte header length");
  test::writeText(Path, bytes.substr(0, 100));
  EXPECT_TRUE(contains(msg([&] { loadCheckpoint(Path, s); }),
                       "ckpt.safetensors: truncated: header length is"));
}

// A refused checkpoint leaves no file descriptor open (the fuzzer ran out of
// descriptors after about a thousand refused inputs).
TEST_F(CheckpointTest, RefusedFilesAreClosed) {
  auto openDescriptors = [] {
    int n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd"))
      ++n;
    return n;
  };
  saveCheckpoint(Path, trainedState());
  std::string bytes = test::readText(Path);
  ModelState s(test::smallPlan());
  const int before = openDescriptors();
  for (size_t cut : {size_t(5), size_t(100), bytes.size() - 100}) {
    test::writeText(Path, bytes.substr(0, cut));
    for (int i = 0; i < 20; ++i) {
      EXPECT_TRUE(contains(msg([&] { loadCheckpoint(Path, s); }), "truncated"));
      EXPECT_TRUE(contains(msg([&] { readCheckpointMetadata(Path); }), "truncated"));
    }
  }
  EXPECT_EQ(openDescriptors(), before);
}

TEST_F(CheckpointTest, DirectoriesAndPipesAreNamedAsSuch) {
  ModelState s(test::smallPlan());
  EXPECT_EQ(errorOf([&] { loadCheckpoint(Dir.path(), s); }),
            Dir.path() + ": is a directory, not a checkpoint");
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const std::string pipe = "/proc/self/fd/" + std::to_string(fds[0]);
  EXPECT_EQ(errorOf([&] { loadCheckpoint(pipe, s); }),
            pipe + ": is not a regular file; a checkpoint cannot be read from a pipe or device");
  ::close(fds[0]);
  ::close(fds[1]);
}

// A flipped bit in a weight is caught by the tensor's CRC-32, not loaded.
TEST_F(CheckpointTest, AFlippedBitIsCaughtByTheChecksum) {
  saveCheckpoint(Path, trainedState());
  std::string bytes = test::readText(Path);
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i)
    n |= uint64_t(static_cast<unsigned char>(bytes[i])) << (8 * i);
  auto header = nlohmann::json::parse(bytes.substr(8, n));
  ASSERT_TRUE(header["__metadata__"].contains("crc32"));
  const uint64_t at = 8 + n + header["w0"]["data_offsets"][0].get<uint64_t>() + 2;
  bytes[at] = static_cast<char>(bytes[at] ^ 0x01);
  test::writeText(Path, bytes);
  ModelState s(test::smallPlan());
  EXPECT_TRUE(contains(msg([&] { loadCheckpoint(Path, s); }),
                       "ckpt.safetensors: tensor 'w0' fails its CRC-32 check (stored "))
      << msg([&] { loadCheckpoint(Path, s); });
}

TEST_F(CheckpointTest, NonFiniteValuesAreRefusedUnlessAllowed) {
  ModelState a = trainedState();
  a.tables[1].weights()[5] = std::numeric_limits<float>::quiet_NaN();
  saveCheckpoint(Path, a);
  ModelState b(test::smallPlan());
  const float before = b.params.value("w0")[0];
  EXPECT_EQ(msg([&] { loadCheckpoint(Path, b); }),
            "ckpt.safetensors: tensor 'item_emb' has a non-finite value at element 5; nothing "
            "was loaded (--allow-non-finite loads it anyway)");
  EXPECT_EQ(b.params.value("w0")[0], before);
  EXPECT_EQ(b.step, 0);
  loadCheckpoint(Path, b, {.allowNonFinite = true});
  EXPECT_TRUE(std::isnan(b.tables[1].weights()[5]));
}

TEST_F(CheckpointTest, OverlappingTensorsAreRefused) {
  std::string header = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                       R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})";
  header.append((8 - header.size() % 8) % 8, ' ');
  std::string file(8, '\0');
  for (int i = 0; i < 8; ++i)
    file[i] = static_cast<char>(uint64_t(header.size()) >> (8 * i));
  test::writeText(Path, file + header + std::string(12, '\0'));
  EXPECT_EQ(msg([&] { SafeTensorsReader r(Path); }),
            "ckpt.safetensors: malformed header: tensors 'a' [0, 8] and 'b' [4, 12] overlap");
}

// A number too large for a double is a malformed header, not an uncaught
// nlohmann out_of_range exception (found by fuzzing).
TEST_F(CheckpointTest, NumberOverflowInHeaderIsMalformed) {
  std::string header = " 11e+922\"\"]>";
  std::string file(8, '\0');
  file[0] = static_cast<char>(header.size());
  test::writeText(Path, file + header);
  EXPECT_TRUE(contains(msg([&] { SafeTensorsReader r(Path); }),
                       "ckpt.safetensors: malformed header: ")) << msg([&] { SafeTensorsReader r(Path); });
  EXPECT_TRUE(contains(errorOf([] { planFromJson("{\"model\": 1e999}"); }),
                       "model plan: malformed JSON: "));
}

TEST_F(CheckpointTest, MalformedHeader) {
  std::string header = "{\"w0\": [1, 2]}   ";
  std::string len(8, '\0');
  len[0] = static_cast<char>(header.size());
  test::writeText(Path, len + header);
  EXPECT_EQ(msg([&] { SafeTensorsReader r(Path); }),
            "ckpt.safetensors: malformed header: tensor 'w0' needs dtype, shape and "
            "data_offsets");
  header = "{not json}";
  len[0] = static_cast<char>(header.size());
  test::writeText(Path, len + header);
  EXPECT_TRUE(contains(msg([&] { SafeTensorsReader r(Path); }),
                       "ckpt.safetensors: malformed header: "));
  header = R"({"w0": {"dtype": "F16", "shape": [1], "data_offsets": [0, 2]}})";
  len[0] = static_cast<char>(header.size());
  test::writeText(Path, len + header + "xx");
  EXPECT_EQ(msg([&] { SafeTensorsReader r(Path); }),
            "ckpt.safetensors: tensor 'w0' has dtype F16; only F32 and I64 are supported");
  header = R"({"w0": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}})";
  len[0] = static_cast<char>(header.size());
  test::writeText(Path, len + header + "12345678");
  EXPECT_EQ(msg([&] { SafeTensorsReader r(Path); }),
            "ckpt.safetensors: malformed header: tensor 'w0' has data_offsets [0, 8] but "
            "shape [3] needs 12 bytes");
}

TEST_F(CheckpointTest, MismatchesAreNamedAndChangeNothing) {
  saveCheckpoint(Path, trainedState());
  ModelPlan wider = test::smallPlan();
  wider.params[0].shape = {4, 2};
  ModelState s(wider);
  Tensor before = s.params.value("b0").clone();
  s.stats[3] = {0, 1, false};
  EXPECT_EQ(msg([&] { loadCheckpoint(Path, s); }),
            "ckpt.safetensors: tensor 'w0' has shape [3,2] in checkpoint but [4,2] in model");
  expectSame(before, s.params.value("b0"));
  EXPECT_FALSE(s.stats[3].ready);
  EXPECT_EQ(s.step, 0);

  ModelPlan extra = test::smallPlan();
  extra.params.push_back({"w1", {2, 2}, {}});
  ModelState e(extra);
  EXPECT_EQ(msg([&] { loadCheckpoint(Path, e); }),
            "ckpt.safetensors: missing tensor 'w1'");

  ModelPlan renamed = test::smallPlan();
  renamed.model = "other";
  ModelState r(renamed);
  EXPECT_EQ(msg([&] { loadCheckpoint(Path, r); }),
            "ckpt.safetensors: checkpoint is for model 'tiny', not 'other'");
}

TEST_F(CheckpointTest, TransferLoadsEveryParameterAndTableByName) {
  ModelState a = trainedState();
  saveCheckpoint(Path, a);
  // The next stage: another model of the same names; its optimizer state,
  // counters start fresh, the feature statistics come along.
  ModelPlan finetune = test::smallPlan();
  finetune.model = "tiny_finetune";
  finetune.initFrom = "tiny";
  finetune.params.pop_back();  // a tensor of the checkpoint the model lacks is ignored
  ModelState b(finetune);
  loadCheckpoint(Path, b, {.transfer = true});
  expectSame(a.params.value("w0"), b.params.value("w0"));
  expectSame(a.tables[1].weights(), b.tables[1].weights());
  EXPECT_EQ(b.step, 0);
  EXPECT_EQ(b.epoch, 0);
  EXPECT_EQ(b.denseOptimizer.slotIfAllocated(0, 0), nullptr);
  EXPECT_EQ(b.tables[1].slotIfAllocated(0), nullptr);
  EXPECT_DOUBLE_EQ(b.stats[3].mean, 4.5);

  // Every parameter and table must be there: the missing ones are listed,
  // and nothing is loaded.
  finetune.params.push_back({"head.w", {2, 1}, {"ones", 0}});
  finetune.params.push_back({"head.b", {1}, {"ones", 0}});
  finetune.tables.push_back({"extra_emb", 5, 4, {"uniform", 0.05}});
  ModelState c(finetune);
  EXPECT_EQ(msg([&] { loadCheckpoint(Path, c, {.transfer = true}); }),
            "ckpt.safetensors: checkpoint of model 'tiny' lacks 3 tensors of model "
            "'tiny_finetune' ('head.w', 'head.b', 'extra_emb'); a stage starts from every "
            "parameter and table of the earlier one, found by name");
  EXPECT_EQ(c.params.value("head.w")[1], 1.0f);
  EXPECT_FALSE(c.stats[3].ready);

  // Shapes are checked by name: the message names the tensor and both shapes.
  ModelPlan wide = test::smallPlan();
  wide.model = "wide";
  wide.tables[0].dim = 8;
  ModelState w(wide);
  EXPECT_EQ(msg([&] { loadCheckpoint(Path, w, {.transfer = true}); }),
            "ckpt.safetensors: tensor 'user_emb' has shape [10,4] in checkpoint but [10,8] "
            "in model");
}

TEST_F(CheckpointTest, FailedSaveKeepsThePreviousCheckpoint) {
  ModelState small(test::smallPlan());
  saveCheckpoint(Path, small);
  const std::string good = test::readText(Path);

  ModelPlan big = test::smallPlan();
  big.tables[1].rows = 50000;  // ~800 KB: cannot fit under the file size limit
  ModelState large(big);
  // Simulate a full disk: writes beyond 64 KB fail with EFBIG (works as root,
  // unlike a read-only directory).
  struct rlimit old{};
  ::getrlimit(RLIMIT_FSIZE, &old);
  auto oldHandler = std::signal(SIGXFSZ, SIG_IGN);
  struct rlimit lim = old;
  lim.rlim_cur = 64 * 1024;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &lim), 0);
  std::string error = msg([&] { saveCheckpoint(Path, large); });
  ::setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, oldHandler);

  EXPECT_TRUE(contains(error, "ckpt.safetensors: cannot write: File too large; the "
                              "previous file is left unchanged"));
  EXPECT_EQ(test::readText(Path), good);
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(Dir.path()))
    files += entry.is_regular_file();
  EXPECT_EQ(files, 1) << "temporary file left behind";
  ModelState reloaded(test::smallPlan());
  loadCheckpoint(Path, reloaded);
}

// A model whose tables cannot fit is refused before anything is allocated,
// with the size it needs and its largest table (not killed by the OOM killer).
TEST(ModelStateMemory, TablesLargerThanMemoryAreRefusedUpFront) {
  ModelPlan plan = test::smallPlan();
  plan.tables[1].rows = 100'000'000'000;  // 1.6 TB of item_emb, before Adam's slots
  plan.features[1].vocab = plan.tables[1].rows;
  std::string err = errorOf([&] { ModelState s(plan); });
  EXPECT_TRUE(contains(err, "model 'tiny' needs about")) << err;
  EXPECT_TRUE(contains(err, "GiB of memory is available")) << err;
  EXPECT_TRUE(contains(err, "largest table 'item_emb' [100000000000, 4]")) << err;
}

} // namespace
} // namespace recc::rt