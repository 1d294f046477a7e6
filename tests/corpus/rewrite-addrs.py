#!/usr/bin/env python3
"""rewrite-addrs.py - move the addresses of iptables-save files into the test ranges.

Usage: rewrite-addrs.py [--map] IN OUT [IN OUT ...]

Every IPv4 address or prefix is rewritten into 198.18.0.0/15 and every IPv6 one into
2001:db8::/32 (0.0.0.0/0 and ::/0 stay as they are: they mean "any"). One mapping is built
over all the input files given together (a rules.v4/rules.v6 pair, or files of one source
share it), deterministically: the same input gives the same output.

The mapping keeps containment: when prefix A contains prefix or address B in the input,
the image of A contains the image of B, and prefixes that do not overlap get images that
do not overlap. Prefix lengths may shrink (a /8 becomes a /24 unless it holds more than
fits): only the containment structure is kept, not the sizes. Images start at
198.18.16.0 and 2001:db8:1000::, so 198.18.0.0/20 and 2001:db8::/36 stay free for the
test topology's own links (tests/netns/lib.sh uses 198.18.0.0/24 and 198.18.1.0/24).

Everything else in the file is kept byte for byte, masks (recent's --mask) included. With --map, the mapping is printed
on standard output ("old -> new", one per line) for the corpus notes.
"""
import ipaddress
import re
import sys

V4_RANGE = (int(ipaddress.IPv4Address("198.18.16.0")), int(ipaddress.IPv4Address("198.20.0.0")))
V6_RANGE = (int(ipaddress.IPv6Address("2001:db8:1000::")), int(ipaddress.IPv6Address("2001:db9::")))
# The smallest block a prefix gets: a /24 (IPv4) or /64 (IPv6) keeps room for test hosts.
MIN_PREFIX = {4: 24, 6: 64}

# Candidates: dotted quads (with an optional /len or /mask) and colon-hex words; the
# ipaddress module decides what is really an address (times like 14:48:13, MAC addresses,
# counters [0:0] are not).
V4_RE = re.compile(r"(?<![\w.])(\d{1,3}(?:\.\d{1,3}){3})(/\d{1,3}(?:\.\d{1,3}){3}|/\d{1,2})?(?![\w.])")
V6_RE = re.compile(r"(?<![\w:.])([0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7})(/\d{1,3})?(?![\w:])")


def parse_v4(addr, suffix):
    try:
        ipaddress.IPv4Address(addr)
        if suffix is None:
            return ipaddress.IPv4Network(addr + "/32"), None
        net = ipaddress.IPv4Network(addr + suffix, strict=False)
        return net, ("mask" if "." in suffix else "len")
    except ValueError:
        return None, None


def parse_v6(addr, suffix):
    if addr.count(":") < 2 or not re.search(r"[0-9A-Fa-f]", addr):
        return None, None
    try:
        ipaddress.IPv6Address(addr)
        if suffix is None:
            return ipaddress.IPv6Network(addr + "/128"), None
        return ipaddress.IPv6Network(addr + suffix, strict=False), "len"
    except ValueError:
        return None, None


# Options whose value looks like an address but is a mask (recent --mask): kept as they are.
MASK_RE = re.compile(r"--mask\s+$")


def scan(text):
    """Yield (start, end, network, suffix-style) of every address in text."""
    for rx, parse in ((V4_RE, parse_v4), (V6_RE, parse_v6)):
        for m in rx.finditer(text):
            if MASK_RE.search(text[max(0, m.start() - 16):m.start()]):
                continue
            net, style = parse(m.group(1), m.group(2))
            if net is not None:
                yield m.start(), m.end(), net, style


def build_map(nets, version):
    """Map each network to its image; see the module text for the properties."""
    nets = sorted({n for n in nets if n.prefixlen > 0},
                  key=lambda n: (int(n.network_address), n.prefixlen))
    bits = 32 if version == 4 else 128
    # parent = the longest strictly containing prefix among the inputs
    children = {n: [] for n in nets}
    roots = []
    for n in nets:
        parents = [p for p in nets if p != n and p.prefixlen < n.prefixlen and n.subnet_of(p)]
        if parents:
            children[max(parents, key=lambda p: p.prefixlen)].append(n)
        else:
            roots.append(n)

    def align(x, size):
        return (x + size - 1) // size * size

    size = {}

    def need(n):
        """Block size of n: room for its own hosts and its children, a power of two."""
        if n.prefixlen == bits:
            size[n] = 1
            return 1
        own = 1 << (bits - max(n.prefixlen, MIN_PREFIX[version]))
        cursor = 1                      # offset 0 is the image's network address
        for c in children[n]:
            cursor = align(cursor, need(c)) + size[c]
        total = own
        while total < 2 * cursor:
            total *= 2
        size[n] = total
        return total

    image = {}

    def place(n, base):
        image[n] = ipaddress.ip_network((base, bits - (size[n].bit_length() - 1)))
        cursor = 1
        for c in children[n]:
            cursor = align(cursor, size[c])
            place(c, base + cursor)
            cursor += size[c]

    base, limit = V4_RANGE if version == 4 else V6_RANGE
    cursor = 1                          # no image at the range's first address
    for r in roots:
        need(r)
        cursor = align(cursor, size[r])
        place(r, base + cursor)
        cursor += size[r]
    if base + cursor > limit:
        sys.exit("rewrite-addrs: the addresses do not fit the test range")
    return image


def render(net, image, style):
    if net.prefixlen == 0:
        new = net
    else:
        new = image[net]
    if style is None:
        return str(new.network_address)
    if style == "mask":
        return "%s/%s" % (new.network_address, new.netmask)
    return "%s/%d" % (new.network_address, new.prefixlen)


def main(argv):
    show = False
    if argv and argv[0] == "--map":
        show = True
        argv = argv[1:]
    if not argv or len(argv) % 2:
        sys.exit(__doc__.split("\n")[2])
    pairs = list(zip(argv[0::2], argv[1::2]))
    texts = {}
    nets = {4: [], 6: []}
    for src, _ in pairs:
        with open(src, encoding="utf-8", newline="") as f:
            texts[src] = f.read()
        for _, _, net, _ in scan(texts[src]):
            nets[net.version].append(net)
    image = {}
    image.update(build_map(nets[4], 4))
    image.update(build_map(nets[6], 6))
    for src, dst in pairs:
        text = texts[src]
        spans = sorted(scan(text), key=lambda s: s[0])
        out, last = [], 0
        for start, end, net, style in spans:
            if start < last:            # an IPv4 dotted quad inside an IPv6 word
                continue
            out.append(text[last:start])
            out.append(render(net, image, style))
            last = end
        out.append(text[last:])
        with open(dst, "w", encoding="utf-8", newline="") as f:
            f.write("".join(out))
    if show:
        for old in sorted(image, key=lambda n: (n.version, int(n.network_address), n.prefixlen)):
            print("%s -> %s" % (old, image[old]))


if __name__ == "__main__":
    main(sys.argv[1:])
