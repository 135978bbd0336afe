// take_show_result() and message() (src/libpq/pq_console.hpp) on results
// and connections libpq makes itself (PQmakeEmptyPGresult, PQsetvalue; a
// connection to a socket that does not exist): what both readers of
// pgbouncer's admin console make of a SHOW command's answer.
#include <gtest/gtest.h>

#include <libpq-fe.h>

#include <optional>
#include <string>
#include <vector>

#include "pq_console.hpp"

using namespace tls_audit;

namespace {

// A SHOW-like result with these columns (all text) and rows (nullopt: NULL).
libpq::Result rows_result(const std::vector<std::string> &columns, const std::vector<std::vector<PoolerCell>> &rows) {
    libpq::Result res(PQmakeEmptyPGresult(nullptr, PGRES_TUPLES_OK));
    std::vector<PGresAttDesc> attrs(columns.size());
    for (std::size_t c = 0; c < columns.size(); ++c) {
        attrs[c] = PGresAttDesc{};
        attrs[c].name = const_cast<char *>(columns[c].c_str());
        attrs[c].typid = 25;  // text
        attrs[c].typlen = -1;
        attrs[c].atttypmod = -1;
    }
    EXPECT_EQ(PQsetResultAttrs(res.get(), static_cast<int>(attrs.size()), attrs.data()), 1);
    for (std::size_t r = 0; r < rows.size(); ++r)
        for (std::size_t c = 0; c < rows[r].size(); ++c) {
            const auto &cell = rows[r][c];
            EXPECT_EQ(PQsetvalue(res.get(), static_cast<int>(r), static_cast<int>(c),
                                 cell ? const_cast<char *>(cell->c_str()) : nullptr,
                                 cell ? static_cast<int>(cell->size()) : -1),
                      1);
        }
    return res;
}

// A connection that failed (no server at that socket): libpq's own message.
libpq::Conn failed_connection() {
    libpq::Conn conn(PQconnectdb("host=/nonexistent/pg_tls_audit_test port=1 dbname=pgbouncer connect_timeout=2"));
    EXPECT_EQ(PQstatus(conn.get()), CONNECTION_BAD);
    return conn;
}

}  // namespace

TEST(PqConsole, FirstResultGivesColumnsRowsAndNulls) {
    const auto res = rows_result({"type", "user", "tls"}, {{"C", "alice", "TLSv1.3/TLS_AES_256_GCM_SHA384"},
                                                           {"C", "bob", std::nullopt}});
    std::optional<ConsoleAnswer> answer;
    EXPECT_FALSE(libpq::take_show_result(res.get(), "SHOW CLIENTS", "hint", answer));
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->columns, (std::vector<std::string>{"type", "user", "tls"}));
    ASSERT_EQ(answer->rows.size(), 2U);
    EXPECT_EQ(answer->rows[0][1], PoolerCell("alice"));
    EXPECT_EQ(answer->rows[1][2], std::nullopt);
}

TEST(PqConsole, NoRowsIsAnEmptyAnswerNotAnError) {
    const auto res = rows_result({"type", "user"}, {});
    std::optional<ConsoleAnswer> answer;
    EXPECT_FALSE(libpq::take_show_result(res.get(), "SHOW SERVERS", "hint", answer));
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->columns.size(), 2U);
    EXPECT_TRUE(answer->rows.empty());
}

TEST(PqConsole, ALaterResultIsIgnored) {
    const auto first = rows_result({"key"}, {{"first"}});
    const auto second = rows_result({"other"}, {{"second"}, {"third"}});
    std::optional<ConsoleAnswer> answer;
    EXPECT_FALSE(libpq::take_show_result(first.get(), "SHOW CONFIG", "hint", answer));
    EXPECT_FALSE(libpq::take_show_result(second.get(), "SHOW CONFIG", "hint", answer));
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->columns, std::vector<std::string>{"key"});
    ASSERT_EQ(answer->rows.size(), 1U);
    EXPECT_EQ(answer->rows[0][0], PoolerCell("first"));
}

TEST(PqConsole, AnErrorResultIsConnectionFailureWithTheCallersHint) {
    // What pgbouncer answers a user who is not an admin: an error, not rows.
    const auto conn = failed_connection();
    libpq::Result res(PQmakeEmptyPGresult(conn.get(), PGRES_FATAL_ERROR));
    std::optional<ConsoleAnswer> answer;
    const auto failed = libpq::take_show_result(res.get(), "SHOW CLIENTS", "be an admin", answer);
    ASSERT_TRUE(failed);
    EXPECT_EQ(failed->sqlstate, sqlstate::kConnectionFailure);
    EXPECT_EQ(failed->message.rfind("SHOW CLIENTS failed: ", 0), 0U) << failed->message;
    EXPECT_GT(failed->message.size(), std::string("SHOW CLIENTS failed: ").size());
    EXPECT_NE(failed->message.back(), '\n');
    EXPECT_EQ(failed->hint, "be an admin");
    EXPECT_FALSE(answer);
}

TEST(PqConsole, AnErrorWithoutAMessageSaysNoRows) {
    libpq::Result res(PQmakeEmptyPGresult(nullptr, PGRES_COMMAND_OK));
    std::optional<ConsoleAnswer> answer;
    const auto failed = libpq::take_show_result(res.get(), "SHOW CONFIG", "hint", answer);
    ASSERT_TRUE(failed);
    EXPECT_EQ(failed->message, "SHOW CONFIG failed: no rows");
}

TEST(PqConsole, AnErrorAfterTheAnswerIsStillAnError) {
    const auto first = rows_result({"key"}, {{"first"}});
    libpq::Result error(PQmakeEmptyPGresult(nullptr, PGRES_FATAL_ERROR));
    std::optional<ConsoleAnswer> answer;
    EXPECT_FALSE(libpq::take_show_result(first.get(), "SHOW CONFIG", "hint", answer));
    EXPECT_TRUE(libpq::take_show_result(error.get(), "SHOW CONFIG", "hint", answer));
}

TEST(PqConsole, MoreRowsThanTheCapAreRefusedBeforeAnyIsRead) {
    std::vector<std::vector<PoolerCell>> rows(kMaxPoolerRows + 1, std::vector<PoolerCell>{PoolerCell("x")});
    const auto res = rows_result({"c"}, rows);
    std::optional<ConsoleAnswer> answer;
    const auto failed = libpq::take_show_result(res.get(), "SHOW CLIENTS", "hint", answer);
    ASSERT_TRUE(failed);
    EXPECT_EQ(failed->sqlstate, sqlstate::kProgramLimit);
    EXPECT_EQ(failed->message, "SHOW CLIENTS returned " + std::to_string(kMaxPoolerRows + 1) + " rows, more than " +
                                   std::to_string(kMaxPoolerRows));
    EXPECT_FALSE(answer);

    rows.pop_back();  // exactly the cap is accepted
    const auto at_cap = rows_result({"c"}, rows);
    EXPECT_FALSE(libpq::take_show_result(at_cap.get(), "SHOW CLIENTS", "hint", answer));
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->rows.size(), kMaxPoolerRows);
}

TEST(PqConsole, MessageIsTheFirstLineWithoutTrailingBlanks) {
    const auto conn = failed_connection();
    const std::string full = PQerrorMessage(conn.get());
    const std::string m = libpq::message(conn.get());
    EXPECT_FALSE(m.empty());
    EXPECT_EQ(m.find('\n'), std::string::npos);
    EXPECT_NE(m.back(), ' ');
    EXPECT_EQ(full.rfind(m, 0), 0U) << full;
    EXPECT_EQ(libpq::message(nullptr), "out of memory");
}
