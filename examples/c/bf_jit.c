/*
 * bf_jit — a Brainfuck JIT over npk/jitbuild.h, and an interpreter to
 * check it against.
 *
 *     bf_jit FILE            compile FILE to machine code and run it
 *     bf_jit --interpret FILE   run FILE in the interpreter below
 *     bf_jit --check FILE    run both, compare their output (exit 0 when equal)
 *     bf_jit --self-test     --check on the built-in programs (CTest runs this)
 *
 * The compiled function is `void run(ptr tape, ptr io)`: a PTR variable
 * walks a tape of byte cells (NPK_JIT_MEM_U8 loads and stores), runs of
 * + - > < fold into one npk_jit_op_imm each, [ and ] become fused
 * compare-and-branch instructions on the cell (npk_jit_branch_cmp_imm),
 * and . and , call two C functions through npk_jit_call_native. With
 * NPK_JIT_DUMP=ir,asm in the environment the runtime prints the program
 * and the machine code it made of it (docs/jit-c.md, "Seeing the code").
 *
 * Cells wrap at 256; the tape has 30,000 cells, and like the classic
 * implementations this one does not check that the program stays on it.
 */
#include <npk/jitbuild.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { TAPE = 30000, MAX_DEPTH = 1024 };

/* Where . writes and , reads: one struct, passed to the code as a PTR. */
typedef struct {
    char* out;
    size_t len, cap;
    const char* in; /* NUL-terminated input; , past its end reads 0 */
} bf_io;

static void io_put(bf_io* io, int32_t c) {
    if (io->len + 1 >= io->cap) {
        size_t cap = io->cap ? io->cap * 2 : 256;
        char* p = realloc(io->out, cap);
        if (p == NULL) return; /* output is lost, the run goes on */
        io->out = p;
        io->cap = cap;
    }
    io->out[io->len++] = (char)c;
    io->out[io->len] = '\0';
}

static int32_t io_get(bf_io* io) { return *io->in != '\0' ? (unsigned char)*io->in++ : 0; }

/* The generated code calls these two (the host's C calling convention). */
static void bf_put(void* io, int32_t c) { io_put(io, c); }
static int32_t bf_get(void* io) { return io_get(io); }

/* A C function's address as npk_jit_call_native takes it. POSIX allows the
   conversion (as dlsym does); ISO C has no cast for it, so copy the bits. */
static const void* code_address(void (*f)(void)) {
    const void* p;
    memcpy(&p, &f, sizeof p);
    return p;
}

/* How many times the command at p[0] repeats. */
static int run_length(const char* p) {
    int n = 1;
    while (p[n] == p[0]) ++n;
    return n;
}

