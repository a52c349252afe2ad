// examples/criteo/gen_criteo.cpp: a synthetic sample in Criteo's display-advertising layout
// (the Kaggle challenge's train.txt, the 1TB Click Logs' day_N), for models/criteo_dcn.rec's
// tests and for trying it without the real files.
//
// Each line is a click label, 13 integer features I1-I13 and 26 categorical features
// C1-C26, tab-separated, no header. As in the real files, any cell but the label may be
// empty (at each column's rate in the Kaggle set: I12 77%, C22 76%, ...), the integers are
// heavy-tailed counts (I5's median is in the thousands, its tail in the millions; I2 goes
// down to -3), and the categoricals are 8-hex-digit hashes whose values follow Zipf
// frequencies, each field with its Kaggle number of distinct values (capped by
// --max-values).
//
// A fixed world drawn from --world-seed plants the signal: each categorical value has a
// log-odds effect, each integer column a slope on its latent (log-scale) value, and C1 x C2
// a factor interaction that only a model crossing features sees. Empty cells carry no
// effect. The intercept is found by bisection so that the expected click rate is --ctr
// (Kaggle's 0.256 by default). The oracle AUC (of the true click probabilities) is printed to
// stderr: what a perfect model could reach on the file.

#include "examples/common/Auc.h"
#include "examples/common/Cli.h"
#include "examples/common/CsvOutput.h"
#include "examples/common/Random.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace {

using recc::gen::Cli;
using recc::gen::CsvBuffer;
using recc::gen::mix64;
using recc::gen::Rng;
using recc::gen::sigmoid;
using recc::gen::ZipfIds;

constexpr int kInts = 13, kCats = 26, kFactors = 4;
constexpr int kCalibrationRows = 50000;
constexpr long long kOracleRows = 1000000;  // the oracle AUC is taken over the first rows

// Distinct values per field in the Kaggle set (DLRM's counts) and the share of empty cells.
constexpr std::array<int, kCats> kCardinality = {
    1460, 583,  10131227, 2202608, 305,  24,      12517, 633,    3,     93145, 5683,  8351593, 3194,
    27,   14992, 5461306, 10,      5652, 2173,    4,     7046547, 18,   15,    286181, 105,  142572};
constexpr std::array<double, kCats> kCatEmpty = {
    0, 0, 0.03, 0.03, 0, 0.12, 0, 0, 0, 0.03, 0, 0.03, 0,
    0, 0, 0.03, 0, 0, 0.44, 0.44, 0.03, 0.76, 0, 0.03, 0.44, 0.44};
constexpr std::array<double, kInts> kIntEmpty = {0.45, 0,    0.21, 0.22, 0.03, 0.22, 0.04,
                                                 0.0005, 0.04, 0.45, 0.04, 0.77, 0.22};
// Integer x = floor(exp(mu + s z)) (I2 minus 3), z standard normal: heavy-tailed counts.
constexpr std::array<double, kInts> kIntMu = {0.5, 1.5, 1.8, 1.5, 7.5, 3.5, 1.5,
                                              2.3, 3.5, 0.3, 1.0, 0.2, 1.5};
constexpr std::array<double, kInts> kIntSigma = {1.2, 1.5, 1.4, 1.1, 2.0, 1.6, 1.4,
                                                 1.0, 1.3, 0.8, 1.0, 1.0, 1.4};

struct Options {
  long long rows = 100000;
  uint64_t seed = 1, worldSeed = 42;
  std::string out;
  double ctr = 0.256, skew = 1.1, effect = 0.3, slope = 0.3, cross = 0.5;
  int maxValues = 100000;
};

/// The latent world: value frequencies, effects and the calibrated intercept.
struct World {
  Options o;
  std::vector<ZipfIds> values;                 // per field: Zipf ranks -> value index
  std::vector<std::vector<float>> effect;      // per field, per value: log-odds
  std::vector<std::vector<uint32_t>> hex;      // per field, per value: the 8-hex-digit text
  std::array<double, kInts> slope{};           // per integer column, on its latent z
  std::vector<std::array<float, kFactors>> u1, v2;  // C1 and C2 factors
  double intercept = 0;
};

