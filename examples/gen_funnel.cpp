// examples/gen_funnel.cpp: a synthetic impression -> click -> DAction/OAction ->
// purchase funnel for ESM² and ESMM (models/esm2.rec, models/esmm.rec).
//
// No public data set has cart/wish labels on impressions, so this generator plants the
// mechanism ESM² is about. A fixed "world" of latent user and item factors, shop/brand/
// category effects and user demographics is drawn from --world-seed. Each impression then
// draws a Zipf-skewed user and item from --seed, and three logistic stages decide its labels:
//   1. click   <- user/item biases, a user·item factor product, shop/brand/category and
//                 gender×category effects, hour of day;
//   2. DAction <- (clicked rows only) its own factors, plus affordability (purchasing
//                 power against price), review count and account age;
//   3. buy     <- (clicked rows only) a large jump when DAction happened, so that
//                 P(buy|click,DAction) >> P(buy|click,no DAction), plus factors correlated
//                 with the DAction ones, so the abundant DAction labels teach the rare
//                 purchase task (the paper's data-sparsity argument).
// daction <= click and buy <= click hold by construction; buy without DAction is the OAction
// path. Each stage's intercept is found by bisection on expected rates over a calibration
// sample drawn from the world alone, so train and test files made with the same
// --world-seed and different --seed come from one distribution. The num_* columns are noisy
// observations of the same latent quantities (price, historical CTR/CVR, a user-item
// preference score, ...) at deliberately different scales and offsets, so z-scoring matters.

#include "examples/common/Cli.h"
#include "examples/common/CsvOutput.h"
#include "examples/common/Random.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <numbers>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace {

using recc::gen::bisect;
using recc::gen::Cli;
using recc::gen::CsvBuffer;
using recc::gen::Rng;
using recc::gen::sigmoid;
using recc::gen::ZipfIds;

constexpr int kFactors = 8;        // latent dims per stage
constexpr int kNumeric = 8;        // num_0 .. num_7
constexpr double kDActionJump = 3.0;  // log-odds added to buy when DAction happened
constexpr int kCalibrationRows = 200000;

struct Options {
  long long rows = 1000000;
  uint64_t seed = 1, worldSeed = 42;
  std::string out;
  double ctr = 0.06, dactionRate = 0.12, buyRate = 0.01;  // paper Table 1, rounded
  int users = 100000, items = 100000, shops = 20000, brands = 10000, categories = 1000;
  int genders = 3, ages = 10, powers = 8;
  double userSkew = 0.85, itemSkew = 1.05;  // Zipf exponents
  bool truth = false;
};

std::vector<float> normals(size_t n, double sd, Rng &rng) {
  std::vector<float> v(n);
  for (auto &x : v) x = float(sd * rng.normal());
  return v;
}

/// rho*a + sqrt(1-rho^2)*fresh noise: purchase effects that share a part with DAction ones.
float correlated(float a, double rho, double sd, Rng &rng) {
  return float(rho * a + std::sqrt(1 - rho * rho) * sd * rng.normal());
}

int bucket(double t, int n) { return std::clamp(int(t * n), 0, n - 1); }

double dot(const float *a, const float *b) {
  double s = 0;
  for (int k = 0; k < kFactors; ++k) s += double(a[k]) * b[k];
  return s;
}

/// Per-stage latent effects of one user or item: a bias and a factor vector for each of
/// click (C), DAction (A) and buy (B). Kept together (not one array per field) because a
/// row reads all of them at a random id, and scattered arrays cost a cache miss each.
struct Latent {
  float biasC, biasA, biasB;
  float fC[kFactors], fA[kFactors], fB[kFactors];

  void draw(double sdC, double sdA, Rng &rng) {
    const double sf = std::pow(kFactors, -0.25);  // unit-variance factor products
    biasC = float(sdC * rng.normal()), biasA = float(sdA * rng.normal());
    biasB = correlated(biasA, 0.6, sdA, rng);
    for (int k = 0; k < kFactors; ++k) {
      fC[k] = float(sf * rng.normal()), fA[k] = float(sf * rng.normal());
      fB[k] = correlated(fA[k], 0.5, sf, rng);
    }
  }
};

