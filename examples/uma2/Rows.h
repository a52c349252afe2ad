// examples/uma2/Rows.h: the CSV rows of gen_uma2's files (README.md, "Files").
#pragma once

#include "examples/common/CsvOutput.h"
#include "examples/uma2/Sampling.h"

#include <string_view>

namespace recc::uma2 {

/// Training and validation rows: the features, then click, the space tags, the
/// recalled/exposed labels and w_sos.
constexpr std::string_view kTrainHeader =
    "user_id,gender,age,hist,item_id,cate_id,item_ctr,click,is_pos,is_a,is_b,is_c,"
    "recalled,exposed,w_sos\n";
/// Test rows: one per click of the test day, with the training columns (the tags of a
/// click: is_pos, recalled and exposed 1, w_sos 1), so that a model's whole evaluation
/// graph can read them.
constexpr std::string_view kTestHeader = kTrainHeader;
constexpr std::string_view kCorpusHeader = "item_id,cate_id,item_ctr\n";

void putTrainRow(gen::CsvBuffer &csv, const World &w, int user, const Sample &s);
void putTestRow(gen::CsvBuffer &csv, const World &w, int user, int item);
void putCorpusRow(gen::CsvBuffer &csv, const World &w, int item);

} // namespace recc::uma2
