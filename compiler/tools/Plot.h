// Plot: `recc plot run.jsonl -o curves.png|svg`, the training curves of a
// `--log` file (runtime/TrainLog.h) drawn by gnuplot: the loss and each loss
// term against the step, and, when the run evaluated, each metric against
// the step. The data and the commands go to gnuplot as one script on its
// standard input (inline data blocks), so nothing is left in temporary
// files. PNG through the cairo terminal, SVG through gnuplot's own.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace recc {

/// The lines of a --log file that a plot draws.
struct RunLog {
  std::string model;  ///< from the start line; empty if it has none
  struct Point {
    long long step = 0;
    std::map<std::string, double> values;  ///< "loss", each term, or each metric; NaN: null
  };
  std::vector<Point> train, eval;
  std::vector<std::string> trainSeries, evalSeries;  ///< value names, in first-seen order
};

/// Reads a --log file; a line that is not a JSON object, or a train/eval line
/// without a numeric "step", is an error naming the file and line. A last line
/// cut short (a run killed while writing it) is skipped with a warning.
RunLog readRunLog(const std::string& path);

/// The gnuplot script that draws `log` into `output` (.png or .svg).
std::string gnuplotScript(const RunLog& log, const std::string& output, const std::string& title);

struct PlotArgs {
  std::string log;     ///< the --log file
  std::string output;  ///< -o: .png or .svg
};
/// Draws the curves; returns the exit code (errors are thrown).
int runPlot(const PlotArgs& args);

} // namespace recc
