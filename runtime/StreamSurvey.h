// StreamSurvey: the first pass of streaming training over the data files,
// chunk by chunk with bounded memory. It counts the rows (the steps of an
// epoch, and so the progress p = step / total steps, need the count), checks
// every row (a bad row stops the run before any training, as it does for
// data read into memory), computes the feature statistics of zscore and
// tanh_zscore inputs (mean and population standard deviation over all rows,
// merged across chunks in double precision: equal to the in-memory figures
// up to rounding), and bounds the rows each dynamic table will hold (the
// sum of each chunk's distinct ids, at most the table's rows: an upper
// bound, where the in-memory count is exact).
#pragma once

#include "runtime/MemoryCheck.h"
#include "runtime/Trainer.h"

namespace recc::rt {

/// Reads every row of `data.files` and fills data.rows and data.stats;
/// adds each dynamic table's bound to `touched`.
void surveyStream(const ModelPlan& plan, StreamedData& data, DynamicRowCounts& touched);

/// Under mpirun, where each rank surveyed its own files: every rank's rows
/// (data.rankRows, for the steps), statistics over all rows, a fingerprint of
/// all (rankedFingerprint), and in `touched` the rows each table may hold on
/// this rank: the sum of every rank's bound (the ranks' ids may all differ),
/// and with `shardTables` at most the every-N-th rows the rank owns. A
/// collective call.
void combineSurveysOverRanks(const ModelPlan& plan, bool shardTables, StreamedData& data,
                             DynamicRowCounts& touched);

/// The chunk size the reader thread parses at a time for a shuffle buffer of
/// `bufferRows` rows: a quarter of it, within [1024, 65536].
int64_t chunkRowsFor(int64_t bufferRows);

} // namespace recc::rt
