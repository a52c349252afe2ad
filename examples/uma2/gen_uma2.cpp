// examples/uma2/gen_uma2.cpp: synthetic matching data for UMA² and its baselines
// (models/uma2.rec, youtube_dnn.rec, uma2_baselines.rec).
//
// The paper's data is proprietary (no public dataset logs the recall set of each
// exposure), so this plants what UMA² is about (README.md next to this file): a recall
// policy and an exposure policy whose propensities depend on the learnable item features
// popularity and item_ctr, clicks only on exposed items, the spaces POS/A/B/C of the
// paper's Figure 1, the four training sets of Sec. 4.1.4, a test day of clicks and the
// item corpus for retrieval.

#include "examples/common/Cli.h"
#include "examples/uma2/Rows.h"
#include "examples/uma2/Summary.h"

#include <chrono>
#include <filesystem>
#include <memory>
#include <span>
#include <string>

namespace {

using namespace recc::uma2;
using recc::gen::Cli;

constexpr const char *kUsage = R"(usage: gen_uma2 --out DIR [options]

Writes UMA²'s synthetic matching data into DIR (examples/uma2/README.md):
  ss_a.csv, ss_ab.csv, ss_abc_random.csv, ss_abc_fixed.csv
                 the training sets (1 positive + 25 negatives per click of the training day)
                 user_id,gender,age,hist,item_id,cate_id,item_ctr,click,is_pos,is_a,is_b,
                 is_c,recalled,exposed,w_sos
  valid.csv      the test day's clicks sampled as SS-ABC(fixed), same columns (for AUC)
  test.csv       one row per click of the test day (user_id,gender,age,hist,item_id,
                 cate_id,item_ctr,click = 1, and the tags of a positive)
  corpus.csv     every item: item_id,cate_id,item_ctr
hist is '|'-separated item ids, most recent first, up to 50.

  --out DIR              output directory (created if missing)
  --users N              users (default 8000); user_id < N
  --items M              items (default 10000); item_id < M
  --cates C              categories (default 100, at least 3); cate_id < C
  --train-requests R     requests of the training day (default 20000)
  --test-requests T      requests of the test day (default 5000)
  --seed S               seed of the world and the requests (default 1); the same seed
                         and sizes give byte-identical files
  --help                 this text

Each file is written as FILE.tmp and renamed when complete. A summary (space shares, the
planted popularity/CTR bias of spaces A and B, reference HitRates) goes to stderr. Bad
flags exit with status 2.
)";

struct Options {
  std::string out;
  Sizes sizes;
  long trainRequests = 20000, testRequests = 5000;
  uint64_t seed = 1;
};

Options parseArgs(std::span<char *> args) {
  const Cli cli("gen_uma2", kUsage);
  Options o;
  cli.parse(args, {}, [&](std::string_view a, std::string_view v) {
    if (a == "--out") o.out = v;
    else if (a == "--users") o.sizes.users = cli.number<int>(a, v, 1, 1 << 28);
    else if (a == "--items") o.sizes.items = cli.number<int>(a, v, 200, 1 << 24);
    else if (a == "--cates") o.sizes.cates = cli.number<int>(a, v, 3, 1 << 20);
    else if (a == "--train-requests") o.trainRequests = cli.number<long>(a, v, 1, 1L << 32);
    else if (a == "--test-requests") o.testRequests = cli.number<long>(a, v, 1, 1L << 32);
    else if (a == "--seed") o.seed = cli.number<uint64_t>(a, v, 0, UINT64_MAX);
    else cli.unknown(a);
  });
  if (o.out.empty()) cli.fail("'--out DIR' is required");
  if (o.sizes.cates > o.sizes.items)
    cli.fail("'--cates' (" + std::to_string(o.sizes.cates) + ") exceeds '--items' (" +
             std::to_string(o.sizes.items) + ")");
  return o;
}

/// An output file with its CSV buffer.
struct Out {
  Out(const std::string &path) : file("gen_uma2", path) {}
  recc::gen::OutputFile file;
  recc::gen::CsvBuffer csv;
  bool ok = true;
  void flushIfFull() {
    if (csv.full()) ok = csv.flush(file.get()) && ok;
  }
};

/// A request with at least one click and one exposed-unclicked item (SS-A needs A).
bool usable(const Request &r) { return !r.clicked.empty() && !r.a.empty(); }

