# dns/build.mk — libFuzzer targets for dnsd's wire parsing (see
# dns/fuzz-wire.c), built with clang apart from the main build.
#
#   make fuzz          fuzz for FUZZ_TIME seconds (default 300), corpus kept
#                      in $(BUILD)/fuzz/corpus-wire
#   make fuzz-smoke    a short run (FUZZ_SMOKE_TIME, default 25 s) for
#                      `make check`; fails on any crash, leak or UB report

FUZZ_CC ?= clang
FUZZ_TIME ?= 300
FUZZ_SMOKE_TIME ?= 25
FUZZ_CFLAGS := -g -O1 -std=gnu11 -D_GNU_SOURCE -Ilib -fno-omit-frame-pointer \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
# What the target exercises, compiled again with the fuzzer's
# instrumentation (the archive's objects are built by gcc without it).
DNS_FUZZ_SRC := dns/wire.c dns/dname.c dns/zone.c dns/resolve.c dns/model.c dns/rdata.c \
	dns/strmap.c dns/upstream-msg.c lib/xalloc.c lib/prefix.c lib/name.c lib/log.c \
	lib/error.c

$(BUILD)/fuzz/fuzz-wire: dns/fuzz-wire.c $(DNS_FUZZ_SRC) $(wildcard dns/*.h lib/*.h)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ dns/fuzz-wire.c $(DNS_FUZZ_SRC)

.PHONY: fuzz fuzz-smoke
fuzz: $(BUILD)/fuzz/fuzz-wire
	@mkdir -p $(BUILD)/fuzz/corpus-wire
	$(BUILD)/fuzz/fuzz-wire -max_total_time=$(FUZZ_TIME) -max_len=1024 \
		$(BUILD)/fuzz/corpus-wire

fuzz-smoke: $(BUILD)/fuzz/fuzz-wire
	@tmp=$$(mktemp -d /tmp/podwire-fuzz.XXXXXX) && \
	$(BUILD)/fuzz/fuzz-wire -max_total_time=$(FUZZ_SMOKE_TIME) -max_len=1024 -seed=1 \
		-print_final_stats=0 "$$tmp" >"$$tmp.log" 2>&1; rc=$$?; \
	tail -n 3 "$$tmp.log"; [ $$rc -eq 0 ] || cat "$$tmp.log"; \
	rm -rf "$$tmp" "$$tmp.log"; exit $$rc
