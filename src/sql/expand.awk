# Assembles SQL scripts from their parts:
#   awk -v columns=src/sql/certificate_columns -f src/sql/expand.awk PARTS...
# - expands the shared column lists (see src/sql/certificate_columns);
# - replaces a line "-- @include src/sql/NN_area.sql" by that install part, so
#   an upgrade part that creates objects new in the version is the install
#   part itself, never a hand copy that can drift from it.
BEGIN {
    n = 0
    while ((getline line < columns) > 0) {
        if (line ~ /^#/ || line ~ /^[ \t]*$/) continue
        split(line, field, " ")
        n++
        name[n] = field[1]
        type[n] = substr(line, length(field[1]) + 2)
    }
    if (n == 0) { print "expand.awk: no columns in " columns > "/dev/stderr"; exit 1 }
    for (i = 1; i <= n; i++) {
        outs = outs (i > 1 ? ",\n    " : "") "OUT " name[i] " " type[i]
        names = names (i > 1 ? ", " : "") name[i]
    }
}
function expand(text) {
    gsub(/@CERTIFICATE_OUT_COLUMNS@/, outs, text)
    gsub(/@CERTIFICATE_COLUMN_NAMES@/, names, text)
    return text
}
/^-- @include / {
    file = $3
    if (file !~ /^src\/sql\/[0-9][0-9]_[a-z_]+\.sql$/) {
        print "expand.awk: " FILENAME ": bad include '" file "'" > "/dev/stderr"; exit 1
    }
    lines = 0
    while ((status = getline included < file) > 0) { print expand(included); lines++ }
    close(file)
    if (status < 0 || lines == 0) {
        print "expand.awk: " FILENAME ": cannot include " file > "/dev/stderr"; exit 1
    }
    next
}
{ print expand($0) }
