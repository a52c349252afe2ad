// Plot: see Plot.h.
#include "compiler/tools/Plot.h"

#include "runtime/AtomicFile.h"
#include "runtime/Error.h"
#include "runtime/External.h"
#include "runtime/FileRead.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

namespace recc {
namespace {

using Json = nlohmann::json;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double numberOr(const Json& v) { return v.is_number() ? v.get<double>() : kNaN; }

void addValue(RunLog::Point& p, std::vector<std::string>& series, const std::string& name,
              const Json& v) {
  p.values[name] = numberOr(v);
  if (std::find(series.begin(), series.end(), name) == series.end())
    series.push_back(name);
}

/// One train or eval line as a point; `where` is "file:line".
RunLog::Point pointOf(const Json& j, bool train, RunLog& log, const std::string& where) {
  if (!j.contains("step") || !j["step"].is_number_integer())
    rt::fail("{}: a {} line needs an integer \"step\"", where, train ? "train" : "eval");
  RunLog::Point p{.step = j["step"].get<long long>()};
  std::vector<std::string>& series = train ? log.trainSeries : log.evalSeries;
  if (j.contains("loss"))
    addValue(p, series, "loss", j["loss"]);
  const char* group = train ? "loss_terms" : "metrics";
  if (j.contains(group) && j[group].is_object())
    for (const auto& [name, v] : j[group].items())
      addValue(p, series, name, v);
  return p;
}

/// `text` as a gnuplot single-quoted string (a quote is doubled).
std::string quoted(const std::string& text) {
  std::string out = "'";
  for (char c : text)
    out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

/// True if some point has a finite value of `name`.
bool hasValues(const std::vector<RunLog::Point>& points, const std::string& name) {
  return std::any_of(points.begin(), points.end(), [&](const RunLog::Point& p) {
    auto it = p.values.find(name);
    return it != p.values.end() && std::isfinite(it->second);
  });
}

/// A gnuplot data block: one row per point, step first, '?' for no value.
std::string dataBlock(const std::string& block, const std::vector<RunLog::Point>& points,
                      const std::vector<std::string>& series) {
  std::string s = fmt::format("${} << EOD\n# step {}\n", block, fmt::join(series, " "));
  for (const RunLog::Point& p : points) {
    s += std::to_string(p.step);
    for (const std::string& name : series) {
      auto it = p.values.find(name);
      s += it != p.values.end() && std::isfinite(it->second) ? fmt::format(" {}", it->second)
                                                             : std::string(" ?");
    }
    s += "\n";
  }
  return s + "EOD\n";
}

/// The plot clause of series `i` of data block `block` (its column i + 2).
std::string clause(const std::string& block, size_t i, bool points, const std::string& title) {
  return fmt::format("${} using 1:{} with {} title {}", block, i + 2,
                     points ? "linespoints pt 7 ps 0.6" : "lines lw 1.5", quoted(title));
}

/// The clauses of the series of `points` that have values and `keep` accepts.
template <class Keep>
std::vector<std::string> clauses(const std::string& block, const std::vector<RunLog::Point>& pts,
                                 const std::vector<std::string>& series, Keep keep,
                                 const std::string& prefix = "") {
  std::vector<std::string> out;
  for (size_t i = 0; i < series.size(); ++i)
    if (keep(series[i]) && hasValues(pts, series[i]))
      // Evaluations are few: points. So is a short run's train curve.
      out.push_back(clause(block, i, block == "eval" || pts.size() < 3, prefix + series[i]));
  return out;
}

std::string terminalFor(const std::string& output) {
  auto endsWith = [&](const char* ext) {
    std::string lower = output;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    return lower.size() > 4 && lower.ends_with(ext);
  };
  if (endsWith(".png"))
    return "set terminal pngcairo size 1100,800 noenhanced font ',10'";
  if (endsWith(".svg"))
    return "set terminal svg size 1100,800 noenhanced font 'sans,11' background rgb 'white'";
  rt::fail("-o {}: expected a .png or .svg file", output);
}

} // namespace

RunLog readRunLog(const std::string& path) {
  const std::string text = rt::readWholeFile(path, "--log file");
  RunLog log;
  std::istringstream in(text);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos)
      continue;
    const std::string where = fmt::format("{}:{}", path, n);
    Json j = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) {
      if (in.eof() && !text.ends_with('\n')) {  // the run died while writing it
        std::fprintf(stderr, "warning: %s: skipping the unfinished last line\n", where.c_str());
        break;
      }
      rt::fail("{}: not a JSON object (is this a --log file of `recc train`?)", where);
    }
    const std::string kind = j.value("kind", "");
    if (kind == "start")
      log.model = j.value("model", "");
    else if (kind == "train")
      log.train.push_back(pointOf(j, true, log, where));
    else if (kind == "eval")
      log.eval.push_back(pointOf(j, false, log, where));
  }
  return log;
}

std::string gnuplotScript(const RunLog& log, const std::string& output, const std::string& title) {
  // The loss panel: the train loss and its terms, and the eval loss beside them.
  auto any = [](const std::string&) { return true; };
  auto loss = [](const std::string& name) { return name == "loss"; };
  auto notLoss = [](const std::string& name) { return name != "loss"; };
  std::vector<std::string> losses = clauses("train", log.train, log.trainSeries, any);
  for (std::string& c : clauses("eval", log.eval, log.evalSeries, loss, "eval "))
    losses.push_back(c);
  std::vector<std::string> metrics = clauses("eval", log.eval, log.evalSeries, notLoss);
  if (losses.empty())
    rt::fail("{}: no loss values to plot (no train lines with a finite loss)", title);
  std::string s = terminalFor(output) + "\n";
  s += "set output " + quoted(output) + "\n";
  s += "set datafile missing '?'\nset grid\nset key outside right top\nset xlabel 'step'\n";
  s += "set xrange [0:*]\n";  // from 0: one eval point is no empty range
  s += dataBlock("train", log.train, log.trainSeries);
  if (!log.eval.empty())
    s += dataBlock("eval", log.eval, log.evalSeries);
  if (!metrics.empty())
    s += "set multiplot layout 2,1 title " + quoted(title) + "\nset title 'loss'\n";
  else
    s += "set title " + quoted(title + ": loss") + "\n";
  s += fmt::format("plot {}\n", fmt::join(losses, ", \\\n     "));
  if (!metrics.empty()) {
    s += "set title 'evaluation metrics'\n";
    s += fmt::format("plot {}\nunset multiplot\n", fmt::join(metrics, ", \\\n     "));
  }
  return s + "unset output\n";
}

int runPlot(const PlotArgs& a) {
  terminalFor(a.output);  // a bad extension is reported before anything is read
  rt::checkCanWrite("-o", a.output);
  RunLog log = readRunLog(a.log);
  const std::string title = log.model.empty() ? a.log : log.model + " (" + a.log + ")";
  rt::runExternal({"gnuplot", "gnuplot-nox", "recc plot"}, {}, gnuplotScript(log, a.output, title));
  rt::checkWritten(a.output, "gnuplot");
  std::printf("%s: %zu train and %zu eval points drawn\n", a.output.c_str(), log.train.size(),
              log.eval.size());
  return 0;
}

} // namespace recc
