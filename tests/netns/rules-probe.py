#!/usr/bin/env python3
"""rules-probe.py - the probe set of tests/netns/rules-diff.sh: make it, send it, serve it.

  rules-probe.py gen RULES FAMILY TOPO          the probe list (TSV) on standard output
  rules-probe.py ports RULES                    the TCP/UDP ports the file names (listeners)
  rules-probe.py send IFACE SIDE SRCMAC DSTMAC PROBES
                                                send SIDE's probes as Ethernet frames on
                                                IFACE, capture what comes back, print one
                                                outcome line per probe
  rules-probe.py listen FAMILY PORT...          TCP listeners and UDP echo sockets; stops
                                                after 300 s at the latest (alarm)

TOPO is "key=value" words: c=, rc=, rs=, s= (client, router client side, router server
side, server addresses), r=ADDR,... (the router's other addresses), inside=PREFIX,...
(prefixes routed to the server side).

Every probe is its own flow: TCP and UDP probes use source port 20000+id, ICMP probes id
20000+id, so a reply (or an ICMP error quoting the probe) names its probe whatever the
timing. Outcomes are sorted lists of what came back ("tcp:SA", "tcp:RA", "udp",
"icmp:3/3", "icmp6:129/0", ...) or "none". Standard library only.
"""
import ipaddress
import os
import re
import select
import signal
import socket
import struct
import sys
import time

BASE_PORT = 20000
MAX_PROBES = 400
FLAGS = {"S": 0x02, "SA": 0x12, "A": 0x10, "F": 0x01, "R": 0x04, "NULL": 0x00,
         "XMAS": 0x29, "SF": 0x03}
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


# ---- reading the ruleset ----

PORT_OPTS = ("--dport", "--sport", "--dports", "--sports", "--destination-port",
             "--source-port", "--destination-ports", "--source-ports")
ADDR_OPTS = ("-s", "-d", "--source", "--src", "--destination", "--dst")


def words(path):
    """(option, value) pairs of the rule lines: "--opt v" and "--opt=v" alike."""
    out = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            w = line.split()
            i = 0
            while i < len(w):
                if w[i].startswith("--") and "=" in w[i]:
                    o, v = w[i].split("=", 1)
                    out.append((o, v))
                elif i + 1 < len(w):
                    out.append((w[i], w[i + 1]))
                i += 1
    return out


def file_ports(path):
    ports = set()
    for o, v in words(path):
        if o not in PORT_OPTS:
            continue
        for part in v.split(","):
            m = re.fullmatch(r"(\d*)[:-]?(\d*)", part)
            if not m or not part[:1].isdigit():
                continue
            lo = int(m.group(1))
            hi = int(m.group(2)) if m.group(2) else lo
            for p in (lo - 1, lo, hi, hi + 1):
                if 0 < p < 65536 and not BASE_PORT <= p < BASE_PORT + MAX_PROBES:
                    ports.add(p)
    return sorted(ports)


def file_prefixes(path, family):
    nets = []
    for o, v in words(path):
        if o not in ADDR_OPTS:
            continue
        for part in v.split(","):
            try:
                n = ipaddress.ip_network(part, strict=False)
            except ValueError:
                continue
            if n.version == family and n.prefixlen > 0 and n not in nets:
                nets.append(n)
    return nets


