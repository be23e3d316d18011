// The page `dermsim serve` answers on GET / and the script `report` inlines into report.html, both
// built from web/ and embedded in the binary (nothing is fetched at view time).
#pragma once

#include <string_view>

namespace dermsim {

std::string_view web_page_html();     // one HTML file, script and styles inlined
std::string_view report_script_js();  // renders report.html's threshold explorer and map

}  // namespace dermsim
