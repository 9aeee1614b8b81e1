/* aggregate: count, sum, mean, min, max and quantiles of each stream's numeric readings, over
 * the job's whole range or per window aligned to the Unix epoch. Modules/README.md defines
 * every number exactly; the output is one JSON document:
 *
 *   {"type":"edgevault.aggregate/v1","window":W,"results":[
 *     {"stream":"a/b","from":ms,"to":ms,"count":n,"skipped":k,"sum":…,"mean":…,"p50":…},…]}
 *
 * The readings come ordered by stream then t, so one window is open at a time: memory is one
 * window's values (only when a quantile is asked for), never the whole input. The values are
 * kept in chunks (common/evlist.h), each sorted at the window's end and merged up to the
 * highest rank asked for: about 1.9 million values fit in the module's 16 MiB.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/evinput.h"
#include "../common/evjson.h"
#include "../common/evlist.h"

#define MAX_STATS 64
#define MAX_WINDOW_SECONDS 10000000000LL /* 10^10 s, about 317 years */

enum kind { COUNT, SKIPPED, SUM, MEAN, MIN, MAX, QUANTILE };

typedef struct {
    enum kind kind;
    long permille;  /* QUANTILE: q = permille / 100000 (thousandths of a percent) */
    char name[16];  /* the output key */
} stat;

static stat stats[MAX_STATS];
static size_t nstats;
static int64_t window_seconds;

/* "p" then a percentage 0…100 in canonical decimal form (no leading zeros, at most three
 * decimals, no trailing zero): p0, p50, p99.9, p99.99, p100. */
static int parse_quantile(const char *s, long *permille) {
    const char *p = s + 1;
    long whole = 0, frac = 0;
    int digits = 0;
    if (s[0] != 'p' || *p < '0' || *p > '9') return 0;
    if (*p == '0' && p[1] >= '0' && p[1] <= '9') return 0;
    while (*p >= '0' && *p <= '9') {
        if (++digits > 3) return 0;
        whole = whole * 10 + (*p++ - '0');
    }
    if (*p == '.') {
        int fd = 0;
        p++;
        while (*p >= '0' && *p <= '9') {
            if (++fd > 3) return 0;
            frac = frac * 10 + (*p - '0');
            if (*p == '0' && !(p[1] >= '0' && p[1] <= '9')) return 0; /* trailing zero */
            p++;
        }
        if (fd == 0) return 0;
        while (fd++ < 3) frac *= 10;
    }
    if (*p) return 0;
    *permille = whole * 1000 + frac;
    return *permille <= 100000;
}

static void add_stat(evj *j, const char *name) {
    stat s = {0};
    if (strcmp(name, "count") == 0) s.kind = COUNT;
    else if (strcmp(name, "skipped") == 0) s.kind = SKIPPED;
    else if (strcmp(name, "sum") == 0) s.kind = SUM;
    else if (strcmp(name, "mean") == 0) s.kind = MEAN;
    else if (strcmp(name, "min") == 0) s.kind = MIN;
    else if (strcmp(name, "max") == 0) s.kind = MAX;
    else if (parse_quantile(name, &s.permille)) s.kind = QUANTILE;
    else
        evj_fail(j, "unknown stat %s: the stats are count, sum, mean, min, max and quantiles pX "
                    "(X a percentage 0…100 with at most three decimals: p50, p99.9)", ev_quote(name));
    for (size_t i = 0; i < nstats; i++)
        if (strcmp(stats[i].name, name) == 0) evj_fail(j, "stats lists %s twice", ev_quote(name));
    if (nstats == MAX_STATS) evj_fail(j, "stats lists more than %d stats", MAX_STATS);
    strcpy(s.name, name);
    stats[nstats++] = s;
}

