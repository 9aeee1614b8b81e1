/* A small, strict, bounded JSON reader for EdgeVault's standard modules.
 *
 * It reads one JSON text held in a writable buffer (one line of the job's stdin, or the
 * captured params) without building a tree: the caller walks objects and arrays and takes
 * the values it wants, everything else is skipped (and still validated). It is strict
 * (RFC 8259: no comments, no trailing commas, no NaN, no leading zeros, valid UTF-8, no raw
 * control characters in strings) and bounded (nesting depth EVJ_MAX_DEPTH; strings the
 * caller decodes are bounded by the caller's buffer). On any error it writes one line to
 * stderr saying where and what, and exits with status 2: a module never continues on input
 * it does not understand, and no input makes it read out of bounds.
 */
#ifndef EVJSON_H
#define EVJSON_H

#include <stddef.h>
#include <stdint.h>

#define EVJ_MAX_DEPTH 64

typedef enum { EVJ_NULL, EVJ_BOOL, EVJ_NUMBER, EVJ_STRING, EVJ_ARRAY, EVJ_OBJECT } evj_type;

typedef struct {
    char *start;         /* the text, start[len] is writable (a terminator is put there) */
    char *p;             /* the next byte to read */
    char *end;           /* start + len */
    const char *where;   /* for errors: "input line", "params" */
    unsigned long line;  /* for errors; 0 = no line number */
    int depth;
    unsigned char first[EVJ_MAX_DEPTH + 1]; /* per open container: no member read yet */
} evj;

/* The program's name in error messages ("aggregate"); set once by main. */
extern const char *evj_program;

/* `text` must have len + 1 writable bytes. */
void evj_init(evj *j, char *text, size_t len, const char *where, unsigned long line);

/* Reports "program: where line N, byte B: message" and exits 2. */
__attribute__((noreturn, format(printf, 2, 3))) void evj_fail(const evj *j, const char *fmt, ...);
/* Reports "program: message" and exits with `status`. */
__attribute__((noreturn, format(printf, 2, 3))) void evj_die(int status, const char *fmt, ...);

/* The type of the next value (after whitespace); fails if no value can start here. */
evj_type evj_peek(evj *j);

/* Values. `name` is used in error messages. */
void evj_null(evj *j);
int evj_bool(evj *j);
/* Any JSON number, converted with strtod: may be +-inf when it overflows a double. */
double evj_number(evj *j);
/* A number whose value is an integer in [min, max] (1e3 and 1000.0 are 1000). */
int64_t evj_integer(evj *j, int64_t min, int64_t max, const char *name);
/* A string decoded into out (UTF-8, NUL-terminated); fails when it needs more than cap - 1
 * bytes or contains U+0000. Returns its length in bytes. */
size_t evj_string(evj *j, char *out, size_t cap, const char *name);
/* Skips one value of any type (validating it). */
void evj_skip(evj *j);
/* Skips one value and returns where its text starts and how long it is. */
void evj_capture(evj *j, char **text, size_t *len);

/* Objects: evj_object(j); while (evj_member(j, key, sizeof key)) { read or skip the value }
 * A key that does not fit in key (cap - 1 bytes) is returned as "" (no known key is long). */
void evj_object(evj *j);
int evj_member(evj *j, char *key, size_t cap);
/* Arrays: evj_array(j); while (evj_element(j)) { read or skip the value } */
void evj_array(evj *j);
int evj_element(evj *j);

/* Nothing but whitespace may follow. */
void evj_end(evj *j);

#endif
