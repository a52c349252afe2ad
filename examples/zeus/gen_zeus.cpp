// examples/zeus/gen_zeus.cpp: synthetic intent-recommendation data for ZEUS and its
// baselines (models/zeus.rec, models/zeus_baselines.rec).
//
// The paper's Ali-MSIR logs are private, so this plants what ZEUS is about (README.md
// next to this file): one latent intent per user drives both abundant spontaneous
// searches (the pre-training groups: a searched query and 9 exposed-but-unclicked ones)
// and sparse clicks on recommended queries in three scenarios, two of them small, as in
// the paper's Table 1. One stream of behaviours in time order: warm-up, then the
// training window (searches, clicks, product clicks interleaved), then the test day.

#include "examples/common/Cli.h"
#include "examples/common/CsvOutput.h"
#include "examples/zeus/RowFormat.h"
#include "examples/zeus/Summary.h"

#include <chrono>
#include <cstdio>
#include <memory>
#include <span>
#include <string>

namespace {

using namespace recc::zeus;
using recc::gen::Cli;
using recc::gen::CsvBuffer;
using recc::gen::OutputFile;

constexpr const char *kUsage = R"(usage: gen_zeus --out DIR [options]

Writes ZEUS's synthetic data into DIR (examples/zeus/README.md describes every column):
  pretrain.csv         next-query prediction, pointwise: 10 rows per search (label searched)
  pretrain_groups.csv  the same searches, one row per group of 10 candidates, searched first
  train.csv            clicks of scenarios 1-3 pooled (label click)
  train_s1.csv .. train_s3.csv   the same rows, one file per scenario
  test_s1.csv .. test_s3.csv     the test day, one file per scenario
Id lists are '|'-separated, most recent first; the word segments of one element are
';'-separated inside it.

  --out DIR          output folder (created if missing); each file is written as
                     FILE.tmp and renamed when complete
  --searches G       spontaneous searches in the training window (default 30000)
  --clicks N         click-scenario training rows (default 100000)
  --test-rows M      test rows per scenario (default 10000)
  --users U          users (default 50000)
  --queries Q        distinct queries (default 100000)
  --products P       distinct products (default 100000)
  --seed S           seed of the world and the rows (default 1); the same seed gives
                     byte-identical files
  --help             this text

A summary (Table 1 shares and CTRs, oracle AUCs, coverage of queries by searches and by
clicks, distinct ids) is printed to stderr. Bad flags exit with status 2.
)";

struct Options {
  std::string out;
  long long searches = 30000, clicks = 100000, testRows = 10000;
  Sizes sizes;
  uint64_t seed = 1;
};

Options parseArgs(std::span<char *> args) {
  const Cli cli("gen_zeus", kUsage);
  Options o;
  cli.parse(args, {}, [&](std::string_view a, std::string_view v) {
    if (a == "--out") o.out = v;
    else if (a == "--searches") o.searches = cli.number<long long>(a, v, 0, 1LL << 31);
    else if (a == "--clicks") o.clicks = cli.number<long long>(a, v, 1, 1LL << 32);
    else if (a == "--test-rows") o.testRows = cli.number<long long>(a, v, 1, 1LL << 32);
    else if (a == "--users") o.sizes.users = cli.number<int>(a, v, 1, 10000000);
    else if (a == "--queries") o.sizes.queries = cli.number<int>(a, v, 1, 10000000);
    else if (a == "--products") o.sizes.products = cli.number<int>(a, v, 1, 10000000);
    else if (a == "--seed") o.seed = cli.number<uint64_t>(a, v, 0, UINT64_MAX);
    else cli.unknown(a);
  });
  if (o.out.empty()) cli.fail("'--out DIR' is required");
  return o;
}

/// One output file with its own row buffer.
struct Sink {
  Sink(const std::string &dir, const char *name) : file("gen_zeus", dir + "/" + name) {}
  bool flushIfFull() { return !csv.full() || csv.flush(file.get()); }
  OutputFile file;
  CsvBuffer csv;
};

