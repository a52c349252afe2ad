// Tests of dynamic tables (rows allocated when first touched): initial values
// that depend only on (seed, table, id) and equal a dense table's, updates
// equal to a dense table's bit for bit whatever the thread count and the
// order rows were first touched, gathers of unseen ids that insert nothing,
// checkpoints that store touched rows only (and refuse inconsistent ones,
// naming the tensor), and the memory check's count of touched rows.
#include "runtime/Checkpoint.h"
#include "runtime/DynamicCheckpoint.h"
#include "runtime/MemoryCheck.h"
#include "runtime/Random.h"
#include "runtime/SafeTensors.h"
#include "runtime/TouchedRows.h"

#include "TestUtil.h"

#include <fmt/format.h>

#include <oneapi/tbb/global_control.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <set>
#include <functional>
#include <map>

namespace recc::rt {
namespace {

using test::contains;
using test::errorOf;

OptimizerSpec optimizer(const std::string& kind) {
  OptimizerSpec o;
  o.kind = kind;
  o.lr = 0.1;
  return o;
}

EmbeddingTable denseTable(const std::string& name, int64_t rows, int64_t dim,
                          const InitSpec& init, uint64_t seed) {
  EmbeddingTable t(name, rows, dim);
  initialize(init, name, seed, t.weights());
  return t;
}

std::vector<float> gatherAll(const EmbeddingTable& t, const std::vector<int64_t>& ids) {
  std::vector<float> out(ids.size() * t.dim());
  t.gather(ids, out.data());
  return out;
}

bool sameBits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * 4) == 0;
}

std::vector<int64_t> allIds(int64_t rows) {
  std::vector<int64_t> ids(rows);
  for (int64_t i = 0; i < rows; ++i)
    ids[i] = i;
  return ids;
}

/// Step `s` of a fixed gradient stream: `count` ids in [0, rows) with many
/// duplicates, id -1 padding, and gradients from the step and position.
struct Batch {
  std::vector<int64_t> ids;
  std::vector<float> grads;
};
Batch batchAt(int s, int64_t rows, int64_t dim, int count = 40) {
  Batch b;
  for (int i = 0; i < count; ++i) {
    const double u = uniformAt(1000 + s, i);
    b.ids.push_back(i % 7 == 3 ? -1 : int64_t(u * u * double(rows)));  // skewed, as real ids
    for (int64_t k = 0; k < dim; ++k)
      b.grads.push_back(float(uniformAt(2000 + s, i * dim + k) - 0.5));
  }
  return b;
}

void applyBatch(EmbeddingTable& t, const Batch& b, const OptimizerSpec& o, int64_t step) {
  const EmbeddingTable::RowGradients src{b.ids, b.grads.data()};
  t.applyGradients({&src, 1}, o, step);
}

TEST(DynamicTable, InitialRowsEqualTheDenseTablesAndGatherInsertsNothing) {
  for (InitSpec init : {InitSpec{"uniform", 0.05}, InitSpec{"normal", 0.01}}) {
    const EmbeddingTable dense = denseTable("emb", 500, 6, init, 7);
    const EmbeddingTable dyn = EmbeddingTable::dynamic("emb", 500, 6, init, 7, optimizer("adam"));
    const std::vector<int64_t> ids{0, 499, -1, 17, 17, 250};
    EXPECT_TRUE(sameBits(gatherAll(dense, ids), gatherAll(dyn, ids))) << init.kind;
    EXPECT_EQ(dyn.dynamicRows()->size(), 0);  // eval of unseen ids: nothing inserted
    // Another seed or another table name gives other values.
    const EmbeddingTable other =
        EmbeddingTable::dynamic("emb2", 500, 6, init, 7, optimizer("adam"));
    const EmbeddingTable reseeded =
        EmbeddingTable::dynamic("emb", 500, 6, init, 8, optimizer("adam"));
    EXPECT_FALSE(sameBits(gatherAll(dyn, {17}), gatherAll(other, {17})));
    EXPECT_FALSE(sameBits(gatherAll(dyn, {17}), gatherAll(reseeded, {17})));
  }
  EXPECT_TRUE(contains(errorOf([] {
    EmbeddingTable::dynamic("t", 5, 2, {"uniform", 0.1}, 1, optimizer("sgd")).weights();
  }), "table 't' is dynamic: it has no dense [5, 2] weights"));
}

