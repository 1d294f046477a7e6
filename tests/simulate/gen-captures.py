#!/usr/bin/env python3
"""gen-captures.py - write the captures of tests/simulate (pcap and pcapng).

Deterministic: the same bytes every run, so the files in the tree can be
regenerated and compared (`gen-captures.py --check DIR`).  Addresses are
from 198.18.0.0/15 and 2001:db8::/32 only.

Captures:
  forward.pcap     Ethernet: a TCP connection (handshake, data, close), a
                   DNS query and answer, ICMP echo, IPv6 UDP both ways, an
                   NTP packet (NOTRACKed), a SYN the ruleset refuses, an ACK
                   of no flow, an ARP frame (skipped), a padded short frame,
                   a VLAN-tagged packet
  expire.pcap      raw IP: UDP entries that expire between packets, by the
                   capture's timestamps (UDP timeouts 30 s and 120 s)
  nflog.pcap       NFLOG: packets logged at FORWARD with their hook, mark and
                   interface indexes
  sll.pcap         Linux cooked v1 (tcpdump -i any on the router: each packet
                   in, then out): directions but no interfaces
  sll2.pcapng      Linux cooked v2 in pcapng: the same, with interface indexes
  truncated.pcap   the last record cut short: an error naming record 3
  badlink.pcap     link type 105 (802.11): refused
  shortframe.pcap  Ethernet with a 10-byte record: reported, the file goes on
  badsum.pcap      raw IP: transport checksums right and wrong, TCP, UDP, ICMP and
                   ICMPv6, a UDP datagram without a checksum, one cut by the snap
                   length (not verifiable)
  sctp.pcap        raw IP: an SCTP association (INIT .. COOKIE_ACK, DATA, SACK:
                   ESTABLISHED, [ASSURED]), one shut down (CLOSED), an INIT with a
                   wrong CRC32c; UDP-Lite both ways (summed with protocol 17 in
                   the pseudo-header, as the kernel checks it) and one with
                   checksum 0 (INVALID)

Every transport checksum is right unless a packet says otherwise: a capture
carries no "verified" flag, so nfqct simulate checks them at entering hooks,
as the kernel's conntrack does at PREROUTING.
"""
import os
import struct
import sys

T0 = 1764000000  # 2025-11-24, an arbitrary fixed start


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def a4(s):
    return bytes(int(x) for x in s.split("."))


def a6(s):
    head, _, tail = s.partition("::")
    h = [int(x, 16) for x in head.split(":") if x]
    t = [int(x, 16) for x in tail.split(":") if x]
    words = h + [0] * (8 - len(h) - len(t)) + t
    return struct.pack("!8H", *words)


# Where the transport checksum lies, by protocol.
CSUM_AT = {6: 16, 17: 6, 1: 2, 58: 2}


def l4sum(proto, pseudo, payload, bad=False):
    """payload with its checksum field filled in (bad: off by one)."""
    at = CSUM_AT.get(proto)
    if at is None or len(payload) < at + 2:
        return payload
    c = csum((pseudo if proto != 1 else b"") + payload[:at] + b"\0\0" + payload[at + 2:])
    if proto == 17 and c == 0:
        c = 0xFFFF  # 0 would mean "no checksum"
    if bad:
        c ^= 1
    return payload[:at] + struct.pack("!H", c) + payload[at + 2:]


def ip4(proto, src, dst, payload, ident=1, bad=False):
    pseudo = a4(src) + a4(dst) + struct.pack("!BBH", 0, proto, len(payload))
    payload = l4sum(proto, pseudo, payload, bad)
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0x4000, 64, proto, 0,
                      a4(src), a4(dst))
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + payload


def ip6(nh, src, dst, payload, bad=False):
    pseudo = a6(src) + a6(dst) + struct.pack("!I3xB", len(payload), nh)
    payload = l4sum(nh, pseudo, payload, bad)
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), nh, 64, a6(src), a6(dst)) + payload


def udp(sp, dp, n):
    return struct.pack("!HHHH", sp, dp, 8 + n, 0) + bytes(n)


def tcp(sp, dp, flags, seq, ack, n=0):
    f = {"S": 0x02, "A": 0x10, "F": 0x01, "R": 0x04, "P": 0x08}
    bits = sum(f[c] for c in flags)
    return struct.pack("!HHIIBBHHH", sp, dp, seq, ack, 5 << 4, bits, 65535, 0, 0) + bytes(n)


def icmp(typ, code, ident, seq, n=8):
    return struct.pack("!BBHHH", typ, code, 0, ident, seq) + bytes(n)


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c ^= b
        for _ in range(8):
            c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
    return c ^ 0xFFFFFFFF


