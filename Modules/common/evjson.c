/* The strict, bounded JSON reader (evjson.h). */
#include "evjson.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *evj_program = "module";

void evj_die(int status, const char *fmt, ...) {
    va_list ap;
    fflush(stdout);
    fprintf(stderr, "%s: ", evj_program);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(status);
}

void evj_fail(const evj *j, const char *fmt, ...) {
    va_list ap;
    fflush(stdout);
    if (j->line)
        fprintf(stderr, "%s: %s %lu, byte %lu: ", evj_program, j->where, j->line,
                (unsigned long)(j->p - j->start) + 1);
    else
        fprintf(stderr, "%s: %s, byte %lu: ", evj_program, j->where, (unsigned long)(j->p - j->start) + 1);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(2);
}

void evj_init(evj *j, char *text, size_t len, const char *where, unsigned long line) {
    j->start = text;
    j->p = text;
    j->end = text + len;
    j->where = where;
    j->line = line;
    j->depth = 0;
    j->first[0] = 1;
}

static int cur(const evj *j) { return j->p < j->end ? (unsigned char)*j->p : -1; }

static void ws(evj *j) {
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')) j->p++;
}

__attribute__((noreturn)) static void unexpected(evj *j, const char *expected) {
    int c = cur(j);
    if (c < 0) evj_fail(j, "unexpected end of the text, expected %s", expected);
    if (c > 0x20 && c < 0x7f) evj_fail(j, "unexpected '%c', expected %s", c, expected);
    evj_fail(j, "unexpected byte 0x%02x, expected %s", c, expected);
}

evj_type evj_peek(evj *j) {
    ws(j);
    switch (cur(j)) {
    case 'n': return EVJ_NULL;
    case 't': case 'f': return EVJ_BOOL;
    case '"': return EVJ_STRING;
    case '[': return EVJ_ARRAY;
    case '{': return EVJ_OBJECT;
    case '-': case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9': return EVJ_NUMBER;
    default: unexpected(j, "a JSON value");
    }
}

static const char *type_name(evj_type t) {
    switch (t) {
    case EVJ_NULL: return "null";
    case EVJ_BOOL: return "a boolean";
    case EVJ_NUMBER: return "a number";
    case EVJ_STRING: return "a string";
    case EVJ_ARRAY: return "an array";
    case EVJ_OBJECT: return "an object";
    }
    return "?";
}

static void expect_type(evj *j, evj_type want, const char *name) {
    evj_type t = evj_peek(j);
    if (t != want) evj_fail(j, "%s must be %s, not %s", name, type_name(want), type_name(t));
}

static void literal(evj *j, const char *word) {
    size_t n = strlen(word);
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0) unexpected(j, "a JSON value");
    j->p += n;
}

void evj_null(evj *j) {
    expect_type(j, EVJ_NULL, "the value");
    literal(j, "null");
}

int evj_bool(evj *j) {
    expect_type(j, EVJ_BOOL, "the value");
    if (cur(j) == 't') { literal(j, "true"); return 1; }
    literal(j, "false");
    return 0;
}

static int digit(int c) { return c >= '0' && c <= '9'; }

/* RFC 8259 number grammar; leaves p after the number. */
static void scan_number(evj *j) {
    if (cur(j) == '-') j->p++;
    if (cur(j) == '0') {
        j->p++;
        if (digit(cur(j))) evj_fail(j, "a number may not have a leading zero");
    } else if (digit(cur(j))) {
        while (digit(cur(j))) j->p++;
    } else {
        unexpected(j, "a digit");
    }
    if (cur(j) == '.') {
        j->p++;
        if (!digit(cur(j))) unexpected(j, "a digit after '.'");
        while (digit(cur(j))) j->p++;
    }
    if (cur(j) == 'e' || cur(j) == 'E') {
        j->p++;
        if (cur(j) == '+' || cur(j) == '-') j->p++;
        if (!digit(cur(j))) unexpected(j, "a digit in the exponent");
        while (digit(cur(j))) j->p++;
    }
}