TEST(DynamicTable, UpdatesEqualTheDenseTablesBitForBit) {
  for (const char* kind : {"adam", "adagrad", "sgd"}) {
    const OptimizerSpec o = optimizer(kind);
    EmbeddingTable dense = denseTable("emb", 300, 5, {"uniform", 0.05}, 3);
    EmbeddingTable dyn = EmbeddingTable::dynamic("emb", 300, 5, {"uniform", 0.05}, 3, o);
    std::set<int64_t> touched;
    for (int s = 1; s <= 30; ++s) {
      const Batch b = batchAt(s, 300, 5);
      applyBatch(dense, b, o, s);
      applyBatch(dyn, b, o, s);
      for (int64_t id : b.ids)
        if (id >= 0)
          touched.insert(id);
    }
    EXPECT_EQ(dyn.dynamicRows()->size(), int64_t(touched.size())) << kind;
    EXPECT_LT(dyn.dynamicRows()->size(), 300) << kind;
    EXPECT_TRUE(sameBits(gatherAll(dense, allIds(300)), gatherAll(dyn, allIds(300)))) << kind;
  }
}

TEST(DynamicTable, ThreadsAndTouchOrderDoNotChangeTheRows) {
  const OptimizerSpec o = optimizer("adagrad");
  auto train = [&](int threads, bool reverseFirstTouch) {
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, threads);
    EmbeddingTable t = EmbeddingTable::dynamic("emb", 100000, 8, {"normal", 0.1}, 5, o);
    if (reverseFirstTouch) {  // rows first touched one by one, high ids first, by
      const std::vector<float> zero(8, 0.0f);  // no-op updates (zero gradients)
      for (int64_t id = 99999; id >= 0; id -= 997) {
        const std::vector<int64_t> one{id};
        const EmbeddingTable::RowGradients src{one, zero.data()};
        // Adagrad with a zero gradient: acc += 0, w -= 0; the row is only inserted.
        t.applyGradients({&src, 1}, o, 1);
      }
    }
    for (int s = 1; s <= 20; ++s)
      applyBatch(t, batchAt(s, 100000, 8, 3000), o, s);
    return t;
  };
  const EmbeddingTable a = train(1, false), b = train(2, true);
  EXPECT_NE(a.dynamicRows()->idAt(0), b.dynamicRows()->idAt(0));  // other slot order
  EXPECT_TRUE(sameBits(gatherAll(a, allIds(100000)), gatherAll(b, allIds(100000))));
}

/// A plan whose item table is dynamic, trained a few steps.
ModelPlan dynamicPlan() {
  ModelPlan p = test::smallPlan();
  p.tables[1].dynamic = true;
  return p;
}

ModelState trainedDynamicState(const ModelPlan& plan) {
  ModelState s(plan);
  for (int step = 1; step <= 3; ++step) {
    const Batch b = batchAt(step, 20, 4, 12);
    applyBatch(s.tables[1], b, s.plan().optimizer, step);
  }
  s.step = 3;
  return s;
}

/// Rewrites checkpoint `path` after `edit` changes its tensors (I64 data is
/// kept in `ints`, F32 in `floats`).
struct Stored {
  Shape shape;
  DType dtype;
  std::vector<float> floats;
  std::vector<int64_t> ints;
};
void rewrite(const std::string& path, const std::function<void(std::map<std::string, Stored>&)>& edit,
             const std::map<std::string, std::string>& addMetadata = {}) {
  std::map<std::string, Stored> tensors;
  std::map<std::string, std::string> meta;
  {
    SafeTensorsReader in(path);
    meta = in.metadata();
    for (const std::string& name : in.names()) {
      Stored s{in.shape(name), in.dtype(name), {}, {}};
      const int64_t n = numElements(s.shape);
      if (s.dtype == DType::I64) {
        s.ints.resize(n);
        in.readRange(name, 0, n, s.ints.data());
      } else {
        s.floats.resize(n);
        in.readRange(name, 0, n, s.floats.data());
      }
      tensors[name] = std::move(s);
    }
  }
  edit(tensors);
  std::vector<TensorRef> refs;
  for (auto& [name, s] : tensors) {
    TensorRef r{name, s.shape, s.floats.data(), s.dtype};
    if (s.dtype == DType::I64)
      r.fill = [&s](int64_t first, int64_t count, void* out) {
        std::memcpy(out, s.ints.data() + first, count * 8);
      };
    refs.push_back(r);
  }
  meta.erase("crc32");
  for (const auto& [key, value] : addMetadata) meta[key] = value;
  writeSafeTensors(path, refs, meta);
}

class DynamicCheckpointTest : public ::testing::Test {
protected:
  std::string msg(const std::function<void()>& f) {
    std::string m = errorOf(f);
    for (size_t p; (p = m.find(Dir.path() + "/")) != std::string::npos;)
      m.erase(p, Dir.path().size() + 1);
    return m;
  }
  test::TempDir Dir;
  std::string Path = Dir.file("ckpt.safetensors");
  ModelPlan Plan = dynamicPlan();
};

