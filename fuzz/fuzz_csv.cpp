// Fuzzes the CSV reader (parse_csv) and the writer's round trip: any parsed table, written back
// with format_csv, must parse to the same table.
#include <cstdlib>
#include <string_view>

#include "common/csv.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  dermsim::fuzz::expect_only_user_errors([&] {
    dermsim::CsvTable table = dermsim::parse_csv(text, "fuzz.csv");
    // Header names are trimmed by the reader, so compare only tables whose names round-trip.
    const std::string again = dermsim::format_csv(table.header, table.rows);
    dermsim::CsvTable reread = dermsim::parse_csv(again, "fuzz-again.csv");
    if (reread.header != table.header || reread.rows != table.rows) std::abort();
  });
  return 0;
}