def sctp(sp, dp, vtag, typ, body=b"", bad=False):
    """one chunk; the CRC32c right (bad: off by one), least significant byte first"""
    n = 4 + len(body)
    p = struct.pack("!HHII", sp, dp, vtag, 0) + struct.pack("!BBH", typ, 0, n) + body
    p += bytes((4 - n % 4) % 4)
    c = crc32c(p) ^ (1 if bad else 0)
    return p[:8] + struct.pack("<I", c) + p[12:]


def sctp_init(sp, dp, vtag, typ, tag, bad=False):
    return sctp(sp, dp, vtag, typ, struct.pack("!IIHHI", tag, 65535, 1, 1, 1), bad)


def udplite(src, dst, sp, dp, n, zero=False):
    """UDP-Lite, full coverage, summed as the kernel's udplite_error() checks it"""
    d = struct.pack("!HHHH", sp, dp, 0, 0) + bytes(n)
    c = csum(a4(src) + a4(dst) + struct.pack("!BBH", 0, 17, len(d)) + d) or 0xFFFF
    return d[:6] + struct.pack("!H", 0 if zero else c) + d[8:]


def ether(payload, ethertype=0x0800, vlan=None):
    h = b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01"
    if vlan is not None:
        h += struct.pack("!HH", 0x8100, vlan)
    frame = h + struct.pack("!H", ethertype) + payload
    return frame + bytes(max(0, 60 - len(frame)))  # minimum frame: padding


def pcap(linktype, records):
    """records: (seconds after T0 as float, bytes[, orig_len])."""
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype)
    for rec in records:
        t, data = rec[0], rec[1]
        orig = rec[2] if len(rec) > 2 else len(data)
        usec = int(round(t * 1e6))
        out += struct.pack("<IIII", T0 + usec // 1000000, usec % 1000000, len(data), orig) + data
    return out


def pcapng(linktype, records):
    def block(btype, body):
        body += bytes((4 - len(body) % 4) % 4)
        n = 12 + len(body)
        return struct.pack("<II", btype, n) + body + struct.pack("<I", n)

    out = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    out += block(1, struct.pack("<HHI", linktype, 0, 65535))
    for t, data in records:
        ts = (T0 * 1000000) + int(round(t * 1e6))
        out += block(6, struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(data), len(data)) + data)
    return out


# The hosts of the router topology: lan 198.18.1.0/24 and 2001:db8:1::/64,
# wan 198.19.2.0/24 and 2001:db8:2::/64.
C, S = "198.18.1.10", "198.19.2.20"
C6, S6 = "2001:db8:1::10", "2001:db8:2::20"


def forward_packets():
    """What the router forwards, as IP packets, with their times."""
    p = []
    t = 0.0

    def add(dt, pkt):
        nonlocal t
        t += dt
        p.append((t, pkt))

    # TCP: handshake, 100 bytes, the reply's ACK, close from the client
    add(0.000, ip4(6, C, S, tcp(40000, 80, "S", 1000, 0)))
    add(0.001, ip4(6, S, C, tcp(80, 40000, "SA", 5000, 1001)))
    add(0.001, ip4(6, C, S, tcp(40000, 80, "A", 1001, 5001)))
    add(0.001, ip4(6, C, S, tcp(40000, 80, "PA", 1001, 5001, 100)))
    add(0.001, ip4(6, S, C, tcp(80, 40000, "A", 5001, 1101)))
    add(0.001, ip4(6, C, S, tcp(40000, 80, "FA", 1101, 5001)))
    add(0.001, ip4(6, S, C, tcp(80, 40000, "FA", 5001, 1102)))
    add(0.001, ip4(6, C, S, tcp(40000, 80, "A", 1102, 5002)))
    # DNS over UDP, query and answer
    add(0.100, ip4(17, C, S, udp(50000, 53, 30)))
    add(0.010, ip4(17, S, C, udp(53, 50000, 60)))
    # ICMP echo and reply
    add(0.100, ip4(1, C, S, icmp(8, 0, 7, 1)))
    add(0.001, ip4(1, S, C, icmp(0, 0, 7, 1)))
    # IPv6 UDP both ways
    add(0.100, ip6(17, C6, S6, udp(50001, 53, 20)))
    add(0.001, ip6(17, S6, C6, udp(53, 50001, 40)))
    # NTP: NOTRACK in the raw table
    add(0.100, ip4(17, C, S, udp(123, 123, 48)))
    # a SYN to a port the ruleset does not open: FORWARD policy
    add(0.100, ip4(6, C, S, tcp(40001, 25, "S", 7000, 0)))
    # an ACK of no flow: picked up mid-stream (nf_conntrack_tcp_loose=1), NEW, refused
    add(0.100, ip4(6, S, C, tcp(443, 40002, "A", 9000, 9000)))
    return p