struct Sinks {
  explicit Sinks(const std::string &dir) {
    for (const char *n : {"pretrain.csv", "pretrain_groups.csv", "train.csv", "train_s1.csv",
                          "train_s2.csv", "train_s3.csv", "test_s1.csv", "test_s2.csv", "test_s3.csv"})
      all.push_back(std::make_unique<Sink>(dir, n));
  }
  Sink &pretrain() { return *all[0]; }
  Sink &groups() { return *all[1]; }
  Sink &train() { return *all[2]; }
  Sink &trainOf(int s) { return *all[3 + s]; }
  Sink &testOf(int s) { return *all[6 + s]; }
  bool opened() const {
    for (auto &s : all)
      if (!s->file.opened()) return false;
    return true;
  }
  std::vector<std::unique_ptr<Sink>> all;
};

/// The next event type, drawn in proportion to what is left, so the totals are exact.
enum Event { kSearch, kImpression, kProductClick };
Event drawEvent(Rng &rng, const long long left[3]) {
  double r = rng.uniform() * double(left[0] + left[1] + left[2]);
  return r < left[0] ? kSearch : r < left[0] + left[1] ? kImpression : kProductClick;
}

bool writeTraining(Simulator &sim, const Options &o, Sinks &out, Summary &summary, Rng &rng) {
  const World &w = sim.world();
  long long left[3] = {o.searches, o.clicks, o.clicks};   // one product click per impression
  bool ok = true;
  while (ok && left[0] + left[1] + left[2] > 0) {
    Event e = drawEvent(rng, left);
    --left[e];
    if (e == kProductClick) { sim.clickProduct(); continue; }
    if (e == kSearch) {
      SearchGroup g = sim.search();
      formatSearchRows(out.pretrain().csv, w, g);
      formatSearchGroup(out.groups().csv, w, g);
      summary.addSearch(g);
      ok = out.pretrain().flushIfFull() && out.groups().flushIfFull();
      continue;
    }
    Impression m = sim.impress(sim.drawScenario());
    formatClick(out.train().csv, w, m);
    formatClick(out.trainOf(m.scenario).csv, w, m);
    summary.addTrain(m);
    ok = out.train().flushIfFull() && out.trainOf(m.scenario).flushIfFull();
  }
  return ok;
}

/// The test day: the same stream goes on (searches and product clicks still move the
/// users' sequences) until every scenario's test file has its rows.
bool writeTest(Simulator &sim, const Options &o, Sinks &out, Summary &summary, Rng &rng) {
  const World &w = sim.world();
  long long written[kScenarios] = {};
  const long long rate[3] = {o.searches, o.clicks, o.clicks};
  bool ok = true;
  auto done = [&] {
    for (long long n : written)
      if (n < o.testRows) return false;
    return true;
  };
  while (ok && !done()) {
    Event e = drawEvent(rng, rate);
    if (e == kSearch) { sim.search(); continue; }
    if (e == kProductClick) { sim.clickProduct(); continue; }
    Impression m = sim.impress(sim.drawScenario());
    if (written[m.scenario] >= o.testRows) continue;
    ++written[m.scenario];
    formatClick(out.testOf(m.scenario).csv, w, m);
    summary.addTest(m);
    ok = out.testOf(m.scenario).flushIfFull();
  }
  return ok;
}

} // namespace

int main(int argc, char **argv) {
  Options o = parseArgs(std::span(argv + 1, argc - 1));
  auto start = std::chrono::steady_clock::now();
  if (!recc::gen::makeOutputDir("gen_zeus", o.out)) return 1;
  Sinks out(o.out);  // every output opened before any work, so a bad path fails fast
  if (!out.opened()) return 1;
  World world(o.seed, o.sizes);
  calibrate(world);
  Simulator sim(world, 1);
  Summary summary(world);
  Rng order(recc::gen::mix64(o.seed ^ 0x0dde7ULL));
  out.pretrain().csv.put(pretrainHeader());
  out.groups().csv.put(pretrainHeader());
  for (int s = 0; s < kScenarios; ++s) out.trainOf(s).csv.put(clickHeader()), out.testOf(s).csv.put(clickHeader());
  out.train().csv.put(clickHeader());
  bool ok = writeTraining(sim, o, out, summary, order) && writeTest(sim, o, out, summary, order);
  for (auto &s : out.all) ok = ok && s->csv.flush(s->file.get());
  for (auto &s : out.all) ok = s->file.commit(ok) && ok;
  if (!ok) return 1;
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "gen_zeus: %lld searches, %lld click rows, %lld test rows per scenario in "
                       "%.2f s (seed %llu)\n",
               o.searches, o.clicks, o.testRows, seconds, (unsigned long long)o.seed);
  summary.print(stderr);
  return 0;
}
