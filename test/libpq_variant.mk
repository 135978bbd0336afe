# The library as built, but looking for libpq under another name: for the test
# of a server where libpq cannot be loaded (test/t/079_libpq_unavailable.pl).
# Read after the Makefile, in a tree where the library is built:
#
#   make -f Makefile -f test/libpq_variant.mk libpq-variant \
#       VARIANT_DIR=/abs/scratch VARIANT_LIBPQ_SONAME=/abs/scratch/libpq-for-test.so
#
# Only src/pg/libpq_on_demand.cpp is compiled again (with that name as its
# TLS_AUDIT_LIBPQ_SONAME, as the Makefile's LIBPQ_SONAME sets it), into
# VARIANT_DIR; the library is linked there from it and the tree's other
# objects, with the Makefile's own link command and flags (PGXS's
# LINK.shared, SHLIB_LINK: the static C++ runtime, the hot layout, no libpq).
# Nothing of the tree is written: its objects are only read (make would
# build one that is missing or stale, as `make` would).

ifndef VARIANT_DIR
$(error VARIANT_DIR: the directory to build the variant in (absolute))
endif
ifndef VARIANT_LIBPQ_SONAME
$(error VARIANT_LIBPQ_SONAME: the name the variant loads libpq by)
endif

VARIANT_OBJ = $(VARIANT_DIR)/libpq_on_demand.o
VARIANT_LIB = $(VARIANT_DIR)/$(MODULE_big)$(DLSUFFIX)

libpq-variant: $(VARIANT_LIB)
.PHONY: libpq-variant

# The glue's flags (CPPFLAGS and CXXFLAGS as PGXS made them), not the
# Makefile's rule for src/pg/libpq_on_demand.o, which adds the real soname.
$(VARIANT_OBJ): src/pg/libpq_on_demand.cpp
	@mkdir -p $(VARIANT_DIR)
	$(CXX) $(CXXFLAGS) $(CPPFLAGS) -DTLS_AUDIT_LIBPQ_SONAME='"$(VARIANT_LIBPQ_SONAME)"' -c -o $@ $<

$(VARIANT_LIB): $(VARIANT_OBJ) $(filter-out src/pg/libpq_on_demand.o,$(OBJS)) $(HOT_LAYOUT)
	$(LINK.shared) -o $@ $(VARIANT_OBJ) $(filter-out src/pg/libpq_on_demand.o,$(OBJS)) $(LDFLAGS) $(LDFLAGS_SL) $(SHLIB_LINK)
