#!/usr/bin/env python3
"""gen-seeds.py - write the seed corpora of the fuzz targets (tests/fuzz/corpus/).

    gen-seeds.py [TOPDIR]     (default: the source tree this script is in)

Deterministic: the same bytes every run.  Addresses from 198.18.0.0/15 and
2001:db8::/32 only.  Writes:
  corpus/judge/     packet sequences in fuzz_judge.c's framing: a TCP
                    connection (handshake, data, close), FTP active and passive
                    (the data connection RELATED), TFTP, ICMP echo and errors
                    quoting a flow, IPv6 UDP and ICMPv6, SCTP, fragments, a full
                    table (early drop), loopback, timeouts, NOTRACK and zones
  corpus/state/     state files (fuzz_state.c's first byte 1: "fix the CRC")
  corpus/settings/  settings files
  corpus/ctl/       control requests
  corpus/ctfilter/  list/count/delete/update commands
  corpus/rules/     copies of tests/rules/*.rules and rules/*.rules
  corpus/capture/   copies of tests/simulate/*.pcap*
  corpus/sync/      replication datagrams in conntrackd's format (fuzz_sync.c):
                    TCP, UDP, ICMP, SCTP flows over IPv4 and IPv6, nfqct's zone
                    and counters, ACK/NACK/RESYNC/ALIVE, several per datagram
"""
import os
import shutil
import struct
import sys
import zlib

TOP = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                      os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(TOP, "tests", "fuzz", "corpus")

PRE, INPUT, FORWARD, OUTPUT, POST = range(5)
LO, ETH0, ETH1, BRG = 1, 2, 3, 4
NOTVERIFIED, CUT, UIDGID = 0x08, 0x10, 0x20


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
    return struct.pack("!8H", *(h + [0] * (8 - len(h) - len(t)) + t))


def is6(a):
    return ":" in a


def ip(src, dst, proto, payload, ident=1, frag=0, ttl=64):
    """An IPv4 or IPv6 packet; for IPv4, frag is the flags+offset field."""
    if is6(src):
        return struct.pack("!IHBB", 6 << 28, len(payload), proto, ttl) + a6(src) + a6(dst) + payload
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, frag, ttl, proto, 0,
                    a4(src), a4(dst))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload


def pseudo(src, dst, proto, n):
    if is6(src):
        return a6(src) + a6(dst) + struct.pack("!IxxxB", n, proto)
    return a4(src) + a4(dst) + struct.pack("!xBH", proto, n)


F, S, R, P, A = 1, 2, 4, 8, 16


def tcp(src, dst, sp, dp, flags, seq=0, ack=0, data=b"", opts=b"", win=65535):
    off = (20 + len(opts)) // 4
    h = struct.pack("!HHIIBBHHH", sp, dp, seq, ack, off << 4, flags, win, 0, 0) + opts
    c = csum(pseudo(src, dst, 6, len(h) + len(data)) + h + data)
    return ip(src, dst, 6, h[:16] + struct.pack("!H", c) + h[18:] + data)


def udp(src, dst, sp, dp, data=b"", proto=17):
    h = struct.pack("!HHHH", sp, dp, 8 + len(data), 0)
    c = csum(pseudo(src, dst, proto, 8 + len(data)) + h + data) or 0xFFFF
    return ip(src, dst, proto, h[:6] + struct.pack("!H", c) + data)


def icmp(src, dst, typ, code, rest, data=b""):
    if is6(src):
        h = struct.pack("!BBH", typ, code, 0) + rest + data
        return ip(src, dst, 58, h[:2] + struct.pack("!H", csum(pseudo(src, dst, 58, len(h)) + h)) + h[4:])
    h = struct.pack("!BBH", typ, code, 0) + rest + data
    return ip(src, dst, 1, h[:2] + struct.pack("!H", csum(h)) + h[4:])


def sctp(src, dst, sp, dp, vtag, chunks):
    h = struct.pack("!HHII", sp, dp, vtag, 0) + chunks
    c = crc32c(h)
    return ip(src, dst, 132, h[:8] + struct.pack("<I", c) + h[12:])


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c ^= b
        for _ in range(8):
            c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
    return c ^ 0xFFFFFFFF


