/* The wasi-p1-stdio/1 input and output (evinput.h). */
#include "evinput.h"
#include "evjson.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char line_buf[EV_MAX_LINE + 1]; /* + 1: the JSON reader puts a terminator after a number */
static char chunk[1 << 16];
static size_t chunk_pos, chunk_len;
static int at_eof;
static unsigned long line_no;

void ev_start(const char *program) {
    evj_program = program;
    static char out[1 << 16]; /* musl ignores a size without a buffer */
    setvbuf(stdout, out, _IOFBF, sizeof out);
}

void *ev_alloc(size_t n, size_t size, const char *what) {
    if (size && n > SIZE_MAX / size) evj_die(1, "out of memory (%s)", what);
    void *p = malloc(n * size ? n * size : 1);
    if (!p) evj_die(1, "out of memory (%s: %lu bytes)", what, (unsigned long)(n * size));
    return p;
}

void *ev_grow(void *p, size_t n, size_t size, const char *what) {
    if (size && n > SIZE_MAX / size) evj_die(1, "out of memory (%s)", what);
    void *q = realloc(p, n * size ? n * size : 1);
    if (!q) evj_die(1, "out of memory (%s: %lu bytes)", what, (unsigned long)(n * size));
    return q;
}

/* The next line of stdin without its '\n' (the last line may lack it); 0 at the end. */
static int read_line(char **text, size_t *len) {
    size_t n = 0;
    int any = 0;
    for (;;) {
        if (chunk_pos == chunk_len) {
            if (at_eof) break;
            ssize_t got;
            do got = read(0, chunk, sizeof chunk); while (got < 0 && errno == EINTR);
            if (got < 0) evj_die(1, "reading stdin failed: %s", strerror(errno));
            if (got == 0) { at_eof = 1; break; }
            chunk_pos = 0;
            chunk_len = (size_t)got;
        }
        any = 1;
        char *nl = memchr(chunk + chunk_pos, '\n', chunk_len - chunk_pos);
        size_t take = (nl ? (size_t)(nl - chunk) : chunk_len) - chunk_pos;
        if (take > EV_MAX_LINE - n)
            evj_die(2, "input line %lu is longer than %u bytes", line_no + 1, EV_MAX_LINE);
        memcpy(line_buf + n, chunk + chunk_pos, take);
        n += take;
        chunk_pos += take;
        if (nl) { chunk_pos++; break; }
    }
    if (!any) return 0;
    line_no++;
    line_buf[n] = '\0';
    *text = line_buf;
    *len = n;
    return 1;
}

static int blank(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r') return 0;
    return 1;
}

const char *ev_quote(const char *s) {
    static char bufs[2][256]; /* two: a message may quote two strings */
    static int which;
    char *out = bufs[which ^= 1];
    size_t n = 0;
    out[n++] = '"';
    for (; *s && n < 200; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') { out[n++] = '\\'; out[n++] = (char)c; }
        else if (c < 0x20 || c == 0x7f) n += (size_t)snprintf(out + n, 8, "\\u%04x", c);
        else out[n++] = (char)c;
    }
    if (*s) { memcpy(out + n, "...", 3); n += 3; }
    out[n++] = '"';
    out[n] = '\0';
    return out;
}

long ev_stream_index(const ev_header *h, const char *name) {
    for (size_t i = 0; i < h->nstreams; i++)
        if (strcmp(h->streams[i], name) == 0) return (long)i;
    return -1;
}

#define HEADER_TYPE "edgevault.job-input/v1"

