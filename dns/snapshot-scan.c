/* The structural walk of a snapshot line: see snapshot-scan.h. */
#include <errno.h>
#include <string.h>

#include "snapshot-scan.h"

static size_t skip_ws(const char *s, size_t len, size_t pos)
{
	while (pos < len && (s[pos] == ' ' || s[pos] == '\t' || s[pos] == '\r' || s[pos] == '\n'))
		pos++;
	return pos;
}

/* s[pos] is '"': returns the offset after the closing quote, or 0. */
static size_t skip_string(const char *s, size_t len, size_t pos)
{
	for (pos++; pos < len; pos++) {
		if (s[pos] == '\\')
			pos++;
		else if (s[pos] == '"')
			return pos + 1;
	}
	return 0;
}

/* Skips one value at pos (no leading white space); returns the offset after
 * it, or 0 if it is cut off or unbalanced. */
static size_t skip_value(const char *s, size_t len, size_t pos)
{
	if (pos >= len)
		return 0;
	if (s[pos] == '"')
		return skip_string(s, len, pos);
	if (s[pos] != '{' && s[pos] != '[') {
		size_t start = pos;
		while (pos < len && !strchr(",}] \t\r\n", s[pos]))
			pos++;
		return pos > start ? pos : 0;
	}
	size_t depth = 0;
	for (; pos < len; pos++) {
		char c = s[pos];
		if (c == '"') {
			pos = skip_string(s, len, pos);
			if (!pos)
				return 0;
			pos--;
		} else if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			if (--depth == 0)
				return pos + 1;
		}
	}
	return 0;
}

/* A member name at pos ('"' expected): its bytes, and the offset of its
 * value (after ':'). Returns 0 or -EBADMSG. */
static int read_key(const char *s, size_t len, size_t *pos, const char **ret_key,
		    size_t *ret_key_len)
{
	if (*pos >= len || s[*pos] != '"')
		return -EBADMSG;
	size_t end = skip_string(s, len, *pos);
	if (!end)
		return -EBADMSG;
	*ret_key = s + *pos + 1;
	*ret_key_len = end - *pos - 2;
	*pos = skip_ws(s, len, end);
	if (*pos >= len || s[*pos] != ':')
		return -EBADMSG;
	*pos = skip_ws(s, len, *pos + 1);
	return 0;
}

static bool key_is(const char *key, size_t key_len, const char *name)
{
	return strlen(name) == key_len && memcmp(key, name, key_len) == 0;
}

/* After a member's value: ',' (more) or the closing char. Returns 1 for
 * more, 0 at the end, -EBADMSG otherwise. */
static int next_member(const char *s, size_t len, size_t *pos, char close)
{
	*pos = skip_ws(s, len, *pos);
	if (*pos >= len)
		return -EBADMSG;
	if (s[*pos] == ',') {
		*pos = skip_ws(s, len, *pos + 1);
		return 1;
	}
	if (s[*pos] == close) {
		(*pos)++;
		return 0;
	}
	return -EBADMSG;
}

enum {
	SCAN_START,
	SCAN_TOP_MEMBER,
	SCAN_TOP_AFTER,
	SCAN_RESULT_MEMBER,
	SCAN_RESULT_AFTER,
	SCAN_ELEMENT,
	SCAN_ELEMENT_AFTER,
	SCAN_END,
	SCAN_DONE,
};

void snapshot_scanner_init(struct snapshot_scanner *sc, const char *text, size_t len,
			   const char *const *keys, unsigned key_count)
{
	memset(sc, 0, sizeof(*sc));
	sc->text = text;
	sc->len = len;
	sc->keys = keys;
	sc->key_count = key_count;
	sc->state = SCAN_START;
}

static int parse_seq(struct snapshot_scanner *sc, size_t end)
{
	uint64_t v = 0;
	for (size_t i = sc->pos; i < end; i++) {
		char c = sc->text[i];
		if (c < '0' || c > '9' || v > UINT64_MAX / 10 - 1)
			return -EBADMSG;
		v = v * 10 + (uint64_t)(c - '0');
	}
	sc->seq = v;
	sc->has_seq = true;
	return 0;
}

