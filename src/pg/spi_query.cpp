#include "spi_query.hpp"

#include <cstdlib>

#include "guard.hpp"

#include "postgres.hpp"

namespace tls_audit::pg {

namespace {

// Run a read-only query through SPI (already connected) and copy its rows.
Table run_query(const char *sql, int expected_columns) {
    const int rc = call([&] { return SPI_execute(sql, true, 0); });
    if (rc != SPI_OK_SELECT)
        throw CoreError(make_error(sqlstate::kInternal, std::string("unexpected SPI result for ") + sql));
    SPITupleTable *tuptable = SPI_tuptable;
    const uint64 rows = SPI_processed;
    if (tuptable == nullptr || tuptable->tupdesc->natts != expected_columns)
        throw CoreError(make_error(sqlstate::kInternal, std::string("unexpected columns from ") + sql));
    Table table;
    table.reserve(rows);
    for (uint64 r = 0; r < rows; ++r) {
        std::vector<Cell> row;
        row.reserve(expected_columns);
        for (int c = 1; c <= expected_columns; ++c) {
            HeapTuple tuple = tuptable->vals[r];
            TupleDesc desc = tuptable->tupdesc;
            char *value = call([&] { return SPI_getvalue(tuple, desc, c); });
            if (value == nullptr)
                row.emplace_back(std::nullopt);
            else
                row.emplace_back(std::string(value));
        }
        table.push_back(std::move(row));
    }
    return table;
}

}  // namespace

Expected<Table> spi_query(const char *sql, int expected_columns) {
    try {
        return in_subtransaction([&] { return run_query(sql, expected_columns); });
    } catch (const PgError &e) {
        // A cancel, statement timeout or shutdown (class 57) is the caller's
        // to see: PostgreSQL cleared its pending flag when it raised it.
        if (e.edata() != nullptr && ERRCODE_TO_CATEGORY(e.edata()->sqlerrcode) == ERRCODE_OPERATOR_INTERVENTION)
            throw;
        return make_error(sqlstate::kInternal, e.what());
    }
}

const std::string &cell_text(const std::vector<Cell> &row, int col) {
    static const std::string empty;
    return row[col] ? *row[col] : empty;
}

std::optional<bool> cell_bool(const std::vector<Cell> &row, int col) {
    if (!row[col]) return std::nullopt;
    return *row[col] == "t";
}

std::int64_t cell_int(const std::vector<Cell> &row, int col) {
    return row[col] ? std::strtoll(row[col]->c_str(), nullptr, 10) : 0;
}

std::optional<std::int64_t> cell_int_opt(const std::vector<Cell> &row, int col) {
    if (!row[col]) return std::nullopt;
    return cell_int(row, col);
}

}  // namespace tls_audit::pg