def in_out(net):
    """An address inside the prefix (its middle: not the router's .1) and one just outside."""
    n = net.num_addresses
    inside = net.network_address + (n // 2 + 1 if n > 4 else 0)
    top = (1 << net.max_prefixlen) - 1
    if int(net.broadcast_address) < top:
        outside = net.broadcast_address + 1
    else:
        outside = net.network_address - 1
    return str(inside), str(outside)


# ---- the probe list ----

def gen(rules, family, topo):
    family = int(family)
    t = dict(kv.split("=", 1) for kv in topo)
    ports = file_ports(rules) or [22, 80]
    icmp_types = ["8/0", "0/0", "3/3", "11/0", "13/0"] if family == 4 else \
        ["128/0", "129/0", "1/4", "3/0", "2/0"]
    targets = {"c": [t["rc"], t["s"]], "s": [t["rs"], t["c"]]}
    srcs = {"c": t["c"], "s": t["s"]}
    inside = [ipaddress.ip_network(p) for p in t.get("inside", "").split(",") if p]
    # The router's own addresses are no source: the kernel drops such martians in routing,
    # after raw PREROUTING and before the queue, so nfqctd never sees them.
    mine = {ipaddress.ip_address(a) for a in [t["rc"], t["rs"]] + t.get("r", "").split(",") if a}

    # Sources inside and outside every prefix the file names, and destinations likewise:
    # inside prefixes enter from the server side, the others from the client side.
    pre = []
    for net in file_prefixes(rules, family):
        for addr in in_out(net):
            a = ipaddress.ip_address(addr)
            if a in mine:
                continue
            side = "s" if any(a in n for n in inside) else "c"
            for dst in targets[side]:
                pre.append((side, addr, dst, "tcp", "%d/S" % ports[0]))
                pre.append((side, addr, dst, "icmp", icmp_types[0]))
            # to the address from the other side: through the router, never back out of the
            # interface it came in (a hairpin draws ICMP redirects, rate limited by time)
            other = "c" if side == "s" else "s"
            pre.append((other, srcs[other], addr, "tcp", "%d/S" % ports[0]))
            pre.append((other, srcs[other], addr, "udp", "%d" % ports[0]))
            pre.append((other, srcs[other], addr, "icmp", icmp_types[0]))

    # Entering from each side, to the router (INPUT) and through it (FORWARD): every port
    # (as many as the bound leaves room for), the TCP flag combinations, ICMP types.
    def base(k):
        out = []
        for side in ("c", "s"):
            for dst in targets[side]:
                for p in ports[:k]:
                    out.append((side, srcs[side], dst, "tcp", "%d/S" % p))
                    out.append((side, srcs[side], dst, "udp", "%d" % p))
                for fl in FLAGS:
                    out.append((side, srcs[side], dst, "tcp", "%d/%s" % (ports[0], fl)))
                for ty in icmp_types:
                    out.append((side, srcs[side], dst, "icmp", ty))
        return out

    k = len(ports)
    while k > 1 and len(base(k)) + len(pre) > MAX_PROBES:
        k -= 1
    probes = base(k) + pre
    if k < len(ports):
        print("rules-probe: %d of %d ports probed (at most %d probes)" % (k, len(ports), MAX_PROBES),
              file=sys.stderr)
    if len(probes) > MAX_PROBES:
        print("rules-probe: %d probes, the first %d kept" % (len(probes), MAX_PROBES), file=sys.stderr)
    for i, (side, src, dst, proto, arg) in enumerate(probes[:MAX_PROBES]):
        print("%d\t%s\t%s\t%s\t%s\t%s" % (i, side, src, dst, proto, arg))


# ---- packets ----

def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def l4(proto, arg, pid, src, dst, v6):
    """Transport header and payload of a probe, checksummed."""
    sport = BASE_PORT + pid
    if proto == "tcp":
        dport, fl = arg.split("/")
        flags = FLAGS[fl]
        ack = 1 if flags & 0x10 else 0
        h = struct.pack("!HHIIBBHHH", sport, int(dport), 1000 + pid, ack, 5 << 4, flags, 64240, 0, 0)
        num = 6
    elif proto == "udp":
        h = struct.pack("!HHHH", sport, int(arg), 8 + 8, 0) + b"nfqct-%02d" % (pid % 100)
        num = 17
    else:
        ty, code = (int(x) for x in arg.split("/"))
        num = 58 if v6 else 1
        if (not v6 and ty in (3, 11, 12, 4)) or (v6 and ty in (1, 2, 3, 4)):
            # an error quoting a UDP datagram from dst to src (source port names the probe)
            inner_udp = struct.pack("!HHHH", 53, sport, 8, 0)
            if v6:
                inner = struct.pack("!IHBB16s16s", 6 << 28, 8, 17, 64, dst, src) + inner_udp
                rest = struct.pack("!I", 1280 if ty == 2 else 0)
            else:
                ih = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28, 0, 0, 64, 17, 0, dst, src)
                ih = ih[:10] + struct.pack("!H", csum(ih)) + ih[12:]
                inner = ih + inner_udp
                rest = struct.pack("!I", 0)
            body = rest + inner
        elif not v6 and ty == 13:
            body = struct.pack("!HHIII", sport, 1, 0, 0, 0)
        else:
            body = struct.pack("!HH", sport, 1) + b"nfqct-probe"
        h = struct.pack("!BBH", ty, code, 0) + body
    if v6:
        pseudo = struct.pack("!16s16sIxxxB", src, dst, len(h), num)
    else:
        pseudo = struct.pack("!4s4sxBH", src, dst, num, len(h))
    c = csum(pseudo + h) if (proto != "icmp" or v6) else csum(h)
    off = {"tcp": 16, "udp": 6}.get(proto, 2)
    return num, h[:off] + struct.pack("!H", c) + h[off + 2:]


def frame(src_mac, dst_mac, src, dst, proto, arg, pid):
    a = ipaddress.ip_address(src)
    v6 = a.version == 6
    s, d = a.packed, ipaddress.ip_address(dst).packed
    num, payload = l4(proto, arg, pid, s, d, v6)
    if v6:
        ip = struct.pack("!IHBB16s16s", 6 << 28, len(payload), num, 64, s, d)
        et = 0x86DD
    else:
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), pid, 0, 64, num, 0, s, d)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        et = 0x0800
    return dst_mac + src_mac + struct.pack("!H", et) + ip + payload


