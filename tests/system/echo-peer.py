#!/usr/bin/env python3
# TCP/UDP echo of the client's address, for published-port and NAT tests:
#   echo-peer.py serve PORT/tcp|PORT/udp ...
#   echo-peer.py ask tcp|udp HOST PORT [SIZE]   (prints what the server saw, or nothing)
import socket, sys, threading, time
if sys.argv[1] == "serve":
    def tcp(port):
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("::", port)); s.listen(64)
        while True:
            c, peer = s.accept()
            c.sendall(("%s %d" % (peer[0].replace("::ffff:", ""), port)).encode()); c.close()
    def udp(port):
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.bind(("::", port))
        while True:
            data, peer = s.recvfrom(65535)
            s.sendto(("%s %d" % (peer[0].replace("::ffff:", ""), port)).encode(), peer)
    for p in sys.argv[2:]:
        proto, port = p.split("/")[1], int(p.split("/")[0])
        threading.Thread(target=tcp if proto == "tcp" else udp, args=(port,), daemon=True).start()
    threading.Event().wait()
else:  # ask tcp|udp HOST PORT [SIZE]: prints what the server saw, or nothing
    proto, host, port = sys.argv[2], sys.argv[3], int(sys.argv[4])
    size = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(10):  # the server may still be starting
        try:
            if proto == "tcp":
                s = socket.create_connection((host, port), timeout=1)
                print(s.recv(100).decode()); break
            s = socket.socket(fam, socket.SOCK_DGRAM); s.settimeout(0.3)
            s.sendto(b"x" * size, (host, port)); print(s.recv(100).decode()); break
        except socket.timeout:
            if proto == "tcp":
                break  # dropped: a refused connection is the server still starting
        except OSError:
            time.sleep(0.1)
