#!/usr/bin/env bash
# The protocol cases (RFC 1035, 6891, 7766): TCP with several queries on
# one connection; truncation over UDP and the full answer over TCP; EDNS
# (OPT echoed, buffer size honoured, BADVERS, unknown options ignored);
# 0x20 case kept; FORMERR, NOTIMP, REFUSED where due; responses (QR set)
# dropped; malformed packets answered or dropped, one reply per query at
# most, and the server keeps serving; idle TCP connections are closed, and
# one that never sends a whole query sooner.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dns-lib.sh"

make_host_ns
start_netd
start_dnsd
pw vnet create prod --subnet 10.1.0.0/24 >/dev/null
web=$(make_group_ns web)
pw group attach web --netns "$web" --vnet prod >/dev/null
GW=10.1.0.1
wait_answer web $GW web.prod.internal A 10.1.0.2
# A TXT record of about 1000 bytes: over 512, under 1232.
big=$(python3 -c 'print("x" * 1000)')
pw dns record add prod big TXT "$big" >/dev/null
wait_answer web $GW web.prod.internal A 10.1.0.2
for _ in $(seq 50); do
	[ "$(qstatus web $GW big.prod.internal TXT)" == NOERROR ] && break
	sleep 0.1
done

dig_web() { in_ns web dig +time=2 +tries=1 "@$GW" "$@"; }

log "0x20: the client's case comes back"
assert_contains "$(dig_web +noall +answer WeB.pRoD.InTeRnAl)" "WeB.pRoD.InTeRnAl." "owner case"

log "EDNS"
out=$(dig_web web.prod.internal)
assert_contains "$out" "udp: 1232" "OPT echoed with our size"
out=$(dig_web +noedns web.prod.internal)
[[ $out != *"OPT PSEUDOSECTION"* ]] || fail "OPT in a reply to a plain query"
assert_contains "$(dig_web +edns=1 +noednsnegotiation web.prod.internal)" "status: BADVERS" "unknown EDNS version"
assert_eq "$(q web $GW web.prod.internal A +ednsopt=65001:abcd)" 10.1.0.2 "unknown option ignored"

log "truncation over UDP, the whole answer over TCP"
out=$(dig_web +noedns +ignore big.prod.internal TXT)
assert_contains "$out" " tc " "TC without EDNS (512)"
assert_contains "$out" "ANSWER: 0" "truncated answer is empty"
out=$(dig_web +bufsize=512 +ignore big.prod.internal TXT)
assert_contains "$out" " tc " "TC at an EDNS size of 512"
out=$(dig_web +bufsize=4096 big.prod.internal TXT)
assert_contains "$out" "ANSWER: 1" "fits in 1232"
out=$(dig_web +tcp +noedns big.prod.internal TXT)
assert_contains "$out" "ANSWER: 1" "TCP carries it"
# dig retries over TCP by itself on TC:
assert_contains "$(dig_web +noedns big.prod.internal TXT)" "ANSWER: 1" "TC then TCP retry"

log "status codes"
assert_contains "$(dig_web CH TXT version.bind)" "status: REFUSED" "class CH"
assert_contains "$(dig_web +tcp prod.internal AXFR)" "Transfer failed" "zone transfer refused"
assert_contains "$(dig_web +opcode=status web.prod.internal)" "status: NOTIMP" "opcode STATUS"
in_ns h ip addr add 192.0.2.77/32 dev lo
assert_contains "$(in_ns h dig +time=2 +tries=1 -b 192.0.2.77 @$GW web.prod.internal)" \
	"status: REFUSED" "source outside the VNet"

log "raw packets: TCP pipelining, FORMERR, QR dropped, garbage"
cat >"$T/probe.py" <<'EOF'
import os, random, socket, struct, sys

server = sys.argv[1]

