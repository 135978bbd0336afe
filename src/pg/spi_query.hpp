// Read-only SPI queries that cannot fail their caller: each runs in its own
// subtransaction, and a PostgreSQL error (missing object, no privilege, an
// error raised by a function the query calls) is rolled back and returned as
// its message. Used where an input may be unreadable for the caller and the
// answer should say so instead of failing (run_checks(), the reload
// pre-flight's pending settings). SPI must be connected.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"

namespace tls_audit::pg {

using Cell = std::optional<std::string>;  // NULL = nullopt; values as text
using Table = std::vector<std::vector<Cell>>;

// The rows of `sql`, which must return `expected_columns` columns, or the
// error that stopped it (rolled back). A query cancel or termination is not
// swallowed: it stays pending and is serviced at the next interrupt check.
Expected<Table> spi_query(const char *sql, int expected_columns);

// Cells as values: "" / nullopt / 0 for NULL.
const std::string &cell_text(const std::vector<Cell> &row, int col);
std::optional<bool> cell_bool(const std::vector<Cell> &row, int col);
std::int64_t cell_int(const std::vector<Cell> &row, int col);
std::optional<std::int64_t> cell_int_opt(const std::vector<Cell> &row, int col);

}  // namespace tls_audit::pg
