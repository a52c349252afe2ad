// Tests of IdLookup: the hash against known Fingerprint64 values, bucketize's
// boundaries, vocabulary files (ids, the out-of-vocabulary id, errors), the
// log1p transform, and the plan checks of lookups.
#include "runtime/FeatureTransform.h"
#include "runtime/IdLookup.h"
#include "runtime/ModelPlan.h"

#include "TestUtil.h"

#include <cmath>

namespace recc::rt {
namespace {

using test::errorOf;

TEST(IdLookup, HashIsFingerprint64AsTensorFlowUsesIt) {
  // The values TensorFlow's string_to_hash_bucket_op_test states for
  // Fingerprint64 ('a'..'d') and tf.strings.to_hash_bucket_fast(x, 10).
  EXPECT_EQ(fingerprint64("a"), 12917804110809363939ull);
  EXPECT_EQ(fingerprint64("b"), 11795596070477164822ull);
  EXPECT_EQ(fingerprint64("c"), 11430444447143000872ull);
  EXPECT_EQ(fingerprint64("d"), 4470636696479570465ull);
  EXPECT_EQ(hashBucket("a", 10), 9);
  EXPECT_EQ(hashBucket("b", 10), 2);
  EXPECT_EQ(hashBucket("c", 10), 2);
  EXPECT_EQ(hashBucket("d", 10), 5);
  EXPECT_EQ(hashBucket("a", 1), 0);
  // Integers are hashed as their text; long values and every byte count.
  EXPECT_EQ(hashBucket("123", 1000), int64_t(fingerprint64("123") % 1000));
  EXPECT_NE(fingerprint64("68fd1e64"), fingerprint64("68fd1e65"));
  std::string longText(1000, 'x');
  EXPECT_LT(hashBucket(longText, 7), 7);
}

TEST(IdLookup, BucketCountsBoundariesAtOrBelow) {
  const std::vector<double> b = {0, 1, 10, 100};
  EXPECT_EQ(bucketOf(b, -5), 0);
  EXPECT_EQ(bucketOf(b, 0), 1);  // a boundary opens its bucket, as tf Bucketize
  EXPECT_EQ(bucketOf(b, 0.5), 1);
  EXPECT_EQ(bucketOf(b, 1), 2);
  EXPECT_EQ(bucketOf(b, 99.9), 3);
  EXPECT_EQ(bucketOf(b, 100), 4);
  EXPECT_EQ(bucketOf(b, 1e30), 4);
}

TEST(IdLookup, VocabularyIdsAreLineNumbersAndZeroIsOutOfVocabulary) {
  test::TempDir dir;
  test::writeText(dir.file("v.txt"), "shoes\n  hats \r\nbags");
  Vocabulary v(dir.file("v.txt"));
  EXPECT_EQ(v.size(), 4);
  EXPECT_EQ(v.lookup("shoes"), 1);
  EXPECT_EQ(v.lookup("hats"), 2);
  EXPECT_EQ(v.lookup("bags"), 3);
  EXPECT_EQ(v.lookup("socks"), Vocabulary::kOutOfVocabulary);
  EXPECT_EQ(v.lookup(""), 0);
}

TEST(IdLookup, VocabularyErrorsNameFileAndLine) {
  test::TempDir dir;
  auto error = [&](const std::string& text) {
    test::writeText(dir.file("v.txt"), text);
    std::string msg = errorOf([&] { Vocabulary v(dir.file("v.txt")); });
    return msg.substr(msg.find("v.txt"));
  };
  EXPECT_EQ(error("a\nb\na\n"), "v.txt:3: value 'a' appears twice (first on line 1)");
  EXPECT_EQ(error("a\n\nb\n"),
            "v.txt:2: empty line (a vocabulary file has one value per line; id 0 is the "
            "out-of-vocabulary id)");
  EXPECT_EQ(error(""), "v.txt: no values (a vocabulary file has one value per line)");
  EXPECT_TRUE(test::contains(errorOf([&] { Vocabulary v(dir.file("none.txt")); }),
                             "none.txt: cannot open vocabulary file"));
  // A device would be read forever: refused before it is opened.
  EXPECT_EQ(errorOf([] { Vocabulary v("/dev/zero"); }),
            "/dev/zero: not a regular file (a vocabulary file has one value per line)");
}

TEST(IdLookup, Log1pTransform) {
  FeatureSpec f{"cnt", "cnt", FeatureSpec::Kind::Dense, 0, 0, "", "log1p"};
  FeatureStats none;
  EXPECT_FALSE(needsStats(f));
  EXPECT_NO_THROW(checkTransform(f));
  EXPECT_FLOAT_EQ(transformValue(f, none, 0), 0);
  EXPECT_FLOAT_EQ(transformValue(f, none, 99), std::log(100.0f));
  EXPECT_FLOAT_EQ(transformValue(f, none, -0.5f), std::log(0.5f));
}

TEST(IdLookup, PlanChecksOfLookups) {
  using K = FeatureSpec::Kind;
  FeatureSpec b{"p", "p", K::Categorical, 4, 0, "t", "none"};
  b.lookup = "bucketize";
  b.boundaries = {0, 1, 10};
  EXPECT_NO_THROW(checkLookup(b));
  b.boundaries = {0, 10, 1};
  EXPECT_EQ(errorOf([&] { checkLookup(b); }),
            "feature 'p': bucketize needs strictly increasing boundaries, one fewer than its "
            "4 ids");
  FeatureSpec h{"u", "u", K::Categorical, 8, 0, "t", "none"};
  h.lookup = "hash";
  h.hasNa = true;
  h.na = 8;
  EXPECT_EQ(errorOf([&] { checkLookup(h); }),
            "feature 'u': na = 8 is not an id below its vocabulary 8");
  h.lookup = "md5";
  EXPECT_EQ(errorOf([&] { checkLookup(h); }),
            "feature 'u': unknown id lookup 'md5' (expected hash, vocab or bucketize)");
}

TEST(IdLookup, PlanJsonKeepsLookups) {
  ModelPlan p = test::smallPlan();
  p.features[0].lookup = "vocab";
  p.features[0].vocabFile = "/data/users.txt";
  p.features[0].hasNa = true;
  p.features[0].na = 0;
  p.features[3].hasNa = true;
  p.features[3].na = -1.5;
  p.features[1].lookup = "bucketize";
  p.features[1].boundaries = {0.5, 2};
  ModelPlan q = planFromJson(toJson(p));
  EXPECT_EQ(toJson(q), toJson(p));
  EXPECT_EQ(q.features[0].vocabFile, "/data/users.txt");
  EXPECT_TRUE(q.features[0].hasNa);
  EXPECT_EQ(q.features[3].na, -1.5);
  EXPECT_FALSE(q.features[2].hasNa);
  EXPECT_EQ(q.features[1].boundaries, (std::vector<double>{0.5, 2}));
  // A plan without the new fields (written before them) reads as integer ids.
  EXPECT_EQ(planFromJson(toJson(test::smallPlan())).features[0].lookup, "");
}

} // namespace
} // namespace recc::rt
