// Small, dependency-free SVG line charts for the HTML report (ROC, PR, reliability, training curves).
#pragma once

#include <string>
#include <vector>

namespace dermsim {

struct ChartSeries {
  std::string name;
  std::vector<double> x, y;
  std::string colour = "#1f77b4";
  bool dashed = false;
  bool points = false;  // draw markers instead of only a line
};

struct ChartOptions {
  std::string title, x_label, y_label;
  double x_min = 0, x_max = 1, y_min = 0, y_max = 1;
  int width = 420, height = 320;
  // Optional shaded band y in [shade_y_min, y_max] (the pAUC region of a ROC plot).
  double shade_y_min = -1;
};

std::string svg_line_chart(const std::vector<ChartSeries>& series, const ChartOptions& options);

// Escapes &, <, >, " for HTML text and attributes.
std::string html_escape(const std::string& text);

}  // namespace dermsim