def chunk(typ, flags, body):
    n = 4 + len(body)
    return struct.pack("!BBH", typ, flags, n) + body + b"\0" * (-n % 4)


def rec(pkt, hook=FORWARD, step=1, indev=ETH0, outdev=ETH1, flags=0, mark=0):
    return struct.pack("!BBBH", (hook % 5) | flags | (mark << 6), step, indev | outdev << 4,
                       len(pkt)) + pkt


def rev(hook=FORWARD, step=1, flags=0, mark=0):
    """Options of a reply packet: the interfaces swapped."""
    return dict(hook=hook, step=step, indev=ETH1, outdev=ETH0, flags=flags, mark=mark)


C, SV = "198.18.0.10", "198.19.0.20"
C6, SV6 = "2001:db8::10", "2001:db8:1::20"
MSS = struct.pack("!BBH", 2, 4, 1460) + b"\x01\x03\x03\x07"  # MSS, NOP, wscale 7


def tcp_conn(c, s, sp, dp, payloads, close=True, flags=0):
    """A whole connection: (packet, from client?) pairs with consistent numbers."""
    out = []
    cs, ss = 1000, 5000
    out.append((tcp(c, s, sp, dp, S, cs, 0, opts=MSS), True))
    out.append((tcp(s, c, dp, sp, S | A, ss, cs + 1, opts=MSS), False))
    cs += 1
    ss += 1
    out.append((tcp(c, s, sp, dp, A, cs, ss), True))
    for data, from_client in payloads:
        if from_client:
            out.append((tcp(c, s, sp, dp, P | A, cs, ss, data), True))
            cs += len(data)
            out.append((tcp(s, c, dp, sp, A, ss, cs), False))
        else:
            out.append((tcp(s, c, dp, sp, P | A, ss, cs, data), False))
            ss += len(data)
            out.append((tcp(c, s, sp, dp, A, cs, ss), True))
    if close:
        out.append((tcp(c, s, sp, dp, F | A, cs, ss), True))
        out.append((tcp(s, c, dp, sp, F | A, ss, cs + 1), False))
        out.append((tcp(c, s, sp, dp, A, cs + 1, ss + 1), True))
    return out


def forward(pairs, flags=0, step=1):
    b = b""
    for pkt, from_client in pairs:
        b += rec(pkt, flags=flags, step=step) if from_client else rec(pkt, **rev(flags=flags, step=step))
    return b


