/* Unit tests for netd's record validation (netd/dns-records.c,
 * dns_record_validate): normalisation of names and values, and the
 * refusals a user sees (bad address, long name or label, bad SRV/MX,
 * PTR outside the VNet, CNAME at the apex). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../netd/dns-records.h"

static int check(const char *vnet, const char *name, const char *type, const char *value,
		 struct dns_record_spec *ret, struct pw_error *err)
{
	static struct ip_prefix subnet;
	ip_prefix_parse("10.1.0.0/24", AF_INET, &subnet);
	memset(ret, 0, sizeof(*ret));
	ret->vnet = strdup(vnet);
	ret->name = strdup(name);
	ret->type = strdup(type);
	ret->value = strdup(value);
	ret->ttl = 300;
	return dns_record_validate(ret, "prod.internal", &subnet, 1, err);
}

static void done(struct dns_record_spec *s)
{
	free(s->vnet);
	free(s->zone);
	free(s->name);
	free(s->type);
	free(s->value);
}

static void test_normalise(void **state)
{
	struct dns_record_spec s;
	struct pw_error err = {0};

	assert_int_equal(check("prod", "DB", "a", "10.1.0.9", &s, &err), 0);
	assert_string_equal(s.name, "db");
	assert_string_equal(s.type, "A");
	done(&s);
	assert_int_equal(check("prod", "x", "AAAA", "FD00:1:0::9", &s, &err), 0);
	assert_string_equal(s.value, "fd00:1::9");
	done(&s);
	assert_int_equal(check("prod", "db.prod.internal.", "A", "10.1.0.9", &s, &err), 0);
	assert_string_equal(s.name, "db");
	done(&s);
	assert_int_equal(check("prod", "prod.internal.", "MX", "10  Mail.Prod.Internal.", &s, &err),
			 0);
	assert_string_equal(s.name, "@");
	assert_string_equal(s.value, "10 mail.prod.internal");
	done(&s);
	assert_int_equal(check("prod", "_h._tcp", "SRV", "1 2 80 web.prod.internal", &s, &err), 0);
	done(&s);
	assert_int_equal(check("prod", "10.1.0.9", "PTR", "db.prod.internal", &s, &err), 0);
	assert_string_equal(s.name, "10.1.0.9");
	done(&s);
}

static void test_refusals(void **state)
{
	struct dns_record_spec s;
	struct pw_error err = {0};
	char label[80], name[300];

	assert_int_equal(check("prod", "x", "A", "10.1.0.300", &s, &err), -EINVAL);
	assert_non_null(strstr(pw_error_message(&err), "not an IPv4 address"));
	done(&s);
	assert_int_equal(check("prod", "x", "A", "fd00::1", &s, &err), -EINVAL);
	done(&s);
	assert_int_equal(check("prod", "x", "NS", "a.b", &s, &err), -EINVAL);
	done(&s);
	memset(label, 'a', 64);
	label[64] = 0;
	assert_int_equal(check("prod", label, "A", "10.1.0.9", &s, &err), -EINVAL);
	done(&s);
	name[0] = 0;
	for (int i = 0; i < 25; i++)
		strcat(name, "abcdefghi.");
	strcat(name, "x");
	assert_int_equal(check("prod", name, "A", "10.1.0.9", &s, &err), -EINVAL);
	done(&s);
	assert_int_equal(check("prod", "x", "SRV", "1 2 web", &s, &err), -EINVAL);
	done(&s);
	assert_int_equal(check("prod", "x", "SRV", "1 2 70000 web", &s, &err), -EINVAL);
	done(&s);
	assert_int_equal(check("prod", "x", "MX", "mail", &s, &err), -EINVAL);
	done(&s);
	assert_int_equal(check("prod", "x", "CNAME", "bad..name", &s, &err), -EINVAL);
	done(&s);
	assert_int_equal(check("prod", "@", "CNAME", "web.prod.internal", &s, &err), -EINVAL);
	done(&s);
	assert_int_equal(check("prod", "10.2.0.9", "PTR", "db.prod.internal", &s, &err), -EINVAL);
	done(&s);
	assert_int_equal(check("prod", "db.other.example.", "A", "10.1.0.9", &s, &err), -EINVAL);
	assert_non_null(strstr(pw_error_message(&err), "outside"));
	done(&s);
	char *txt = malloc(5000);
	memset(txt, 't', 4999);
	txt[4999] = 0;
	assert_int_equal(check("prod", "t", "TXT", txt, &s, &err), -EINVAL);
	done(&s);
	free(txt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_normalise),
	    cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
