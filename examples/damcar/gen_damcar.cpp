// examples/damcar/gen_damcar.cpp: synthetic short-video exposure logs for DAMCAR and its
// baselines (models/damcar.rec, damcar_baselines.rec, damcar_rank.rec).
//
// The paper's WeChat and TikTok data cannot be fetched here, so this plants what DAMCAR is
// about (README.md next to this file): a cascade whose exposure policy is mostly
// popularity, so the exposed samples a retrieval model trains on are a biased slice of the
// user-item space; watch time that weights a user-item graph in which users of similar
// taste share videos, so a random walk from a user reaches unexposed videos she would
// finish; and test positives, after a 6:2:2 split in time, that are mostly videos the user
// was never exposed to in training.

#include "examples/common/Cli.h"
#include "examples/common/CsvOutput.h"
#include "examples/damcar/DamcarWorld.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <set>
#include <span>
#include <string>
#include <unordered_set>

namespace {

using namespace recc::damcar;
using recc::gen::Cli;
using recc::gen::CsvBuffer;
using recc::gen::OutputFile;

constexpr const char *kUsage = R"(usage: gen_damcar --out DIR [options]

Writes DAMCAR's synthetic data into DIR (examples/damcar/README.md describes each column):
  train.csv, valid.csv, test.csv   the exposures, split 6:2:2 in time
  items.csv                        the corpus: every video's id and content columns
Columns: user_id,item_id,author_id,v_0..v_3,a_0..a_3,t_0..t_3,watch_time,finish
(items.csv: item_id,author_id and the content columns).

  --out DIR              output folder (created if missing); files are written as
                         FILE.tmp and renamed when complete
  --users U              users (default 20000)
  --items M              videos (default 20000)
  --authors A            authors (default 2000)
  --exposures-per-user N mean exposures per user over the window (default 60)
  --seed S               seed (default 1); the same seed gives byte-identical files
  --help                 this text

A summary (exposure concentration, the share of test positives never exposed in training,
oracle and popularity recall@100) is printed to stderr. Bad flags exit with status 2.
)";

struct Options {
  std::string out;
  WorldSizes sizes;
  uint64_t seed = 1;
};

Options parseArgs(std::span<char *> args) {
  const Cli cli("gen_damcar", kUsage);
  Options o;
  cli.parse(args, {}, [&](std::string_view a, std::string_view v) {
    if (a == "--out") o.out = v;
    else if (a == "--users") o.sizes.users = cli.number<int>(a, v, 1, kUserVocab);
    else if (a == "--items") o.sizes.items = cli.number<int>(a, v, 1, kItemVocab);
    else if (a == "--authors") o.sizes.authors = cli.number<int>(a, v, 1, kAuthorVocab);
    else if (a == "--exposures-per-user") o.sizes.exposuresPerUser = cli.number<double>(a, v, 1, 100000);
    else if (a == "--seed") o.seed = cli.number<uint64_t>(a, v, 0, UINT64_MAX);
    else cli.unknown(a);
  });
  if (o.out.empty()) cli.fail("'--out DIR' is required");
  return o;
}

const char *kContent = "v_0,v_1,v_2,v_3,a_0,a_1,a_2,a_3,t_0,t_1,t_2,t_3";

/// Three decimals: the content vectors are noisy anyway, and files stay small.
void putRounded(CsvBuffer &csv, double x) { csv.put(std::round(x * 1000) / 1000); }

void putContent(CsvBuffer &csv, const Video &v) {
  for (const auto *vec : {&v.visual, &v.acoustic, &v.textual})
    for (float x : *vec) csv.sep(','), putRounded(csv, x);
}

bool writeSplit(const std::string &path, const DamcarWorld &w, const std::vector<Exposure> &rows) {
  OutputFile out("gen_damcar", path);
  if (!out.opened()) return false;
  CsvBuffer csv;
  csv.put(std::string("user_id,item_id,author_id,") + kContent + ",watch_time,finish\n");
  bool ok = true;
  for (const Exposure &e : rows) {
    const Video &v = w.videos[e.item];
    csv.put(e.user), csv.sep(','), csv.put(e.item), csv.sep(','), csv.put(v.author);
    putContent(csv, v);
    csv.sep(','), putRounded(csv, e.watchTime), csv.sep(','), csv.put(int(e.finish)), csv.sep('\n');
    if (csv.full()) ok = ok && csv.flush(out.get());
  }
  return out.commit(ok && csv.flush(out.get()));
}

bool writeItems(const std::string &path, const DamcarWorld &w) {
  OutputFile out("gen_damcar", path);
  if (!out.opened()) return false;
  CsvBuffer csv;
  csv.put(std::string("item_id,author_id,") + kContent + "\n");
  for (int i = 0; i < int(w.videos.size()); ++i) {
    csv.put(i), csv.sep(','), csv.put(w.videos[i].author);
    putContent(csv, w.videos[i]);
    csv.sep('\n');
  }
  return out.commit(csv.flush(out.get()));
}

