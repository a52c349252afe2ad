// examples/sarnet/gen_sarnet.cpp: synthetic multi-scenario travel data for SAR-Net and its
// baselines (models/sarnet.rec, sarnet_baselines.rec, multi_scenario.rec, din.rec).
//
// The paper's data is proprietary, so this plants what SAR-Net is about (README.md next
// to this file): 20 scenarios as skewed as its Table 1, users visiting several of them
// (Table 2), cross-scenario behaviours whose relevance depends on the target item and on
// the scenario they happened in, per-scenario shifts in how features map to clicks, and
// manual intervention with biased logged clicks and the Fairness Coefficient of Eq. 1.
//
// Three passes over one deterministic impression stream: calibrate the scenario
// intercepts; draw the training rows to total each (item, scenario)'s PV and F for the
// Fairness Coefficient; draw the stream again and write both files.

#include "examples/common/Cli.h"
#include "examples/common/CsvOutput.h"
#include "examples/sarnet/Fairness.h"
#include "examples/sarnet/RowFormat.h"
#include "examples/sarnet/Summary.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <span>
#include <string>

namespace {

using namespace recc::sarnet;
using recc::gen::Cli;

constexpr const char *kUsage = R"(usage: gen_sarnet --train FILE --test FILE [options]

Writes SAR-Net's synthetic multi-scenario data: a training file and a test file drawn from
one world (users, items, 20 scenarios), the test rows later in time than the training
rows. Columns (examples/sarnet/README.md):
  scenario,scn_id,scn_type,scn_time,user_id,country,item_id,category,dest,item_score,
  seq_item,seq_cat,seq_dest,seq_scn,seq_type,seq_time,user_x_cat,promoted,fc,click
(the test file has no fc; its clicks reflect true preference, without the intervention
bias of the training labels). Lists are '|'-separated, most recent first, up to 50.

  --train FILE      training CSV (written as FILE.tmp, renamed when complete; '-' = stdout)
  --test FILE       test CSV (likewise)
  --rows N          training rows (default 400000)
  --test-rows M     test rows (default 100000)
  --seed S          seed of the world and the rows (default 1); the same seed gives
                    byte-identical files
  --help            this text

A summary (per-scenario shares and CTRs against the paper's Table 1, promoted share,
users by scenarios visited against Table 2, the fairness coefficient, the planted
signals and oracle AUCs) is printed to stderr. Bad flags exit with status 2.
)";

struct Options {
  std::string train, test;
  long long rows = 400000, testRows = 100000;
  uint64_t seed = 1;
};

Options parseArgs(std::span<char *> args) {
  const Cli cli("gen_sarnet", kUsage);
  Options o;
  cli.parse(args, {}, [&](std::string_view a, std::string_view v) {
    if (a == "--train") o.train = v;
    else if (a == "--test") o.test = v;
    else if (a == "--rows") o.rows = cli.number<long long>(a, v, 1, 1LL << 32);
    else if (a == "--test-rows") o.testRows = cli.number<long long>(a, v, 0, 1LL << 32);
    else if (a == "--seed") o.seed = cli.number<uint64_t>(a, v, 0, UINT64_MAX);
    else cli.unknown(a);
  });
  if (o.train.empty()) cli.fail("'--train FILE' is required");
  if (o.test.empty()) cli.fail("'--test FILE' is required");
  if (o.train == o.test) cli.fail("'--train' and '--test' name the same file '" + o.train + "'");
  return o;
}

/// Pass 2: Eq. 1's totals over the training rows.
FairnessTable fairnessOverTraining(const World &w, PreWindowHistories &pre, const Options &o) {
  FairnessTable fc(kItems, kScenarios);
  Simulator sim(w, pre, o.rows + o.testRows);
  for (long long k = 0; k < o.rows; ++k) {
    const Impression &m = sim.next(false);
    fc.add(m.req.item, m.req.scenario, m.p.truth);
  }
  fc.finish();
  return fc;
}

/// Pass 3: the same stream again, written out.
bool writeFiles(const World &w, PreWindowHistories &pre, const Options &o,
                const FairnessTable &fc, FILE *train,
                FILE *test, Summary &summary) {
  Simulator sim(w, pre, o.rows + o.testRows);
  recc::gen::CsvBuffer csv;
  recc::gen::Progress progress("gen_sarnet", o.rows + o.testRows);
  auto header = [&](bool withFc) { csv.put(csvHeader(withFc)); };
  bool ok = true;
  header(true);
  for (long long k = 0; k < o.rows && ok; ++k) {
    progress.tick(k);
    const Impression &m = sim.next(false);
    double w_fc = fc.fc(m.req.item, m.req.scenario);
    formatRow(csv, w, m, w_fc);
    summary.addTrain(m, w_fc, std::isnan(fc.rawRatio(m.req.item, m.req.scenario)));
    if (csv.full()) ok = csv.flush(train);
  }
  ok = ok && csv.flush(train);
  header(false);
  for (long long k = 0; k < o.testRows && ok; ++k) {
    progress.tick(o.rows + k);
    const Impression &m = sim.next(true);
    formatRow(csv, w, m, std::nullopt);
    summary.addTest(m);
    if (csv.full()) ok = csv.flush(test);
  }
  progress.finish();
  return ok && csv.flush(test);
}

} // namespace

int main(int argc, char **argv) {
  Options o = parseArgs(std::span(argv + 1, argc - 1));
  auto start = std::chrono::steady_clock::now();
  // Open both outputs first, so a bad path fails before any work.
  recc::gen::OutputFile train("gen_sarnet", o.train), test("gen_sarnet", o.test);
  World world(o.seed);
  PreWindowHistories pre(world);
  calibrate(world, pre);
  FairnessTable fc = fairnessOverTraining(world, pre, o);
  Summary summary(world);
  bool ok = writeFiles(world, pre, o, fc, train.get(), test.get(), summary);
  // Commit the test file only if the training file made it.
  if (!train.commit(ok) || !test.commit(ok)) return 1;
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "gen_sarnet: %lld training + %lld test rows in %.2f s (%.0f rows/s "
                       "written, seed %llu)\n",
               o.rows, o.testRows, seconds, double(o.rows + o.testRows) / seconds,
               (unsigned long long)o.seed);
  summary.print(stderr);
  return 0;
}
