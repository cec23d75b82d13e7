/* DNS names outside a message: text to wire form and back, joining,
 * hashing (the lookup key of every table in dnsd), and the reverse-lookup
 * names (in-addr.arpa / ip6.arpa) of addresses and subnets.
 * Pure functions, no allocation. (Called dname so it does not shadow
 * lib/name.h, which validates user-given names.) */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prefix.h"
#include "wire.h"

/* A name as text ("www.example.com", trailing dot optional, "." = root)
 * to wire form, lower-cased if lower. Escapes are not supported: names
 * here come from validated admin input. -EINVAL if empty labels, a label
 * over 63 or a name over 255 octets. */
int dns_name_from_text(const char *text, uint8_t *out, bool lower);
/* Wire name to text with a trailing dot; out must hold 1024 bytes
 * (escaped worst case). Non-printable bytes are written as \DDD. */
void dns_name_to_text(const uint8_t *name, size_t len, char *out, size_t out_size);
/* a (without its root byte) followed by b: -EINVAL if over 255 octets. */
int dns_name_concat(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len, uint8_t *out);
/* FNV-1a over a (lower-case) wire name, seeded with seed. */
uint32_t dns_name_hash(const uint8_t *name, size_t len, uint32_t seed);
/* Number of labels in a wire name, without the root. */
unsigned dns_name_label_count(const uint8_t *name, size_t len);
/* The reverse name of an address: 4.3.2.1.in-addr.arpa or the 32 nibbles
 * of ip6.arpa. Returns the wire length. */
int dns_reverse_name(const struct ip_addr *addr, uint8_t *out);
/* The apex of the reverse zone holding a subnet: the reverse name cut at
 * the octet (IPv4) or nibble (IPv6) boundary at or above the prefix length
 * (10.1.0.0/24 -> 0.1.10.in-addr.arpa, /20 -> 1.10.in-addr.arpa). */
int dns_reverse_apex(const struct ip_prefix *prefix, uint8_t *out);
/* Whether the lower-case name lies inside the reverse space of prefix:
 * the labels it has agree with the prefix's bits. A name that is shorter
 * than the apex, or not a reverse name of that family, does not. */
bool dns_reverse_in_prefix(const uint8_t *name, size_t len, const struct ip_prefix *prefix);
