#include "report/svg_chart.h"

#include <cmath>
#include <cstdio>

namespace dermsim {

namespace {
std::string num(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", v);
  return text;
}
}  // namespace

std::string html_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string svg_line_chart(const std::vector<ChartSeries>& series, const ChartOptions& o) {
  constexpr double kLeft = 52, kRight = 12, kTop = 28, kBottom = 44;
  const double plot_w = o.width - kLeft - kRight, plot_h = o.height - kTop - kBottom;
  const double x_span = o.x_max > o.x_min ? o.x_max - o.x_min : 1;
  const double y_span = o.y_max > o.y_min ? o.y_max - o.y_min : 1;
  auto px = [&](double x) { return kLeft + (x - o.x_min) / x_span * plot_w; };
  auto py = [&](double y) { return kTop + (1 - (y - o.y_min) / y_span) * plot_h; };

  std::string svg = "<svg width='" + std::to_string(o.width) +
                    "' height='" + std::to_string(o.height) + "' class='chart' role='img'>";
  svg += "<title>" + html_escape(o.title) + "</title>";
  svg += "<text x='" + num(o.width / 2.0) + "' y='16' text-anchor='middle' class='chart-title'>" +
         html_escape(o.title) + "</text>";
  if (o.shade_y_min >= o.y_min)
    svg += "<rect x='" + num(kLeft) + "' y='" + num(py(o.y_max)) + "' width='" + num(plot_w) +
           "' height='" + num(py(o.shade_y_min) - py(o.y_max)) + "' fill='#fde7c8'/>";
  for (int i = 0; i <= 4; ++i) {  // grid and tick labels
    const double fx = o.x_min + x_span * i / 4, fy = o.y_min + y_span * i / 4;
    svg += "<line x1='" + num(px(fx)) + "' y1='" + num(kTop) + "' x2='" + num(px(fx)) + "' y2='" +
           num(kTop + plot_h) + "' stroke='#e5e5e5'/>";
    svg += "<line x1='" + num(kLeft) + "' y1='" + num(py(fy)) + "' x2='" + num(kLeft + plot_w) +
           "' y2='" + num(py(fy)) + "' stroke='#e5e5e5'/>";
    char label[32];
    std::snprintf(label, sizeof label, "%.3g", fx);
    svg += "<text x='" + num(px(fx)) + "' y='" + num(kTop + plot_h + 14) +
           "' text-anchor='middle' class='tick'>" + label + "</text>";
    std::snprintf(label, sizeof label, "%.3g", fy);
    svg += "<text x='" + num(kLeft - 4) + "' y='" + num(py(fy) + 4) +
           "' text-anchor='end' class='tick'>" + label + "</text>";
  }
  svg += "<rect x='" + num(kLeft) + "' y='" + num(kTop) + "' width='" + num(plot_w) + "' height='" +
         num(plot_h) + "' fill='none' stroke='#888'/>";
  svg += "<text x='" + num(kLeft + plot_w / 2) + "' y='" + num(o.height - 6.0) +
         "' text-anchor='middle' class='axis'>" + html_escape(o.x_label) + "</text>";
  svg += "<text transform='translate(12," + num(kTop + plot_h / 2) +
         ") rotate(-90)' text-anchor='middle' class='axis'>" + html_escape(o.y_label) + "</text>";

  int legend_row = 0;
  for (const auto& s : series) {
    std::string points;
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      points += num(px(s.x[i])) + "," + num(py(s.y[i])) + " ";
      if (s.points)
        svg += "<circle cx='" + num(px(s.x[i])) + "' cy='" + num(py(s.y[i])) + "' r='3' fill='" +
               s.colour + "'/>";
    }
    svg += "<polyline fill='none' stroke='" + s.colour + "' stroke-width='2'" +
           (s.dashed ? " stroke-dasharray='5,4'" : "") + " points='" + points + "'/>";
    const double ly = kTop + 12 + 14 * legend_row++;
    svg += "<line x1='" + num(kLeft + plot_w - 120) + "' y1='" + num(ly - 4) + "' x2='" +
           num(kLeft + plot_w - 100) + "' y2='" + num(ly - 4) + "' stroke='" + s.colour +
           "' stroke-width='2'" + (s.dashed ? " stroke-dasharray='5,4'" : "") + "/>";
    svg += "<text x='" + num(kLeft + plot_w - 96) + "' y='" + num(ly) + "' class='legend'>" +
           html_escape(s.name) + "</text>";
  }
  return svg + "</svg>";
}

}  // namespace dermsim
