/* A growable list of fixed-size elements kept in fixed-size chunks (EV_CHUNK elements each).
 *
 * Not one array grown by realloc: in a 16 MiB linear memory, a doubling array leaves its old
 * copies behind as holes and runs out at about a quarter of the memory; chunks of one size are
 * reused exactly, so nearly all of the memory can hold elements. */
#ifndef EVLIST_H
#define EVLIST_H

#include <stddef.h>

#define EV_CHUNK 8192 /* elements per chunk: 64 KiB of doubles */

typedef struct {
    char **chunk;       /* chunk[0 … allocated) */
    size_t allocated;   /* chunks allocated (kept by ev_list_clear for reuse) */
    size_t capacity;    /* entries in chunk[] */
    size_t n;           /* elements */
    size_t elem;        /* bytes per element */
    const char *what;   /* for "out of memory after N <what>" */
} ev_list;

void ev_list_init(ev_list *l, size_t elem, const char *what);
/* The slot of a new last element (n grows by one); stops the module (exit 1) when out of memory. */
void *ev_list_push(ev_list *l);
/* Keeps the first n elements (n <= l->n); the chunks stay allocated for reuse. */
void ev_list_truncate(ev_list *l, size_t n);
/* Frees every chunk. */
void ev_list_free(ev_list *l);

static inline void *ev_list_at(const ev_list *l, size_t i) {
    return l->chunk[i / EV_CHUNK] + (i % EV_CHUNK) * l->elem;
}

/* Elements in chunk c (the last chunk may be partly filled). */
static inline size_t ev_list_chunk_len(const ev_list *l, size_t c) {
    size_t left = l->n - c * EV_CHUNK;
    return left < EV_CHUNK ? left : EV_CHUNK;
}

#endif