def main():
    out = sys.argv[2] if len(sys.argv) > 2 and sys.argv[1] == "--check" else (
        sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
    files = {}

    fw = forward_packets()
    eth = [(t, ether(pk, 0x86DD if pk[0] >> 4 == 6 else 0x0800)) for t, pk in fw]
    # an ARP request (skipped), then a VLAN-tagged echo request
    arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, b"\x02\0\0\0\0\x01", a4(C), bytes(6), a4(S))
    eth.append((fw[-1][0] + 0.1, ether(arp, 0x0806)))
    eth.append((fw[-1][0] + 0.2, ether(ip4(1, C, S, icmp(8, 0, 8, 1)), 0x0800, vlan=5)))
    files["forward.pcap"] = pcap(1, eth)

    # UDP at 0 s and its reply at 1 s: 30 s timeout (the flow is younger
    # than two seconds); at 29 s the client again: replied and older than
    # 2 s, so ASSURED with the 120 s stream timeout, to 149 s.  At 150 s the
    # entry is gone and the same flow is NEW again.  An unanswered query at
    # 0.5 s expires at 30.5 s, removed by the housekeeping sweep (never
    # looked up again); a last flow at 155 s is alive at the end.
    exp = [
        (0.0, ip4(17, C, S, udp(41000, 53, 10))),
        (0.5, ip4(17, C, S, udp(41002, 53, 10))),
        (1.0, ip4(17, S, C, udp(53, 41000, 10))),
        (29.0, ip4(17, C, S, udp(41000, 53, 10))),
        (150.0, ip4(17, C, S, udp(41000, 53, 10))),
        (155.0, ip4(17, C, S, udp(41001, 53, 10))),
    ]
    files["expire.pcap"] = pcap(101, exp)  # LINKTYPE_RAW

    # NFLOG at FORWARD (hook 2) with marks and interfaces lan0=3, wan0=4
    def nflog(pkt, indev, outdev, mark, v6=False):
        def tlv(typ, val):
            n = 4 + len(val)
            return struct.pack("<HH", n, typ) + val + bytes((4 - n % 4) % 4)
        hdr = struct.pack("!HBB", 0x86DD if v6 else 0x0800, 2, 0)
        body = tlv(1, hdr) + tlv(2, struct.pack("!I", mark))
        if indev:
            body += tlv(4, struct.pack("!I", indev))
        if outdev:
            body += tlv(5, struct.pack("!I", outdev))
        body += tlv(10, b"nfqct-test\0") + tlv(9, pkt)
        return struct.pack("!BBH", 10 if v6 else 2, 0, 0) + body

    nfl = []
    for t, pk in fw[:10]:
        to_wan = pk[12:16] == a4(C)
        nfl.append((t, nflog(pk, 3 if to_wan else 4, 4 if to_wan else 3, 0)))
    # marked 0x1: the mark rule accepts a port the ruleset does not open
    nfl.append((1.0, nflog(ip4(6, C, S, tcp(40003, 8080, "S", 100, 0)), 3, 4, 1)))
    nfl.append((1.1, nflog(ip4(6, C, S, tcp(40004, 8080, "S", 100, 0)), 3, 4, 0)))
    # from wan to lan: refused by the -i lan0 rules
    nfl.append((1.2, nflog(ip4(6, S, C, tcp(40005, 80, "S", 100, 0)), 4, 3, 0)))
    files["nflog.pcap"] = pcap(239, nfl)

    # Linux cooked v1: packet type 0 (to us) / 4 (outgoing), ARPHRD_ETHER
    def sll(pkt, ptype):
        return struct.pack("!HHH8sH", ptype, 1, 6, b"\x02\0\0\0\0\x01\0\0", 0x0800) + pkt
    # tcpdump -i any on a router: each forwarded packet in, then out
    files["sll.pcap"] = pcap(113, [r for t, pk in fw[:5] for r in ((t, sll(pk, 0)), (t + 0.0001, sll(pk, 4)))])

    # Linux cooked v2 in pcapng: ifindex 3 (lan0) in, 4 (wan0) out
    def sll2(pkt, ifindex, ptype):
        ethertype = 0x86DD if pkt[0] >> 4 == 6 else 0x0800
        return struct.pack("!HHIHBB8s", ethertype, 0, ifindex, 1, ptype, 6, b"\x02\0\0\0\0\x01\0\0") + pkt
    recs = []
    for t, pk in fw[:5]:
        to_wan = pk[12:16] == a4(C)
        recs.append((t, sll2(pk, 3 if to_wan else 4, 0)))
        recs.append((t + 0.0001, sll2(pk, 4 if to_wan else 3, 4)))
    files["sll2.pcapng"] = pcapng(276, recs)

    # Checksums (LINKTYPE_RAW, forwarded lan -> wan unless said): each wrong one is
    # INVALID and dropped by the ruleset's first rule; the others as in forward.pcap.
    nosum = ip4(17, C, S, udp(50012, 53, 20))
    nosum = nosum[:26] + b"\0\0" + nosum[28:]  # UDP checksum 0: none, not verified
    cut = ip4(17, C, S, udp(50013, 53, 600), bad=True)
    files["badsum.pcap"] = pcap(101, [
        (0.0, ip4(6, C, S, tcp(40010, 80, "S", 100, 0))),
        (0.1, ip4(6, C, S, tcp(40011, 80, "S", 100, 0), bad=True)),
        (0.2, ip4(17, C, S, udp(50010, 53, 20), bad=True)),
        (0.3, ip4(17, C, S, udp(50011, 53, 21))),  # odd length: the padded last byte
        (0.4, nosum),
        (0.5, ip4(1, C, S, icmp(8, 0, 9, 1), bad=True)),
        (0.6, ip6(58, C6, S6, struct.pack("!BBHHH", 128, 0, 0, 9, 1) + bytes(8), bad=True)),
        (0.7, ip6(17, C6, S6, udp(50014, 53, 20), bad=True)),
        (0.8, ip6(6, C6, S6, tcp(40012, 80, "S", 100, 0), bad=True)),
        # the reply of the first SYN, wrong: INVALID, the entry stays SYN_SENT
        (0.9, ip4(6, S, C, tcp(80, 40010, "SA", 500, 101), bad=True)),
        # 628 bytes, 100 of them captured: nothing to verify with
        (1.0, cut[:100], len(cut)),
    ])

    # SCTP and UDP-Lite (LINKTYPE_RAW, lan -> wan and back)
    def sc(src, dst, pk):
        return ip4(132, src, dst, pk)
    files["sctp.pcap"] = pcap(101, [
        (0.0, sc(C, S, sctp_init(40100, 9899, 0, 1, 0x1001))),
        (0.1, sc(S, C, sctp_init(9899, 40100, 0x1001, 2, 0x2001))),
        (0.2, sc(C, S, sctp(40100, 9899, 0x2001, 10, b"cookie!!"))),
        (0.3, sc(S, C, sctp(9899, 40100, 0x1001, 11))),
        (0.4, sc(C, S, sctp(40100, 9899, 0x2001, 0, struct.pack("!IHHI", 1, 0, 0, 0) + bytes(8)))),
        (0.5, sc(S, C, sctp(9899, 40100, 0x1001, 3, struct.pack("!IIHH", 1, 65535, 0, 0)))),
        # a DATA chunk with the peer's tag: INVALID
        (0.6, sc(C, S, sctp(40100, 9899, 0x1001, 0, struct.pack("!IHHI", 2, 0, 0, 0) + bytes(8)))),
        (1.0, sc(C, S, sctp_init(40101, 9899, 0, 1, 0x1002))),
        (1.1, sc(S, C, sctp_init(9899, 40101, 0x1002, 2, 0x2002))),
        (1.2, sc(C, S, sctp(40101, 9899, 0x2002, 10, b"cookie!!"))),
        (1.3, sc(S, C, sctp(9899, 40101, 0x1002, 11))),
        (1.4, sc(C, S, sctp(40101, 9899, 0x2002, 7, struct.pack("!I", 1)))),
        (1.5, sc(S, C, sctp(9899, 40101, 0x1002, 8))),
        (1.6, sc(C, S, sctp(40101, 9899, 0x2002, 14))),
        (2.0, sc(C, S, sctp_init(40102, 9899, 0, 1, 0x1003, bad=True))),
        (3.0, ip4(136, C, S, udplite(C, S, 40200, 9898, 12))),
        (3.1, ip4(136, S, C, udplite(S, C, 9898, 40200, 12))),
        (3.2, ip4(136, C, S, udplite(C, S, 40201, 9898, 12, zero=True))),
    ])

    tr = pcap(101, [(t, pk) for t, pk in fw[:3]])
    files["truncated.pcap"] = tr[:-10]
    files["badlink.pcap"] = pcap(105, [(0.0, b"\0" * 24)])
    files["shortframe.pcap"] = pcap(1, [(0.0, bytes(10)), (0.1, ether(fw[0][1]))])

    if len(sys.argv) > 2 and sys.argv[1] == "--check":
        bad = [n for n, d in files.items() if open(os.path.join(out, n), "rb").read() != d]
        if bad:
            print("differ from the generator: " + " ".join(bad), file=sys.stderr)
            return 1
        return 0
    for name, data in files.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
