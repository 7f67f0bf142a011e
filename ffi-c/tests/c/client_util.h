/* Helpers of the client tests (test_client.c, test_sansio.c): settings for the loopback
 * simulator, unique sample invoices, and reading values out of result JSON. */
#ifndef KSEF_TEST_CLIENT_UTIL_H
#define KSEF_TEST_CLIENT_UTIL_H

#include <unistd.h>

#include "check.h"

/* The sample's seller: the simulator only accepts invoices of the context's NIP. */
#define SELLER_NIP "9999999999"

/* Settings JSON for the simulator (any KSeF token is accepted there); caller frees. */
static inline char *sim_settings(const char *base_url) {
  const char *fmt = "{\"base_url\":\"%s\",\"nip\":\"" SELLER_NIP "\",\"ksef_token\":\"test-token-any\","
                    "\"poll_interval_ms\":50,\"max_wait_ms\":60000,\"timeout_ms\":20000}";
  size_t n = strlen(fmt) + strlen(base_url) + 1;
  char *s = malloc(n);
  snprintf(s, n, fmt, base_url);
  return s;
}

/* Replaces the first `from` in `text` with `to` (a new malloc'd string; exits if missing). */
static inline char *replace_once(const char *text, const char *from, const char *to) {
  const char *at = strstr(text, from);
  if (!at) {
    fprintf(stderr, "sample does not contain %s\n", from);
    exit(2);
  }
  size_t head = (size_t)(at - text), n = strlen(text) - strlen(from) + strlen(to) + 1;
  char *out = malloc(n);
  memcpy(out, text, head);
  strcpy(out + head, to);
  strcat(out, at + strlen(from));
  return out;
}

/* FA(3) sample 01 with a unique invoice number (P_2) — `tag` and `n` and the process id —
 * and, with `future`, an issue date (P_1) in the future, which KSeF refuses. Caller frees. */
static inline char *make_invoice(const char *tag, int n, int future) {
  char path[1024];
  snprintf(path, sizeof path, "%s/samples/fa3/FA_3_Przyklad_01.xml", need_env("KSEF_SPEC"));
  size_t len;
  char *xml = (char *)read_file(path, &len);
  char p2[128];
  snprintf(p2, sizeof p2, "<P_2>C/%s/%ld/%05d</P_2>", tag, (long)getpid(), n);
  char *a = replace_once(xml, "<P_2>FV2026/02/150</P_2>", p2);
  free(xml);
  if (future) {
    char *b = replace_once(a, "<P_1>2026-02-15</P_1>", "<P_1>2099-01-01</P_1>");
    free(a);
    a = b;
  }
  return a;
}

/* The value at a JSON pointer of a result buffer as a malloc'd C string, or NULL. */
static inline char *jget(const ksef_buffer *doc, const char *pointer) {
  ksef_buffer *v = NULL;
  if (ksef_json_get((const char *)ksef_buffer_data(doc), ksef_buffer_len(doc), STR(pointer), &v) !=
      KSEF_OK)
    return NULL;
  char *s = malloc(ksef_buffer_len(v) + 1);
  memcpy(s, ksef_buffer_data(v), ksef_buffer_len(v) + 1);
  ksef_buffer_free(v);
  return s;
}

/* True when the value at `pointer` is the string (or JSON text) `want`. */
static inline int jis(const ksef_buffer *doc, const char *pointer, const char *want) {
  char *v = jget(doc, pointer);
  int ok = v && strcmp(v, want) == 0;
  if (!ok) fprintf(stderr, "    %s = %s, expected %s\n", pointer, v ? v : "(nothing)", want);
  free(v);
  return ok;
}

#endif