struct User {
  Latent z;
  int gender, age, power;
  float tenureDays;
};

struct Item {
  Latent z;
  int shop, brand, category;
  float logPrice, logReviews, histCtr, histCvr;
};

/// Everything drawn from --world-seed: shared by every file made with that seed.
struct World {
  Options o;
  Rng rng;
  ZipfIds userIds, itemIds;
  std::vector<User> users;
  std::vector<Item> items;
  // Shop, brand, category and demographic effects per stage.
  std::vector<float> shopC, shopB, brandC, brandA, catC, catA, catGenderC, ageC, powerLogPrice;
  double interceptC = 0, interceptA = 0, interceptB = 0;

  explicit World(const Options &opt)
      : o(opt), rng(opt.worldSeed * 0x2545f4914f6cdd1dULL + 17),
        userIds(o.users, o.userSkew, rng), itemIds(o.items, o.itemSkew, rng) {
    drawEffects();
    drawUsers();
    drawItems();
  }

  void drawEffects() {
    shopC = normals(o.shops, 0.3, rng), shopB = normals(o.shops, 0.3, rng);
    brandC = normals(o.brands, 0.3, rng), brandA = normals(o.brands, 0.3, rng);
    catC = normals(o.categories, 0.3, rng), catA = normals(o.categories, 0.4, rng);
    catGenderC = normals(size_t(o.categories) * o.genders, 0.3, rng);
    ageC = normals(o.ages, 0.2, rng);
    // Richer users afford dearer items: a log-price each power level is comfortable with.
    for (int p = 0; p < o.powers; ++p)
      powerLogPrice.push_back(float(4.0 + 2.8 * ((p + 0.5) / o.powers - 0.5)));
  }

  void drawUsers() {
    users.resize(o.users);
    for (User &u : users) {
      bool unknown = o.genders > 1 && rng.uniform() < 0.04;  // the last gender is "unknown"
      u.gender = o.genders == 1 ? 0 : unknown ? o.genders - 1 : rng.below(o.genders - 1);
      u.age = bucket(0.45 + 0.2 * rng.normal(), o.ages);
      u.power = bucket(0.3 + 0.3 * (u.age + 0.5) / o.ages + 0.2 * rng.normal(), o.powers);
      u.tenureDays = float(std::floor(3650 * rng.uniform()));
      u.z.draw(0.5, 0.4, rng);
    }
  }

  void drawItems() {
    ZipfIds shopOf(o.shops, 0.9, rng), brandOf(o.brands, 0.9, rng), catOf(o.categories, 0.9, rng);
    std::vector<float> catLogPrice = normals(o.categories, 1.0, rng);
    std::vector<int> rankOf(o.items);
    for (int r = 0; r < o.items; ++r) rankOf[itemIds.id(r)] = r;
    items.resize(o.items);
    for (int i = 0; i < o.items; ++i) {
      Item &it = items[i];
      it.z.draw(0.6, 0.5, rng);
      int c = it.category = catOf.sample(rng);
      it.shop = shopOf.sample(rng), it.brand = brandOf.sample(rng);
      it.logPrice = float(4.0 + catLogPrice[c] + 0.5 * rng.normal());
      it.logReviews = float(std::max(0.0, 7.0 - 0.6 * std::log1p(rankOf[i]) + 0.8 * rng.normal()));
      // Accumulated rates from "historical logs": noisy views of the item's true propensities.
      double clickiness = it.z.biasC + shopC[it.shop] + brandC[it.brand] + catC[c];
      it.histCtr = float(sigmoid(-2.75 + clickiness + 0.3 * rng.normal()));
      it.histCvr = float(sigmoid(-4.6 + it.z.biasB + 0.5 * it.z.biasA + 0.3 * rng.normal()));
    }
  }
};

/// One impression: its features and each stage's logit without the calibrated intercept.
struct Row {
  int user, item, shop, brand, category, gender, age, power;
  double num[kNumeric];
  double zClick, zDAction, zBuyO, zBuyD;  // zBuyO: no DAction (OAction); zBuyD: after DAction
};

