// read_rate: how fast the data reader goes, in MB/s of decompressed CSV text
// per core. One TBB thread (the reader parses in parallel otherwise); each
// file is timed three ways, best of --rounds:
//   inflate  the text only (TextSource: read(2) plus gzip / zstd decoding)
//   parse    readDataFiles: the whole file into a DataSet, as training reads it
//   chunks   DataChunks of 16384 rows, as streaming training reads it
// The plan is gen_funnel's columns (8 integer ids, 8 dense values, 3 labels),
// built in code so that the tool needs no compiler.
//
//   read_rate [--rounds 3] [--threads 1] FILE...
#include "runtime/CsvReader.h"
#include "runtime/TextSource.h"

#include <tbb/global_control.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

using namespace recc::rt;

namespace {

ModelPlan funnelPlan() {
  ModelPlan p;
  p.model = "gen_funnel_columns";
  using K = FeatureSpec::Kind;
  const std::pair<const char*, int64_t> ids[] = {
      {"user_id", 100000}, {"item_id", 100000}, {"shop_id", 20000}, {"brand_id", 10000},
      {"category_id", 1000}, {"gender", 3}, {"age", 10}, {"power", 8}};
  for (const auto& [name, vocab] : ids)
    p.features.push_back({name, name, K::Categorical, vocab, 0, "", "none"});
  for (int i = 0; i < 8; ++i) {
    const std::string name = "num_" + std::to_string(i);
    p.features.push_back({name, name, K::Dense, 0, 0, "", "none"});
  }
  p.labels = {{"click", "click"}, {"daction", "daction"}, {"buy", "buy"}};
  return p;
}

/// Best wall-clock seconds of `rounds` runs of `body`.
double best(int rounds, const std::function<void()>& body) {
  double fastest = 1e300;
  for (int r = 0; r < rounds; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    body();
    fastest = std::min(fastest,
                       std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return fastest;
}

} // namespace

int main(int argc, char** argv) {
  int rounds = 3, threads = 1;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if ((a == "--rounds" || a == "--threads") && i + 1 < argc)
      (a == "--rounds" ? rounds : threads) = std::max(1, std::atoi(argv[++i]));
    else
      files.push_back(a);
  }
  if (files.empty()) {
    std::fprintf(stderr, "usage: read_rate [--rounds N] [--threads N] FILE...\n");
    return 2;
  }
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, size_t(threads));
  const ModelPlan plan = funnelPlan();
  std::printf("%-28s %6s %9s %9s %9s %9s %9s\n", "file", "format", "text MB", "rows",
              "inflate", "parse", "chunks");
  for (const std::string& file : files) {
    try {
      size_t bytes = 0;
      TextSource::Format format = TextSource(file).format();
      const double inflate = best(rounds, [&] {
        TextSource source(file);
        std::vector<char> buffer(1 << 20);
        bytes = 0;
        while (size_t n = source.read(buffer.data(), buffer.size())) bytes += n;
      });
      int64_t rows = 0;
      const double parse = best(rounds, [&] { rows = readDataFiles({file}, plan).rows(); });
      const double chunks = best(rounds, [&] {
        DataChunks reader({file}, plan);
        while (reader.next(16384).rows() > 0) {
        }
      });
      const double mb = double(bytes) / 1e6;
      std::printf("%-28s %6s %9.1f %9lld %6.0f MB/s %6.0f MB/s %6.0f MB/s\n", file.c_str(),
                  formatName(format), mb, (long long)rows, mb / inflate, mb / parse,
                  mb / chunks);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "error: %s\n", e.what());
      return 1;
    }
  }
  std::printf("(%d thread%s; MB/s of decompressed text, best of %d)\n", threads,
              threads == 1 ? "" : "s", rounds);
  return 0;
}
