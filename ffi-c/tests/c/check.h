/* Shared helpers of the C tests (ffi-c/tests/c/test_*.c): CHECK, EXPECT_OK / EXPECT_ERR
 * with the library's last error printed on failure, and string inputs as (ptr, len). */
#ifndef KSEF_TEST_CHECK_H
#define KSEF_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksef.h"

static int check_failures = 0;

static inline void check_print_last_error(void) {
  char msg[512];
  ksef_last_error_message(msg, sizeof msg, NULL);
  fprintf(stderr, "    last error %u (%s): %s\n", (unsigned)ksef_last_error_code(),
          ksef_result_name(ksef_last_error_code()) ? ksef_result_name(ksef_last_error_code()) : "?",
          msg);
}

#define CHECK(cond)                                                                    \
  do {                                                                                 \
    if (!(cond)) {                                                                     \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);         \
      check_failures++;                                                                \
    }                                                                                  \
  } while (0)

#define EXPECT_OK(call)                                                                \
  do {                                                                                 \
    ksef_result check_rc_ = (call);                                                    \
    if (check_rc_ != KSEF_OK) {                                                        \
      fprintf(stderr, "%s:%d: %s returned %u\n", __FILE__, __LINE__, #call,            \
              (unsigned)check_rc_);                                                    \
      check_print_last_error();                                                        \
      check_failures++;                                                                \
    }                                                                                  \
  } while (0)

#define EXPECT_ERR(code, call)                                                         \
  do {                                                                                 \
    ksef_result check_rc_ = (call);                                                    \
    if (check_rc_ != (ksef_result)(code)) {                                            \
      fprintf(stderr, "%s:%d: %s returned %u, expected %s (%u)\n", __FILE__, __LINE__, \
              #call, (unsigned)check_rc_, #code, (unsigned)(code));                    \
      check_print_last_error();                                                        \
      check_failures++;                                                                \
    } else if (ksef_last_error_code() != (ksef_result)(code)) {                        \
      fprintf(stderr, "%s:%d: last error %u after %s, expected %u\n", __FILE__,        \
              __LINE__, (unsigned)ksef_last_error_code(), #call, (unsigned)(code));    \
      check_failures++;                                                                \
    }                                                                                  \
  } while (0)

/* A C string as the (ptr, len) pair the library takes. */
#define STR(s) (s), strlen(s)

/* Reads a whole file (test data) into a malloc'd buffer; exits on failure. */
static inline unsigned char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "cannot open %s\n", path);
    exit(2);
  }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *buf = malloc((size_t)n + 1);
  if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
    fprintf(stderr, "cannot read %s\n", path);
    exit(2);
  }
  buf[n] = 0;
  fclose(f);
  *len = (size_t)n;
  return buf;
}

/* An environment variable the runner sets (KSEF_SPEC, KSEF_SIM_URL, ...); exits if unset. */
static inline const char *need_env(const char *name) {
  const char *v = getenv(name);
  if (!v || !*v) {
    fprintf(stderr, "%s is not set (run through ffi-c/tests/c/run.sh)\n", name);
    exit(2);
  }
  return v;
}

static inline int check_done(const char *name) {
  if (check_failures) {
    fprintf(stderr, "%s: %d check(s) failed\n", name, check_failures);
    return 1;
  }
  printf("%s: ok\n", name);
  return 0;
}

#endif
