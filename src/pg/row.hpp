// Building result rows from C++ values. Every conversion that allocates in
// PostgreSQL runs inside pg::call, so a failure becomes a C++ exception.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "postgres.hpp"

namespace tls_audit {
struct CertInfo;
}

namespace tls_audit::pg {

// How many columns Row::certificate() fills.
inline constexpr int kCertificateColumns = 13;

// The result row type of `function` has `have` columns: an error (the
// installed SQL script does not match the library) unless `have` is `want`,
// or `also` when given (a function that accepts its 1.0 layout as well).
void check_columns(int have, int want, const char *function, int also = -1);

class Row {
  public:
    explicit Row(TupleDesc desc);

    int columns() const { return static_cast<int>(values_.size()); }
    // Every column NULL again: one Row can build many rows of a result.
    void clear();
    void null(int col);
    void text(int col, std::string_view value);
    void text_or_null(int col, std::string_view value);  // NULL when empty
    void text_opt(int col, const std::optional<std::string> &value);  // NULL when nullopt
    void text_array(int col, const std::vector<std::string> &values);
    void int4(int col, std::int64_t value);
    void int8(int col, std::int64_t value);
    void boolean(int col, bool value);
    void float8(int col, double value);
    // Seconds since the Unix epoch as timestamptz.
    void timestamptz(int col, std::int64_t epoch_seconds);
    void datum(int col, Datum value);

    // The certificate columns shared by certificate_info() and the views:
    // subject, issuer, serial, not_before, not_after, days_left, key_type,
    // key_bits, signature_algorithm, sha256, san, is_ca, self_signed
    // (kCertificateColumns of them), starting at column `first`. Returns the
    // next free column, first + kCertificateColumns.
    int certificate(int first, const CertInfo &cert, std::int64_t now);

    // Append to the set-returning function's tuplestore.
    void put(ReturnSetInfo *rsinfo);
    // Form one composite value.
    Datum as_composite();

  private:
    TupleDesc desc_;
    std::vector<Datum> values_;
    // bool[] as forming a tuple takes it (std::vector<bool> would need a copy per row).
    std::unique_ptr<bool[]> nulls_;
};

// A memory context for building one row at a time: what a row's values
// allocate (texts, inet) is freed as soon as the row is stored, so a
// function returning many rows does not grow its memory by all of them.
// A child of the memory context current at construction; deleted with this.
class RowMemory {
  public:
    RowMemory();
    ~RowMemory();
    RowMemory(const RowMemory &) = delete;
    RowMemory &operator=(const RowMemory &) = delete;

    // While alive, allocations go to the row's context; at its end the
    // previous context is current again and the row's memory is reset.
    // Values that must outlive the row (cached names) are made outside.
    class Scope {
      public:
        explicit Scope(const RowMemory &memory);
        ~Scope();
        Scope(const Scope &) = delete;
        Scope &operator=(const Scope &) = delete;

      private:
        MemoryContext row_;
        MemoryContext previous_;
    };

  private:
    MemoryContext context_;
};

// Set up a materialized SRF (InitMaterializedSRF) under pg::call.
ReturnSetInfo *materialize(FunctionCallInfo fcinfo);

// Tuple descriptor of a function returning a composite (RETURNS record/OUT args).
TupleDesc result_descriptor(FunctionCallInfo fcinfo);

// A timestamptz as seconds since the Unix epoch (rounded toward zero).
std::int64_t timestamptz_to_epoch(TimestampTz ts);

// The current time as seconds since the epoch (the transaction's start time,
// so that one query sees one "now").
std::int64_t now_epoch();

}  // namespace tls_audit::pg
