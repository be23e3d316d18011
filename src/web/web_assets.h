// The page of `dermsim serve` and the script of report.html's interactive charts, bundled from web/
// by npm (web/build.mjs) and compiled into the binary: nothing is read from disk or the network.
#pragma once

#include <string_view>

namespace dermsim {

// GET /: one HTML document with its script and styles inlined.
std::string_view web_page_html();

// Inlined into report.html: renders #threshold-explorer and #embedding-map from #report-data.
std::string_view report_script_js();

}  // namespace dermsim
