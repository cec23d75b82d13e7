# podwire-trust: the content-trust helper (docs/trust.md). Linked
# dynamically with OpenSSL's libcrypto and gpgme, which the static hook
# cannot take: gpgme runs gpg anyway, and libcrypto loads its providers
# at run time. The hook execs it only for containers under a trust policy.
$(eval $(call PART,podwire-trust,runtime-hooks/trust,jansson libcrypto gpgme))

TRUST_LIBS := $(shell pkg-config --libs libcrypto gpgme 2>/dev/null)
UNIT_PARTS_test-trust-claim := runtime-hooks/trust
UNIT_PARTS_test-trust-verify := runtime-hooks/trust
UNIT_PARTS_test-trust-storage := runtime-hooks/trust
$(BUILD)/tests/test-trust-claim $(BUILD)/tests/test-trust-verify \
	$(BUILD)/tests/test-trust-storage: ALL_LIBS += $(TRUST_LIBS)
