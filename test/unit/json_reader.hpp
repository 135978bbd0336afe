// A strict, small JSON reader for tests that compare the code with published
// data files (Mozilla's TLS profiles). Not used by the extension or the CLI:
// they only write JSON. Throws std::runtime_error on anything malformed.
#pragma once

#include <cctype>
#include <cstddef>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace tls_audit::test {

struct JsonValue {
    enum class Kind { Null, Bool, Number, String, Array, Object } kind = Kind::Null;
    bool boolean = false;
    double number = 0;
    std::string string;                      // String; the number's text for Number
    std::vector<JsonValue> array;            // Array
    std::map<std::string, JsonValue> object;  // Object (duplicate keys are an error)

    bool is_null() const { return kind == Kind::Null; }
    const JsonValue &at(const std::string &key) const {
        if (kind != Kind::Object) throw std::runtime_error("not an object at key " + key);
        auto it = object.find(key);
        if (it == object.end()) throw std::runtime_error("missing key " + key);
        return it->second;
    }
    std::vector<std::string> strings() const {
        if (kind != Kind::Array) throw std::runtime_error("not an array");
        std::vector<std::string> out;
        for (const auto &v : array) {
            if (v.kind != Kind::String) throw std::runtime_error("array element is not a string");
            out.push_back(v.string);
        }
        return out;
    }
};

class JsonReader {
  public:
    static JsonValue parse(const std::string &text) {
        JsonReader r(text);
        JsonValue v = r.value();
        r.space();
        if (r.pos_ != text.size()) r.fail("trailing text");
        return v;
    }

  private:
    explicit JsonReader(const std::string &t) : t_(t) {}
    [[noreturn]] void fail(const std::string &what) const {
        throw std::runtime_error("JSON: " + what + " at offset " + std::to_string(pos_));
    }
    void space() {
        while (pos_ < t_.size() && std::isspace(static_cast<unsigned char>(t_[pos_]))) ++pos_;
    }
    char peek() {
        space();
        if (pos_ >= t_.size()) fail("unexpected end");
        return t_[pos_];
    }
    void expect(char c) {
        if (peek() != c) fail(std::string("expected ") + c);
        ++pos_;
    }
    bool literal(const char *word) {
        std::string w(word);
        if (t_.compare(pos_, w.size(), w) != 0) return false;
        pos_ += w.size();
        return true;
    }
    std::string str() {
        expect('"');
        std::string out;
        while (true) {
            if (pos_ >= t_.size()) fail("unterminated string");
            char c = t_[pos_++];
            if (c == '"') return out;
            if (static_cast<unsigned char>(c) < 0x20) fail("control character in string");
            if (c != '\\') {
                out += c;
                continue;
            }
            if (pos_ >= t_.size()) fail("unterminated escape");
            char e = t_[pos_++];
            switch (e) {
                case '"': case '\\': case '/': out += e; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'n': out += '\n'; break;
                case 'r': out += '\r'; break;
                case 't': out += '\t'; break;
                default: fail("escape this reader does not need");  // \u: not in the data it reads
            }
        }
    }
    JsonValue value() {
        JsonValue v;
        char c = peek();
        if (c == '{') {
            v.kind = JsonValue::Kind::Object;
            ++pos_;
            if (peek() == '}') { ++pos_; return v; }
            while (true) {
                std::string k = str();
                expect(':');
                if (!v.object.emplace(k, value()).second) fail("duplicate key " + k);
                if (peek() == ',') { ++pos_; continue; }
                expect('}');
                return v;
            }
        }
        if (c == '[') {
            v.kind = JsonValue::Kind::Array;
            ++pos_;
            if (peek() == ']') { ++pos_; return v; }
            while (true) {
                v.array.push_back(value());
                if (peek() == ',') { ++pos_; continue; }
                expect(']');
                return v;
            }
        }
        if (c == '"') {
            v.kind = JsonValue::Kind::String;
            v.string = str();
            return v;
        }
        if (literal("null")) return v;
        if (literal("true") || literal("false")) {
            v.kind = JsonValue::Kind::Bool;
            v.boolean = t_[pos_ - 2] == 'u';  // "true" ends in "ue", "false" in "se"
            return v;
        }
        std::size_t start = pos_;
        if (t_[pos_] == '-') ++pos_;
        while (pos_ < t_.size() && (std::isdigit(static_cast<unsigned char>(t_[pos_])) || t_[pos_] == '.' ||
                                    t_[pos_] == 'e' || t_[pos_] == 'E' || t_[pos_] == '+' || t_[pos_] == '-'))
            ++pos_;
        if (pos_ == start) fail("unexpected character");
        v.kind = JsonValue::Kind::Number;
        v.string = t_.substr(start, pos_ - start);
        try {
            std::size_t used = 0;
            v.number = std::stod(v.string, &used);
            if (used != v.string.size()) fail("bad number");
        } catch (const std::logic_error &) {
            fail("bad number");
        }
        return v;
    }

    const std::string &t_;
    std::size_t pos_ = 0;
};

}  // namespace tls_audit::test