def judge_seeds():
    s = {}
    s["tcp-forward"] = forward(tcp_conn(C, SV, 40000, 80, [(b"GET / HTTP/1.0\r\n\r\n", True),
                                                             (b"HTTP/1.0 200 OK\r\n\r\n", False)]))
    s["tcp-checksums"] = forward(tcp_conn(C, SV, 40001, 443, [(b"x" * 40, True)]), flags=NOTVERIFIED)
    s["tcp6-forward"] = forward(tcp_conn(C6, SV6, 40002, 22, [(b"SSH-2.0-x\r\n", False)]))
    s["tcp-input"] = b"".join(
        rec(p, hook=INPUT if fc else OUTPUT, indev=ETH0 if fc else 0, outdev=0 if fc else ETH0)
        for p, fc in tcp_conn(C, "198.18.0.1", 40003, 22, [(b"hello", True)]))
    s["tcp-rst-ooo"] = forward([(tcp(C, SV, 40004, 80, S, 1), True), (tcp(SV, C, 80, 40004, R | A, 0, 2), False),
                                (tcp(C, SV, 40004, 80, A, 99999, 5), True), (tcp(C, SV, 40004, 80, F | S | R | P | A, 1), True)])
    # FTP active: PORT from the client, the server's data connection from port 20
    port = "PORT 198,18,0,10,156,64\r\n".encode()  # 156*256+64 = 40000
    # the helper reads a line only where it knows one starts: after a first line each way
    ctl = tcp_conn(C, SV, 40010, 21, [(b"220 ready\r\n", False), (b"USER ftp\r\n", True), (port, True),
                                      (b"200 ok\r\n", False)], close=False)
    data = tcp_conn(SV, C, 20, 40000, [(b"file contents", True)])
    s["ftp-active"] = forward(ctl) + b"".join(
        rec(p, **rev()) if fc else rec(p) for p, fc in data)
    pasv = "227 Entering Passive Mode (198,19,0,20,195,80)\r\n".encode()  # 50000
    ctl = tcp_conn(C, SV, 40011, 21, [(b"220 ready\r\n", False), (b"PASV\r\n", True), (pasv, False)],
                   close=False)
    s["ftp-passive"] = forward(ctl) + forward(tcp_conn(C, SV, 40012, 50000, [(b"data", False)]))
    epsv = b"229 Entering Extended Passive Mode (|||50001|)\r\n"
    eprt = b"EPRT |2|2001:db8::10|40020|\r\n"
    # one expectation per master (max_expected 1): the EPSV one replaces the EPRT one
    ctl = tcp_conn(C6, SV6, 40013, 21, [(b"220 ready\r\n", False), (eprt, True), (b"EPSV\r\n", True),
                                        (epsv, False)], close=False)
    s["ftp6-extended"] = forward(ctl) + forward(tcp_conn(C6, SV6, 40014, 50001, [(b"d", False)]))
    s["ftp-partial"] = forward(tcp_conn(C, SV, 40015, 21, [(b"USER a\r\n", True), (b"PORT 198,18,0,10,1", True)],
                                        close=False))
    # TFTP: the reply from another port is RELATED
    s["tftp"] = (rec(udp(C, SV, 3000, 69, b"\x00\x01file\x00octet\x00")) +
                 rec(udp(SV, C, 4000, 3000, b"\x00\x03\x00\x01data"), **rev()) +
                 rec(udp(C, SV, 3000, 4000, b"\x00\x04\x00\x01")))
    s["tftp-guest-zone"] = (rec(udp(C, SV, 3001, 69, b"\x00\x01f\x00octet\x00"), indev=BRG) +
                            rec(udp(SV, C, 4001, 3001, b"\x00\x03\x00\x01"), indev=ETH1, outdev=BRG))
    # ICMP: echo, then errors quoting UDP and TCP flows
    quoted = udp(C, SV, 5353, 53, b"q")
    s["icmp"] = (rec(icmp(C, SV, 8, 0, struct.pack("!HH", 77, 1), b"ping")) +
                 rec(icmp(SV, C, 0, 0, struct.pack("!HH", 77, 1), b"ping"), **rev()) +
                 rec(quoted) + rec(udp(SV, C, 53, 5353, b"a"), **rev()) +
                 rec(icmp(SV, C, 3, 4, struct.pack("!HH", 0, 1400), quoted[:28]), **rev()) +
                 rec(icmp("198.19.9.9", C, 11, 0, b"\0" * 4, quoted[:28]), **rev()) +
                 rec(icmp(SV, C, 3, 3, b"\0" * 4, udp(C, SV, 1, 2)[:28]), **rev()) +
                 rec(icmp(C, SV, 13, 0, struct.pack("!HH", 5, 1), b"\0" * 12)))
    q6 = udp(C6, SV6, 5000, 53, b"q6")
    s["icmp6"] = (rec(icmp(C6, SV6, 128, 0, struct.pack("!HH", 9, 1), b"x")) +
                  rec(icmp(SV6, C6, 129, 0, struct.pack("!HH", 9, 1), b"x"), **rev()) +
                  rec(q6) + rec(icmp(SV6, C6, 2, 0, struct.pack("!I", 1280), q6), **rev()) +
                  rec(icmp("fe80::1", "ff02::1", 135, 0, b"\0" * 4, a6(SV6)), hook=INPUT))
    s["udp-dns-input"] = (rec(udp(C, "198.18.0.1", 5000, 53, b"q"), hook=INPUT, outdev=0) +
                          rec(udp("198.18.0.1", C, 53, 5000, b"a"), hook=OUTPUT, indev=0, outdev=ETH0) +
                          rec(udp(C, "198.18.0.255", 5001, 1500, b"b"), hook=INPUT, outdev=0) +
                          rec(udp(C, "198.18.0.1", 5002, 1500, b"c"), hook=INPUT, outdev=0))
    s["udp-marks-notrack"] = (rec(udp(C, SV, 6000, 5, b"m"), hook=PRE) + rec(udp(C, SV, 6000, 5, b"m"), mark=3) +
                              rec(udp(C, SV, 6001, 7, b"n"), hook=PRE) + rec(udp(C, SV, 6001, 7, b"n")) +
                              rec(udp(C, SV, 6002, 9, b"d"), hook=PRE) +
                              rec(udp("198.18.9.1", SV, 6003, 53, b"u"), hook=PRE) +
                              rec(udp(C, SV, 6004, 7, b"u"), hook=OUTPUT, flags=UIDGID, indev=0))
    s["udplite"] = rec(udp(C, SV, 7, 7, b"lite", proto=136)) + rec(udp(SV, C, 7, 7, b"back", proto=136), **rev())
    init = chunk(1, 0, struct.pack("!IIHHI", 0x1111, 65535, 1, 1, 100))
    init_ack = chunk(2, 0, struct.pack("!IIHHI", 0x2222, 65535, 1, 1, 200) +
                     struct.pack("!HH", 7, 8) + b"cook")  # the state-cookie parameter
    s["sctp"] = (rec(sctp(C, SV, 5000, 36412, 0, init)) +
                 rec(sctp(SV, C, 36412, 5000, 0x1111, init_ack), **rev()) +
                 rec(sctp(C, SV, 5000, 36412, 0x2222, chunk(10, 0, b"cook"))) +
                 rec(sctp(SV, C, 36412, 5000, 0x1111, chunk(11, 0, b"")), **rev()) +
                 rec(sctp(C, SV, 5000, 36412, 0x2222, chunk(0, 3, struct.pack("!IHHI", 1, 0, 0, 0) + b"data"))) +
                 rec(sctp(C, SV, 5000, 36412, 0x2222, chunk(4, 0, b"hb"))) +
                 rec(sctp(C, SV, 5000, 36412, 0x2222, chunk(7, 0, struct.pack("!I", 200)))) +
                 rec(sctp(SV, C, 36412, 5000, 0x1111, chunk(8, 0, b"")), **rev()) +
                 rec(sctp(C, SV, 5000, 36412, 0x2222, chunk(14, 0, b""))) +
                 rec(sctp(C, SV, 5001, 2905, 0, init), flags=NOTVERIFIED) +
                 rec(sctp(C, SV, 5002, 2905, 5, chunk(6, 0, b""))))
    payload = udp(C, SV, 8000, 8001, b"A" * 32)[20:]
    s["fragments"] = (rec(ip(C, SV, 17, payload[:24], ident=9, frag=0x2000)) +
                      rec(ip(C, SV, 17, payload[24:], ident=9, frag=3)) +
                      rec(ip(C, "198.18.0.1", 17, payload[:16], ident=10, frag=0x2000), hook=INPUT))
    fh = struct.pack("!BBHI", 17, 0, 0x0001, 77)  # IPv6 fragment header, more fragments
    s["fragments6"] = rec(struct.pack("!IHBB", 6 << 28, 8 + 16, 44, 64) + a6(C6) + a6(SV6) + fh + payload[:16])
    hbh = struct.pack("!BB", 17, 0) + b"\x01\x04\0\0\0\0"
    up = udp(C6, "2001:db8::1", 9, 1234, b"x")[40:]
    s["ipv6-hbh"] = rec(struct.pack("!IHBB", 6 << 28, len(hbh) + len(up), 0, 64) + a6(C6) + a6("2001:db8::1") +
                        hbh + up, hook=INPUT, outdev=0)
    s["table-full"] = b"".join(rec(udp(C, SV, 10000 + i, 53, b"q"), step=0) for i in range(12)) + \
        b"".join(rec(tcp("198.18.1.%d" % i, SV, 30000, 80, S, 7, opts=MSS), step=0) for i in range(10))
    s["loopback"] = (rec(udp("127.0.0.1", "127.0.0.1", 9000, 9001, b"lo"), hook=OUTPUT, indev=0, outdev=LO) +
                     rec(udp("127.0.0.1", "127.0.0.1", 9000, 9001, b"lo"), hook=INPUT, indev=LO, outdev=0) +
                     rec(tcp("127.0.0.1", "127.0.0.1", 9002, 9003, S, 1), hook=OUTPUT, indev=0, outdev=LO) +
                     rec(tcp("127.0.0.1", "127.0.0.1", 9002, 9003, S, 1), hook=INPUT, indev=LO, outdev=0))
    s["timeouts"] = (rec(udp(C, SV, 11000, 53, b"q")) + rec(udp(SV, C, 53, 11000, b"a"), **rev()) +
                     rec(udp(C, SV, 11000, 53, b"q"), step=200) + rec(tcp(C, SV, 11001, 80, S, 1), step=0) +
                     rec(tcp(C, SV, 11001, 80, A, 2, 1), step=255) + rec(tcp(C, SV, 11001, 80, A, 2, 1), step=255))
    s["malformed"] = (rec(b"\x45\x00\x00\x10") + rec(b"") + rec(b"\x60" + b"\0" * 10) +
                      rec(ip(C, SV, 6, b"\0" * 8)) + rec(tcp(C, SV, 1, 2, S)[:30], flags=CUT) +
                      rec(ip(C, SV, 47, b"gre!")) + rec(ip(C, SV, 33, b"\0" * 12)))
    return s