Row drawRow(const World &w, Rng &rng) {
  Row r;
  r.user = w.userIds.sample(rng), r.item = w.itemIds.sample(rng);
  const User &u = w.users[r.user];
  const Item &it = w.items[r.item];
  r.shop = it.shop, r.brand = it.brand, r.category = it.category;
  r.gender = u.gender, r.age = u.age, r.power = u.power;
  double affinity = dot(u.z.fC, it.z.fC);
  double logPrice = it.logPrice + 0.05 * rng.normal();  // per-impression discount
  double hour = rng.below(24);
  double afford = std::tanh(w.powerLogPrice[u.power] - logPrice);
  double reviews = std::tanh((it.logReviews - 3.0) / 2.0);
  double loyalty = std::tanh((u.tenureDays - 1500.0) / 800.0);  // old accounts cart more

  r.zClick = u.z.biasC + it.z.biasC + w.shopC[it.shop] + w.brandC[it.brand] +
             w.catC[it.category] + w.catGenderC[size_t(it.category) * w.o.genders + u.gender] +
             w.ageC[u.age] +
             0.6 * affinity + 0.3 * std::cos(2 * std::numbers::pi * (hour - 21) / 24) +
             0.3 * rng.normal();
  r.zDAction = u.z.biasA + it.z.biasA + w.catA[it.category] + w.brandA[it.brand] +
               0.7 * dot(u.z.fA, it.z.fA) + 0.6 * afford + 0.3 * reviews + 0.3 * loyalty +
               0.3 * rng.normal();
  double zBuy = u.z.biasB + it.z.biasB + w.shopB[it.shop] + 0.7 * dot(u.z.fB, it.z.fB) +
                0.3 * rng.normal();
  // A carted/wished item is bought mostly when affordable; an impulse buy cares less.
  r.zBuyO = zBuy + 0.3 * afford;
  r.zBuyD = zBuy + kDActionJump + 0.8 * afford;

  double num[kNumeric] = {
      std::exp(logPrice),                                  // price, median ~55, heavy-tailed
      it.histCtr,                                          // historical CTR, ~0.06
      it.histCvr,                                          // historical CVR, ~0.01
      50 + 15 * (affinity + 0.7 * rng.normal()),           // user-item preference score
      u.tenureDays,                                        // account age in days, 0..3649
      std::round(std::exp(it.logReviews)),                 // review count, heavy-tailed
      hour,                                                // hour of day
      -40 + 3 * rng.normal(),                              // a sensor reading with no signal
  };
  std::copy(std::begin(num), std::end(num), r.num);
  return r;
}

/// Sets the three intercepts so that the expected CTR, DAction/click and purchase/click over
/// a world-seeded sample hit the targets. Expected rates rather than sampled labels keep the
/// bisection smooth, and each stage is weighted by the previous stage's probability.
void calibrate(World &w) {
  Rng rng(w.o.worldSeed ^ 0xca11b4a7e5eedULL);
  std::vector<Row> rows(kCalibrationRows);
  for (auto &r : rows) r = drawRow(w, rng);
  std::vector<double> pc(rows.size(), 1.0), pa(rows.size());
  // The mean of term(k) over rows, each row weighted by its click probability pc[k].
  auto weighted = [&](auto term) {
    double s = 0, n = 0;
    for (size_t k = 0; k < rows.size(); ++k) s += pc[k] * term(k), n += pc[k];
    return s / n;
  };
  w.interceptC = bisect(
      [&](double a) { return weighted([&](size_t k) { return sigmoid(a + rows[k].zClick); }); },
      w.o.ctr);  // pc is still all ones here: a plain mean over impressions
  for (size_t k = 0; k < rows.size(); ++k) pc[k] = sigmoid(w.interceptC + rows[k].zClick);
  w.interceptA = bisect(
      [&](double a) { return weighted([&](size_t k) { return sigmoid(a + rows[k].zDAction); }); },
      w.o.dactionRate);
  for (size_t k = 0; k < rows.size(); ++k) pa[k] = sigmoid(w.interceptA + rows[k].zDAction);
  w.interceptB = bisect(
      [&](double a) {
        return weighted([&](size_t k) {
          return pa[k] * sigmoid(a + rows[k].zBuyD) + (1 - pa[k]) * sigmoid(a + rows[k].zBuyO);
        });
      },
      w.o.buyRate);
}

