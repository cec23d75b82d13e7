# The nftables test driver (tests/system/nft-driver.c): loads and changes
# table inet podwire from the command line for tests/system/test-nft-*.sh.
# It links nft.o, nft-monitor.o and netlink-events.o alone, not all of libnetd.a, so it needs
# nothing else of netd.
$(BUILD)/tests/nft-driver: $(BUILD)/tests/system/nft-driver.o $(BUILD)/netd/nft.o \
		$(BUILD)/netd/nft-monitor.o $(BUILD)/netd/netlink-events.o $(BUILD)/liblib.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(shell pkg-config --libs libmnl libnftnl 2>/dev/null) -lpthread

# `make check` builds unit-tests in the sanitizer build; the system tests
# need the driver there too.
unit-tests: $(BUILD)/tests/nft-driver

# The rate-limit test driver (tests/system/bw-driver.c) for
# tests/system/test-netd6-rate.sh: bandwidth.o alone, with libnl.
$(BUILD)/tests/bw-driver: $(BUILD)/tests/system/bw-driver.o $(BUILD)/netd/bandwidth.o $(BUILD)/liblib.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(shell pkg-config --libs libnl-3.0 libnl-route-3.0 2>/dev/null) -lpthread

unit-tests: $(BUILD)/tests/bw-driver

# netd links libcrypto (netd/trust-keys.c checks the cosign keys of
# keysets): unit tests that pull in netd objects may need it too.
$(UNIT_BIN): ALL_LIBS += $(shell pkg-config --libs libcrypto 2>/dev/null)
UNIT_PARTS_test-trust-keys := netd

# The VXLAN test driver (tests/system/vxlan-driver.c) for
# tests/system/test-vxlan-dataplane.sh and bench/vxlan.sh: vxlan.o and
# netlink.o alone, with libnl.
$(BUILD)/tests/vxlan-driver: $(BUILD)/tests/system/vxlan-driver.o $(BUILD)/netd/vxlan.o \
		$(BUILD)/netd/netlink.o $(BUILD)/liblib.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(shell pkg-config --libs libnl-3.0 libnl-route-3.0 2>/dev/null) -lpthread

unit-tests: $(BUILD)/tests/vxlan-driver

# tests/unit/test-vxlan.c: netd/vxlan.c's pure parts.
UNIT_PARTS_test-vxlan := netd

# The etcd client test driver (tests/system/etcd-driver.c) for
# tests/system/test-etcd-client.sh: etcd-client.o and etcd-codec.o alone,
# with libcurl and jansson.
$(BUILD)/tests/etcd-driver: $(BUILD)/tests/system/etcd-driver.o $(BUILD)/netd/etcd-client.o \
		$(BUILD)/netd/etcd-codec.o $(BUILD)/liblib.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(shell pkg-config --libs libcurl jansson 2>/dev/null) -lpthread

unit-tests: $(BUILD)/tests/etcd-driver

# The codec is pure: its unit test needs netd's archive (only etcd-codec.o
# is pulled from it) and lib/.
UNIT_PARTS_test-etcd-codec := netd
