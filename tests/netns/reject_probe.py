#!/usr/bin/env python3
"""reject_probe.py - send crafted probes from the client and print what comes back.

    reject_probe.py IFACE ROUTER_MAC SRC4 SRC6 DST4 DST6 [DST4 DST6 ...]

For every destination pair, in order, and for each family: a TCP SYN, a TCP
ACK mid-stream (with data), a UDP datagram and an ICMP (ICMPv6) echo request,
each built byte for byte here and sent as an Ethernet frame on IFACE (an
AF_PACKET socket: nothing of the client's stack changes them). After each
probe, the frames that come back from the router are collected until one
arrives or 1.5 s pass (bounded). Output, one line per probe:

    DST PROBE N HEX...

N frames, each as hex from the IP header on, with the fields that legitimately
differ between two runs masked as "...." (the IPv4 identification and header
checksum of the router's replies). Neighbour discovery and ARP are skipped.
"""
import select
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
WAIT_S = 1.5


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ip4(src, dst, proto, payload, ident):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0, 64, proto, 0,
                      socket.inet_aton(src), socket.inet_aton(dst))
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + payload


def ip6(src, dst, nh, payload):
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), nh, 64,
                       socket.inet_pton(socket.AF_INET6, src),
                       socket.inet_pton(socket.AF_INET6, dst)) + payload


def l4_csum(fam, src, dst, proto, seg):
    if fam == 4:
        pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, proto, len(seg))
    else:
        pseudo = (socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst) +
                  struct.pack("!IxxxB", len(seg), proto))
    return csum(pseudo + seg)


def with_csum(seg, off, value):
    return seg[:off] + struct.pack("!H", value) + seg[off + 2:]


def tcp(fam, src, dst, sport, dport, seq, ack, flags, opts=b"", data=b""):
    doff = (20 + len(opts)) // 4
    seg = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, doff << 4, flags, 64240, 0, 0) + opts + data
    return with_csum(seg, 16, l4_csum(fam, src, dst, 6, seg))


def udp(fam, src, dst, sport, dport, data):
    seg = struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data
    return with_csum(seg, 6, l4_csum(fam, src, dst, 17, seg))


def echo(fam, src, dst, ident, seq):
    data = bytes(range(16))
    if fam == 4:
        msg = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + data
        return with_csum(msg, 2, csum(msg))
    msg = struct.pack("!BBHHH", 128, 0, 0, ident, seq) + data
    return with_csum(msg, 2, l4_csum(6, src, dst, 58, msg))


def probes(fam, src, dst, n):
    """(name, IP packet) for one destination; ports and ids differ per destination."""
    sport = 40000 + n * 10
    mss = b"\x02\x04\x05\xb4"
    out = [
        ("tcp-syn", 6, tcp(fam, src, dst, sport, 80, 1000 + n, 0, 0x02, opts=mss)),
        ("tcp-ack", 6, tcp(fam, src, dst, sport + 1, 81, 5000 + n, 7000 + n, 0x18, data=b"hello")),
        ("udp", 17, udp(fam, src, dst, sport + 2, 53, b"probe")),
        ("icmp-echo", 1 if fam == 4 else 58, echo(fam, src, dst, 0x4200 + n, 1)),
    ]
    pkts = []
    for i, (name, proto, seg) in enumerate(out):
        if fam == 4:
            pkts.append((name, ip4(src, dst, proto, seg, 0x1000 + n * 16 + i)))
        else:
            pkts.append((name, ip6(src, dst, proto, seg)))
    return pkts


def interesting(frame, router_mac):
    """The IP packet of a frame the router sent us, or None (ARP, ND, other senders)."""
    if len(frame) < 14 or frame[6:12] != router_mac:
        return None
    etype = struct.unpack("!H", frame[12:14])[0]
    ip = frame[14:]
    if etype == 0x0800:
        return ip
    if etype == 0x86DD and len(ip) >= 41:
        if ip[6] == 58 and 133 <= ip[40] <= 137:
            return None     # neighbour discovery
        if ip[6] == 0:
            return None     # hop-by-hop: MLD reports
        return ip
    return None


def masked(ip):
    h = ip.hex()
    if ip[0] >> 4 == 4:
        # identification (bytes 4-5) and header checksum (10-11): the router's own choices
        h = h[:8] + "...." + h[12:20] + "...." + h[24:]
    return h


def main():
    iface, router_mac = sys.argv[1], bytes.fromhex(sys.argv[2].replace(":", ""))
    src4, src6 = sys.argv[3], sys.argv[4]
    dsts = sys.argv[5:]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((iface, 0))
    my_mac = s.getsockname()[4]
    n = 0
    for i in range(0, len(dsts), 2):
        for fam, src, dst in ((4, src4, dsts[i]), (6, src6, dsts[i + 1])):
            n += 1
            for name, pkt in probes(fam, src, dst, n):
                etype = 0x0800 if fam == 4 else 0x86DD
                # drain what is queued (late replies of nothing, ND)
                while select.select([s], [], [], 0)[0]:
                    s.recv(65535)
                s.send(router_mac + my_mac + struct.pack("!H", etype) + pkt)
                got = []
                end = time.monotonic() + WAIT_S
                while not got:
                    left = end - time.monotonic()
                    if left <= 0 or not select.select([s], [], [], left)[0]:
                        break
                    frame, addr = s.recvfrom(65535)
                    if addr[2] == socket.PACKET_OUTGOING:
                        continue
                    ip = interesting(frame, router_mac)
                    if ip is not None:
                        got.append(masked(ip))
                print(dst, name, len(got), *got, flush=True)


if __name__ == "__main__":
    main()