void writeTrainingDay(const World &w, const Funnel &funnel, const Options &o,
                      std::span<std::unique_ptr<Out>> sets, Summary &summary) {
  Rng stream(recc::gen::mix64(o.seed * 4 + 1));
  Rng pick[kStrategies] = {Rng(recc::gen::mix64(o.seed * 16 + 3)),
                           Rng(recc::gen::mix64(o.seed * 16 + 5)),
                           Rng(recc::gen::mix64(o.seed * 16 + 7)),
                           Rng(recc::gen::mix64(o.seed * 16 + 9))};
  Request r;
  std::vector<Sample> group;
  for (long q = 0; q < o.trainRequests; ++q) {
    funnel.run(w.drawUser(stream), stream, r);
    if (!usable(r)) continue;
    summary.addTrainRequest(r);
    for (int clicked : r.clicked)
      for (int s = 0; s < kStrategies; ++s) {
        sampleGroup(r, clicked, Strategy(s), w.sizes().items, pick[s], group);
        for (const Sample &x : group) {
          putTrainRow(sets[s]->csv, w, r.user, x);
          summary.addSample(Strategy(s), x);
        }
        sets[s]->flushIfFull();
      }
  }
}

void writeTestDay(const World &w, const Funnel &funnel, const Options &o, Out &test,
                  Out &valid, Summary &summary) {
  Rng stream(recc::gen::mix64(o.seed * 4 + 2)), pick(recc::gen::mix64(o.seed * 16 + 11));
  Request r;
  std::vector<Sample> group;
  for (long q = 0; q < o.testRequests; ++q) {
    funnel.run(w.drawUser(stream), stream, r);
    if (!usable(r)) continue;
    for (int clicked : r.clicked) {
      putTestRow(test.csv, w, r.user, clicked);
      summary.addTestClick(r.user, clicked);
      sampleGroup(r, clicked, Strategy::AbcFixed, w.sizes().items, pick, group);
      for (const Sample &x : group) putTrainRow(valid.csv, w, r.user, x);
    }
    test.flushIfFull(), valid.flushIfFull();
  }
}

} // namespace

int main(int argc, char **argv) {
  Options o = parseArgs(std::span(argv + 1, argc - 1));
  auto start = std::chrono::steady_clock::now();
  if (!recc::gen::makeOutputDir("gen_uma2", o.out)) return 1;
  auto path = [&](std::string_view name) { return (std::filesystem::path(o.out) / name).string(); };
  std::unique_ptr<Out> sets[kStrategies];
  for (int s = 0; s < kStrategies; ++s) sets[s] = std::make_unique<Out>(path(kStrategyFile[s]));
  Out valid(path("valid.csv")), test(path("test.csv")), corpus(path("corpus.csv"));
  bool opened = valid.file.opened() && test.file.opened() && corpus.file.opened();
  for (auto &s : sets) opened = opened && s->file.opened();
  if (!opened) return 1;

  World world(o.seed, o.sizes);
  Funnel funnel(world);
  Summary summary(world);
  for (auto &s : sets) s->csv.put(kTrainHeader);
  valid.csv.put(kTrainHeader), test.csv.put(kTestHeader), corpus.csv.put(kCorpusHeader);
  writeTrainingDay(world, funnel, o, sets, summary);
  writeTestDay(world, funnel, o, test, valid, summary);
  for (int i = 0; i < o.sizes.items; ++i) {
    putCorpusRow(corpus.csv, world, i), corpus.csv.sep('\n');
    corpus.flushIfFull();
  }
  bool ok = true;
  for (Out *f : {sets[0].get(), sets[1].get(), sets[2].get(), sets[3].get(), &valid, &test, &corpus})
    ok = f->ok && f->csv.flush(f->file.get()) && ok;
  for (Out *f : {sets[0].get(), sets[1].get(), sets[2].get(), sets[3].get(), &valid, &test, &corpus})
    ok = f->file.commit(ok) && ok;
  if (!ok) return 1;
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "gen_uma2: %d users, %d items, %d categories, seed %llu, %.2f s\n",
               o.sizes.users, o.sizes.items, o.sizes.cates, (unsigned long long)o.seed, seconds);
  summary.print(stderr, funnel);
  return 0;
}