/// One row before its label: cells (value index or -1 for empty) and the log-odds.
struct Row {
  std::array<long long, kInts> ints{};
  std::array<bool, kInts> intPresent{};
  std::array<int, kCats> cats{};
  double logit = 0;
};

std::vector<uint32_t> hexCodes(int field, int n, uint64_t worldSeed) {
  std::vector<uint32_t> codes(n);
  for (int v = 0; v < n; ++v)
    codes[v] = uint32_t(mix64(worldSeed ^ (uint64_t(field) << 40) ^ uint64_t(v)));
  return codes;
}

World makeWorld(const Options &o) {
  World w{o, {}, {}, {}, {}, {}, {}, 0};
  Rng world(o.worldSeed);
  for (int j = 0; j < kCats; ++j) {
    int n = std::min(kCardinality[j], o.maxValues);
    w.values.emplace_back(n, o.skew, world);
    std::vector<float> e(n);
    for (float &x : e) x = float(o.effect * world.normal());
    w.effect.push_back(std::move(e));
    w.hex.push_back(hexCodes(j, n, o.worldSeed));
  }
  for (double &b : w.slope) b = o.slope * world.normal();
  auto factors = [&](int n) {
    std::vector<std::array<float, kFactors>> f(n);
    for (auto &row : f)
      for (float &x : row) x = float(world.normal());
    return f;
  };
  w.u1 = factors(int(w.effect[0].size())), w.v2 = factors(int(w.effect[1].size()));
  return w;
}

Row drawRow(const World &w, Rng &rng) {
  Row r;
  for (int i = 0; i < kInts; ++i) {
    double z = rng.normal();
    r.intPresent[i] = !rng.chance(kIntEmpty[i]);
    r.ints[i] = (long long)std::floor(std::exp(kIntMu[i] + kIntSigma[i] * z)) - (i == 1 ? 3 : 0);
    if (r.intPresent[i]) r.logit += w.slope[i] * z;
  }
  for (int j = 0; j < kCats; ++j) {
    r.cats[j] = rng.chance(kCatEmpty[j]) ? -1 : w.values[j].sample(rng);
    if (r.cats[j] >= 0) r.logit += w.effect[j][r.cats[j]];
  }
  if (r.cats[0] >= 0 && r.cats[1] >= 0) {
    double dot = 0;
    for (int k = 0; k < kFactors; ++k) dot += w.u1[r.cats[0]][k] * w.v2[r.cats[1]][k];
    r.logit += w.o.cross * dot / std::sqrt(double(kFactors));
  }
  return r;
}

/// The intercept whose expected click rate over a calibration sample is --ctr.
void calibrate(World &w) {
  Rng rng(mix64(w.o.worldSeed + 0xca11b));
  std::vector<double> logits(kCalibrationRows);
  for (double &z : logits) z = drawRow(w, rng).logit;
  w.intercept = recc::gen::bisect(
      [&](double b) {
        double sum = 0;
        for (double z : logits) sum += sigmoid(b + z);
        return sum / double(logits.size());
      },
      w.o.ctr);
}

void putRow(CsvBuffer &csv, const World &w, const Row &r, int click) {
  csv.put((long long)click);
  for (int i = 0; i < kInts; ++i) {
    csv.sep('\t');
    if (r.intPresent[i]) csv.put(r.ints[i]);
  }
  for (int j = 0; j < kCats; ++j) {
    csv.sep('\t');
    if (r.cats[j] < 0) continue;
    char text[9];
    std::snprintf(text, sizeof text, "%08x", w.hex[j][r.cats[j]]);
    csv.put(std::string_view(text, 8));
  }
  csv.sep('\n');
}

struct Summary {
  long long rows = 0, clicks = 0;
  std::vector<float> truth;  // the first kOracleRows rows' click probabilities
  std::vector<uint8_t> labels;
};

