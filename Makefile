# PGXS build of the pg_tls_audit extension and the pg_tls_check tool.
#   make && make install          build and install (PG_CONFIG=... to pick a server)
#   make installcheck             pg_regress against a running server with the library preloaded
#   make installcheck REGRESS_TEMP_INSTANCE=DIR
#                                 the same in a throwaway instance (run as a non-root user)
# CMakeLists.txt builds the core's unit tests, sanitizer builds and fuzzers.

EXTENSION = pg_tls_audit
EXTVERSION = 1.2
MODULE_big = pg_tls_audit

CORE_SRCS = $(sort $(wildcard src/core/*/*.cpp))
GLUE_SRCS = $(sort $(wildcard src/pg/*.cpp))
# What the CLI and the glue both do with libpq (pgbouncer's admin console).
LIBPQ_SRCS = $(sort $(wildcard src/libpq/*.cpp))
OBJS = $(CORE_SRCS:.cpp=.o) $(LIBPQ_SRCS:.cpp=.o) $(GLUE_SRCS:.cpp=.o)

# The install script of the current version is assembled from one file per
# SQL-facing area (src/sql/NN_area.sql), in name order; the update script from
# the previous release from the parts in src/sql/upgrade/PREVIOUS--CURRENT/,
# in name order (src/sql/expand.awk puts install text into them). Released
# scripts, install and update, are kept as shipped in src/sql/released/ (users
# may still install them and update from them) and never generated again.
PREVIOUS_VERSION = 1.1
SQL_PARTS = $(sort $(wildcard src/sql/[0-9]*.sql))
UPDATE_PARTS = $(sort $(wildcard src/sql/upgrade/$(PREVIOUS_VERSION)--$(EXTVERSION)/*.sql))
DATA_built = $(EXTENSION)--$(EXTVERSION).sql $(EXTENSION)--$(PREVIOUS_VERSION)--$(EXTVERSION).sql
DATA = $(wildcard src/sql/released/$(EXTENSION)--*.sql)

REGRESS = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --inputdir=. --load-extension=$(EXTENSION)
ifdef REGRESS_TEMP_INSTANCE
REGRESS_OPTS += --temp-instance=$(REGRESS_TEMP_INSTANCE) --temp-config=test/regress.conf
endif

PG_CONFIG ?= pg_config
PG_CPPFLAGS += -Isrc/core -Isrc/libpq -Isrc/pg
PG_CXXFLAGS += -std=c++17 -Wall -Wextra
# make TLS_AUDIT_WERROR=1: warnings are errors (the test suite builds so).
ifdef TLS_AUDIT_WERROR
PG_CXXFLAGS += -Werror
endif
# Header dependencies (PGXS tracks none unless the server was configured with
# --enable-depend): each .o gets a .d beside it, included below.
PG_CXXFLAGS += -MMD -MP
# make TLS_AUDIT_FAULT_STAGES=1: log the minor page faults of each stage of
# the connection path (src/pg/fault_stages.hpp; never in a shipped build).
ifdef TLS_AUDIT_FAULT_STAGES
PG_CPPFLAGS += -DTLS_AUDIT_FAULT_STAGES
endif
# Calls into PostgreSQL, OpenSSL and libc go through the GOT, which the
# postmaster already filled at load time (the library is linked -z now),
# instead of through a PLT page that each new backend would fault in.
PG_CXXFLAGS += -fno-plt
# libstdc++ and libgcc are linked in statically, with their symbols hidden
# (--exclude-libs), so that the server loads no C++ runtime for this library:
# PostgreSQL itself loads neither, and each shared library the postmaster
# maps costs every backend its finalizer and the dynamic linker's walk at
# exit (about a dozen page faults per connection, doc/benchmarks.md). Hidden,
# the copies inside this library cannot meet another module's C++ runtime;
# no exception leaves this library anyway (pg::guarded catches them all).
# The library is linked by the C compiler (PGXS), hence -Bstatic around
# -lstdc++ rather than g++'s -static-libstdc++.
SHLIB_LINK += -Wl,-Bstatic -lstdc++ -Wl,-Bdynamic -static-libgcc -Wl,--exclude-libs,ALL -lssl -lcrypto
# What every connection and every backend's exit touches is laid out in one
# range of pages (src/pg/hot_layout.ld says what and why); the script is
# added to the linker's default one (INSERT), not a replacement of it.
HOT_LAYOUT = $(dir $(firstword $(MAKEFILE_LIST)))src/pg/hot_layout.ld
SHLIB_LINK += -Wl,-T,$(HOT_LAYOUT)
# libpq (the outbound links parse connection strings with the server's own
# PQconninfoParse; the pooler functions and worker read pgbouncer's console)
# is NOT linked: the postmaster would map it and every backend would pay for
# it at each connection and exit, though no connection needs it. The library
# loads it on first use instead (src/pg/libpq_on_demand.cpp, from its
# RUNPATH: the server's libdir, where linking it would have found it), by
# the soname of the libpq of this build; test/library_layout.sh checks that
# libpq is no NEEDED entry. Its header directory is searched last
# (-idirafter), after the server's headers.
PG_CPPFLAGS += -idirafter $(libpq_srcdir)
# dlopen is in libc since glibc 2.34; older ones need libdl (as needed only:
# a NEEDED libdl would be one more library mapped in every backend).
SHLIB_LINK += -Wl,--push-state,--as-needed -ldl -Wl,--pop-state

# JIT bitcode is only used to inline SQL-callable C functions into JIT-compiled
# expressions; ours do I/O-bound or per-row work, so we skip the clang bitcode
# step (it would need the same C++ flags for clang).
override with_llvm = no

EXTRA_CLEAN = $(DATA_built) $(CLI_OBJS) pg_tls_check regression.diffs regression.out results tmp_certs \
	$(OBJS:.o=.d) $(CLI_OBJS:.o=.d)

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# Column lists shared by several functions are written once
# (src/sql/certificate_columns) and expanded into the parts.
SQL_EXPAND = awk -v columns=src/sql/certificate_columns -f src/sql/expand.awk
# A folder is a prerequisite too, so that removing a part rebuilds the script;
# a failing expansion leaves no script behind (make stops with its message).
$(EXTENSION)--$(EXTVERSION).sql: $(SQL_PARTS) src/sql src/sql/certificate_columns src/sql/expand.awk
	$(SQL_EXPAND) $(SQL_PARTS) > $@.tmp || { rm -f $@.tmp; exit 1; }
	mv $@.tmp $@
$(EXTENSION)--$(PREVIOUS_VERSION)--$(EXTVERSION).sql: $(UPDATE_PARTS) src/sql/upgrade/$(PREVIOUS_VERSION)--$(EXTVERSION) \
		$(SQL_PARTS) src/sql/certificate_columns src/sql/expand.awk
	$(SQL_EXPAND) $(UPDATE_PARTS) > $@.tmp || { rm -f $@.tmp; exit 1; }
	mv $@.tmp $@

# The regression tests read generated certificates (psql backticks use
# $TLS_AUDIT_TEST_CERTS); make them when none were given.
TLS_AUDIT_TEST_CERTS ?= $(CURDIR)/tmp_certs
export TLS_AUDIT_TEST_CERTS
installcheck: $(TLS_AUDIT_TEST_CERTS)/server.crt
$(TLS_AUDIT_TEST_CERTS)/server.crt:
	bash test/certs/make-certs.sh $(TLS_AUDIT_TEST_CERTS) >/dev/null

# --- pg_tls_check: the command-line probe, installed into the server's bindir ---
CLI_SRCS = $(sort $(wildcard src/cli/*.cpp))
CLI_OBJS = $(CLI_SRCS:.cpp=.o)
ifneq ($(CLI_SRCS),)
all: pg_tls_check
# --pooler reads pgbouncer's admin console with the server's libpq (only
# src/cli/pooler_console.cpp and src/libpq include libpq-fe.h).
pg_tls_check: $(CLI_OBJS) $(LIBPQ_SRCS:.cpp=.o) $(CORE_SRCS:.cpp=.o)
	$(CXX) $(CXXFLAGS) $(LDFLAGS) -o $@ $^ $(libpq) $(rpath) -lssl -lcrypto -lpthread
install: install-pg-tls-check
install-pg-tls-check: pg_tls_check installdirs
	$(INSTALL_PROGRAM) pg_tls_check '$(DESTDIR)$(bindir)/pg_tls_check'
.PHONY: install-pg-tls-check
endif

# The layers hold by construction: the core and the CLI are compiled without
# the glue's directory and without the server's include directories, so a
# PostgreSQL or glue header included there is a compile error (and the core's
# headers #error when postgres.h came first; test/layering.sh proves both).
CORE_OBJS = $(CORE_SRCS:.cpp=.o)
# Each core object is compiled at its area's level (its folder's name), so a
# header of a later area fails to compile there (src/core/base/pure_cpp.hpp).
$(CORE_OBJS): override CPPFLAGS = -Isrc/core -D_GNU_SOURCE -DTLS_AUDIT_PURE_CPP \
	-DTLS_AUDIT_AREA_LEVEL=TLS_AUDIT_AREA_$(notdir $(patsubst %/,%,$(dir $@)))
$(CLI_OBJS): override CPPFLAGS = -Isrc/core -Isrc/cli -D_GNU_SOURCE -DTLS_AUDIT_PURE_CPP
# libpq-fe.h (the client headers' directory, not the server's) for the one
# CLI file that uses libpq, searched last.
src/cli/pooler_console.o: override CPPFLAGS = -Isrc/core -Isrc/libpq -Isrc/cli -D_GNU_SOURCE -DTLS_AUDIT_PURE_CPP \
	-idirafter $(includedir)
# src/libpq is linked into both the library and pg_tls_check, so it is
# compiled as the CLI is: the core and libpq-fe.h, no server header.
LIBPQ_OBJS = $(LIBPQ_SRCS:.cpp=.o)
$(LIBPQ_OBJS): override CPPFLAGS = -Isrc/core -Isrc/libpq -D_GNU_SOURCE -DTLS_AUDIT_PURE_CPP -idirafter $(includedir)
$(CORE_OBJS) $(CLI_OBJS) $(LIBPQ_OBJS): override PG_CPPFLAGS =

# The soname of the server's libpq (libpq.so.5 since PostgreSQL 8.3), which
# src/pg/libpq_on_demand.cpp loads; that file's default when none is found.
LIBPQ_SONAME := $(shell objdump -p '$(libdir)/libpq.so' 2>/dev/null | awk '$$1 == "SONAME" { print $$2 }')
ifneq ($(LIBPQ_SONAME),)
src/pg/libpq_on_demand.o: override CPPFLAGS += -DTLS_AUDIT_LIBPQ_SONAME='"$(LIBPQ_SONAME)"'
endif

# A change of the layout relinks the library.
$(MODULE_big)$(DLSUFFIX): $(HOT_LAYOUT)

-include $(OBJS:.o=.d) $(CLI_OBJS:.o=.d)