def state_file(entries, wall=1764000000000):
    body = b""
    for e in entries:
        body += struct.pack("!HH", 1, len(e)) + e
    head = b"NFQCTST\0" + struct.pack("!IIQQ", 1, 32, wall, 0)
    data = head + body + struct.pack("!HHQ", 0xFFFF, 12, len(entries))
    return data + struct.pack("!I", zlib.crc32(data) & 0xFFFFFFFF)


def attr(t, v):
    return struct.pack("!HH", t, len(v)) + v


def sentry(fam, proto, src, dst, sp, dp, flags=0, timeout=60000, zone=0, mark=0, extra=b"", helper=None):
    a = a6 if fam == 10 else lambda x: a4(x) + b"\0" * 12
    e = attr(1, struct.pack("!BB", fam, proto) + a(src) + a(dst) + sp + dp)
    if zone:
        e += attr(2, struct.pack("!H", zone))
    e += attr(3, struct.pack("!H", flags))
    if mark:
        e += attr(4, struct.pack("!I", mark))
    e += attr(5, struct.pack("!Q", timeout)) + attr(6, struct.pack("!4Q", 3, 2, 300, 200))
    if helper:
        e += attr(7, bytes(helper))
    return e + extra


def state_seeds():
    p = lambda n: struct.pack("!H", n)
    tcpst = struct.pack("!8I", 1001, 1001, 65535, 5001, 5001, 5001, 65535, 1001) + \
        struct.pack("!3I", 1001, 5001, 1001) + bytes([0, 0, 7, 7, 3, 0, 0, 0]) + p(65535) + bytes([3, 0])
    sctpst = struct.pack("!II", 0x1111, 0x2222) + bytes([3, 1, 1, 0, 1, 0])
    ents = [
        sentry(2, 6, C, SV, p(40000), p(80), flags=3, timeout=432000000, extra=attr(8, tcpst)),
        sentry(2, 17, C, SV, p(5353), p(53), timeout=30000, extra=attr(10, struct.pack("!Q", 1000))),
        sentry(2, 1, C, SV, p(77), bytes([8, 0]), flags=1, zone=10, mark=7),
        sentry(10, 17, C6, SV6, p(5000), p(53), timeout=120000, extra=attr(10, struct.pack("!Q", 0))),
        sentry(10, 6, C6, SV6, p(40002), p(21), flags=3, helper=[1, 0], extra=attr(8, tcpst)),
        sentry(2, 132, C, SV, p(5000), p(36412), flags=3, extra=attr(9, sctpst)),
        sentry(2, 47, C, SV, p(0), p(0), timeout=1000),
        sentry(2, 17, SV, C, p(4000), p(3000), flags=8, helper=[0, 2], extra=attr(10, struct.pack("!Q", 0))),
    ]
    return {
        "empty": state_file([]),
        "one-tcp": state_file(ents[:1]),
        "mixed": state_file(ents),
        "truncated": state_file(ents[:2])[:-20],
        "expired": state_file([sentry(2, 17, C, SV, p(1), p(2), timeout=1)]),
        "duplicate": state_file([ents[1], ents[1]]),
    }


