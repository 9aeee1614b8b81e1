/* The wasi-p1-stdio/1 input: the job-input header line, then the readings as JSON Lines,
 * read from stdin one bounded line at a time, and the JSON output helpers.
 *
 *   {"type":"edgevault.job-input/v1","grant":"…","params":<any>,"streams":["a/b",…],"from":ms,"to":ms}
 *   {"stream":"a/b","t":ms,"v":<any>}
 *   …
 *
 * Everything is checked: a line longer than EV_MAX_LINE, a line that is not one JSON object,
 * a reading of a stream the header does not list, outside [from, to), or out of order (the
 * readings come ordered by stream, byte-wise, then by t) stops the module with a message on
 * stderr and exit status 2. Unknown members are ignored (later versions may add some).
 */
#ifndef EVINPUT_H
#define EVINPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define EV_MAX_LINE (1u << 20)   /* bytes per input line, without its '\n' */
#define EV_MAX_STREAMS 1024      /* streams in the header */
#define EV_MAX_STREAM_NAME 1024  /* bytes per stream name */
#define EV_MAX_TIME 9007199254740991LL /* |t|, |from|, |to| <= 2^53 - 1 */

typedef struct {
    char *params;        /* the params value's JSON text (NUL-terminated, writable); "null" when absent */
    size_t params_len;
    char **streams;      /* as listed in the header */
    size_t nstreams;
    int64_t from, to;    /* ms since the Unix epoch, from <= to */
} ev_header;

typedef struct {
    size_t stream;       /* index into header.streams */
    int64_t t;
    int numeric;         /* v is a JSON number whose value is a finite double */
    double v;            /* when numeric */
    unsigned long line;  /* input line number (the header is line 1) */
} ev_reading;

/* Names the program in error messages and gives stdout a large buffer; call first. */
void ev_start(const char *program);
/* Reads and checks the header line (the first line of stdin). */
void ev_read_header(ev_header *h);
/* The next reading; 0 at the end of stdin. */
int ev_next_reading(const ev_header *h, ev_reading *r);
/* The index of `name` in the header's streams, or -1. */
long ev_stream_index(const ev_header *h, const char *name);

/* malloc/realloc that stop the module (exit 1, "out of memory …") instead of returning NULL. */
void *ev_alloc(size_t n, size_t size, const char *what);
void *ev_grow(void *p, size_t n, size_t size, const char *what);

/* `s` as a JSON string, at most about 200 bytes of it, for error messages (one of two
 * static buffers, so one message can quote two strings). */
const char *ev_quote(const char *s);

/* Output: a JSON string (escaped), a double as %.17g (must be finite: else null is written). */
void ev_put_string(FILE *f, const char *s);
void ev_put_double(FILE *f, double d);
/* Flushes stdout; a write error stops the module (exit 1). */
void ev_finish_output(void);

#endif
