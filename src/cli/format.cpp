#include "format.hpp"

#include "probe/probe_io.hpp"

namespace tls_audit::cli {

std::string target_label(const HostPort &t) { return format_host_port(t.host, t.port); }

const std::vector<PoolerResult> &report_poolers(const ReportInput &in) {
    static const std::vector<PoolerResult> none;
    return in.poolers != nullptr ? *in.poolers : none;
}

Status report_status(const ReportInput &in) {
    return worst(overall_status(in.results), overall_pooler_status(report_poolers(in)));
}

std::string format_report(const ReportInput &in) {
    switch (in.options.format) {
    case Format::Text: return format_text(in);
    case Format::Json: return format_json(in);
    case Format::Tap: return format_tap(in);
    case Format::Nagios: return format_nagios(in);
    case Format::Prometheus: return format_prometheus(in);
    case Format::Html: return format_html(in);
    }
    return format_text(in);
}

}  // namespace tls_audit::cli
