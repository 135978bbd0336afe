# Assembles SQL scripts from their parts:
#   awk -v columns=src/sql/certificate_columns -f src/sql/expand.awk PARTS...
# Each PART is copied to the output in order, and
# - the shared column lists are expanded (see src/sql/certificate_columns);
# - a line "-- @include src/sql/NN_area.sql" is replaced by that install part,
#   and "-- @include src/sql/NN_area.sql:NAME" by its region NAME, so an update
#   part that creates or replaces objects is the install text itself, never a
#   hand copy that can drift from it;
# - an install part marks a region with a line "-- @region NAME" before it and
#   "-- @end NAME" after it (one definition, or a group that belongs together).
#   The marker lines are not copied to the output, so marking a region never
#   changes a generated script.
# Anything it cannot do exactly is an error on stderr with exit status 1 (make
# then stops and keeps no output): an unknown file or region, a region that is
# not closed, closed under another name, nested in another or named twice in a
# file, a "-- @" line that is no directive, an include inside an included file,
# or an include that brings no SQL.
function fail(where, message) {
    print "expand.awk: " where ": " message > "/dev/stderr"
    failed = 1
    exit 1
}
function expand(text) {
    gsub(/@CERTIFICATE_OUT_COLUMNS@/, outs, text)
    gsub(/@CERTIFICATE_COLUMN_NAMES@/, names, text)
    return text
}
# load(file, from): reads file once into text[file, 1..count[file]], checking its
# region markers; region_first/region_last[file, NAME] are the line numbers
# of the region's first and last line (inside the markers).
function load(file, from,    line, status, n, open, open_at, word, where) {
    if (file in count) return
    if ((status = getline line < file) < 0) fail(from, "no such file: " file)
    close(file)
    n = 0
    open = ""
    while ((status = getline line < file) > 0) {
        n++
        text[file, n] = line
        where = file ":" n
        if (line !~ /^-- @/) continue
        split(line, word, /[ \t]+/)
        if (word[2] == "@include") {
            if (!(word[3] ~ /^src\/sql\/[0-9][0-9]_[a-z_]+\.sql(:[a-z][a-z0-9_]*)?$/) || word[4] != "")
                fail(where, "bad include '" substr(line, 4) "' (-- @include src/sql/NN_area.sql[:region])")
            continue
        }
        if (word[2] != "@region" && word[2] != "@end")
            fail(where, "unknown directive '" line "' (@include, @region, @end)")
        if (word[3] !~ /^[a-z][a-z0-9_]*$/ || word[4] != "")
            fail(where, "bad region name in '" line "' (one name: a-z, 0-9, _)")
        if (word[2] == "@region") {
            if (open != "")
                fail(where, "region '" word[3] "' inside region '" open "' (line " open_at "): regions do not nest")
            if ((file, word[3]) in region_first)
                fail(where, "region '" word[3] "' is defined twice in " file)
            open = word[3]
            open_at = n
            region_first[file, open] = n + 1
        } else {
            if (open == "")
                fail(where, "'-- @end " word[3] "' without an open region")
            if (word[3] != open)
                fail(where, "'-- @end " word[3] "' closes region '" open "' (line " open_at ")")
            region_last[file, open] = n - 1
            open = ""
        }
    }
    close(file)
    if (status < 0) fail(file, "cannot read the file")
    if (open != "") fail(file ":" open_at, "region '" open "' is not closed (-- @end " open ")")
    count[file] = n
}
function is_marker(line) { return line ~ /^-- @(region|end)[ \t]/ }
# emit(file, first, last, nested): copies lines first..last of file, without
# region markers; an include line is expanded unless we are inside one.
# Returns how many lines of SQL (not blank, not a comment) it wrote.
function emit(file, first, last, nested,    i, line, target, name, region, colon, sql) {
    sql = 0
    for (i = first; i <= last; i++) {
        line = text[file, i]
        if (is_marker(line)) continue
        if (line ~ /^-- @include[ \t]/) {
            if (nested) fail(file ":" i, "an included part may not include another ('" line "')")
            split(line, target, /[ \t]+/)
            name = target[3]
            colon = index(name, ":")
            if (colon) { region = substr(name, colon + 1); name = substr(name, 1, colon - 1) }
            else region = ""
            load(name, file ":" i)
            if (region == "") {
                if (emit(name, 1, count[name], 1) == 0) fail(file ":" i, name " holds no SQL")
            } else {
                if (!((name, region) in region_first))
                    fail(file ":" i, "no region '" region "' in " name)
                if (emit(name, region_first[name, region], region_last[name, region], 1) == 0)
                    fail(file ":" i, "region '" region "' of " name " holds no SQL")
            }
            continue
        }
        print expand(line)
        if (line !~ /^[ \t]*(--.*)?$/) sql++
    }
    return sql
}
BEGIN {
    n = 0
    while ((getline line < columns) > 0) {
        if (line ~ /^#/ || line ~ /^[ \t]*$/) continue
        split(line, field, " ")
        n++
        colname[n] = field[1]
        coltype[n] = substr(line, length(field[1]) + 2)
    }
    if (n == 0) fail(columns, "no columns")
    for (i = 1; i <= n; i++) {
        outs = outs (i > 1 ? ",\n    " : "") "OUT " colname[i] " " coltype[i]
        names = names (i > 1 ? ", " : "") colname[i]
    }
    if (ARGC < 2) fail("arguments", "no parts given")
    for (a = 1; a < ARGC; a++) {
        load(ARGV[a], "arguments")
        emit(ARGV[a], 1, count[ARGV[a]], 0)
    }
    exit 0
}