void ev_read_header(ev_header *h) {
    char *text, key[32];
    size_t len;
    int seen_type = 0, seen_grant = 0, seen_params = 0, seen_streams = 0, seen_from = 0, seen_to = 0;
    memset(h, 0, sizeof *h);
    if (!read_line(&text, &len))
        evj_die(2, "stdin is empty: expected the header line {\"type\":\"" HEADER_TYPE "\",…}");
    evj j;
    evj_init(&j, text, len, "input line", line_no);
    if (evj_peek(&j) != EVJ_OBJECT) evj_fail(&j, "the header line must be a JSON object");
    evj_object(&j);
    while (evj_member(&j, key, sizeof key)) {
#define ONCE(flag, name) do { if (flag) evj_fail(&j, "the header has \"" name "\" twice"); flag = 1; } while (0)
        if (strcmp(key, "type") == 0) {
            char type[64];
            ONCE(seen_type, "type");
            evj_string(&j, type, sizeof type, "the header's \"type\"");
            if (strcmp(type, HEADER_TYPE) != 0)
                evj_die(2, "the header's type is %s: this module reads " HEADER_TYPE, ev_quote(type));
        } else if (strcmp(key, "grant") == 0) {
            ONCE(seen_grant, "grant");
            if (evj_peek(&j) != EVJ_STRING) evj_fail(&j, "the header's \"grant\" must be a string");
            evj_skip(&j);
        } else if (strcmp(key, "params") == 0) {
            char *p;
            size_t n;
            ONCE(seen_params, "params");
            evj_capture(&j, &p, &n);
            h->params = ev_alloc(n + 1, 1, "params");
            memcpy(h->params, p, n);
            h->params[n] = '\0';
            h->params_len = n;
        } else if (strcmp(key, "streams") == 0) {
            ONCE(seen_streams, "streams");
            if (evj_peek(&j) != EVJ_ARRAY) evj_fail(&j, "the header's \"streams\" must be an array of strings");
            evj_array(&j);
            static char name[EV_MAX_STREAM_NAME + 1];
            while (evj_element(&j)) {
                if (h->nstreams == EV_MAX_STREAMS) evj_fail(&j, "the header lists more than %d streams", EV_MAX_STREAMS);
                size_t n = evj_string(&j, name, sizeof name, "a stream name");
                if (n == 0) evj_fail(&j, "a stream name is empty");
                if (ev_stream_index(h, name) >= 0) evj_die(2, "the header lists stream %s twice", ev_quote(name));
                h->streams = ev_grow(h->streams, h->nstreams + 1, sizeof *h->streams, "streams");
                h->streams[h->nstreams] = ev_alloc(n + 1, 1, "streams");
                memcpy(h->streams[h->nstreams++], name, n + 1);
            }
        } else if (strcmp(key, "from") == 0) {
            ONCE(seen_from, "from");
            h->from = evj_integer(&j, -EV_MAX_TIME, EV_MAX_TIME, "the header's \"from\" (ms since the Unix epoch)");
        } else if (strcmp(key, "to") == 0) {
            ONCE(seen_to, "to");
            h->to = evj_integer(&j, -EV_MAX_TIME, EV_MAX_TIME, "the header's \"to\" (ms since the Unix epoch)");
        } else {
            evj_skip(&j);
        }
#undef ONCE
    }
    evj_end(&j);
    if (!seen_type) evj_die(2, "input line 1 is not the job-input header: it has no \"type\"");
    if (!seen_streams || !seen_from || !seen_to)
        evj_die(2, "the header line needs \"streams\", \"from\" and \"to\"");
    if (h->from > h->to) evj_die(2, "the header's from (%lld) is after its to (%lld)", (long long)h->from, (long long)h->to);
    if (!seen_params) {
        h->params = ev_alloc(5, 1, "params");
        memcpy(h->params, "null", 5);
        h->params_len = 4;
    }
}

int ev_next_reading(const ev_header *h, ev_reading *r) {
    static long prev = -1;
    static int64_t prev_t;
    static char name[EV_MAX_STREAM_NAME + 1];
    char *text, key[16];
    size_t len;
    for (;;) {
        if (!read_line(&text, &len)) return 0;
        if (!blank(text, len)) break; /* blank lines (a trailing "\r\n", say) are ignored */
    }
    evj j;
    evj_init(&j, text, len, "input line", line_no);
    int seen_stream = 0, seen_t = 0, seen_v = 0;
    if (evj_peek(&j) != EVJ_OBJECT) evj_fail(&j, "a reading must be a JSON object {\"stream\":…,\"t\":…,\"v\":…}");
    evj_object(&j);
    r->numeric = 0;
    r->v = 0;
    while (evj_member(&j, key, sizeof key)) {
        if (strcmp(key, "stream") == 0) {
            if (seen_stream++) evj_fail(&j, "the reading has \"stream\" twice");
            evj_string(&j, name, sizeof name, "\"stream\"");
        } else if (strcmp(key, "t") == 0) {
            if (seen_t++) evj_fail(&j, "the reading has \"t\" twice");
            r->t = evj_integer(&j, -EV_MAX_TIME, EV_MAX_TIME, "\"t\" (ms since the Unix epoch)");
        } else if (strcmp(key, "v") == 0) {
            if (seen_v++) evj_fail(&j, "the reading has \"v\" twice");
            if (evj_peek(&j) == EVJ_NUMBER) {
                r->v = evj_number(&j);
                r->numeric = isfinite(r->v); /* 1e999 is a JSON number, but no double */
            } else {
                evj_skip(&j);
            }
        } else {
            evj_skip(&j);
        }
    }
    evj_end(&j);
    if (!seen_stream || !seen_t || !seen_v)
        evj_die(2, "input line %lu: a reading needs \"stream\", \"t\" and \"v\"", line_no);
    long i = (prev >= 0 && strcmp(h->streams[prev], name) == 0) ? prev : ev_stream_index(h, name);
    if (i < 0) evj_die(2, "input line %lu: stream %s is not one of the header's streams", line_no, ev_quote(name));
    if (r->t < h->from || r->t >= h->to)
        evj_die(2, "input line %lu: t %lld is outside the job's range [%lld, %lld)", line_no, (long long)r->t,
                (long long)h->from, (long long)h->to);
    if (prev >= 0) {
        if (i == prev && r->t < prev_t)
            evj_die(2, "input line %lu: readings of stream %s are not ordered by t (%lld after %lld)", line_no,
                    ev_quote(name), (long long)r->t, (long long)prev_t);
        if (i != prev && strcmp(h->streams[i], h->streams[prev]) < 0)
            evj_die(2, "input line %lu: readings are not ordered by stream (%s after %s)", line_no, ev_quote(name),
                    ev_quote(h->streams[prev]));
    }
    prev = i;
    prev_t = r->t;
    r->stream = (size_t)i;
    r->line = line_no;
    return 1;
}

void ev_put_string(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') { fputc('\\', f); fputc(c, f); }
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

void ev_put_double(FILE *f, double d) {
    if (isfinite(d)) fprintf(f, "%.17g", d);
    else fputs("null", f);
}

void ev_finish_output(void) {
    if (fflush(stdout) != 0 || ferror(stdout)) evj_die(1, "writing the output to stdout failed");
}