struct Counts {
  long long rows = 0, clicks = 0, dactions = 0, buys = 0, buysAfterDAction = 0;
};

constexpr const char *kHeader =
    "user_id,item_id,shop_id,brand_id,category_id,gender,age,power,"
    "num_0,num_1,num_2,num_3,num_4,num_5,num_6,num_7,click,daction,buy";
constexpr const char *kTruthHeader = ",true_ctr,true_ctavr,true_cvr,true_ctcvr";

bool writeRows(const World &w, FILE *f, Counts &n) {
  Rng rng(w.o.seed * 0x9e3779b97f4a7c15ULL + 0x5eed);
  CsvBuffer csv;
  recc::gen::Progress progress("gen_funnel", w.o.rows);
  bool ok = std::fprintf(f, "%s%s\n", kHeader, w.o.truth ? kTruthHeader : "") > 0;
  for (long long k = 0; k < w.o.rows && ok; ++k) {
    progress.tick(k);
    Row r = drawRow(w, rng);
    double pc = sigmoid(w.interceptC + r.zClick), pa = sigmoid(w.interceptA + r.zDAction);
    double pbD = sigmoid(w.interceptB + r.zBuyD), pbO = sigmoid(w.interceptB + r.zBuyO);
    int click = rng.uniform() < pc, daction = 0, buy = 0;
    if (click) {
      daction = rng.uniform() < pa;
      buy = rng.uniform() < (daction ? pbD : pbO);
    }
    for (int id : {r.user, r.item, r.shop, r.brand, r.category, r.gender, r.age, r.power})
      csv.put((long long)id), csv.sep(',');
    for (double x : r.num) csv.put(x), csv.sep(',');
    csv.put((long long)click), csv.sep(','), csv.put((long long)daction), csv.sep(',');
    csv.put((long long)buy);
    if (w.o.truth) {  // the model's four outputs as the world defines them
      double cvr = pa * pbD + (1 - pa) * pbO;
      for (double x : {pc, pc * pa, cvr, pc * cvr}) csv.sep(','), csv.put(x);
    }
    csv.sep('\n');
    n.rows++, n.clicks += click, n.dactions += daction, n.buys += buy;
    n.buysAfterDAction += buy & daction;
    if (csv.full()) ok = csv.flush(f);
  }
  progress.finish();
  return ok && csv.flush(f);
}

constexpr const char *kUsage = R"(usage: gen_funnel --out FILE [options]

Writes a synthetic impression -> click -> DAction/OAction -> purchase funnel as CSV with
the header
  user_id,item_id,shop_id,brand_id,category_id,gender,age,power,num_0..num_7,click,daction,buy
Ids are 0-based and below their vocabulary size. daction <= click and buy <= click.

  --out FILE           output file ('-' for stdout); a regular file is written to
                       FILE.tmp and renamed when complete
  --rows N             impressions to write (default 1000000)
  --seed S             seed for sampling the rows (default 1)
  --world-seed S       seed for the latent world: factors, effects, intercepts (default 42)
  --ctr R              target clicks per impression (default 0.06)
  --daction-rate R     target DActions per click (default 0.12)
  --buy-rate R         target purchases per click (default 0.01)
  --users N --items N --shops N --brands N --categories N     (100000 100000 20000 10000 1000)
  --genders N --ages N --powers N                             (3 10 8)
  --user-skew S --item-skew S    Zipf exponents of user and item popularity (0.85 1.05)
  --truth              append true_ctr,true_ctavr,true_cvr,true_ctcvr: each row's true
                       probabilities, for oracle metrics (labels are unchanged)
  --help               this text

Train and test sets: the world (latent factors and calibrated intercepts) depends only on
--world-seed, the vocabulary sizes, the skews and the target rates; the rows depend on
--seed. Keep the former equal and change the seed:
  gen_funnel --out train.csv --rows 8000000 --seed 1
  gen_funnel --out test.csv  --rows 1000000 --seed 2
Realized rates are printed to stderr. Bad flags exit with status 2.
)";

