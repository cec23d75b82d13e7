# runtime-hooks: three folders built with the PART macro (it works with a
# nested folder: the archives become build/libruntime-hooks/NAME.a).
#   common/  pure code both programs share (annotations, resolv.conf/hosts)
#   hook/    podwire-hook, the OCI runtime hook
#   cni/     podwire-cni, the CNI plugin
# PART links a program with its own archive and lib/ only, so the shared
# archive is added to each program's link line (before lib/, which it uses).
$(eval $(call PART,podwire-hooks-common,runtime-hooks/common,jansson))
$(eval $(call PART,podwire-hook,runtime-hooks/hook,jansson))
$(eval $(call PART,podwire-cni,runtime-hooks/cni,jansson))

$(BUILD)/podwire-hook $(BUILD)/podwire-cni: $(BUILD)/libruntime-hooks/common.a
runtime-hooks/hook_LIBS := $(BUILD)/libruntime-hooks/common.a $(BUILD)/liblib.a \
	$(runtime-hooks/hook_LIBS)
runtime-hooks/cni_LIBS := $(BUILD)/libruntime-hooks/common.a $(BUILD)/liblib.a \
	$(runtime-hooks/cni_LIBS)

# The hook and the plugin are exec'd for every container start and stop:
# linked statically (non-PIE) they skip the dynamic loader, symbol binding
# and relocations, about 2 ms and half the page faults per run on a VM
# (bench/startup.sh). ASan needs the dynamic runtime, so not there.
ifneq ($(SANITIZE),1)
$(BUILD)/podwire-hook $(BUILD)/podwire-cni: override LDFLAGS += -static
endif

UNIT_PARTS_test-annotations := runtime-hooks/common
UNIT_PARTS_test-resolvconf := runtime-hooks/common
UNIT_PARTS_test-hook-trust := runtime-hooks/hook runtime-hooks/common