def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))


def ports_of_l4(num, data):
    """(sport, dport) of TCP/UDP data, else None."""
    if num in (6, 17) and len(data) >= 4:
        return struct.unpack("!HH", data[:4])
    return None


def classify(pkt):
    """(probe id, outcome word) of a received IP packet, or None."""
    if len(pkt) < 20:
        return None
    ver = pkt[0] >> 4
    if ver == 4:
        hl = (pkt[0] & 15) * 4
        num, data = pkt[9], pkt[hl:]
        icmp_num = 1
    elif ver == 6 and len(pkt) >= 40:
        num, data = pkt[6], pkt[40:]
        icmp_num = 58
    else:
        return None
    fam = "icmp" if ver == 4 else "icmp6"
    if num == 6 and len(data) >= 14:
        sport, dport = struct.unpack("!HH", data[:4])
        fl = data[13]
        names = "".join(n for n, b in (("F", 1), ("S", 2), ("R", 4), ("P", 8), ("A", 16), ("U", 32)) if fl & b)
        return dport - BASE_PORT, "tcp:%s" % (names or "none")
    if num == 17 and len(data) >= 4:
        sport, dport = struct.unpack("!HH", data[:4])
        return dport - BASE_PORT, "udp"
    if num == icmp_num and len(data) >= 8:
        ty, code = data[0], data[1]
        word = "%s:%d/%d" % (fam, ty, code)
        err = (ty in (3, 4, 5, 11, 12)) if ver == 4 else (ty < 128)
        if not err:
            ident = struct.unpack("!H", data[4:6])[0]
            return ident - BASE_PORT, word
        inner = data[8:]
        if len(inner) < 20:
            return None
        if ver == 4:
            ihl = (inner[0] & 15) * 4
            inum, idata = inner[9], inner[ihl:]
        else:
            inum, idata = inner[6], inner[40:]
        if inum in (6, 17) and len(idata) >= 2:
            return struct.unpack("!H", idata[:2])[0] - BASE_PORT, word
        if inum == icmp_num and len(idata) >= 6:
            return struct.unpack("!H", idata[4:6])[0] - BASE_PORT, word
    return None


def send(iface, side, src_mac, dst_mac, path):
    probes = []
    with open(path) as f:
        for line in f:
            pid, pside, src, dst, proto, arg = line.rstrip("\n").split("\t")
            if pside == side:
                probes.append((int(pid), src, dst, proto, arg))
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sock.bind((iface, 0))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    smac, dmac = mac(src_mac), mac(dst_mac)
    seen = {pid: [] for pid, *_ in probes}
    pending = []

    def drain(deadline):
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            r, _, _ = select.select([sock], [], [], left)
            if not r:
                return
            data, addr = sock.recvfrom(65535)
            if addr[2] != PACKET_OUTGOING and len(data) > 14:
                pending.append(data[14:] if struct.unpack("!H", data[12:14])[0] in (0x0800, 0x86DD) else b"")

    for pid, src, dst, proto, arg in probes:
        sock.send(frame(smac, dmac, src, dst, proto, arg, pid))
        drain(time.monotonic() + 0.003)     # paced: no kernel rate limit is reached
    drain(time.monotonic() + 1.5)           # late answers (queue round trips)
    for pkt in pending:
        got = classify(pkt)
        if got and got[0] in seen:
            seen[got[0]].append(got[1])
    for pid, src, dst, proto, arg in probes:
        print("%d\t%s\t%s\t%s\t%s\t%s\t%s" % (pid, side, src, dst, proto, arg,
                                             ",".join(sorted(seen[pid])) or "none"))


def listen(family, ports):
    signal.alarm(300)
    fam = socket.AF_INET6 if family == "6" else socket.AF_INET
    socks = []
    for p in ports:
        t = socket.socket(fam, socket.SOCK_STREAM)
        t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        u = socket.socket(fam, socket.SOCK_DGRAM)
        try:
            t.bind(("", int(p)))
            t.listen(64)
            u.bind(("", int(p)))
        except OSError:
            continue
        socks += [t, u]
    sys.stdout.write("listening\n")
    sys.stdout.flush()
    while socks:
        r, _, _ = select.select(socks, [], [])
        for s in r:
            if s.type == socket.SOCK_STREAM:
                c, _ = s.accept()
                c.close()
            else:
                d, peer = s.recvfrom(2048)
                s.sendto(d, peer)


def main(a):
    if len(a) >= 4 and a[0] == "gen":
        gen(a[1], a[2], a[3:])
    elif len(a) == 2 and a[0] == "ports":
        print(" ".join(str(p) for p in file_ports(a[1])))
    elif len(a) == 6 and a[0] == "send":
        send(*a[1:])
    elif len(a) >= 2 and a[0] == "listen":
        listen(a[1], a[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
