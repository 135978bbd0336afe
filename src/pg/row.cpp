#include "row.hpp"

#include <memory>

#include "guard.hpp"
#include "certs/x509.hpp"

#include "postgres.hpp"

namespace tls_audit::pg {

namespace {
// PostgreSQL counts from 2000-01-01, Unix from 1970-01-01.
constexpr std::int64_t kPgEpochOffsetSeconds = INT64CONST(946684800);

void check_column(int col, int columns) {
    if (col < 0 || col >= columns)
        throw CoreError(make_error(sqlstate::kInternal, "result column " + std::to_string(col) + " out of range"));
}
}  // namespace

Row::Row(TupleDesc desc) : desc_(desc), values_(desc->natts, Datum(0)), nulls_(new bool[desc->natts]) { clear(); }

void Row::clear() {
    for (int i = 0; i < columns(); ++i) {
        values_[i] = Datum(0);
        nulls_[i] = true;
    }
}

void Row::null(int col) {
    check_column(col, columns());
    nulls_[col] = true;
}

void Row::datum(int col, Datum value) {
    check_column(col, columns());
    values_[col] = value;
    nulls_[col] = false;
}

void Row::text(int col, std::string_view value) {
    const char *data = value.data();
    const int len = static_cast<int>(value.size());
    datum(col, call([&] { return PointerGetDatum(cstring_to_text_with_len(data, len)); }));
}

void Row::text_or_null(int col, std::string_view value) {
    if (value.empty())
        null(col);
    else
        text(col, value);
}

void Row::text_opt(int col, const std::optional<std::string> &value) {
    if (value)
        text(col, *value);
    else
        null(col);
}

void Row::text_array(int col, const std::vector<std::string> &values) {
    std::vector<Datum> elems;
    elems.reserve(values.size());
    for (const auto &v : values) {
        const char *data = v.data();
        const int len = static_cast<int>(v.size());
        elems.push_back(call([&] { return PointerGetDatum(cstring_to_text_with_len(data, len)); }));
    }
    Datum *items = elems.data();
    const int count = static_cast<int>(elems.size());
    datum(col, call([&] {
              return PointerGetDatum(construct_array(items, count, TEXTOID, -1, false, TYPALIGN_INT));
          }));
}

void Row::int4(int col, std::int64_t value) { datum(col, Int32GetDatum(static_cast<int32>(value))); }

void Row::int8(int col, std::int64_t value) { datum(col, Int64GetDatum(value)); }

void Row::boolean(int col, bool value) { datum(col, BoolGetDatum(value)); }

void Row::float8(int col, double value) { datum(col, Float8GetDatum(value)); }

void Row::timestamptz(int col, std::int64_t epoch_seconds) {
    const TimestampTz ts = (epoch_seconds - kPgEpochOffsetSeconds) * USECS_PER_SEC;
    datum(col, TimestampTzGetDatum(ts));
}

void check_columns(int have, int want, const char *function, int also) {
    if (have == want || (also >= 0 && have == also)) return;
    throw CoreError(make_error(sqlstate::kInternal, std::string(function) + ": unexpected result columns",
                               "The installed SQL script does not match the library; run ALTER EXTENSION "
                               "pg_tls_audit UPDATE."));
}

int Row::certificate(int first, const CertInfo &cert, std::int64_t now) {
    int c = first;
    text(c++, cert.subject);
    text(c++, cert.issuer);
    text(c++, cert.serial);
    timestamptz(c++, cert.not_before);
    timestamptz(c++, cert.not_after);
    int4(c++, days_left(cert.not_after, now));
    text(c++, cert.key_type);
    int4(c++, cert.key_bits);
    text(c++, cert.signature_algorithm);
    text(c++, cert.sha256);
    text_array(c++, cert.san);
    boolean(c++, cert.is_ca);
    boolean(c++, cert.self_signed);
    if (c - first != kCertificateColumns)
        throw CoreError(make_error(sqlstate::kInternal, "certificate columns miscounted"));
    return c;
}

void Row::put(ReturnSetInfo *rsinfo) {
    Datum *values = values_.data();
    bool *null_flags = nulls_.get();
    call([&] { tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, null_flags); });
}

Datum Row::as_composite() {
    Datum *values = values_.data();
    bool *null_flags = nulls_.get();
    TupleDesc desc = desc_;
    return call([&] { return HeapTupleGetDatum(heap_form_tuple(desc, values, null_flags)); });
}

RowMemory::RowMemory()
    : context_(call([] { return AllocSetContextCreate(CurrentMemoryContext, "tls_audit row", ALLOCSET_DEFAULT_SIZES); })) {}

// Neither call can fail: freeing memory raises no error.
RowMemory::~RowMemory() { MemoryContextDelete(context_); }

RowMemory::Scope::Scope(const RowMemory &memory)
    : row_(memory.context_), previous_(MemoryContextSwitchTo(memory.context_)) {}

RowMemory::Scope::~Scope() {
    MemoryContextSwitchTo(previous_);
    MemoryContextReset(row_);
}

ReturnSetInfo *materialize(FunctionCallInfo fcinfo) {
    call([&] { InitMaterializedSRF(fcinfo, 0); });
    return reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
}

TupleDesc result_descriptor(FunctionCallInfo fcinfo) {
    return call([&] {
        TupleDesc desc = nullptr;
        if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
            ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                            errmsg("function returning record called in context that cannot accept type record")));
        return BlessTupleDesc(desc);
    });
}

std::int64_t timestamptz_to_epoch(TimestampTz ts) { return ts / USECS_PER_SEC + kPgEpochOffsetSeconds; }

std::int64_t now_epoch() { return timestamptz_to_epoch(GetCurrentTransactionStartTimestamp()); }

}  // namespace tls_audit::pg
