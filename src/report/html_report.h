// The self-contained HTML report of a run: data, training curves, every classifier beside the
// untrained floor, ROC/PR/reliability plots, the classification report and similar-case examples.
// One file, no external resources: it can be mailed or archived as it is.
#pragma once

#include <string>

namespace dermsim {

// Builds RUN/report.html from what prepare, train and evaluate wrote. `split` is the evaluated part
// ("test" normally). Returns the path written.
std::string write_html_report(const std::string& run_root, const std::string& split = "test");

}  // namespace dermsim
