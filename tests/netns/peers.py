# peers.py server|client DIR ADDR - two peers that keep one TCP connection (port 5001) and one
# UDP exchange (port 5002) open across a daemon's restarts and upgrades, for the namespace
# tests (lib.sh: peers_start, peer_round).  In round k, once DIR/go.k exists, the server
# speaks first on both, the client answers on both, and the server writes DIR/done.k when it
# has both answers.  A flow whose entry the daemon lost is NEW from the server side: refused
# by a ruleset that accepts NEW only from the client side, so the round never completes.
import os, select, signal, socket, sys, time
signal.alarm(180)                           # bounded, whatever happens to the test
role, d, a = sys.argv[1], sys.argv[2], sys.argv[3]
if role == "server":
    l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind((a, 5001)); l.listen(1)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind((a, 5002))
    t, _ = l.accept()
    hello, peer = u.recvfrom(100)           # the client's UDP address
    t.recv(100)
    for k in range(1, 10):
        while not os.path.exists(f"{d}/go.{k}"):
            time.sleep(0.05)
        t.sendall(f"srv {k}\n".encode()); u.sendto(f"srv {k}".encode(), peer)
        got = set()
        while got != {"tcp", "udp"}:
            r, _, _ = select.select([t, u], [], [])
            if t in r:
                if not t.recv(100): sys.exit(1)
                got.add("tcp")
            if u in r:
                u.recvfrom(100); got.add("udp")
        open(f"{d}/done.{k}", "w").close()
else:
    t = socket.create_connection((a, 5001), timeout=5); t.settimeout(None)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.connect((a, 5002))
    u.send(b"hello"); t.sendall(b"hello\n")
    while True:
        r, _, _ = select.select([t, u], [], [])
        if t in r:
            m = t.recv(100)
            if not m: break
            t.sendall(b"cli " + m)
        if u in r:
            m = u.recv(100); u.send(b"cli " + m)