static void read_params(ev_header *h) {
    evj j;
    char key[16], name[16];
    int seen_stats = 0, seen_window = 0;
    evj_init(&j, h->params, h->params_len, "params", 0);
    if (evj_peek(&j) == EVJ_NULL) {
        evj_null(&j);
    } else {
        if (evj_peek(&j) != EVJ_OBJECT) evj_fail(&j, "params must be an object {\"stats\":[…],\"window\":seconds} or null");
        evj_object(&j);
        while (evj_member(&j, key, sizeof key)) {
            if (strcmp(key, "stats") == 0) {
                if (seen_stats++) evj_fail(&j, "params has \"stats\" twice");
                if (evj_peek(&j) != EVJ_ARRAY) evj_fail(&j, "\"stats\" must be an array of names, like [\"count\",\"mean\",\"p90\"]");
                evj_array(&j);
                while (evj_element(&j)) {
                    char *at = j.p;
                    evj_string(&j, name, sizeof name, "a stat name");
                    char *after = j.p;
                    j.p = at;
                    add_stat(&j, name);
                    j.p = after;
                }
                if (nstats == 0) evj_fail(&j, "\"stats\" is empty");
            } else if (strcmp(key, "window") == 0) {
                if (seen_window++) evj_fail(&j, "params has \"window\" twice");
                window_seconds = evj_integer(&j, 0, MAX_WINDOW_SECONDS, "\"window\" (seconds; 0 = the whole range)");
            } else {
                evj_fail(&j, "unknown member %s: aggregate's params are \"stats\" and \"window\"", ev_quote(key[0] ? key : "(long key)"));
            }
        }
    }
    evj_end(&j);
    if (!seen_stats) {
        static const char *defaults[] = {"count", "sum", "mean", "min", "max"};
        for (size_t i = 0; i < sizeof defaults / sizeof *defaults; i++) add_stat(&j, defaults[i]);
    }
}

/* -0 before +0, so that min, max and the sorted order are one total order. */
static int before(double a, double b) { return a < b || (a == b && signbit(a) && !signbit(b)); }

static int compare(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return before(a, b) ? -1 : before(b, a) ? 1 : 0;
}

/* The window being accumulated. */
static struct {
    int open;
    size_t stream;
    int64_t from, to;
    int64_t count, skipped;
    double sum, min, max;
    ev_list values; /* when keep_values: the numeric values, in input order until sorted */
} w;
static int keep_values, printed;

/* The quantile stats' values: value[i] for stats[i], from the window's values (n >= 1). */
static void quantiles(double *value) {
    size_t n = w.values.n, nchunks = (n + EV_CHUNK - 1) / EV_CHUNK;
    size_t want[MAX_STATS], nwant = 0;
    for (size_t i = 0; i < nstats; i++) {
        if (stats[i].kind != QUANTILE) continue;
        /* nearest rank r = ceil(q·n), q = permille / 100000, exactly in integers; r >= 1 */
        int64_t r = (stats[i].permille * (int64_t)n + 99999) / 100000;
        want[nwant++] = (size_t)(r < 1 ? 1 : r);
    }
    for (size_t c = 0; c < nchunks; c++)
        qsort(w.values.chunk[c], ev_list_chunk_len(&w.values, c), sizeof(double), compare);
    if (nchunks == 1) {
        for (size_t i = 0, q = 0; i < nstats; i++)
            if (stats[i].kind == QUANTILE) value[i] = *(double *)ev_list_at(&w.values, want[q++] - 1);
        return;
    }
    /* A k-way merge of the sorted chunks (a binary heap of chunks by their next value), taking
     * values in ascending order up to the highest rank wanted. */
    static size_t *heap, *pos, heap_capacity;
    if (nchunks > heap_capacity) {
        heap_capacity = nchunks;
        heap = ev_grow(heap, heap_capacity, sizeof *heap, "the merge of the sorted values");
        pos = ev_grow(pos, heap_capacity, sizeof *pos, "the merge of the sorted values");
    }
#define HEAD(c) (((double *)w.values.chunk[c])[pos[c]])
#define LESS(a, b) (before(HEAD(a), HEAD(b)) || (!before(HEAD(b), HEAD(a)) && (a) < (b)))
    /* The stats by rank, ascending (insertion sort: at most MAX_STATS). */
    size_t order[MAX_STATS], norder = 0;
    for (size_t i = 0, q = 0; i < nstats; i++) {
        if (stats[i].kind != QUANTILE) continue;
        size_t j = norder++;
        for (; j > 0 && want[order[j - 1]] > want[q]; j--) order[j] = order[j - 1];
        order[j] = q++;
    }
    size_t stat_of[MAX_STATS];
    for (size_t i = 0, q = 0; i < nstats; i++) if (stats[i].kind == QUANTILE) stat_of[q++] = i;
    size_t size = 0, next = 0;
    for (size_t c = 0; c < nchunks; c++) {
        pos[c] = 0;
        size_t i = size++; /* sift up */
        heap[i] = c;
        while (i > 0 && LESS(heap[i], heap[(i - 1) / 2])) {
            size_t t = heap[i]; heap[i] = heap[(i - 1) / 2]; heap[(i - 1) / 2] = t;
            i = (i - 1) / 2;
        }
    }
    for (size_t rank = 1; next < norder; rank++) {
        size_t c = heap[0];
        for (; next < norder && want[order[next]] == rank; next++) value[stat_of[order[next]]] = HEAD(c);
        if (++pos[c] == ev_list_chunk_len(&w.values, c)) heap[0] = heap[--size];
        for (size_t i = 0;;) { /* sift down */
            size_t l = 2 * i + 1, r = l + 1, m = i;
            if (l < size && LESS(heap[l], heap[m])) m = l;
            if (r < size && LESS(heap[r], heap[m])) m = r;
            if (m == i) break;
            size_t t = heap[i]; heap[i] = heap[m]; heap[m] = t;
            i = m;
        }
    }
#undef LESS
#undef HEAD
}