def main():
    def write(target, name, data):
        d = os.path.join(OUT, target)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)

    for name, data in judge_seeds().items():
        write("judge", name, data)
    for name, data in state_seeds().items():
        write("state", name, b"\x01" + data)
    settings = {
        "kernel-names": b"net.netfilter.nf_conntrack_max = 65536\nnet.netfilter.nf_conntrack_tcp_timeout_established=3600\n",
        "comments": b"# comment\n; also\n\n  net/netfilter/nf_conntrack_udp_timeout = 30  \n",
        "nfqct-names": b"nfqct.queue_num = 0\nnfqct.workers=2\nnfqct.state_file = /var/lib/nfqct/state\n",
        "ipfix": b"nfqct.ipfix_collector = [2001:db8::1]:4739\nnfqct.ipfix_transport = udp\n",
        "errors": b"net.netfilter.nf_conntrack_max = -1\nbogus\nnfqct.unknown = 1\n=\n",
        "booleans": b"net.netfilter.nf_conntrack_checksum = 0\nnet.netfilter.nf_conntrack_tcp_loose=1\n",
    }
    for name, data in settings.items():
        write("settings", name, data)
    ctl = {
        "list": b"list\n", "list-expect": b"list --expect\n", "rules": b"rules -c -6\n",
        "flush": b"flush", "reload": b"reload\n", "save": b"save /var/lib/nfqct/x.state\n",
        "restore": b"restore /x --replace\n", "upgrade": b"upgrade\n",
        "table": b"list -p tcp --dport 80 -o extended,id\n", "count": b"count -s 198.18.0.0/16\n",
        "delete": b"delete -p udp --orig-port-dst 53\n", "update": b"update --all --mark 0x5/0xff\n",
    }
    for name, data in ctl.items():
        write("ctl", name, data)
    ctf = {
        "list-json": b"list\0-o\0json", "list-tcp": b"list -p tcp --state ESTABLISHED --sport 40000",
        "list-v6": b"list -f ipv6 -s 2001:db8::/32 -d 2001:db8:1::20 --zone 0",
        "count": b"count -p udp --orig-port-src 5353 --orig-port-dst 53",
        "delete": b"delete -p icmp --mark 7/0xff --status SEEN_REPLY",
        "update": b"update -p tcp --mark 0x10 --reply-src 198.19.0.1",
        "update-all": b"update --all --mark 1/1", "delete-all": b"delete --all",
        "list-status": b"list --status ASSURED,SEEN_REPLY -o extended -u EXPECTED",
    }
    for name, data in ctf.items():
        write("ctfilter", name, data)
    for d, pat in ((os.path.join(TOP, "tests", "rules"), ".rules"), (os.path.join(TOP, "rules"), ".rules")):
        for f in sorted(os.listdir(d)):
            if f.endswith(pat):
                os.makedirs(os.path.join(OUT, "rules"), exist_ok=True)
                shutil.copy(os.path.join(d, f), os.path.join(OUT, "rules", os.path.basename(d) + "-" + f))
    sim = os.path.join(TOP, "tests", "simulate")
    os.makedirs(os.path.join(OUT, "capture"), exist_ok=True)
    for f in sorted(os.listdir(sim)):
        if f.endswith(".pcap") or f.endswith(".pcapng"):
            shutil.copy(os.path.join(sim, f), os.path.join(OUT, "capture", f))
    for name, data in sync_seeds().items():
        write("sync", name, data)


