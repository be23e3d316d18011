// Placeholder until the page's bundle from web/ is generated into this file.
#include "web/web_assets.h"

namespace dermsim {

std::string_view web_page_html() {
  return "<!doctype html><title>dermsim</title><p>dermsim serve: the page is not built into this "
         "binary yet; the JSON API is under /api/.</p>\n";
}

std::string_view report_script_js() { return ""; }

}  // namespace dermsim
