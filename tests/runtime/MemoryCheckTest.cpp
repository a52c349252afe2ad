// MemoryCheck: the up-front memory check counts the step buffers and the
// step's working memory (activations), not only the tables, and names the
// batch size, the estimate and the limit when it refuses.
#include "runtime/MemoryCheck.h"

#include "TestUtil.h"

#include <gtest/gtest.h>

#include <fstream>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace recc::rt {
namespace {

using Role = BufferSpec::Role;

StepSpec trainSpec() {
  return {"train_step",
          {{Role::Feature, "price", {-1, 1}},
           {Role::EmbeddingRows, "hist", {-1, 3, 4}},
           {Role::Param, "w0", {3, 2}},
           {Role::Output, "p", {-1, 1}},
           {Role::Loss, "loss", {}},
           {Role::Gradient, "w0", {3, 2}},      // into the ParamStore: not counted
           {Role::Gradient, "hist", {-1, 3, 4}}}};
}

TEST(MemoryCheck, StepBuffersCountBatchedBuffersAtTheBatch) {
  ModelPlan plan = test::smallPlan();
  // price 1 + hist rows 12 + p 1 + hist gradient 12 floats per row, + the loss.
  EXPECT_EQ(stepBufferBytes(plan, trainSpec(), 1000), 4 * (1000 * 26 + 1));
}

TEST(MemoryCheck, FrozenTablesAndParametersHoldNoOptimizerState) {
  ModelPlan plan = test::smallPlan();
  plan.optimizer.kind = "adam";
  // Tables 10x4 and 20x4, parameters 3x2 and 2: value (+ gradient for
  // parameters) + 2 Adam moments each.
  EXPECT_EQ(modelStateBytes(plan), 4 * (3 * 120 + 4 * 8));
  plan.frozen = {"item_emb", "w0"};
  EXPECT_EQ(modelStateBytes(plan), 4 * (3 * 40 + 80 + 4 * 2 + 2 * 6));
}

TEST(MemoryCheck, StepBufferOverflowNamesTheBuffer) {
  ModelPlan plan = test::smallPlan();
  StepSpec spec{"eval_step", {{Role::Output, "wide", {-1, int64_t(1) << 40}}}};
  std::string err = test::errorOf([&] { stepBufferBytes(plan, spec, int64_t(1) << 24); });
  EXPECT_TRUE(test::contains(err, "eval_step buffer 'wide' [-1,1099511627776] at batch 16777216"))
      << err;
}

TEST(MemoryCheck, ActivationsBeyondMemoryAreRefusedNamingTheBatch) {
  ModelPlan plan = test::smallPlan();
  StepSpec spec = trainSpec();
  const int64_t huge = int64_t(1) << 60;  // more than any machine has
  std::string err = test::errorOf([&] { checkMemory(plan, {{&spec, 1000000, huge}}); });
  EXPECT_TRUE(test::contains(err, "model 'tiny' at batch size 1000000 needs about")) << err;
  EXPECT_TRUE(test::contains(err, "step activations 1073741824.0 GiB")) << err;
  EXPECT_TRUE(test::contains(err, "of memory is available (")) << err;
  EXPECT_TRUE(test::contains(err, "try a smaller --batch")) << err;
  // What fits passes.
  checkMemory(plan, {{&spec, 16, 1024}});
}

TEST(MemoryCheck, OverflowingTotalIsRefused) {
  ModelPlan plan = test::smallPlan();
  StepSpec spec = trainSpec();
  const int64_t most = INT64_MAX - 10;
  std::string err =
      test::errorOf([&] { checkMemory(plan, {{&spec, 16, most}, {&spec, 16, most}}); });
  EXPECT_TRUE(test::contains(err, "model 'tiny': the memory estimate overflows 64 bits")) << err;
}

// Under ulimit -v the address-space limit is what bounds a process; run in a
// child so the limit does not reach the other tests.
TEST(MemoryCheck, AddressSpaceLimitIsTheSourceUnderUlimit) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // 1 GiB above what is mapped now (a sanitizer maps terabytes of shadow).
    std::ifstream status("/proc/self/status");
    std::string line;
    int64_t mapped = 0;
    while (std::getline(status, line))
      if (line.rfind("VmSize:", 0) == 0) mapped = std::stoll(line.substr(7)) * 1024;
    rlimit lim{};
    getrlimit(RLIMIT_AS, &lim);
    lim.rlim_cur = mapped + (int64_t(1) << 30);
    setrlimit(RLIMIT_AS, &lim);
    MemoryLimit m = availableMemory();
    bool ok = m.source.find("ulimit -v") != std::string::npos && m.bytes > 0 &&
              m.bytes <= (int64_t(1) << 30);
    char c = ok ? 'y' : 'n';
    (void)!write(fds[1], &c, 1);
    _exit(0);
  }
  close(fds[1]);
  char c = 0;
  ASSERT_EQ(read(fds[0], &c, 1), 1);
  close(fds[0]);
  waitpid(pid, nullptr, 0);
  EXPECT_EQ(c, 'y');
}

TEST(MemoryCheck, FormatBytes) {
  EXPECT_EQ(formatBytes(512), "512 bytes");
  EXPECT_EQ(formatBytes(3 << 20), "3.0 MiB");
  EXPECT_EQ(formatBytes(double(int64_t(5) << 30)), "5.0 GiB");
}

} // namespace
} // namespace recc::rt
