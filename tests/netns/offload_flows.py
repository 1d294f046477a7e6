# offload_flows.py MODE ... - the flows of tests/netns/flow-offload.sh, bounded by alarm().
#   tcpsink ADDR PORT            accept one connection, read to EOF, print the bytes, close
#   tcpsend ADDR PORT BYTES      connect, send 1000 bytes, pause 0.2 s, send the rest of
#                                BYTES, shut down, wait for the close
#   udpecho ADDR PORT            answer every datagram with itself
#   udpping ADDR PORT SPORT N SIZE   N datagrams of SIZE bytes from port SPORT, each waiting
#                                for its echo (1 s), a pause of 0.2 s after the first;
#                                print how many came back
import socket, sys, signal, time
signal.alarm(120)
mode, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
if mode == "tcpsink":
    l = socket.socket(fam); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind((addr, port)); l.listen(1)
    c, _ = l.accept(); n = 0
    while True:
        b = c.recv(65536)
        if not b: break
        n += len(b)
    c.close(); print(n)
elif mode == "tcpsend":
    total = int(sys.argv[4])
    c = socket.create_connection((addr, port), timeout=10)
    # a first request and a pause, as a client does: the flow is offloaded by then
    c.sendall(b"x" * 1000); time.sleep(0.2)
    buf = b"x" * 65536; left = total - 1000
    while left:
        left -= c.send(buf[:min(left, len(buf))])
    c.shutdown(socket.SHUT_WR)
    while c.recv(65536): pass
    c.close()
elif mode == "udpecho":
    u = socket.socket(fam, socket.SOCK_DGRAM); u.bind((addr, port))
    while True:
        b, peer = u.recvfrom(65536); u.sendto(b, peer)
elif mode == "udpping":
    sport, n, size = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
    u = socket.socket(fam, socket.SOCK_DGRAM)
    u.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    u.bind(("::" if fam == socket.AF_INET6 else "0.0.0.0", sport)); u.connect((addr, port))
    u.settimeout(1.0); got = 0
    for i in range(n):
        u.send(b"u" * size)
        try:
            u.recv(65536); got += 1
        except socket.timeout:
            pass
        if i == 0:
            time.sleep(0.2)  # replied: offloaded by the time the stream goes on
    print(got)
