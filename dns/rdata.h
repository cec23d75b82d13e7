/* Admin record values in text (as netd stores them) to wire rdata:
 *   A/AAAA  an address         CNAME/PTR  a target name (absolute)
 *   MX      "PREF HOST"        SRV        "PRIO WEIGHT PORT TARGET"
 *   TXT     the text (split into 255-octet character-strings)
 * Pure functions; names in rdata are lower-cased wire form. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* TXT values longer than this are refused: 4000 octets still fits a UDP
 * answer at the 4096 EDNS size and is far above real TXT records. */
#define DNS_TXT_MAX 4000
/* Largest rdata we build: a TXT of DNS_TXT_MAX plus its length octets. */
#define DNS_RDATA_MAX (DNS_TXT_MAX + DNS_TXT_MAX / 255 + 1)

/* "A", "aaaa", ... -> type number, or 0 if not a supported admin type. */
uint16_t dns_type_from_text(const char *text);
const char *dns_type_to_text(uint16_t type);

/* Encodes value for type into out (DNS_RDATA_MAX bytes); returns the
 * length or -EINVAL. */
int dns_rdata_from_text(uint16_t type, const char *value, uint8_t *out);