/* The compiled program, or NULL with the runtime's reason printed. */
static void* bf_compile(const char* src) {
    npk_jit_builder* b = npk_jit_builder_new(NPK_JIT_VOID);
    const int32_t ptr = npk_jit_param(b, NPK_JIT_PTR); /* the data pointer: tape + position */
    const int32_t io = npk_jit_param(b, NPK_JIT_PTR);
    const int32_t cell = npk_jit_var(b, NPK_JIT_I32);
    int32_t open[MAX_DEPTH], close[MAX_DEPTH];
    int depth = 0;
    npk_jit_builder_name(b, "bf_program");
    for (const char* p = src; *p != '\0'; ++p) {
        const int n = strchr("+-<>", *p) != NULL ? run_length(p) : 1;
        switch (*p) {
            case '+':
            case '-':
                npk_jit_load_sized(b, cell, ptr, 0, NPK_JIT_MEM_U8);
                npk_jit_op_imm(b, *p == '+' ? NPK_JIT_ADD : NPK_JIT_SUB, cell, cell, n);
                npk_jit_store_sized(b, ptr, 0, cell, NPK_JIT_MEM_U8); /* the low byte: wraps at 256 */
                break;
            case '>':
            case '<':
                npk_jit_op_imm(b, *p == '>' ? NPK_JIT_ADD : NPK_JIT_SUB, ptr, ptr, n); /* PTR +- imm */
                break;
            case '.': {
                const int32_t args[2] = {io, cell};
                npk_jit_load_sized(b, cell, ptr, 0, NPK_JIT_MEM_U8);
                npk_jit_call_native(b, -1, code_address((void (*)(void))bf_put), NPK_JIT_VOID, 2, args);
                break;
            }
            case ',':
                npk_jit_call_native(b, cell, code_address((void (*)(void))bf_get), NPK_JIT_I32, 1, &io);
                npk_jit_store_sized(b, ptr, 0, cell, NPK_JIT_MEM_U8);
                break;
            case '[':
                if (depth == MAX_DEPTH) {
                    fprintf(stderr, "bf_jit: loops nested deeper than %d\n", MAX_DEPTH);
                    npk_jit_builder_free(b);
                    return NULL;
                }
                open[depth] = npk_jit_label(b);
                close[depth] = npk_jit_label(b);
                npk_jit_load_sized(b, cell, ptr, 0, NPK_JIT_MEM_U8);
                npk_jit_branch_cmp_imm(b, NPK_JIT_EQ, cell, 0, close[depth]);
                npk_jit_bind(b, open[depth]);
                ++depth;
                break;
            case ']':
                if (depth == 0) {
                    fprintf(stderr, "bf_jit: ']' at offset %ld has no '['\n", (long)(p - src));
                    npk_jit_builder_free(b);
                    return NULL;
                }
                --depth;
                npk_jit_load_sized(b, cell, ptr, 0, NPK_JIT_MEM_U8);
                npk_jit_branch_cmp_imm(b, NPK_JIT_NE, cell, 0, open[depth]);
                npk_jit_bind(b, close[depth]);
                break;
            default: break; /* anything else is a comment */
        }
        p += n - 1;
    }
    if (depth != 0) {
        fprintf(stderr, "bf_jit: %d '[' never closed\n", depth);
        npk_jit_builder_free(b);
        return NULL;
    }
    npk_jit_ret(b, -1);
    /* Any misuse above stuck to the builder: npk_jit_build reports the first. */
    void* fn = npk_jit_build(b);
    if (fn == NULL) fprintf(stderr, "bf_jit: %s\n", npk_last_error_message());
    return fn;
}

/* Runs the compiled program on a fresh tape. */
static int bf_run_jit(const char* src, bf_io* io) {
    void* fn = bf_compile(src);
    unsigned char* tape = calloc(TAPE, 1);
    if (fn == NULL || tape == NULL) {
        free(tape);
        if (fn != NULL) npk_wildx_free(fn);
        return 1;
    }
    void (*run)(unsigned char*, bf_io*);
    memcpy(&run, &fn, sizeof run); /* POSIX: a code address is a function pointer */
    run(tape, io);
    free(tape);
    return npk_wildx_free(fn) == 0 ? 0 : 1;
}

/* The reference: a plain interpreter, one command at a time. */
static int bf_interpret(const char* src, bf_io* io) {
    const size_t len = strlen(src);
    size_t* match = calloc(len + 1, sizeof *match);
    size_t stack[MAX_DEPTH];
    int depth = 0;
    unsigned char* tape = calloc(TAPE, 1);
    if (match == NULL || tape == NULL) {
        free(match);
        free(tape);
        return 1;
    }
    for (size_t i = 0; i < len; ++i) {
        if (src[i] == '[' && depth < MAX_DEPTH) stack[depth++] = i;
        if (src[i] == ']' && depth > 0) {
            match[i] = stack[--depth];
            match[stack[depth]] = i;
        }
    }
    unsigned char* p = tape;
    for (size_t pc = 0; pc < len; ++pc) {
        switch (src[pc]) {
            case '+': ++*p; break;
            case '-': --*p; break;
            case '>': ++p; break;
            case '<': --p; break;
            case '.': io_put(io, *p); break;
            case ',': *p = (unsigned char)io_get(io); break;
            case '[': if (*p == 0) pc = match[pc]; break;
            case ']': if (*p != 0) pc = match[pc]; break;
            default: break;
        }
    }
    free(match);
    free(tape);
    return 0;
}

/* Runs `src` both ways on `input`; 0 when the outputs are the same (and
   `expect`, unless NULL). */