Options parseArgs(std::span<char *> args) {
  const Cli cli("gen_funnel", kUsage);
  Options o;
  constexpr int kMaxVocab = 100000000;
  struct IntFlag { std::string_view name; int *dst; };
  const IntFlag vocabs[] = {{"--users", &o.users},   {"--items", &o.items},
                            {"--shops", &o.shops},   {"--brands", &o.brands},
                            {"--categories", &o.categories}, {"--genders", &o.genders},
                            {"--ages", &o.ages},     {"--powers", &o.powers}};
  cli.parse(args, {"--truth"}, [&](std::string_view a, std::string_view v) {
    if (a == "--truth") o.truth = true;
    else if (a == "--out") o.out = v;
    else if (a == "--rows") o.rows = cli.number<long long>(a, v, 0, 1LL << 40);
    else if (a == "--seed") o.seed = cli.number<uint64_t>(a, v, 0, UINT64_MAX);
    else if (a == "--world-seed") o.worldSeed = cli.number<uint64_t>(a, v, 0, UINT64_MAX);
    else if (a == "--ctr") o.ctr = cli.number<double>(a, v, 1e-6, 0.999);
    else if (a == "--daction-rate") o.dactionRate = cli.number<double>(a, v, 1e-6, 0.999);
    else if (a == "--buy-rate") o.buyRate = cli.number<double>(a, v, 1e-6, 0.999);
    else if (a == "--user-skew") o.userSkew = cli.number<double>(a, v, 0.0, 3.0);
    else if (a == "--item-skew") o.itemSkew = cli.number<double>(a, v, 0.0, 3.0);
    else {
      auto f = std::find_if(std::begin(vocabs), std::end(vocabs),
                            [&](const IntFlag &x) { return x.name == a; });
      if (f == std::end(vocabs)) cli.unknown(a);
      *f->dst = cli.number<int>(a, v, 1, kMaxVocab);
    }
  });
  if (o.out.empty()) cli.fail("'--out FILE' is required ('-' writes to stdout)");
  if (double(o.categories) * o.genders > kMaxVocab)
    cli.fail("'--categories' x '--genders' is too large");
  return o;
}

void report(const World &w, const Counts &n, double seconds) {
  auto ratio = [](long long a, long long b) { return b ? double(a) / double(b) : 0.0; };
  auto line = [&](const char *name, double got, double want) {
    std::fprintf(stderr, "  %-22s %.5f  (target %.5f, %+.1f%%)\n", name, got, want,
                 want ? 100 * (got / want - 1) : 0.0);
  };
  std::fprintf(stderr, "gen_funnel: %lld rows in %.2f s (world-seed %llu, seed %llu)\n", n.rows,
               seconds, (unsigned long long)w.o.worldSeed, (unsigned long long)w.o.seed);
  std::fprintf(stderr, "  intercepts             click %.3f, daction %.3f, buy %.3f\n",
               w.interceptC, w.interceptA, w.interceptB);
  line("ctr", ratio(n.clicks, n.rows), w.o.ctr);
  line("daction/click", ratio(n.dactions, n.clicks), w.o.dactionRate);
  line("buy/click", ratio(n.buys, n.clicks), w.o.buyRate);
  std::fprintf(stderr, "  %-22s %.6f\n", "buy/impression", ratio(n.buys, n.rows));
  std::fprintf(stderr, "  P(buy|click,DAction)   %.4f   P(buy|click,no DAction) %.4f\n",
               ratio(n.buysAfterDAction, n.dactions),
               ratio(n.buys - n.buysAfterDAction, n.clicks - n.dactions));
  std::fprintf(stderr, "  counts                 clicks %lld, dactions %lld, buys %lld "
               "(%lld after DAction)\n", n.clicks, n.dactions, n.buys, n.buysAfterDAction);
}

} // namespace

int main(int argc, char **argv) {
  Options o = parseArgs(std::span(argv + 1, argc - 1));
  auto start = std::chrono::steady_clock::now();
  World world(o);
  calibrate(world);

  recc::gen::OutputFile out("gen_funnel", o.out);
  Counts n;
  if (!out.commit(writeRows(world, out.get(), n))) return 1;
  report(world, n, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return 0;
}