TEST_F(DynamicCheckpointTest, StoresTouchedRowsOnlyAndLoadsThemBack) {
  const ModelState a = trainedDynamicState(Plan);
  const int64_t held = a.tables[1].dynamicRows()->size();
  ASSERT_GT(held, 3);
  ASSERT_LT(held, 20);
  saveCheckpoint(Path, a);
  {
    SafeTensorsReader in(Path);
    EXPECT_EQ(in.dtype("ids/item_emb"), DType::I64);
    EXPECT_EQ(in.shape("ids/item_emb"), (Shape{held}));
    EXPECT_EQ(in.shape("item_emb"), (Shape{held, 4}));
    EXPECT_EQ(in.shape("adam_m/item_emb"), (Shape{held, 4}));
    EXPECT_EQ(in.shape("user_emb"), (Shape{10, 4}));  // dense tables stay whole
    std::vector<int64_t> ids(held);
    in.readRange("ids/item_emb", 0, held, ids.data());
    EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  }
  ModelState b(Plan);
  loadCheckpoint(Path, b);
  EXPECT_EQ(b.tables[1].dynamicRows()->size(), held);
  EXPECT_TRUE(sameBits(gatherAll(a.tables[1], allIds(20)), gatherAll(b.tables[1], allIds(20))));
  // The optimizer state came back too: one more identical step stays identical.
  ModelState c = trainedDynamicState(Plan);
  applyBatch(c.tables[1], batchAt(9, 20, 4, 12), Plan.optimizer, 4);
  applyBatch(b.tables[1], batchAt(9, 20, 4, 12), Plan.optimizer, 4);
  EXPECT_TRUE(sameBits(gatherAll(c.tables[1], allIds(20)), gatherAll(b.tables[1], allIds(20))));
  // The same file loads into a model whose table is dense: rows are scattered.
  ModelState dense(test::smallPlan());
  loadCheckpoint(Path, dense);
  EXPECT_TRUE(sameBits(gatherAll(a.tables[1], allIds(20)), gatherAll(dense.tables[1], allIds(20))));
}

// The memory check of a run resumed from a checkpoint written with
// --shard-tables counts the rows of every rank's file, not only the first.
TEST_F(DynamicCheckpointTest, StoredRowsCountEveryShardFile) {
  saveCheckpoint(Path, trainedDynamicState(Plan));
  const int64_t held = storedRows(Path, Plan).at("item_emb");
  ASSERT_GT(held, 3);
  std::filesystem::create_directories(Path + ".shards");
  std::filesystem::copy_file(Path, Path + ".shards/step9-rank1-of-2.safetensors");
  rewrite(Path, [](auto&) {}, {{"shards", R"(["ckpt.safetensors.shards/step9-rank1-of-2.safetensors"])"}});
  EXPECT_EQ(checkpointFiles(Path),
            (std::vector<std::string>{Path, Dir.path() + "/ckpt.safetensors.shards/step9-rank1-of-2.safetensors"}));
  DynamicRowCounts counts;
  addStoredRows(counts, Path, Plan);
  EXPECT_EQ(counts.at("item_emb"), 2 * held);
  // One process owns every row.
  DynamicRowCounts owned;
  addStoredRows(owned, Path, Plan, /*owned=*/true);
  EXPECT_EQ(owned.at("item_emb"), 2 * held);
}