def query(qid, name, qtype=1, flags=0x0100, qdcount=1, extra=b""):
    q = struct.pack(">HHHHHH", qid, flags, qdcount, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\0" + struct.pack(">HH", qtype, 1) + extra

def udp(packet, timeout=1.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    s.sendto(packet, (server, 53))
    replies = []
    try:
        while True:
            replies.append(s.recv(65535))
            s.settimeout(0.2)
    except socket.timeout:
        pass
    return replies

def check(cond, what):
    if not cond:
        print("FAIL:", what)
        sys.exit(1)

# Three queries in one TCP write; three replies, ids matched.
t = socket.create_connection((server, 53), timeout=3)
msgs = [query(100 + i, n) for i, n in enumerate(["web.prod.internal", "host.prod.internal", "nope.prod.internal"])]
t.sendall(b"".join(struct.pack(">H", len(m)) + m for m in msgs))
buf = b""
ids = set()
while len(ids) < 3:
    chunk = t.recv(65535)
    check(chunk, "TCP connection closed early")
    buf += chunk
    while len(buf) >= 2 and len(buf) >= 2 + struct.unpack(">H", buf[:2])[0]:
        n = struct.unpack(">H", buf[:2])[0]
        ids.add(struct.unpack(">H", buf[2:4])[0])
        buf = buf[2 + n:]
check(ids == {100, 101, 102}, "pipelined replies %r" % ids)
t.close()

# QDCOUNT 0 and 2: FORMERR, same id.
for qd in (0, 2):
    r = udp(query(7, "web.prod.internal", qdcount=qd))
    check(len(r) == 1 and struct.unpack(">H", r[0][:2])[0] == 7 and r[0][3] & 0xf == 1,
          "FORMERR for qdcount %d: %r" % (qd, r))
# A response (QR set) gets nothing back.
check(udp(query(8, "web.prod.internal", flags=0x8100), 0.5) == [], "answered a response")
# A compression loop in the question: FORMERR.
loop = struct.pack(">HHHHHH", 9, 0x0100, 1, 0, 0, 0) + b"\xc0\x0c" + struct.pack(">HH", 1, 1)
r = udp(loop)
check(len(r) == 1 and r[0][3] & 0xf == 1, "compression loop: %r" % r)

# Garbage: every packet gets at most one reply; the server keeps serving.
rnd = random.Random(42)
base = query(10, "web.prod.internal")
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.05)
sent = 0
for i in range(3000):
    kind = i % 3
    if kind == 0:
        p = os.urandom(rnd.randrange(0, 600))
    elif kind == 1:
        p = bytearray(base)
        for _ in range(rnd.randrange(1, 6)):
            p[rnd.randrange(len(p))] = rnd.randrange(256)
        p = bytes(p)
    else:
        p = base[: rnd.randrange(len(base))]
    s.sendto(p, (server, 53))
    sent += 1
replies = 0
try:
    while True:
        s.recv(65535)
        replies += 1
except socket.timeout:
    pass
check(replies <= sent, "more replies (%d) than packets (%d)" % (replies, sent))
r = udp(query(11, "web.prod.internal"))
check(len(r) == 1 and r[0][-4:] == bytes([10, 1, 0, 2]), "still serving after garbage")

# An idle TCP connection is closed by the server (RFC 7766 6.2.3; 10 s
# after its last answer); one that never sends a whole query is closed by
# the query deadline (3 s from accept).
import time
t = socket.create_connection((server, 53), timeout=15)
m = query(12, "web.prod.internal")
t.sendall(struct.pack(">H", len(m)) + m)
check(len(t.recv(2)) == 2, "no TCP answer")
t.settimeout(0.2)
try:
    while t.recv(4096):
        pass
except socket.timeout:
    pass
t.settimeout(15)
start = time.time()
check(t.recv(10) == b"", "idle connection not closed")
idle = time.time() - start
check(9 <= idle <= 12, "idle timeout after %.1f s" % idle)
t = socket.create_connection((server, 53), timeout=15)
start = time.time()
check(t.recv(10) == b"", "silent connection not closed")
silent = time.time() - start
check(2.5 <= silent <= 5, "silent connection closed after %.1f s" % silent)
print("ok", replies, "replies to", sent, "packets; idle TCP closed after %.1f s, silent "
      "after %.1f s" % (idle, silent))
EOF
out=$(in_ns web python3 "$T/probe.py" $GW) || fail "probe: $out"
log "$out"
kill -0 "$DNSD_PID" || fail "dnsd died"

log "stats"
assert_contains "$(pw stats dns)" "FORMERR" "rcodes counted"
[ "$(dnsd_stat '["tcp"]')" -ge 3 ] || fail "TCP queries not counted"
[ "$(dnsd_stat '["dropped"]')" -ge 1 ] || fail "dropped packets not counted"
log "ok"
