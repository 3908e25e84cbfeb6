/* A minimal C interpreter of the classic ISA (spec/isa.md): 16-bit words, 65,536 words of
 * memory for code and data, the port at address -1 (0xFFFF), input from a buffer, output
 * to a buffer. The comparison point for the eForth image.
 *
 *   classic IMAGE.dec INPUT [OUT.bin] [MAX_STEPS]
 *
 * IMAGE.dec: whitespace- or comma-separated integers loaded from address 0; INPUT: a file
 * whose bytes are the input (end of input reads -1). OUT.bin: the final memory, 65,536
 * little-endian int64 words read as signed. Prints one JSON line {"steps", "seconds",
 * "status", "pc", "output_hex"}, timing the run loop alone.
 *
 * With 2^16 words of memory every address is in range (no bad_address), and a pc that
 * reads as non-negative is below 32,768, so pc + 2 never reaches the end: both checks
 * stay in the loop as the spec writes them and cost a compare each. Built, like subleq.c,
 * with -fno-if-conversion: as a branch, the next-pc selection is about 1.5x faster here.
 */
#define _POSIX_C_SOURCE 199309L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SIZE 65536u
#define PORT 0xFFFFu

static uint16_t m[SIZE];

int main(int argc, char **argv) {
    if (argc < 3 || argc > 5) {
        fprintf(stderr, "usage: classic IMAGE.dec INPUT [OUT.bin] [MAX_STEPS]\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    if (!f) { perror(argv[1]); return 2; }
    size_t words = 0;
    long v;
    int ch;
    for (;;) {
        while ((ch = fgetc(f)) != EOF && (ch == ',' || ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t')) {}
        if (ch == EOF) break;
        ungetc(ch, f);
        if (fscanf(f, "%ld", &v) != 1 || v < -32768 || v > 65535 || words >= SIZE) {
            fprintf(stderr, "classic: bad word %zu in %s\n", words, argv[1]);
            return 2;
        }
        m[words++] = (uint16_t)v;
    }
    fclose(f);

    FILE *in = fopen(argv[2], "rb");
    if (!in) { perror(argv[2]); return 2; }
    static unsigned char input[1 << 20];
    size_t in_len = fread(input, 1, sizeof input, in), in_pos = 0;
    fclose(in);
    static unsigned char output[1 << 20];
    size_t out_len = 0;
    int64_t max_steps = argc == 5 ? strtoll(argv[4], NULL, 10) : 1000000000LL;

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint32_t pc = 0;
    int64_t steps = 0;
    int status;
    for (;;) {
        if (pc & 0x8000u) { status = 0; break; }   /* pc, read as a signed word, < 0 */
        if (pc + 2 >= SIZE) { status = 1; break; }
        if (steps == max_steps) { status = 2; break; }
        uint16_t a = m[pc], b = m[pc + 1], c = m[pc + 2];
        if (a == PORT) {
            m[b] = in_pos < in_len ? input[in_pos++] : 0xFFFFu;
            pc += 3;
        } else if (b == PORT) {
            if (out_len < sizeof output) output[out_len++] = (unsigned char)m[a];
            pc += 3;
        } else {
            uint16_t r = (uint16_t)(m[b] - m[a]);
            m[b] = r;
            if ((int16_t)r <= 0)
                pc = c;
            else
                pc += 3;
        }
        steps++;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);

    /* a halted run reports pc as the signed word that stopped it (as the runtimes do) */
    long report_pc = status == 0 ? (long)(int16_t)pc : (long)pc;
    printf("{\"steps\": %lld, \"seconds\": %.9f, \"status\": %d, \"pc\": %ld, \"output_hex\": \"", (long long)steps, seconds,
           status, report_pc);
    for (size_t i = 0; i < out_len; i++) printf("%02x", output[i]);
    printf("\"}\n");

    if (argc >= 4 && strcmp(argv[3], "-") != 0) {
        FILE *o = fopen(argv[3], "wb");
        if (!o) { perror(argv[3]); return 2; }
        for (size_t i = 0; i < SIZE; i++) {
            int64_t w = (int16_t)m[i];
            fwrite(&w, sizeof w, 1, o);
        }
        if (fclose(o)) { perror(argv[3]); return 2; }
    }
    return 0;
}
