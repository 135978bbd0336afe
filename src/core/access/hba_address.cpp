// The IP addresses of pg_hba.conf matching (hba_match.hpp): parsing and
// printing an address, network containment, and this host's interfaces (the
// "samehost" / "samenet" keywords).
#include "access/hba_match.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

namespace tls_audit::hba {

std::optional<IpAddress> parse_ip(std::string_view text) {
    if (text.empty() || text.size() > 64) return std::nullopt;
    std::string s(text);
    int prefix = -1;
    if (auto slash = s.find('/'); slash != std::string::npos) {
        const std::string p = s.substr(slash + 1);
        s.resize(slash);
        if (p.empty() || p.size() > 3 || !std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; }))
            return std::nullopt;
        prefix = std::stoi(p);
    }
    IpAddress a;
    if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) {
        a.family = 4;
        if (prefix != -1 && prefix != 32) return std::nullopt;
        return a;
    }
    if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) {
        a.family = 6;
        if (prefix != -1 && prefix != 128) return std::nullopt;
        return a;
    }
    return std::nullopt;
}

std::string format_ip(const IpAddress &a) {
    char buf[INET6_ADDRSTRLEN] = "";
    if (inet_ntop(a.family == 4 ? AF_INET : AF_INET6, a.bytes.data(), buf, sizeof buf) == nullptr) return "?";
    return buf;
}

bool IpNet::contains(const IpAddress &a) const {
    if (a.family != addr.family) return false;
    for (int i = 0; i < addr.length(); ++i)
        if ((a.bytes[i] & mask.bytes[i]) != (addr.bytes[i] & mask.bytes[i])) return false;
    return true;
}

bool IpNet::contains(const IpNet &other) const {
    if (other.addr.family != addr.family) return false;
    for (int i = 0; i < addr.length(); ++i) {
        // Every bit we fix must be fixed (to the same value) in other.
        if ((mask.bytes[i] & other.mask.bytes[i]) != mask.bytes[i]) return false;
        if ((other.addr.bytes[i] & mask.bytes[i]) != (addr.bytes[i] & mask.bytes[i])) return false;
    }
    return true;
}

IpNet host_net(const IpAddress &a) {
    IpNet n{a, a};
    for (int i = 0; i < a.length(); ++i) n.mask.bytes[i] = 0xff;
    return n;
}

std::vector<Interface> local_interfaces() {
    std::vector<Interface> out;
    struct ifaddrs *list = nullptr;
    if (getifaddrs(&list) != 0) return out;
    for (struct ifaddrs *i = list; i != nullptr; i = i->ifa_next) {
        if (i->ifa_addr == nullptr || i->ifa_netmask == nullptr) continue;
        Interface f;
        if (i->ifa_addr->sa_family == AF_INET) {
            f.addr.family = f.mask.family = 4;
            std::memcpy(f.addr.bytes.data(), &reinterpret_cast<const sockaddr_in *>(i->ifa_addr)->sin_addr, 4);
            std::memcpy(f.mask.bytes.data(), &reinterpret_cast<const sockaddr_in *>(i->ifa_netmask)->sin_addr, 4);
        } else if (i->ifa_addr->sa_family == AF_INET6) {
            f.addr.family = f.mask.family = 6;
            std::memcpy(f.addr.bytes.data(), &reinterpret_cast<const sockaddr_in6 *>(i->ifa_addr)->sin6_addr, 16);
            std::memcpy(f.mask.bytes.data(), &reinterpret_cast<const sockaddr_in6 *>(i->ifa_netmask)->sin6_addr, 16);
        } else {
            continue;
        }
        out.push_back(f);
    }
    freeifaddrs(list);
    return out;
}

}  // namespace tls_audit::hba
