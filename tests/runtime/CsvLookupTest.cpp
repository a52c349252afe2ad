// Tests of reading logs as they come: hashed string ids, vocabulary files,
// bucketized numbers, na defaults for empty cells, log1p's domain, and the
// --unseen policies (refuse, out-of-vocabulary id, skip the row) with their
// counts.
#include "runtime/CsvReader.h"
#include "runtime/DataSetRows.h"
#include "runtime/IdLookup.h"

#include "TestUtil.h"

namespace recc::rt {
namespace {

using test::errorOf;
using K = FeatureSpec::Kind;

class CsvLookupTest : public ::testing::Test {
protected:
  void SetUp() override {
    test::writeText(Dir.file("cats.txt"), "shoes\nhats\nbags\n");
    FeatureSpec u{"u", "u", K::Categorical, 10, 0, "u_emb", "none"};
    u.lookup = "hash";
    FeatureSpec cat{"cat", "cat", K::Categorical, 4, 0, "cat_emb", "none"};
    cat.lookup = "vocab";
    cat.vocabFile = Dir.file("cats.txt");
    cat.hasNa = true;
    FeatureSpec price{"price", "price", K::Categorical, 5, 0, "price_emb", "none"};
    price.lookup = "bucketize";
    price.boundaries = {0, 1, 10, 100};
    price.hasNa = true;
    price.na = 0;
    FeatureSpec cnt{"cnt", "cnt", K::Dense, 0, 0, "", "log1p"};
    cnt.hasNa = true;
    cnt.na = 7;
    FeatureSpec plain{"plain", "plain", K::Categorical, 10, 0, "plain_emb", "none"};
    FeatureSpec tags{"tags", "tags", K::MultiCategorical, 16, 2, "tag_emb", "none"};
    tags.lookup = "hash";
    Plan.features = {u, cat, price, cnt, plain, tags};
    Plan.labels = {{"click", "click"}};
    Plan.metrics = {{"gauc", "gauc", "p", "click", "", "g"}};
  }

  DataSet read(const std::string& body, ReadOptions options = {}) {
    test::writeText(Dir.file("data.csv"), body);
    return readDataFile(Dir.file("data.csv"), Plan, options);
  }
  std::string error(const std::string& body, ReadOptions options = {}) {
    std::string msg = errorOf([&] { read(body, options); });
    return msg.substr(msg.find("data.csv"));
  }
  static std::vector<int64_t> ids(const DataSet& d, int f) {
    return {d.ids(f).begin(), d.ids(f).end()};
  }

