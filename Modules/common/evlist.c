/* Chunked lists (evlist.h). */
#include "evlist.h"

#include "evjson.h"

#include <stdlib.h>

__attribute__((noreturn)) static void full(const ev_list *l) {
    evj_die(1, "out of memory after %lu %s", (unsigned long)l->n, l->what);
}

void ev_list_init(ev_list *l, size_t elem, const char *what) {
    l->chunk = NULL;
    l->allocated = l->capacity = l->n = 0;
    l->elem = elem;
    l->what = what;
}

void *ev_list_push(ev_list *l) {
    size_t c = l->n / EV_CHUNK;
    if (c == l->allocated) {
        if (l->allocated == l->capacity) {
            size_t capacity = l->capacity ? l->capacity * 2 : 16;
            char **chunk = realloc(l->chunk, capacity * sizeof *chunk);
            if (!chunk) full(l);
            l->chunk = chunk;
            l->capacity = capacity;
        }
        if (!(l->chunk[l->allocated] = malloc(EV_CHUNK * l->elem))) full(l);
        l->allocated++;
    }
    return ev_list_at(l, l->n++);
}

void ev_list_truncate(ev_list *l, size_t n) {
    if (n < l->n) l->n = n;
}

void ev_list_free(ev_list *l) {
    for (size_t c = 0; c < l->allocated; c++) free(l->chunk[c]);
    free(l->chunk);
    ev_list_init(l, l->elem, l->what);
}