double evj_number(evj *j) {
    expect_type(j, EVJ_NUMBER, "the value");
    char *s = j->p;
    scan_number(j);
    /* The grammar is checked above, so strtod sees exactly a JSON number (never "inf", "0x…"). */
    char *e = j->p, save = *e, *stop;
    *e = '\0';
    double d = strtod(s, &stop);
    *e = save;
    if (stop != e) evj_fail(j, "could not convert the number");
    return d;
}

int64_t evj_integer(evj *j, int64_t min, int64_t max, const char *name) {
    expect_type(j, EVJ_NUMBER, name);
    char *at = j->p;
    double d = evj_number(j);
    if (!(d >= (double)min && d <= (double)max) || d != floor(d)) {
        j->p = at;
        evj_fail(j, "%s must be an integer from %lld to %lld", name, (long long)min, (long long)max);
    }
    return (int64_t)d;
}

static int hex4(evj *j) {
    int v = 0;
    for (int i = 0; i < 4; i++) {
        int c = cur(j), h;
        if (c >= '0' && c <= '9') h = c - '0';
        else if (c >= 'a' && c <= 'f') h = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') h = c - 'A' + 10;
        else unexpected(j, "four hex digits after \\u");
        v = v * 16 + h;
        j->p++;
    }
    return v;
}

/* Scans a string at p (which is '"'), validating escapes and UTF-8. When out is not NULL, the
 * decoded bytes are written while they fit in cap - 1 (then NUL-terminated); returns the decoded
 * length (which may exceed cap - 1: the caller decides). */
static size_t scan_string(evj *j, char *out, size_t cap, int allow_nul) {
    size_t n = 0;
    j->p++; /* '"' */
    for (;;) {
        int c = cur(j);
        unsigned char buf[4];
        size_t k;
        if (c < 0) evj_fail(j, "unterminated string");
        if (c == '"') { j->p++; break; }
        if (c < 0x20) evj_fail(j, "raw control character 0x%02x in a string (it must be escaped)", c);
        if (c == '\\') {
            j->p++;
            int e = cur(j);
            switch (e) {
            case '"': case '\\': case '/': buf[0] = (unsigned char)e; k = 1; j->p++; break;
            case 'b': buf[0] = '\b'; k = 1; j->p++; break;
            case 'f': buf[0] = '\f'; k = 1; j->p++; break;
            case 'n': buf[0] = '\n'; k = 1; j->p++; break;
            case 'r': buf[0] = '\r'; k = 1; j->p++; break;
            case 't': buf[0] = '\t'; k = 1; j->p++; break;
            case 'u': {
                j->p++;
                long cp = hex4(j);
                if (cp >= 0xDC00 && cp <= 0xDFFF) evj_fail(j, "\\u escape of a lone low surrogate");
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    if (cur(j) != '\\' || j->p + 1 >= j->end || j->p[1] != 'u')
                        evj_fail(j, "\\u escape of a high surrogate without its low surrogate");
                    j->p += 2;
                    long lo = hex4(j);
                    if (lo < 0xDC00 || lo > 0xDFFF)
                        evj_fail(j, "\\u escape of a high surrogate without its low surrogate");
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                }
                if (cp == 0 && !allow_nul) evj_fail(j, "U+0000 is not allowed in this string");
                if (cp < 0x80) { buf[0] = (unsigned char)cp; k = 1; }
                else if (cp < 0x800) { buf[0] = (unsigned char)(0xC0 | (cp >> 6)); buf[1] = (unsigned char)(0x80 | (cp & 0x3F)); k = 2; }
                else if (cp < 0x10000) {
                    buf[0] = (unsigned char)(0xE0 | (cp >> 12)); buf[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
                    buf[2] = (unsigned char)(0x80 | (cp & 0x3F)); k = 3;
                } else {
                    buf[0] = (unsigned char)(0xF0 | (cp >> 18)); buf[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
                    buf[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F)); buf[3] = (unsigned char)(0x80 | (cp & 0x3F)); k = 4;
                }
                break;
            }
            default: unexpected(j, "an escape: \\\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX");
            }
        } else if (c < 0x80) {
            buf[0] = (unsigned char)c; k = 1; j->p++;
        } else {
            /* UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF. */
            unsigned char lo = 0x80, hi = 0xBF;
            if (c >= 0xC2 && c <= 0xDF) k = 2;
            else if (c >= 0xE0 && c <= 0xEF) { k = 3; if (c == 0xE0) lo = 0xA0; if (c == 0xED) hi = 0x9F; }
            else if (c >= 0xF0 && c <= 0xF4) { k = 4; if (c == 0xF0) lo = 0x90; if (c == 0xF4) hi = 0x8F; }
            else evj_fail(j, "invalid UTF-8 (byte 0x%02x)", c);
            if ((size_t)(j->end - j->p) < k) evj_fail(j, "invalid UTF-8 (truncated sequence)");
            for (size_t i = 1; i < k; i++) {
                unsigned char b = (unsigned char)j->p[i];
                if (b < (i == 1 ? lo : 0x80) || b > (i == 1 ? hi : 0xBF)) evj_fail(j, "invalid UTF-8 (byte 0x%02x)", c);
            }
            memcpy(buf, j->p, k);
            j->p += k;
        }
        if (out && n + k < cap) memcpy(out + n, buf, k);
        n += k;
    }
    if (out && cap) out[n < cap ? n : cap - 1] = '\0';
    return n;
}