  test::TempDir Dir;
  ModelPlan Plan;
  const std::string Header = "click,u,cat,price,cnt,plain,tags,g\n";
};

TEST_F(CsvLookupTest, HashesVocabulariesBucketsAndDefaults) {
  DataSet d = read(Header +
                   "1,a,hats,0.5,99,3,a|b|c,x\n"
                   "0,68fd1e64,socks,,,4,,y\n"
                   "1,\"12345678901234567890\",,150,0,5,d,x\n");
  ASSERT_EQ(d.rows(), 3);
  EXPECT_EQ(ids(d, 0), (std::vector<int64_t>{hashBucket("a", 10), hashBucket("68fd1e64", 10),
                                             hashBucket("12345678901234567890", 10)}));
  EXPECT_EQ(ids(d, 0)[0], 9);  // TF: to_hash_bucket_fast("a", 10) == 9
  EXPECT_EQ(ids(d, 1), (std::vector<int64_t>{2, 0, 0}));  // socks: OOV; empty: na = 0
  EXPECT_EQ(ids(d, 2), (std::vector<int64_t>{1, 0, 4}));  // empty: na = 0
  EXPECT_EQ(std::vector<float>(d.dense(3).begin(), d.dense(3).end()),
            (std::vector<float>{99, 7, 0}));  // raw values; empty: na = 7
  EXPECT_EQ(ids(d, 5), (std::vector<int64_t>{hashBucket("a", 16), hashBucket("b", 16), -1, -1,
                                             hashBucket("d", 16), -1}));
  EXPECT_EQ(d.unseen().oovIds, 1);  // socks
  EXPECT_EQ(d.unseen().skippedRows, 0);
}

TEST_F(CsvLookupTest, ErrorsNameFileRowAndColumn) {
  EXPECT_EQ(error(Header + "1,,hats,1,1,3,a,x\n"),
            "data.csv:2:2: empty id in column 'u' (no default: declare 'na = ...' on the input)");
  EXPECT_EQ(error(Header + "1,a,hats,1,-1,3,a,x\n"),
            "data.csv:2:5: value -1 in column 'cnt' is outside the domain of log1p (> -1)");
  EXPECT_EQ(error(Header + "1,a,hats,cheap,1,3,a,x\n"),
            "data.csv:2:4: non-numeric value 'cheap' in column 'price'");
  EXPECT_EQ(error(Header + "1,a,hats,1,1,,a,x\n"),
            "data.csv:2:6: empty id in column 'plain' (no default: declare 'na = ...' on the "
            "input)");
  // A vocabulary file changed since the model was built.
  test::writeText(Dir.file("cats.txt"), "shoes\nhats\n");
  EXPECT_TRUE(test::contains(errorOf([&] { read(Header + "1,a,hats,1,1,3,a,x\n"); }),
                             "cats.txt: vocabulary file of 'cat' now has 2 values, but the "
                             "model was built with 3"));
}

TEST_F(CsvLookupTest, UnseenIdsAreRefusedByDefaultMappedOrSkipped) {
  const std::string body = Header +
                           "1,a,hats,1,1,3,a,x\n"
                           "0,b,socks,1,1,10,a,y\n"  // plain 10 is outside [0, 10)
                           "1,c,bags,1,1,-4,a,z\n"
                           "0,d,shoes,1,1,9,a,y\n";
  EXPECT_EQ(error(body), "data.csv:3:6: id 10 out of range for 'plain' (vocabulary 10)");
  ReadOptions eval;
  eval.unseenHint = true;
  EXPECT_EQ(error(body, eval),
            "data.csv:3:6: id 10 out of range for 'plain' (vocabulary 10); --unseen oov maps "
            "such ids to id 0, --unseen skip skips their rows");

  eval.unseen = UnseenPolicy::Oov;
  DataSet oov = read(body, eval);
  EXPECT_EQ(ids(oov, 4), (std::vector<int64_t>{3, 0, 0, 9}));
  EXPECT_EQ(oov.unseen().oovIds, 3);  // two ids and socks
  EXPECT_EQ(oov.unseen().skippedRows, 0);

  eval.unseen = UnseenPolicy::Skip;
  DataSet skip = read(body, eval);
  ASSERT_EQ(skip.rows(), 2);
  EXPECT_EQ(ids(skip, 4), (std::vector<int64_t>{3, 9}));
  EXPECT_EQ(ids(skip, 1), (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(std::vector<float>(skip.label(0).begin(), skip.label(0).end()),
            (std::vector<float>{1, 0}));
  // Group ids are interned over the kept rows only.
  auto groups = skip.groups("g");
  EXPECT_EQ(std::vector<int64_t>(groups.begin(), groups.end()), (std::vector<int64_t>{0, 1}));
  auto names = skip.groupNames("g");
  EXPECT_EQ(std::vector<std::string>(names.begin(), names.end()),
            (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(skip.unseen().skippedRows, 2);
  EXPECT_EQ(skip.unseen().oovIds, 0);  // socks was on a skipped row

  EXPECT_EQ(error(Header + "1,a,hats,1,1,30,a,x\n", eval),
            "data.csv: all 1 rows were skipped (--unseen skip): each has an id outside its "
            "input's vocabulary");
  EXPECT_EQ(unseenPolicy("skip"), UnseenPolicy::Skip);
  EXPECT_EQ(errorOf([] { unseenPolicy("drop"); }),
            "--unseen: expected error, oov or skip, got 'drop'");
}

TEST_F(CsvLookupTest, KeptColumnsFollowTheRowsRead) {
  ReadOptions options;
  options.unseen = UnseenPolicy::Skip;
  options.keep = {"u", "extra"};
  DataSet d = read("click,u,cat,price,cnt,plain,tags,g,extra\n"
                   "1,a,hats,1,1,3,a,x,k1\n"
                   "0,b,hats,1,1,11,a,x,k2\n"
                   "1,c,hats,1,1,4,a,x,\"k 3\"\n",
                   options);
  EXPECT_EQ(d.keptNames(), (std::vector<std::string>{"u", "extra"}));
  auto u = d.kept("u");
  auto extra = d.kept("extra");
  EXPECT_EQ(std::vector<std::string>(u.begin(), u.end()), (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(std::vector<std::string>(extra.begin(), extra.end()),
            (std::vector<std::string>{"k1", "k 3"}));
  options.keep = {"user_key"};
  EXPECT_EQ(error(Header + "1,a,hats,1,1,3,a,x\n", options),
            "data.csv: missing column 'user_key' (--keep column); header has: click, u, cat, "
            "price, cnt, plain, tags, g");
}

TEST_F(CsvLookupTest, KeepRowsCopiesEveryColumn) {
  DataSet d = read(Header + "1,a,hats,1,1,3,a|b,x\n0,b,bags,50,2,4,c,y\n1,c,shoes,5,3,5,,x\n");
  const std::vector<char> keep = {1, 0, 1};
  DataSet k = keepRows(Plan, d, keep);
  ASSERT_EQ(k.rows(), 2);
  EXPECT_EQ(ids(k, 5), (std::vector<int64_t>{hashBucket("a", 16), hashBucket("b", 16), -1, -1}));
  EXPECT_EQ(std::vector<float>(k.dense(3).begin(), k.dense(3).end()),
            (std::vector<float>{1, 3}));
  auto groups = k.groups("g");
  EXPECT_EQ(std::vector<int64_t>(groups.begin(), groups.end()), (std::vector<int64_t>{0, 0}));
  EXPECT_EQ(k.source(), d.source());
}

} // namespace
} // namespace recc::rt
