// libFuzzer target for the data reader: any bytes are written to a file and
// read by readDataFile with a plan that has every kind of column (an id, a
// multi-valued id list, a list of word bags, a plain and a tanh_zscore dense
// value, two labels, a GAUC group column), once with the delimiter sniffed
// from the header and once as a .tsv; then the feature statistics are
// computed from what was read; and once more with the columns read as logs
// come (hashed ids, bucketize, log1p, na defaults, --unseen skip, kept text
// columns). The first plan's file is read again in chunks of 3 rows
// (DataChunks, streaming training), which must give the same row count or the
// same error (plain text). Bytes that start like gzip or zstd are
// decompressed (TextSource).
// Bad input must only ever be a RuntimeError
// naming the place: a crash, a sanitizer report, a leak or any other
// exception is a bug. Seeded with tests/fuzz/corpus/csv (scripts/fuzz.sh).
#include "runtime/CsvReader.h"
#include "runtime/Error.h"
#include "runtime/FeatureTransform.h"
#include "runtime/TextSource.h"

#include <oneapi/tbb/global_control.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <unistd.h>

using namespace recc::rt;

namespace {

ModelPlan csvPlan() {
  ModelPlan p;
  p.model = "fuzz";
  using K = FeatureSpec::Kind;
  p.features = {
      {"user_id", "user_id", K::Categorical, 100, 0, "user_emb", "none"},
      {"hist", "hist", K::MultiCategorical, 50, 3, "item_emb", "none"},
      {"query", "query", K::MultiCategorical, 50, 2, "item_emb", "none", 2},
      {"price", "price", K::Dense, 0, 0, "", "none"},
      {"age", "age", K::Dense, 0, 0, "", "tanh_zscore"},
  };
  p.labels = {{"click", "click"}, {"buy", "buy"}};
  p.metrics = {{"gauc", "gauc", "p", "click", "", "session"}};
  return p;
}

/// The same columns read as logs come: the user id and history hashed, the
/// price bucketized and the age through log1p, with na defaults; read with
/// --unseen skip (query's ids) and user_id and session kept as text.
ModelPlan logsPlan() {
  ModelPlan p = csvPlan();
  p.features[0].lookup = "hash";
  p.features[0].hasNa = true;
  p.features[0].na = 3;
  p.features[1].lookup = "hash";
  p.features[3] = {"price", "price", FeatureSpec::Kind::Categorical, 4, 0, "price_emb", "none"};
  p.features[3].lookup = "bucketize";
  p.features[3].boundaries = {-1, 0, 10};
  p.features[3].hasNa = true;
  p.features[4].transform = "log1p";
  p.features[4].hasNa = true;
  p.features[4].na = 0.5;
  return p;
}

/// The logs plan over a headerless file: its columns listed in the plan
/// (`columns [...]`, Criteo's layout), mapped by position, delimiter sniffed.
ModelPlan headerlessPlan() {
  ModelPlan p = logsPlan();
  p.columns = {"click", "user_id", "hist", "query", "price", "age", "buy", "session", "unused"};
  return p;
}

ReadOptions logsOptions() {
  ReadOptions o;
  o.unseen = UnseenPolicy::Skip;
  o.keep = {"user_id", "session"};
  return o;
}

/// A private directory for the input files, on tmpfs where there is one.
std::string scratchDir() {
  std::string base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  static std::string templ = base + "/recc-fuzz-csv-XXXXXX";
  if (!mkdtemp(templ.data())) std::abort();
  std::atexit([] { std::filesystem::remove_all(templ); });  // after a run that ends
  return templ;
}

void writeFile(const std::string& path, const uint8_t* data, size_t size) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || std::fwrite(data, 1, size, f) != size || std::fclose(f) != 0) std::abort();
}

void readOne(const std::string& path, const ModelPlan& plan, const ReadOptions& options = {}) {
  try {
    DataSet d = readDataFile(path, plan, options);
    (void)computeFeatureStats(plan, d);
  } catch (const RuntimeError&) {
    // A clear error is the expected outcome for bad input.
  }
}

/// The rows `read` returns, or its error message.
std::string outcome(const std::function<int64_t()>& read) {
  try {
    return std::to_string(read());
  } catch (const RuntimeError& e) {
    return e.what();
  }
}

/// Reading `path` whole and in chunks of 3 rows ends the same way. Plain
/// text only: a compressed file read whole reports a decoding error before
/// any row's, in chunks in its place among the rows.
void compareChunked(const std::string& path, const ModelPlan& plan) {
  if (TextSource(path).format() != TextSource::Format::Plain)
    return;
  const std::string whole = outcome([&] { return readDataFile(path, plan).rows(); });
  const std::string chunked = outcome([&] {
    DataChunks chunks({path}, plan);
    int64_t rows = 0;
    for (DataSet d = chunks.next(3); d.rows() > 0; d = chunks.next(3)) rows += d.rows();
    return rows;
  });
  if (whole != chunked) {
    std::fprintf(stderr, "whole read: %s\nchunked read: %s\n", whole.c_str(), chunked.c_str());
    std::abort();
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // One thread: a finding must replay the same way.
  static tbb::global_control oneThread(tbb::global_control::max_allowed_parallelism, 1);
  static const ModelPlan plan = csvPlan();
  static const std::string dir = scratchDir();
  static const std::string sniffed = dir + "/data", tsv = dir + "/data.tsv";
  static const ModelPlan logs = logsPlan();
  static const ReadOptions logsRead = logsOptions();
  writeFile(sniffed, data, size);
  readOne(sniffed, plan);
  compareChunked(sniffed, plan);
  readOne(sniffed, logs, logsRead);
  static const ModelPlan headerless = headerlessPlan();
  readOne(sniffed, headerless, logsRead);
  writeFile(tsv, data, size);
  readOne(tsv, plan);
  return 0;
}
