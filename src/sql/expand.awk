# Expands the shared column lists of the SQL parts (see src/sql/certificate_columns):
#   awk -v columns=src/sql/certificate_columns -f src/sql/expand.awk PARTS...
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
{
    gsub(/@CERTIFICATE_OUT_COLUMNS@/, outs)
    gsub(/@CERTIFICATE_COLUMN_NAMES@/, names)
    print
}