/// Recall@K of a scoring rule over the whole corpus for a sample of test users, excluding
/// the videos each was exposed to in training.
template <class Score>
double recallAtK(const DamcarWorld &w, const std::vector<std::vector<int>> &positives,
                 const std::vector<std::unordered_set<int>> &seen, int k, Score score) {
  double sum = 0;
  int users = 0;
  std::vector<std::pair<double, int>> ranked(w.videos.size());
  for (int u = 0; u < int(positives.size()) && users < 1000; ++u) {
    if (positives[u].empty()) continue;
    int n = 0;
    for (int i = 0; i < int(w.videos.size()); ++i)
      if (!seen[u].count(i)) ranked[n++] = {-score(u, i), i};
    int top = std::min(k, n);
    std::partial_sort(ranked.begin(), ranked.begin() + top, ranked.begin() + n);
    std::set<int> got;
    for (int j = 0; j < top; ++j) got.insert(ranked[j].second);
    int hits = 0;
    for (int i : positives[u]) hits += got.count(i);
    sum += double(hits) / positives[u].size(), ++users;
  }
  return users ? sum / users : 0;
}

void summarize(const DamcarWorld &w, const std::vector<Exposure> &train, const std::vector<Exposure> &test) {
  const int items = int(w.videos.size());
  std::vector<int> order(items);
  for (int i = 0; i < items; ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](int a, int b) { return w.popWeight[a] > w.popWeight[b]; });
  std::vector<char> head(items);
  for (int r = 0; r < items / 10; ++r) head[order[r]] = 1;
  std::vector<std::unordered_set<int>> seen(w.viewers.size());
  long long headExposures = 0, finishes = 0;
  std::vector<char> exposed(items);
  for (const Exposure &e : train) seen[e.user].insert(e.item), headExposures += head[e.item],
                                  exposed[e.item] = 1, finishes += e.finish;
  std::vector<std::vector<int>> positives(w.viewers.size());
  long long pos = 0, unseen = 0, tail = 0;
  for (const Exposure &e : test) {
    if (!e.finish || seen[e.user].count(e.item)) continue;
    positives[e.user].push_back(e.item), ++pos;
    unseen += 1, tail += !head[e.item];
  }
  long long testFinishes = 0;
  for (const Exposure &e : test) testFinishes += e.finish;
  // How the exposed pairs differ from the rest: mean P(finish) on training exposures
  // against uniformly random user-video pairs.
  recc::gen::Rng rng(7);
  double randomFinish = 0;
  for (int k = 0; k < 20000; ++k)
    randomFinish += DamcarWorld::finishProbability(w.relevance(rng.below(int(w.viewers.size())), rng.below(items)));
  std::fprintf(stderr, "training exposures: %zu, finish rate %.3f; %.1f%% on the 10%% most popular "
                       "videos; %.1f%% of videos never exposed\n",
               train.size(), double(finishes) / train.size(), 100.0 * headExposures / train.size(),
               100.0 * std::count(exposed.begin(), exposed.end(), 0) / items);
  std::fprintf(stderr, "mean P(finish): exposed training pairs %.3f, random user-video pairs %.3f\n",
               double(finishes) / train.size(), randomFinish / 20000);
  std::fprintf(stderr, "test positives (finishes): %lld, of which %lld (%.1f%%) were never exposed to "
                       "that user in training, %.1f%% of those outside the popular 10%%\n",
               testFinishes, unseen, 100.0 * unseen / std::max(1LL, testFinishes), 100.0 * tail / std::max(1LL, pos));
  double oracle = recallAtK(w, positives, seen, 100, [&](int u, int i) { return w.relevance(u, i); });
  double popular = recallAtK(w, positives, seen, 100, [&](int, int i) { return w.popWeight[i]; });
  std::fprintf(stderr, "recall@100 over the corpus (1000 test users, training exposures excluded): "
                       "true affinity %.4f, popularity %.4f\n", oracle, popular);
}

} // namespace

int main(int argc, char **argv) {
  Options o = parseArgs(std::span(argv + 1, argc - 1));
  auto start = std::chrono::steady_clock::now();
  if (!recc::gen::makeOutputDir("gen_damcar", o.out)) return 1;
  DamcarWorld world(o.seed, o.sizes);
  std::vector<Exposure> all = world.simulate(), split[3];
  for (const Exposure &e : all) split[e.time < 0.6 ? 0 : e.time < 0.8 ? 1 : 2].push_back(e);
  const char *names[3] = {"train.csv", "valid.csv", "test.csv"};
  for (int s = 0; s < 3; ++s)
    if (!writeSplit(o.out + "/" + names[s], world, split[s])) return 1;
  if (!writeItems(o.out + "/items.csv", world)) return 1;
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "gen_damcar: %zu / %zu / %zu exposures (6:2:2 in time), %d videos in %.2f s (seed %llu)\n",
               split[0].size(), split[1].size(), split[2].size(), o.sizes.items, seconds,
               (unsigned long long)o.seed);
  summarize(world, split[0], split[2]);
  return 0;
}