/* Opens the object or array at pos: the next state is `inside`, or
 * `after` if it is empty. */
static int open_container(struct snapshot_scanner *sc, char close, int inside, int after)
{
	sc->pos = skip_ws(sc->text, sc->len, sc->pos + 1);
	if (sc->pos < sc->len && sc->text[sc->pos] == close) {
		sc->pos++;
		sc->state = after;
	} else {
		sc->state = inside;
	}
	return 0;
}

int snapshot_scanner_next(struct snapshot_scanner *sc, unsigned *ret_key_index, size_t *ret_off,
			  size_t *ret_len)
{
	const char *s = sc->text;
	size_t len = sc->len;
	const char *key;
	size_t key_len, end;
	int r;

	for (;;) {
		switch (sc->state) {
		case SCAN_START:
			sc->pos = skip_ws(s, len, 0);
			if (sc->pos >= len || s[sc->pos] != '{')
				return -EBADMSG;
			open_container(sc, '}', SCAN_TOP_MEMBER, SCAN_END);
			break;
		case SCAN_TOP_MEMBER:
			r = read_key(s, len, &sc->pos, &key, &key_len);
			if (r < 0)
				return r;
			if (key_is(key, key_len, "result") && sc->pos < len && s[sc->pos] == '{') {
				sc->has_result = true;
				open_container(sc, '}', SCAN_RESULT_MEMBER, SCAN_TOP_AFTER);
				break;
			}
			end = skip_value(s, len, sc->pos);
			if (!end)
				return -EBADMSG;
			sc->pos = end;
			sc->state = SCAN_TOP_AFTER;
			break;
		case SCAN_TOP_AFTER:
			r = next_member(s, len, &sc->pos, '}');
			if (r < 0)
				return r;
			sc->state = r ? SCAN_TOP_MEMBER : SCAN_END;
			break;
		case SCAN_RESULT_MEMBER:
			r = read_key(s, len, &sc->pos, &key, &key_len);
			if (r < 0)
				return r;
			if (sc->pos < len && s[sc->pos] == '[') {
				unsigned i;
				for (i = 0; i < sc->key_count; i++)
					if (key_is(key, key_len, sc->keys[i]))
						break;
				if (i < sc->key_count) {
					sc->key_index = i;
					open_container(sc, ']', SCAN_ELEMENT, SCAN_RESULT_AFTER);
					break;
				}
			}
			end = skip_value(s, len, sc->pos);
			if (!end)
				return -EBADMSG;
			if (key_is(key, key_len, "seq") && parse_seq(sc, end) < 0)
				return -EBADMSG;
			sc->pos = end;
			sc->state = SCAN_RESULT_AFTER;
			break;
		case SCAN_RESULT_AFTER:
			r = next_member(s, len, &sc->pos, '}');
			if (r < 0)
				return r;
			sc->state = r ? SCAN_RESULT_MEMBER : SCAN_TOP_AFTER;
			break;
		case SCAN_ELEMENT:
			end = skip_value(s, len, sc->pos);
			if (!end)
				return -EBADMSG;
			*ret_key_index = sc->key_index;
			*ret_off = sc->pos;
			*ret_len = end - sc->pos;
			sc->pos = end;
			sc->state = SCAN_ELEMENT_AFTER;
			return 1;
		case SCAN_ELEMENT_AFTER:
			r = next_member(s, len, &sc->pos, ']');
			if (r < 0)
				return r;
			sc->state = r ? SCAN_ELEMENT : SCAN_RESULT_AFTER;
			break;
		case SCAN_END:
			if (skip_ws(s, len, sc->pos) != len)
				return -EBADMSG;
			sc->state = SCAN_DONE;
			return 0;
		default:
			return 0;
		}
	}
}