static int bf_check(const char* name, const char* src, const char* input, const char* expect) {
    bf_io jit = {NULL, 0, 0, input}, ref = {NULL, 0, 0, input};
    int rc = bf_run_jit(src, &jit) | bf_interpret(src, &ref);
    const char* a = jit.out ? jit.out : "";
    const char* b = ref.out ? ref.out : "";
    if (rc == 0 && (jit.len != ref.len || memcmp(a, b, jit.len) != 0)) {
        fprintf(stderr, "bf_jit: %s: the JIT wrote %zu bytes \"%s\", the interpreter %zu \"%s\"\n", name, jit.len,
                a, ref.len, b);
        rc = 1;
    }
    if (rc == 0 && expect != NULL && strcmp(a, expect) != 0) {
        fprintf(stderr, "bf_jit: %s: both wrote \"%s\", expected \"%s\"\n", name, a, expect);
        rc = 1;
    }
    if (rc == 0) printf("%s: %zu bytes, the same from both, starting %.*s\n", name, jit.len, (int)strcspn(a, "\n"), a);
    free(jit.out);
    free(ref.out);
    return rc;
}

/* A few programs that cover every command, nested loops, input, wrapping
   cells; each with the output it must give (NULL: as the interpreter's). */
static const struct {
    const char *name, *src, *input, *expect;
} k_programs[] = {
    {"hello", /* the classic "Hello World!" */
     "++++++++[>++++[>++>+++>+++>+<<<<-]>+>+>->>+[<]<-]>>.>---.+++++++..+++.>>.<-.<.+++.------.--------.>>+.>++.",
     "", "Hello World!\n"},
    {"reverse", /* reads its input to the end, writes it backwards */
     ">,[>,]<[.<]++++++++++.", "!tij", "jit!\n"},
    {"wrap", /* 0 - 1 is 255; moved to the next cell, + wraps it to 0; + 48 prints '0' */
     "-[>+<-]>+>++++++[<++++++++>-]<.[-]++++++++++.", "", "0\n"},
    {"squares", /* 0 1 4 9 ... 10000, by Daniel B. Cristofani (public domain) */
     "++++[>+++++<-]>[<+++++>-]+<+[>[>+>+<<-]++>>[<<+>>-]>>>[-]++>[-]+>>>+[[-]++++++>>>]<<<[[<++++++++<++>>-]+<.<[>----<-]<]"
     "<<[>>>>>[>>>[-]+++++++++<[>-<-]+++++++++>[-[<->-]+[<<<]]<[>+<-]>]<<-]<<-]",
     "", NULL},
};

static char* read_file(const char* path) {
    FILE* f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        return NULL;
    }
    size_t cap = 4096, len = 0, got;
    char* buf = malloc(cap);
    while (buf != NULL && (got = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += got;
        if (len + 1 == cap) {
            char* p = realloc(buf, cap *= 2);
            if (p == NULL) free(buf);
            buf = p;
        }
    }
    fclose(f);
    if (buf != NULL) buf[len] = '\0';
    return buf;
}

int main(int argc, char** argv) {
    if (argc == 2 && strcmp(argv[1], "--self-test") == 0) {
        int rc = 0;
        for (size_t i = 0; i < sizeof k_programs / sizeof k_programs[0]; ++i) {
            rc |= bf_check(k_programs[i].name, k_programs[i].src, k_programs[i].input, k_programs[i].expect);
        }
        return rc;
    }
    const char* mode = argc == 3 ? argv[1] : "";
    if (argc < 2 || argc > 3 || (argc == 3 && strcmp(mode, "--check") != 0 && strcmp(mode, "--interpret") != 0)) {
        fprintf(stderr, "usage: bf_jit [--check | --interpret] FILE | bf_jit --self-test\n");
        return 2;
    }
    char* src = read_file(argv[argc - 1]);
    if (src == NULL) return 2;
    int rc;
    if (strcmp(mode, "--check") == 0) {
        rc = bf_check(argv[argc - 1], src, "", NULL);
    } else {
        bf_io io = {NULL, 0, 0, ""};
        rc = strcmp(mode, "--interpret") == 0 ? bf_interpret(src, &io) : bf_run_jit(src, &io);
        if (io.out != NULL) fwrite(io.out, 1, io.len, stdout);
        free(io.out);
    }
    free(src);
    return rc;
}
