// A small JSON writer: always well-formed output, strings escaped and made
// valid UTF-8 (certificate names from the wire may not be).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tls_audit::cli {

class JsonWriter {
  public:
    JsonWriter &begin_object();
    JsonWriter &end_object();
    JsonWriter &begin_array();
    JsonWriter &end_array();
    JsonWriter &key(std::string_view name);  // inside an object, before each value
    JsonWriter &value(std::string_view s);
    JsonWriter &value(const char *s) { return value(std::string_view(s)); }
    JsonWriter &value(std::int64_t n);
    JsonWriter &value(int n) { return value(static_cast<std::int64_t>(n)); }
    JsonWriter &value(bool b);
    JsonWriter &null();
    // A string, or null when empty.
    JsonWriter &string_or_null(std::string_view s) { return s.empty() ? null() : value(s); }
    const std::string &str() const { return out_; }

  private:
    void before_value();
    std::string out_;
    std::vector<bool> first_;  // per open container: nothing written yet
    bool after_key_ = false;
};

// `s` as a JSON string literal, quotes included.
std::string json_quote(std::string_view s);

// Seconds since the epoch as "2025-01-31T12:00:00Z".
std::string iso8601_utc(std::int64_t epoch);

}  // namespace tls_audit::cli
