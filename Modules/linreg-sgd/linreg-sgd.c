/* linreg-sgd: "polish a model". A few epochs of plain stochastic gradient descent on a linear
 * model, from the weights the organization sends, over the samples in this vault; only the
 * updated weights, the number of samples and the loss before and after leave. An
 * organization averages several vaults' weights, weighted by samples (federated averaging),
 * and sends the result as the next round's weights. Modules/README.md has the exact update.
 *
 *   params  {"weights":[b,w1,…,wd],"features":["s1",…,"sd"],"target":"y","learningRate":0.01,"epochs":5}
 *   output  {"type":"edgevault.linreg-update/v1","weights":[…],"samples":n,"lossBefore":…,"lossAfter":…}
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/evinput.h"
#include "../common/evjson.h"
#include "../common/evlist.h"

#define MAX_FEATURES 64
#define MAX_EPOCHS 10000

static double weights[MAX_FEATURES + 1], lr;
static size_t nweights, nfeatures;
static int64_t epochs;
static size_t role_stream[MAX_FEATURES + 1]; /* 0: the target, i: feature i → header stream */

static size_t stream_param(ev_header *h, evj *j, const char *what) {
    static char name[EV_MAX_STREAM_NAME + 1];
    char *at = j->p;
    evj_string(j, name, sizeof name, what);
    long i = ev_stream_index(h, name);
    if (i < 0) {
        j->p = at;
        evj_fail(j, "%s %s is not one of the job's streams", what, ev_quote(name));
    }
    return (size_t)i;
}

static void read_params(ev_header *h) {
    evj j;
    char key[16];
    int seen_w = 0, seen_f = 0, seen_t = 0, seen_lr = 0, seen_e = 0;
    evj_init(&j, h->params, h->params_len, "params", 0);
    if (evj_peek(&j) != EVJ_OBJECT)
        evj_fail(&j, "params must be an object {\"weights\":[b,w1,…],\"features\":[…],\"target\":…,\"learningRate\":…,\"epochs\":…}");
    evj_object(&j);
    while (evj_member(&j, key, sizeof key)) {
        if (strcmp(key, "weights") == 0) {
            if (seen_w++) evj_fail(&j, "params has \"weights\" twice");
            if (evj_peek(&j) != EVJ_ARRAY) evj_fail(&j, "\"weights\" must be an array of numbers [b,w1,…,wd]");
            evj_array(&j);
            while (evj_element(&j)) {
                if (nweights == MAX_FEATURES + 1) evj_fail(&j, "\"weights\" has more than %d numbers", MAX_FEATURES + 1);
                char *at = j.p;
                if (evj_peek(&j) != EVJ_NUMBER) evj_fail(&j, "\"weights\" must be an array of numbers");
                double d = evj_number(&j);
                if (!isfinite(d)) { j.p = at; evj_fail(&j, "a weight is too large for a double"); }
                weights[nweights++] = d;
            }
        } else if (strcmp(key, "features") == 0) {
            if (seen_f++) evj_fail(&j, "params has \"features\" twice");
            if (evj_peek(&j) != EVJ_ARRAY) evj_fail(&j, "\"features\" must be an array of stream names");
            evj_array(&j);
            while (evj_element(&j)) {
                if (nfeatures == MAX_FEATURES) evj_fail(&j, "\"features\" has more than %d streams", MAX_FEATURES);
                role_stream[++nfeatures] = stream_param(h, &j, "the feature stream");
            }
        } else if (strcmp(key, "target") == 0) {
            if (seen_t++) evj_fail(&j, "params has \"target\" twice");
            role_stream[0] = stream_param(h, &j, "the target stream");
        } else if (strcmp(key, "learningRate") == 0) {
            if (seen_lr++) evj_fail(&j, "params has \"learningRate\" twice");
            char *at = j.p;
            if (evj_peek(&j) != EVJ_NUMBER) evj_fail(&j, "\"learningRate\" must be a number");
            lr = evj_number(&j);
            if (!(lr >= 0) || !isfinite(lr)) { j.p = at; evj_fail(&j, "\"learningRate\" must be a finite number >= 0"); }
        } else if (strcmp(key, "epochs") == 0) {
            if (seen_e++) evj_fail(&j, "params has \"epochs\" twice");
            epochs = evj_integer(&j, 1, MAX_EPOCHS, "\"epochs\"");
        } else {
            evj_fail(&j, "unknown member %s: linreg-sgd's params are \"weights\", \"features\", \"target\", "
                         "\"learningRate\" and \"epochs\"", ev_quote(key[0] ? key : "(long key)"));
        }
    }
    evj_end(&j);
    if (!seen_w || !seen_f || !seen_t || !seen_lr || !seen_e)
        evj_die(2, "params needs \"weights\", \"features\", \"target\", \"learningRate\" and \"epochs\"");
    if (nweights != nfeatures + 1)
        evj_die(2, "params: \"weights\" has %lu numbers; with %lu features it needs %lu (the intercept b first)",
                (unsigned long)nweights, (unsigned long)nfeatures, (unsigned long)nfeatures + 1);
}

/* The readings of one stream the model uses: t ascending, one per t (the last), NAN when not
 * numeric; after the samples are found, v holds the stream's value at each sample. */
typedef struct {
    int used;
    ev_list t, v;
} series;

static const ev_list *x[MAX_FEATURES + 1]; /* x[0]: the target y, x[i]: feature i; one value per sample */
static size_t n;                          /* samples */

