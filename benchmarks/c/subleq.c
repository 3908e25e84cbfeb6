/* The C "speed of light" for the paper's subleq: the run loop of spec/isa.md, exactly,
 * single-threaded, on the same int64 layout as the Python runtimes.
 *
 *   subleq IN.bin [OUT.bin]
 *
 * IN.bin (written by benchmarks/native.py), all little-endian int64:
 *   header[8] = {MAGIC, P, Pc, N, K, max_steps, shift, 0}
 *   code  (Pc, N, 3)   Pc = P, or 1 for one program shared by every run
 *   data  (P, K)
 *   n, k, pc  (P,) each
 * OUT.bin: data (P, K) after the runs, then steps, pc, status (P,) each.
 * Prints one JSON line: {"programs", "steps", "seconds"}, timing the run loop alone.
 *
 * Statuses: 0 halted, 1 fell_off, 2 step_limit. Fields were validated when the batch
 * was made (A, B in [0, k), C in [0, n)), as for the compiled runtimes. Words wrap to
 * w bits as (r << s) >> s with s = 64 - w (done on uint64 so that C has no undefined
 * behaviour; gcc shifts signed values arithmetically).
 *
 * The next-pc selection must stay a branch: with a conditional move the loop's critical
 * path runs through the data load, and it is about 3x slower on workload (a). gcc -O2
 * if-converts even the if/else below into a cmov, so it is built with
 * -O2 -fno-if-conversion -fno-if-conversion2 (see benchmarks/native.py).
 */
#define _POSIX_C_SOURCE 199309L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define MAGIC 0x3154414251454C53LL /* "SLEQBAT1" */

static int64_t *read_words(FILE *f, size_t count, const char *what) {
    int64_t *p = malloc(count ? count * sizeof(int64_t) : 8);
    if (!p || fread(p, sizeof(int64_t), count, f) != count) {
        fprintf(stderr, "subleq: cannot read %s (%zu words)\n", what, count);
        exit(2);
    }
    return p;
}

/* One run: returns the status; *pc_io and *steps_out are updated. The loop keeps a pointer
 * to the current row rather than pc (one add from one row to the next, one multiply-add
 * from a row's C to its target), and tests pc >= n, as the spec does, before the first
 * step and after every change of pc. */
static int64_t run(const int64_t *code, int64_t n, int64_t *d, int64_t *pc_io, int64_t max_steps, int shift,
                   int64_t *steps_out) {
    int64_t steps = 0, status;
    if (*pc_io >= n) {
        *steps_out = 0;
        return 1;
    }
    const int64_t *row = code + 3 * *pc_io, *end = code + 3 * n;
    for (;;) {
        if (steps == max_steps) { status = 2; break; }
        int64_t a = row[0], b = row[1], c = row[2];
        int64_t r = (int64_t)((uint64_t)d[b] - (uint64_t)d[a]);
        r = (int64_t)((uint64_t)r << shift) >> shift;
        d[b] = r;
        steps++;
        if (c == 0) { status = 0; break; }
        if (r <= 0)
            row = code + 3 * c;
        else
            row += 3;
        if (row >= end) { status = 1; break; }
    }
    *pc_io = (row - code) / 3;
    *steps_out = steps;
    return status;
}

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: subleq IN.bin [OUT.bin]\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) { perror(argv[1]); return 2; }
    int64_t *h = read_words(f, 8, "header");
    if (h[0] != MAGIC) { fprintf(stderr, "subleq: %s is not a batch file\n", argv[1]); return 2; }
    int64_t P = h[1], Pc = h[2], N = h[3], K = h[4], max_steps = h[5];
    int shift = (int)h[6];
    int64_t *code = read_words(f, (size_t)(Pc * N * 3), "code");
    int64_t *data = read_words(f, (size_t)(P * K), "data");
    int64_t *n = read_words(f, (size_t)P, "n");
    int64_t *k = read_words(f, (size_t)P, "k");
    int64_t *pc = read_words(f, (size_t)P, "pc");
    fclose(f);
    (void)k; /* every address was checked against k on load */
    int64_t *steps = calloc((size_t)P + 1, sizeof(int64_t));
    int64_t *status = calloc((size_t)P + 1, sizeof(int64_t));

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int64_t p = 0; p < P; p++)
        status[p] = run(code + (Pc == 1 ? 0 : p * N * 3), n[p], data + p * K, &pc[p], max_steps, shift, &steps[p]);
    clock_gettime(CLOCK_MONOTONIC, &t1);

    int64_t total = 0;
    for (int64_t p = 0; p < P; p++) total += steps[p];
    double seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    printf("{\"programs\": %lld, \"steps\": %lld, \"seconds\": %.9f}\n", (long long)P, (long long)total, seconds);

    if (argc == 3) {
        FILE *o = fopen(argv[2], "wb");
        if (!o) { perror(argv[2]); return 2; }
        fwrite(data, sizeof(int64_t), (size_t)(P * K), o);
        fwrite(steps, sizeof(int64_t), (size_t)P, o);
        fwrite(pc, sizeof(int64_t), (size_t)P, o);
        fwrite(status, sizeof(int64_t), (size_t)P, o);
        if (fclose(o)) { perror(argv[2]); return 2; }
    }
    return 0;
}