size_t evj_string(evj *j, char *out, size_t cap, const char *name) {
    expect_type(j, EVJ_STRING, name);
    char *at = j->p;
    size_t n = scan_string(j, out, cap, 0);
    if (n + 1 > cap) {
        j->p = at;
        evj_fail(j, "%s is longer than %lu bytes", name, (unsigned long)(cap - 1));
    }
    return n;
}

static void open_container(evj *j) {
    if (j->depth >= EVJ_MAX_DEPTH) evj_fail(j, "values are nested deeper than %d levels", EVJ_MAX_DEPTH);
    j->p++;
    j->depth++;
    j->first[j->depth] = 1;
}

void evj_object(evj *j) {
    expect_type(j, EVJ_OBJECT, "the value");
    open_container(j);
}

void evj_array(evj *j) {
    expect_type(j, EVJ_ARRAY, "the value");
    open_container(j);
}

int evj_member(evj *j, char *key, size_t cap) {
    ws(j);
    if (cur(j) == '}') {
        j->p++;
        j->depth--;
        return 0;
    }
    if (!j->first[j->depth]) {
        if (cur(j) != ',') unexpected(j, "',' or '}'");
        j->p++;
        ws(j);
    }
    if (cur(j) != '"') unexpected(j, j->first[j->depth] ? "a string key or '}'" : "a string key");
    j->first[j->depth] = 0;
    size_t n = scan_string(j, key, cap, 1);
    if (key && (n + 1 > cap || strlen(key) != n)) key[0] = '\0'; /* too long, or with U+0000: unknown */
    ws(j);
    if (cur(j) != ':') unexpected(j, "':'");
    j->p++;
    return 1;
}

int evj_element(evj *j) {
    ws(j);
    if (cur(j) == ']') {
        j->p++;
        j->depth--;
        return 0;
    }
    if (!j->first[j->depth]) {
        if (cur(j) != ',') unexpected(j, "',' or ']'");
        j->p++;
    }
    j->first[j->depth] = 0;
    return 1;
}

void evj_skip(evj *j) {
    switch (evj_peek(j)) {
    case EVJ_NULL: literal(j, "null"); break;
    case EVJ_BOOL: literal(j, cur(j) == 't' ? "true" : "false"); break;
    case EVJ_NUMBER: scan_number(j); break;
    case EVJ_STRING: scan_string(j, NULL, 0, 1); break;
    case EVJ_ARRAY:
        open_container(j);
        while (evj_element(j)) evj_skip(j);
        break;
    case EVJ_OBJECT:
        open_container(j);
        while (evj_member(j, NULL, 0)) evj_skip(j);
        break;
    }
}

void evj_capture(evj *j, char **text, size_t *len) {
    ws(j);
    char *s = j->p;
    evj_skip(j);
    *text = s;
    *len = (size_t)(j->p - s);
}

void evj_end(evj *j) {
    ws(j);
    if (j->p != j->end) unexpected(j, "the end of the line");
}