bool writeRows(const World &w, FILE *f, Summary &s) {
  Rng rng(mix64(w.o.seed * 0x9e3779b97f4a7c15ULL + 0xc71e0));
  CsvBuffer csv;
  recc::gen::Progress progress("gen_criteo", w.o.rows);
  bool ok = true;
  for (long long k = 0; k < w.o.rows && ok; ++k) {
    progress.tick(k);
    Row r = drawRow(w, rng);
    double p = sigmoid(w.intercept + r.logit);
    int click = rng.uniform() < p;
    putRow(csv, w, r, click);
    s.rows++, s.clicks += click;
    if (k < kOracleRows) s.truth.push_back(float(p)), s.labels.push_back(uint8_t(click));
    if (csv.full()) ok = csv.flush(f);
  }
  progress.finish();
  return ok && csv.flush(f);
}

constexpr const char *kUsage = R"(usage: gen_criteo --out FILE [options]

Writes a synthetic sample in Criteo's layout: tab-separated, no header; a click label,
integer features I1-I13 and 8-hex-digit categorical features C1-C26; empty cells at the
Kaggle set's rates, heavy-tailed integers, Zipf-distributed categorical values with a
planted click model. models/criteo_dcn.rec reads it as it reads the real files.

  --out FILE           output file ('-' for stdout); a regular file is written to
                       FILE.tmp and renamed when complete
  --rows N             rows to write (default 100000)
  --seed S             seed for sampling the rows (default 1)
  --world-seed S       seed for the click model and the values' codes (default 42)
  --ctr R              expected click rate (default 0.256, the Kaggle set's)
  --max-values N       cap on each field's distinct values (default 100000)
  --skew S             Zipf exponent of the values' frequencies (default 1.1)
  --effect E           standard deviation of a categorical value's log-odds (default 0.3)
  --slope B            standard deviation of an integer column's slope (default 0.3)
  --cross C            weight of the C1 x C2 factor interaction (default 0.5)
  --help               this text

Train and test sets share --world-seed and differ in --seed:
  gen_criteo --out train.txt --rows 1000000 --seed 1
  gen_criteo --out test.txt  --rows 100000  --seed 2
The click rate and the oracle AUC (of the true probabilities, over the first 1000000 rows)
are printed to stderr. Bad flags exit with status 2.
)";

Options parseArgs(std::span<char *> args) {
  const Cli cli("gen_criteo", kUsage);
  Options o;
  cli.parse(args, {}, [&](std::string_view a, std::string_view v) {
    if (a == "--out") o.out = v;
    else if (a == "--rows") o.rows = cli.number<long long>(a, v, 1, 1LL << 40);
    else if (a == "--seed") o.seed = cli.number<uint64_t>(a, v, 0, UINT64_MAX);
    else if (a == "--world-seed") o.worldSeed = cli.number<uint64_t>(a, v, 0, UINT64_MAX);
    else if (a == "--ctr") o.ctr = cli.number<double>(a, v, 0.001, 0.999);
    else if (a == "--max-values") o.maxValues = cli.number<int>(a, v, 1, 20000000);
    else if (a == "--skew") o.skew = cli.number<double>(a, v, 0, 5);
    else if (a == "--effect") o.effect = cli.number<double>(a, v, 0, 10);
    else if (a == "--slope") o.slope = cli.number<double>(a, v, 0, 10);
    else if (a == "--cross") o.cross = cli.number<double>(a, v, 0, 10);
    else cli.unknown(a);
  });
  if (o.out.empty()) cli.fail("--out FILE is required");
  return o;
}

} // namespace

int main(int argc, char **argv) {
  Options o = parseArgs(std::span(argv + 1, argc - 1));
  World w = makeWorld(o);
  calibrate(w);
  recc::gen::OutputFile out("gen_criteo", o.out);
  if (!out.opened()) return 1;
  Summary s;
  if (!out.commit(writeRows(w, out.get(), s))) return 1;
  std::fprintf(stderr, "gen_criteo: %lld rows, click rate %.4f, oracle AUC %.4f\n", s.rows,
               double(s.clicks) / double(s.rows), recc::gen::rocAuc(s.truth, s.labels));
  return 0;
}
