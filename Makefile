# podwire — top-level build.
#
#   make            build every program into build/
#   make check      install missing packages, build (-Werror), then run unit
#                   and system tests against an ASan+UBSan build, and a short
#                   fuzzing run of the DNS parser (make fuzz runs longer)
#   make demo       install missing packages, build, run the demo
#   make install    PREFIX=/usr/local DESTDIR= (programs, man pages, the
#                   systemd units in SYSTEMD_UNIT_DIR, the CNI plugin as
#                   `podwire` in each of CNI_BIN_DIR, the oci-hooks file in
#                   OCI_HOOKS_DIR); make uninstall removes what it installed
#   make deb        the Debian package, built from a copy of the tree in
#                   DEB_DIR (default $(BUILD)/deb): DEB_DIR/podwire_*.deb
#   make format     clang-format the tree
#   make clean
#
# Each part is a folder; every .c file in it is built, main.c makes the
# program and the rest goes into a static archive that unit tests link.
# A part may add rules of its own in PART/build.mk.

CC ?= cc
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
# systemd looks in /usr/local/lib/systemd/system too, so units of a
# PREFIX=/usr/local install are found; the Debian package uses /lib.
SYSTEMD_UNIT_DIR ?= $(PREFIX)/lib/systemd/system
# Where CNI callers look for plugins: containernetworking-plugins and
# podman on Debian use /usr/lib/cni, containerd, nerdctl and Kubernetes
# /opt/cni/bin. A list: the plugin is installed into each.
CNI_BIN_DIR ?= /usr/lib/cni /opt/cni/bin
# Read by podman and CRI-O (oci-hooks(5)); /etc/containers/oci/hooks.d too.
OCI_HOOKS_DIR ?= $(PREFIX)/share/containers/oci/hooks.d
DEB_DIR ?= $(BUILD)/deb
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
# the CNI plugin do not (they are static and never run as services). netd
# links libcrypto to check the cosign keys of content-trust keysets, and
# libcurl for the etcd client of cluster VNets (netd/etcd-client.c).
$(eval $(call PART,podwire-netd,netd,libnl-3.0 libnl-route-3.0 libmnl libnftnl jansson libsystemd libcrypto libcurl))
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

.PHONY: all check unit-tests demo deps install uninstall deb clean format
.DEFAULT_GOAL := all

all: $(PROGRAMS)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

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

UNITS := $(wildcard dist/systemd/*.service)
MAN1 := $(wildcard docs/man/*.1)
MAN8 := $(wildcard docs/man/*.8)

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(SYSTEMD_UNIT_DIR) $(DESTDIR)$(OCI_HOOKS_DIR)
	install -m 0755 $(PROGRAMS) $(DESTDIR)$(BINDIR)/
	install -m 0644 $(MAN1) $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 $(MAN8) $(DESTDIR)$(MANDIR)/man8/
	# systemd units, naming the installed programs
	for u in $(UNITS); do \
		sed 's|@BINDIR@|$(BINDIR)|g' $$u >$(DESTDIR)$(SYSTEMD_UNIT_DIR)/$${u##*/} && \
		chmod 0644 $(DESTDIR)$(SYSTEMD_UNIT_DIR)/$${u##*/} || exit 1; \
	done
	# the CNI plugin under the name network configurations give ("type": "podwire")
	for d in $(CNI_BIN_DIR); do \
		install -D -m 0755 $(BUILD)/podwire-cni $(DESTDIR)$$d/podwire || exit 1; \
	done
	# oci-hooks(5) file for podman and CRI-O, naming the installed hook
	sed 's|"/usr/local/bin/podwire-hook"|"$(BINDIR)/podwire-hook"|' runtime-hooks/hooks.d/podwire.json \
		>$(DESTDIR)$(OCI_HOOKS_DIR)/podwire.json
	chmod 0644 $(DESTDIR)$(OCI_HOOKS_DIR)/podwire.json

# Removes what install put there (directories shared with other software,
# such as /opt/cni/bin, stay).
uninstall:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(notdir $(PROGRAMS)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(MAN1)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(MAN8)))
	rm -f $(addprefix $(DESTDIR)$(SYSTEMD_UNIT_DIR)/,$(notdir $(UNITS)))
	rm -f $(foreach d,$(CNI_BIN_DIR),$(DESTDIR)$(d)/podwire)
	rm -f $(DESTDIR)$(OCI_HOOKS_DIR)/podwire.json

# dpkg-buildpackage writes its results next to the source tree, so the tree
# is copied into DEB_DIR first (without build directories and .git) and
# the package appears in DEB_DIR, not in the tree's parent.
DEB_VERSION = $(shell dpkg-parsechangelog -l debian/changelog -S Version 2>/dev/null)

deb: deps
	rm -rf $(DEB_DIR)/podwire-$(DEB_VERSION) $(DEB_DIR)/podwire_$(DEB_VERSION)*
	mkdir -p $(DEB_DIR)/podwire-$(DEB_VERSION)
	tar -cf - --exclude=./.git --exclude='./build*' --exclude='./$(BUILD)' \
		--exclude='./$(DEB_DIR)' . | tar -C $(DEB_DIR)/podwire-$(DEB_VERSION) -xf -
	cd $(DEB_DIR)/podwire-$(DEB_VERSION) && \
		DEB_BUILD_OPTIONS="$${DEB_BUILD_OPTIONS:-parallel=$(JOBS)}" dpkg-buildpackage -us -uc -b
	rm -rf $(DEB_DIR)/podwire-$(DEB_VERSION)
	@ls $(DEB_DIR)/podwire_$(DEB_VERSION)_*.deb

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
