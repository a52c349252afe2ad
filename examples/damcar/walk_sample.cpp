// examples/damcar/walk_sample.cpp: DAMCAR's target domain S_sam from an exposure log, by
// random walks with restart (RandomWalk.h; paper Eqs. 1-3, spec 2.3), or the same number
// of uniformly random unexposed pairs for the "w/o TDG" ablation.

#include "examples/common/Cli.h"
#include "examples/common/CsvInput.h"
#include "examples/common/CsvOutput.h"
#include "examples/damcar/RandomWalk.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <span>
#include <string>
#include <thread>

namespace {

using namespace recc::damcar;
using recc::gen::Cli;

constexpr const char *kUsage = R"(usage: walk_sample --exposures FILE --out FILE [options]

Reads the exposed samples S_exp (one row per exposure: user, item, engagement weight),
builds the user-item graph weighted by engagement, walks from every user and writes the
hard unexposed samples of Eq. 3 as CSV: USER_COL,ITEM_COL,visits[,item columns].

  --exposures FILE   CSV with a header row holding the user, item and weight columns
  --out FILE         output CSV (written as FILE.tmp, renamed when complete)
  --user-col NAME    user id column (default user_id)
  --item-col NAME    item id column (default item_id)
  --weight-col NAME  engagement column, e.g. watch time (default watch_time); repeats of a
                     (user, item) pair are summed, and 1e-6 is added to each pair
  --radius R         hops per walk before restarting at the user; u -> i is hop 1
                     (default 25, the paper's WeChat setting)
  --visits H         item visits per user, summed over restarts (default 50)
  --count-walks      H counts walks of R hops instead of item visits (spec A20)
  --random           write as many uniformly random unexposed pairs instead (the paper's
                     "w/o TDG" ablation); visits is 0
  --items FILE       item features to join onto each output row by the item column (every
                     other column of FILE is appended)
  --seed S           seed (default 1); each user's walks use their own generator seeded
                     by (seed, user), so the output does not depend on --threads
  --threads N        worker threads (default: all cores)
  --help             this text
)";

struct Options {
  std::string exposures, out, items, userCol = "user_id", itemCol = "item_id", weightCol = "watch_time";
  WalkOptions walk;
  bool random = false;
};

Options parseArgs(std::span<char *> args) {
  const Cli cli("walk_sample", kUsage);
  Options o;
  o.walk.threads = int(std::max(1u, std::thread::hardware_concurrency()));
  cli.parse(args, {"--count-walks", "--random"}, [&](std::string_view a, std::string_view v) {
    if (a == "--exposures") o.exposures = v;
    else if (a == "--out") o.out = v;
    else if (a == "--items") o.items = v;
    else if (a == "--user-col") o.userCol = v;
    else if (a == "--item-col") o.itemCol = v;
    else if (a == "--weight-col") o.weightCol = v;
    else if (a == "--radius") o.walk.radius = cli.number<int>(a, v, 1, 1000000);
    else if (a == "--visits") o.walk.visits = cli.number<int>(a, v, 1, 100000000);
    else if (a == "--count-walks") o.walk.countWalks = true;
    else if (a == "--random") o.random = true;
    else if (a == "--seed") o.walk.seed = cli.number<uint64_t>(a, v, 0, UINT64_MAX);
    else if (a == "--threads") o.walk.threads = cli.number<int>(a, v, 1, 4096);
    else cli.unknown(a);
  });
  if (o.exposures.empty()) cli.fail("'--exposures FILE' is required");
  if (o.out.empty()) cli.fail("'--out FILE' is required");
  return o;
}

std::vector<Interaction> readExposures(const Options &o) {
  recc::gen::CsvInput in(o.exposures);
  int u = in.column(o.userCol), i = in.column(o.itemCol), w = in.column(o.weightCol);
  std::vector<Interaction> edges;
  while (in.next()) {
    double weight = in.number(w);
    if (!(weight >= 0) || !std::isfinite(weight))
      throw recc::gen::CsvError(o.exposures + ":" + std::to_string(in.line()) + ": column '" +
                                o.weightCol + "': " + std::string(in.field(w)) +
                                " is not a finite weight >= 0");
    edges.push_back({int(in.integer(u, 0, INT32_MAX - 1)), int(in.integer(i, 0, INT32_MAX - 1)), weight});
  }
  if (edges.empty()) throw recc::gen::CsvError(o.exposures + ": no exposure rows");
  return edges;
}

/// The item features to append: the header suffix and each item's text.
struct ItemColumns {
  std::string header;
  std::map<int, std::string> byItem;
};

ItemColumns readItems(const Options &o) {
  ItemColumns cols;
  if (o.items.empty()) return cols;
  recc::gen::CsvInput in(o.items);
  int key = in.column(o.itemCol);
  for (int k = 0; k < int(in.header().size()); ++k)
    if (k != key) cols.header += "," + in.header()[k];
  while (in.next()) {
    int item = int(in.integer(key, 0, INT32_MAX - 1));
    std::string text;
    for (int k = 0; k < int(in.header().size()); ++k)
      if (k != key) text += "," + std::string(in.field(k));
    if (!cols.byItem.emplace(item, std::move(text)).second)
      throw recc::gen::CsvError(o.items + ":" + std::to_string(in.line()) + ": item " +
                                std::to_string(item) + " appears twice");
  }
  return cols;
}

bool write(const Options &o, const std::vector<HardSample> &samples, const ItemColumns &items) {
  recc::gen::OutputFile out("walk_sample", o.out);
  if (!out.opened()) return false;
  recc::gen::CsvBuffer csv;
  csv.put(o.userCol + "," + o.itemCol + ",visits" + items.header + "\n");
  bool ok = true;
  for (const HardSample &s : samples) {
    csv.put(s.user), csv.sep(','), csv.put(s.item), csv.sep(','), csv.put(s.visits);
    if (!o.items.empty()) {
      auto it = items.byItem.find(s.item);
      if (it == items.byItem.end()) {
        std::fprintf(stderr, "walk_sample: item %d has no row in %s\n", s.item, o.items.c_str());
        return out.commit(false), false;
      }
      csv.put(it->second);
    }
    csv.sep('\n');
    if (csv.full()) ok = ok && csv.flush(out.get());
  }
  return out.commit(ok && csv.flush(out.get()));
}

} // namespace

int main(int argc, char **argv) {
  Options o = parseArgs(std::span(argv + 1, argc - 1));
  auto start = std::chrono::steady_clock::now();
  try {
    ExposureGraph graph(readExposures(o));
    ItemColumns items = readItems(o);
    std::vector<HardSample> samples = selectHardSamples(graph, o.walk);
    size_t walked = samples.size();
    if (o.random) samples = randomUnexposed(graph, walked, o.walk.seed);
    if (!write(o, samples, items)) return 1;
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::fprintf(stderr, "walk_sample: %d users, %d items, %lld exposed pairs; %zu %s samples "
                         "(%.2f per user) in %.2f s\n",
                 graph.users(), graph.items(), graph.edges(), samples.size(),
                 o.random ? "random unexposed" : "hard", double(samples.size()) / std::max(1, graph.users()),
                 seconds);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "walk_sample: %s\n", e.what());
    return 1;
  }
  return 0;
}