def nta(t, v):
    a = struct.pack("!HH", 4 + len(v), t) + v
    return a + b"\0" * (-len(a) % 4)


def syncmsg(typ, seq, body, flags=0):
    return struct.pack("!BBHI", 0x10 | typ, flags, 8 + len(body), seq) + body


def sync_seeds():
    a4 = bytes([198, 18, 0, 1, 198, 18, 1, 2])
    a6 = (bytes.fromhex("20010db8000000000000000000000001") +
          bytes.fromhex("20010db8000000000000000000000002"))
    tcp = (nta(0, a4) + nta(5, struct.pack("!I", 0xE)) + nta(2, b"\x06") +
           nta(3, struct.pack("!HH", 40000, 80)) + nta(4, b"\x03") +
           nta(6, struct.pack("!I", 431999)) + nta(7, struct.pack("!I", 42)))
    udp6 = (nta(1, a6) + nta(5, struct.pack("!I", 0xA)) + nta(2, b"\x11") +
            nta(3, struct.pack("!HH", 5353, 53)) + nta(6, struct.pack("!I", 30)))
    icmp = (nta(0, a4) + nta(5, struct.pack("!I", 8)) + nta(2, b"\x01") + nta(22, b"\x08") +
            nta(23, b"\x00") + nta(24, struct.pack("!H", 0x1234)) + nta(6, struct.pack("!I", 29)))
    icmp6 = (nta(1, a6) + nta(2, b"\x3a") + nta(22, b"\x80") + nta(23, b"\x00") +
             nta(24, struct.pack("!H", 7)) + nta(6, struct.pack("!I", 29)))
    sctp = (nta(0, a4) + nta(5, struct.pack("!I", 0xE)) + nta(2, b"\x84") +
            nta(3, struct.pack("!HH", 5000, 6000)) + nta(17, b"\x03") +
            nta(18, bytes.fromhex("a1a2a3a4")) + nta(19, bytes.fromhex("b1b2b3b4")) +
            nta(6, struct.pack("!I", 431999)))
    nfq = tcp + nta(32, struct.pack("!H", 7)) + nta(0x4E51, struct.pack("!QQQQ", 3, 2, 256, 128))
    extras = (tcp + nta(25, b"\x07") + nta(26, b"\x07") + nta(12, bytes([198, 18, 9, 9])) +
              nta(27, b"ftp\0") + nta(28, struct.pack("!II", 1, 0)) + nta(31, struct.pack("!III", 1, 2, 3)))
    ctl = lambda fl, seq, a=None: (struct.pack("!BBHIII", 0x1A, fl, 16, seq, a[0], a[1]) if a
                                   else struct.pack("!BBHI", 0x1A, fl, 8, seq))
    seeds = {
        "tcp4-new": syncmsg(0, 1, tcp, 0x20),
        "udp6-update": syncmsg(1, 2, udp6),
        "icmp-destroy": syncmsg(2, 3, icmp),
        "icmp6-new": syncmsg(0, 4, icmp6),
        "sctp-new": syncmsg(0, 5, sctp),
        "nfqct-zone-counters": syncmsg(0, 6, nfq),
        "conntrackd-extras": syncmsg(1, 7, extras),
        "ack": ctl(0x08, 100, (10, 20)),
        "nack": ctl(0x04, 101, (11, 12)),
        "resync": ctl(0x02, 102, (0, 0)),
        "alive-hello": ctl(0x30, 0xFFFFFFFF),
        "batch": (syncmsg(0, 10, tcp) + ctl(0x08, 11, (1, 9)) + syncmsg(1, 12, udp6, 0x40) +
                  syncmsg(2, 13, icmp) + ctl(0x10, 14)),
    }
    return seeds


if __name__ == "__main__":
    main()
