# The nftables test driver (tests/system/nft-driver.c): loads and changes
# table inet podwire from the command line for tests/system/test-nft-*.sh.
# It links nft.o alone, not all of libnetd.a, so it needs nothing else of netd.
$(BUILD)/tests/nft-driver: $(BUILD)/tests/system/nft-driver.o $(BUILD)/netd/nft.o $(BUILD)/liblib.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(shell pkg-config --libs libmnl libnftnl 2>/dev/null) -lpthread

# `make check` builds unit-tests in the sanitizer build; the system tests
# need the driver there too.
unit-tests: $(BUILD)/tests/nft-driver
