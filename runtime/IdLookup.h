// IdLookup: how the text of a data cell becomes a row id, for the id inputs
// that do not read integers below a vocabulary (FeatureSpec::lookup):
//   - hashed ids, id(hash = N): farmhash's Fingerprint64 of the cell's bytes
//     modulo N. This is the hash TensorFlow's tf.strings.to_hash_bucket_fast
//     (and Keras' Hashing layer without a salt) uses, so buckets agree with
//     TF for the same text: Fingerprint64("a") = 12917804110809363939, bucket
//     9 of 10. Integers are hashed as their text ("123"), as TF does.
//   - vocabulary files, id(vocab = "items.txt"): one value per line; the
//     value on line k (1-based) is id k, and id 0 is the out-of-vocabulary
//     row every other value maps to, so the vocabulary has lines + 1 ids.
//   - bucketize([b1, ..., bn]): a number x becomes the count of boundaries
//     b_i <= x (0 below b1, n at or above bn), as tf.raw_ops.Bucketize and
//     numpy.digitize do, giving n + 1 ids.
// docs/data.md documents all three.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

namespace recc::rt {

/// farmhash's Fingerprint64 of `text` (stable across platforms and releases).
uint64_t fingerprint64(std::string_view text);

/// The bucket in [0, buckets) that `text` hashes to.
inline int64_t hashBucket(std::string_view text, int64_t buckets) {
  return static_cast<int64_t>(fingerprint64(text) % static_cast<uint64_t>(buckets));
}

/// The bucket of `x` among strictly increasing `boundaries`: how many are <= x.
int64_t bucketOf(std::span<const double> boundaries, double x);

/// A vocabulary file: one value per line, trimmed of blanks and a '\r'. An
/// empty line or a value given twice is an error naming file:line; so is a
/// file with no values.
class Vocabulary {
public:
  /// Id of the values not in the file.
  static constexpr int64_t kOutOfVocabulary = 0;

  /// Reads `path`; throws a RuntimeError naming file:line on bad content.
  explicit Vocabulary(const std::string& path);
  // The keys point into Text, which a move of a short string would not keep.
  Vocabulary(const Vocabulary&) = delete;
  Vocabulary& operator=(const Vocabulary&) = delete;

  /// Ids the vocabulary spans: its values plus the out-of-vocabulary id.
  int64_t size() const { return static_cast<int64_t>(Ids.size()) + 1; }
  /// Id of `value`: its line number, or kOutOfVocabulary.
  int64_t lookup(std::string_view value) const {
    auto it = Ids.find(value);
    return it == Ids.end() ? kOutOfVocabulary : it->second;
  }
  const std::string& path() const { return Path; }

private:
  std::string Path;
  std::string Text;  // the file; the keys point into it
  std::unordered_map<std::string_view, int64_t> Ids;
};

} // namespace recc::rt