/* pred = b + w1·x1 + … + wd·xd, added in that order. */
#define PREDICT(pred, row, o)                                                         \
    do {                                                                              \
        pred = weights[0];                                                            \
        for (size_t i_ = 1; i_ <= nfeatures; i_++) pred += weights[i_] * row[i_][o]; \
    } while (0)

/* Points row[i] at chunk c of x[i]. */
static void chunk_rows(size_t c, const double **row) {
    for (size_t i = 0; i <= nfeatures; i++) row[i] = (const double *)x[i]->chunk[c];
}

/* The mean squared error over the samples, added in sample order. */
static double mse(void) {
    const double *row[MAX_FEATURES + 1];
    double sum = 0;
    for (size_t c = 0; c * EV_CHUNK < n; c++) {
        chunk_rows(c, row);
        for (size_t o = 0, len = ev_list_chunk_len(x[0], c); o < len; o++) {
            double pred;
            PREDICT(pred, row, o);
            double err = pred - row[0][o];
            sum += err * err;
        }
    }
    return sum / (double)n;
}

/* One epoch: each sample once, in increasing t. */
static void epoch(void) {
    const double *row[MAX_FEATURES + 1];
    for (size_t c = 0; c * EV_CHUNK < n; c++) {
        chunk_rows(c, row);
        for (size_t o = 0, len = ev_list_chunk_len(x[0], c); o < len; o++) {
            double pred;
            PREDICT(pred, row, o);
            double g = lr * (pred - row[0][o]);
            weights[0] = weights[0] - g;
            for (size_t i = 1; i <= nfeatures; i++) weights[i] = weights[i] - g * row[i][o];
        }
    }
}

#define T(list, k) (*(int64_t *)ev_list_at(list, k))
#define V(list, k) (*(double *)ev_list_at(list, k))

int main(void) {
    ev_header h;
    ev_reading r;
    ev_start("linreg-sgd");
    ev_read_header(&h);
    read_params(&h);

    series *s = ev_alloc(h.nstreams, sizeof *s, "streams");
    for (size_t i = 0; i < h.nstreams; i++) {
        s[i].used = 0;
        ev_list_init(&s[i].t, sizeof(int64_t), "readings of the model's streams");
        ev_list_init(&s[i].v, sizeof(double), "readings of the model's streams");
    }
    for (size_t i = 0; i <= nfeatures; i++) s[role_stream[i]].used = 1;

    while (ev_next_reading(&h, &r)) {
        series *c = &s[r.stream];
        if (!c->used) continue;
        double v = r.numeric ? r.v : NAN;
        if (c->t.n && T(&c->t, c->t.n - 1) == r.t) { /* same t: the last counts */
            V(&c->v, c->v.n - 1) = v;
            continue;
        }
        *(int64_t *)ev_list_push(&c->t) = r.t;
        *(double *)ev_list_push(&c->v) = v;
    }

    /* The samples: the times at which the target and every feature have a numeric reading.
     * The target's own list marks them: a target value stays numeric only where every other
     * used stream has a numeric value at the same t. */
    series *target = &s[role_stream[0]];
    for (size_t i = 0; i < h.nstreams; i++) {
        if (!s[i].used || &s[i] == target) continue;
        for (size_t k = 0, a = 0; k < target->t.n; k++) {
            if (isnan(V(&target->v, k))) continue;
            int64_t t = T(&target->t, k);
            while (a < s[i].t.n && T(&s[i].t, a) < t) a++;
            if (a == s[i].t.n || T(&s[i].t, a) != t || isnan(V(&s[i].v, a))) V(&target->v, k) = NAN;
        }
    }
    /* Each used stream's values at the sample times, in place (the k-th sample is at or before
     * its reading in every list); the target last, its times being the samples'. */
    for (size_t pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < h.nstreams; i++) {
            if (!s[i].used || (&s[i] == target) != (pass == 1)) continue;
            n = 0;
            for (size_t k = 0, a = 0; k < target->t.n; k++) {
                if (isnan(V(&target->v, k))) continue;
                while (T(&s[i].t, a) < T(&target->t, k)) a++;
                V(&s[i].v, n++) = V(&s[i].v, a);
            }
            ev_list_truncate(&s[i].v, n);
            if (&s[i] != target) ev_list_free(&s[i].t);
        }
    }
    for (size_t i = 0; i <= nfeatures; i++) x[i] = &s[role_stream[i]].v;

    double lossBefore = 0, lossAfter = 0;
    if (n) {
        lossBefore = mse();
        for (int64_t e = 0; e < epochs; e++) epoch();
        lossAfter = mse();
        int finite = isfinite(lossBefore) && isfinite(lossAfter);
        for (size_t i = 0; i < nweights; i++) finite &= isfinite(weights[i]);
        if (!finite)
            evj_die(1, "the result is not finite (the loss or the weights overflowed a double): the training "
                       "diverged; a smaller learningRate, or features on a smaller scale, may help");
    }

    printf("{\"type\":\"edgevault.linreg-update/v1\",\"weights\":[");
    for (size_t i = 0; i < nweights; i++) {
        if (i) putchar(',');
        ev_put_double(stdout, weights[i]);
    }
    printf("],\"samples\":%lu,\"lossBefore\":", (unsigned long)n);
    if (n) ev_put_double(stdout, lossBefore); else fputs("null", stdout);
    fputs(",\"lossAfter\":", stdout);
    if (n) ev_put_double(stdout, lossAfter); else fputs("null", stdout);
    fputs("}\n", stdout);
    ev_finish_output();
    return 0;
}