TEST_F(DynamicCheckpointTest, InconsistentRowsAndIdsAreNamed) {
  saveCheckpoint(Path, trainedDynamicState(Plan));
  const std::string good = test::readText(Path);
  auto refusedWith = [&](const std::function<void(std::map<std::string, Stored>&)>& edit) {
    test::writeText(Path, good);
    rewrite(Path, edit);
    ModelState s(Plan);
    std::string m = msg([&] { loadCheckpoint(Path, s); });
    EXPECT_EQ(s.tables[1].dynamicRows()->size(), 0) << "nothing loaded: " << m;
    return m;
  };
  EXPECT_EQ(refusedWith([](auto& t) { t["ids/item_emb"].ints.pop_back();
                                      t["ids/item_emb"].shape[0] -= 1; }),
            fmt::format("ckpt.safetensors: tensor 'item_emb' has {} rows but 'ids/item_emb' "
                        "lists {} ids", trainedDynamicState(Plan).tables[1].dynamicRows()->size(),
                        trainedDynamicState(Plan).tables[1].dynamicRows()->size() - 1));
  EXPECT_TRUE(contains(refusedWith([](auto& t) { t["ids/item_emb"].ints[1] = 20; }),
                       "tensor 'ids/item_emb' element 1: id 20 is outside table 'item_emb' of "
                       "20 rows"));
  EXPECT_TRUE(contains(refusedWith([](auto& t) {
    std::swap(t["ids/item_emb"].ints[0], t["ids/item_emb"].ints[1]);
  }), "ids must be distinct and increasing"));
  EXPECT_EQ(refusedWith([](auto& t) { t.erase("ids/item_emb"); t.erase("item_emb"); }),
            "ckpt.safetensors: missing tensor 'ids/item_emb' (the ids of dynamic table "
            "'item_emb')");
  EXPECT_TRUE(contains(refusedWith([](auto& t) { t["adam_v/item_emb"].shape = {1, 4};
                                                 t["adam_v/item_emb"].floats.resize(4); }),
                       "tensor 'adam_v/item_emb' has 1 rows but 'ids/item_emb' lists"));
  EXPECT_TRUE(contains(refusedWith([](auto& t) { t["item_emb"].floats[2] = NAN; }),
                       "tensor 'item_emb' has a non-finite value at element 2"));
  // A dense table's checkpoint does not load into a dynamic table.
  saveCheckpoint(Path, ModelState(test::smallPlan()));
  ModelState s(Plan);
  EXPECT_TRUE(contains(msg([&] { loadCheckpoint(Path, s); }),
                       "tensor 'item_emb' is stored dense ([20,4], without 'ids/item_emb'), but "
                       "the model's table is dynamic"));
}

TEST(DynamicTableMemory, CountsTheDistinctIdsTheDataTouches) {
  ModelPlan plan = dynamicPlan();
  DataSet data(plan, 4);
  // user_id reads user_emb (dense); item ids come from the 3-wide history.
  const int64_t hist[] = {3, 5, -1, 5, 7, 3, 19, -1, -1, 0, 0, 0};
  std::copy(std::begin(hist), std::end(hist), data.ids(1).begin());
  DynamicRowCounts counts = touchedRows(plan, data);
  EXPECT_EQ(counts, (DynamicRowCounts{{"item_emb", 5}}));  // 0, 3, 5, 7, 19
  // The huge-table path (a sorted copy instead of a bitmap) counts the same.
  plan.tables[1].rows = int64_t(1) << 40;
  EXPECT_EQ(touchedRows(plan, data), counts);

  // Each touched row costs its weights, its Adam state, its id and its index.
  plan.tables[1].rows = 100'000'000;
  plan.tables[1].dim = 32;
  const int64_t none = modelStateBytes(plan);
  const int64_t some = modelStateBytes(plan, {{"item_emb", 1000}});
  EXPECT_EQ(some - none, 1000 * DynamicRows::bytesPerRow(32, 2));
  EXPECT_EQ(DynamicRows::bytesPerRow(32, 2), 32 * 3 * 4 + 16 + 46);
  // Never more rows than the table declares.
  EXPECT_EQ(modelStateBytes(plan, {{"item_emb", int64_t(1) << 50}}),
            modelStateBytes(plan, {{"item_emb", 100'000'000}}));
  // A refusal names the dynamic table and the rows the data touches.
  std::string err = errorOf([&] { checkMemory(plan, {}, {{"item_emb", 100'000'000}}); });
  EXPECT_TRUE(contains(err, "largest table 'item_emb' [100000000, 32], dynamic,")) << err;
  EXPECT_TRUE(contains(err, "for the 100000000 rows the data touches")) << err;
  EXPECT_EQ(errorOf([&] { checkMemory(plan, {}, {{"item_emb", 1000}}); }), "<no error>");
}

TEST(DynamicTablePlan, HasNoEmaShadowAndSurvivesJson) {
  ModelPlan plan = dynamicPlan();
  EXPECT_TRUE(planFromJson(toJson(plan)).tables[1].dynamic);
  EXPECT_FALSE(planFromJson(toJson(plan)).tables[0].dynamic);
  plan.states.push_back({"item_emb.ema", "ema", {20, 4}, "item_emb", true, 0.9});
  EXPECT_TRUE(contains(errorOf([&] { validatePlan(plan); }),
                       "state 'item_emb.ema' is an EMA shadow of table 'item_emb', which is "
                       "dynamic"));
  EXPECT_TRUE(dynamicByDefault(100'000'000, 32));
  EXPECT_FALSE(dynamicByDefault(1'629'473, 64));
  EXPECT_FALSE(dynamicByDefault(int64_t(1) << 23, 32));  // exactly 1 GiB: dense
  EXPECT_TRUE(dynamicByDefault((int64_t(1) << 23) + 1, 32));
}

} // namespace
} // namespace recc::rt