static void put_int(int64_t n) { printf("%lld", (long long)n); }

static void flush_window(const ev_header *h) {
    if (!w.open || w.count == 0) return; /* no numeric reading: no row */
    double value[MAX_STATS];
    if (keep_values) quantiles(value);
    fputs(printed++ ? "," : "", stdout);
    fputs("{\"stream\":", stdout);
    ev_put_string(stdout, h->streams[w.stream]);
    fputs(",\"from\":", stdout);
    put_int(w.from);
    fputs(",\"to\":", stdout);
    put_int(w.to);
    fputs(",\"count\":", stdout);
    put_int(w.count);
    fputs(",\"skipped\":", stdout);
    put_int(w.skipped);
    for (size_t i = 0; i < nstats; i++) {
        const stat *s = &stats[i];
        if (s->kind == COUNT || s->kind == SKIPPED) continue; /* always there */
        printf(",\"%s\":", s->name);
        switch (s->kind) {
        case SUM: ev_put_double(stdout, w.sum); break; /* null when the sum overflowed */
        case MEAN: ev_put_double(stdout, w.sum / (double)w.count); break;
        case MIN: ev_put_double(stdout, w.min); break;
        case MAX: ev_put_double(stdout, w.max); break;
        case QUANTILE: ev_put_double(stdout, value[i]); break;
        default: break;
        }
    }
    fputs("}", stdout);
}

int main(void) {
    ev_header h;
    ev_reading r;
    ev_start("aggregate");
    ev_read_header(&h);
    read_params(&h);
    for (size_t i = 0; i < nstats; i++) keep_values |= stats[i].kind == QUANTILE;
    int64_t wms = window_seconds * 1000;
    ev_list_init(&w.values, sizeof(double), "values in one window, kept for the quantiles (a smaller window needs less)");

    printf("{\"type\":\"edgevault.aggregate/v1\",\"window\":%lld,\"results\":[", (long long)window_seconds);
    while (ev_next_reading(&h, &r)) {
        int64_t from = h.from, to = h.to;
        if (wms) {
            int64_t q = r.t / wms;
            if (r.t % wms != 0 && r.t < 0) q--; /* floor */
            from = q * wms;
            to = from + wms;
        }
        if (!w.open || w.stream != r.stream || w.from != from) {
            flush_window(&h);
            w.open = 1;
            w.stream = r.stream;
            w.from = from;
            w.to = to;
            w.count = w.skipped = 0;
            w.sum = 0;
            ev_list_truncate(&w.values, 0);
        }
        if (!r.numeric) {
            w.skipped++;
            continue;
        }
        if (w.count == 0 || before(r.v, w.min)) w.min = r.v;
        if (w.count == 0 || before(w.max, r.v)) w.max = r.v;
        w.count++;
        w.sum += r.v; /* in input order */
        if (keep_values) *(double *)ev_list_push(&w.values) = r.v;
    }
    flush_window(&h);
    fputs("]}\n", stdout);
    ev_finish_output();
    return 0;
}
