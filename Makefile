# podwire — top-level build.
#
#   make            build every program into build/
#   make check      install missing packages, build (-Werror), then run unit
#                   and system tests against an ASan+UBSan build, and a short
#                   fuzzing run of the DNS parser (make fuzz runs longer)
#   make demo       install missing packages, build, run the demo
#   make install    PREFIX=/usr/local DESTDIR=
#   make format     clang-format the tree
#   make clean
#
# Each part is a folder; every .c file in it is built, main.c makes the
# program and the rest goes into a static archive that unit tests link.
# A part may add rules of its own in PART/build.mk.

CC ?= cc
PREFIX ?= /usr/local
BUILD ?= build
SANITIZE ?= 0

PKGS := libnl-3.0 libnl-route-3.0 libmnl libnftnl jansson fuse3
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)

CFLAGS ?= -O2 -g
override CFLAGS += -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter \
	-Wmissing-prototypes -Wshadow -Wformat=2 -Wno-format-truncation -fno-strict-aliasing \
	-D_GNU_SOURCE -Ilib $(PKG_CFLAGS) -MMD -MP
ifeq ($(SANITIZE),1)
override CFLAGS += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
override LDFLAGS += -fsanitize=address,undefined
endif
override LDFLAGS += -Wl,--as-needed

PROGRAMS :=
ARCHIVES :=

# $(1) program, $(2) folder, $(3) pkg-config packages it links.
define PART
$(2)_SRC := $$(filter-out $(2)/fuzz-%.c,$$(wildcard $(2)/*.c))
$(2)_OBJ := $$(patsubst %.c,$$(BUILD)/%.o,$$($(2)_SRC))
$(2)_LIBOBJ := $$(filter-out $$(BUILD)/$(2)/main.o,$$($(2)_OBJ))
$(2)_LIBS := $$(shell pkg-config --libs $(3) 2>/dev/null)
$$(BUILD)/lib$(2).a: $$($(2)_LIBOBJ)
	@mkdir -p $$(@D)
	rm -f $$@ && ar rcs $$@ $$^
ARCHIVES += $$(BUILD)/lib$(2).a
ifneq ($$(wildcard $(2)/main.c),)
$$(BUILD)/$(1): $$(BUILD)/$(2)/main.o $$(BUILD)/lib$(2).a $$(BUILD)/liblib.a
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$($(2)_LIBS) -lpthread
PROGRAMS += $$(BUILD)/$(1)
endif
endef

$(eval $(call PART,podwire-lib,lib,jansson))
# The daemons link libsystemd for sd_notify(3) (lib/service.c); the hook and
# the CNI plugin do not (they are static and never run as services).
$(eval $(call PART,podwire-netd,netd,libnl-3.0 libnl-route-3.0 libmnl libnftnl jansson libsystemd))
$(eval $(call PART,podwire-dnsd,dns,jansson libsystemd))
$(eval $(call PART,podwire-volumed,volumed,fuse3 jansson libsystemd))
$(eval $(call PART,podwire,cli,jansson))

# Unit tests: tests/unit/test-NAME.c, linked with cmocka, lib/ and the
# archives of the parts it tests: UNIT_PARTS_test-NAME lists them (folder
# names); a test without that variable links every part's archive (only the
# objects it uses are pulled in).
UNIT_SRC := $(wildcard tests/unit/test-*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
ALL_LIBS := $(shell pkg-config --libs $(PKGS) cmocka 2>/dev/null)
UNIT_PARTS_test-prefix :=
UNIT_PARTS_test-log :=
UNIT_PARTS_test-name :=
UNIT_PARTS_test-rpc :=
UNIT_PARTS_test-metrics-listener := netd
unit_archives = $(if $(filter undefined,$(origin UNIT_PARTS_$(1))),$(filter-out $(BUILD)/liblib.a,$(ARCHIVES)),$(foreach p,$(UNIT_PARTS_$(1)),$(BUILD)/lib$(p).a)) $(BUILD)/liblib.a

-include $(wildcard */build.mk) $(wildcard runtime-hooks/*/build.mk)

.PHONY: all check unit-tests demo deps install clean format
.DEFAULT_GOAL := all

all: $(PROGRAMS)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

.SECONDEXPANSION:
$(BUILD)/tests/%: tests/unit/%.c $$(call unit_archives,$$*)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(call unit_archives,$*) $(call unit_archives,$*) $(ALL_LIBS) -lpthread

unit-tests: $(UNIT_BIN)

deps:
	scripts/deps.sh

# The warnings-as-errors build first (what `make install` ships), then the
# sanitizer build the tests run.
JOBS := $(shell nproc 2>/dev/null || echo 2)

check: deps
	$(MAKE) -j$(JOBS) all
	$(MAKE) -j$(JOBS) BUILD=build-asan SANITIZE=1 all unit-tests
	$(MAKE) BUILD=build-asan fuzz-smoke
	tests/run.sh build-asan

demo: deps
	$(MAKE) -j$(JOBS) all
	scripts/demo.sh $(BUILD)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 0755 $(PROGRAMS) $(DESTDIR)$(PREFIX)/bin/
	for m in docs/man/*.1; do [ -e "$$m" ] && install -m 0644 $$m $(DESTDIR)$(PREFIX)/share/man/man1/; done; true
	for m in docs/man/*.8; do [ -e "$$m" ] && install -m 0644 $$m $(DESTDIR)$(PREFIX)/share/man/man8/; done; true
	# oci-hooks(5) file for podman and CRI-O, naming the installed hook
	install -d $(DESTDIR)$(PREFIX)/share/containers/oci/hooks.d
	sed 's|"/usr/local/bin/podwire-hook"|"$(PREFIX)/bin/podwire-hook"|' runtime-hooks/hooks.d/podwire.json \
		>$(DESTDIR)$(PREFIX)/share/containers/oci/hooks.d/podwire.json

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
