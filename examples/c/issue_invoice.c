/* Issues one invoice in KSeF and prints its KSeF number.
 *
 *   issue_invoice [BASE_URL [INVOICE.xml]]
 *
 * BASE_URL: the API base (argv[1], else $KSEF_SIM_URL, e.g. the simulator's
 * http://127.0.0.1:PORT/v2 printed by `ksef sim`). INVOICE.xml: an FA(3) invoice (argv[2],
 * else the official sample 01 from $KSEF_SPEC/samples/fa3 with a fresh invoice number).
 * The context is the seller's NIP ($KSEF_NIP, default 9999999999, the sample's seller) and
 * the credential a KSeF token ($KSEF_TOKEN; the simulator accepts any).
 *
 * Build: cc issue_invoice.c $(pkg-config --cflags --libs ksef) */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ksef.h"

static const char *env_or(const char *name, const char *fallback) {
  const char *v = getenv(name);
  return v && *v ? v : fallback;
}

/* Prints the last error of the library and returns 1. */
static int fail(const char *what) {
  char msg[1024], path[256];
  ksef_last_error_message(msg, sizeof msg, NULL);
  ksef_last_error_path(path, sizeof path, NULL);
  fprintf(stderr, "%s failed: %s (at %s): %s\n", what, ksef_result_name(ksef_last_error_code()),
          *path ? path : "-", msg);
  return 1;
}

static char *read_all(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  if (buf && fread(buf, 1, (size_t)n, f) == (size_t)n) {
    buf[n] = 0;
    *len = (size_t)n;
  } else {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  return buf;
}

/* The sample invoice with a unique number in P_2 (KSeF refuses a repeated number). */
static char *sample_invoice(size_t *len) {
  char path[1024];
  snprintf(path, sizeof path, "%s/samples/fa3/FA_3_Przyklad_01.xml", env_or("KSEF_SPEC", "."));
  char *xml = read_all(path, len);
  const char *old = "<P_2>FV2026/02/150</P_2>";
  char *at = xml ? strstr(xml, old) : NULL;
  if (!at) {
    fprintf(stderr, "cannot read the sample invoice %s\n", path);
    free(xml);
    return NULL;
  }
  char number[64];
  snprintf(number, sizeof number, "<P_2>EX/%ld/%ld</P_2>", (long)time(NULL), (long)getpid());
  char *out = malloc(*len + strlen(number) + 1);
  size_t head = (size_t)(at - xml);
  memcpy(out, xml, head);
  strcpy(out + head, number);
  strcat(out, at + strlen(old));
  *len = strlen(out);
  free(xml);
  return out;
}

int main(int argc, char **argv) {
  const char *base_url = argc > 1 ? argv[1] : getenv("KSEF_SIM_URL");
  if (!base_url) {
    fprintf(stderr, "usage: issue_invoice BASE_URL [INVOICE.xml] (or set KSEF_SIM_URL)\n");
    return 2;
  }
  size_t len = 0;
  char *xml = argc > 2 ? read_all(argv[2], &len) : sample_invoice(&len);
  if (!xml) {
    fprintf(stderr, "no invoice to send\n");
    return 2;
  }

  /* 1. A client: where, in which context, with which credential (JSON settings). */
  char settings[1024];
  snprintf(settings, sizeof settings,
           "{\"base_url\":\"%s\",\"nip\":\"%s\",\"ksef_token\":\"%s\",\"poll_interval_ms\":200}",
           base_url, env_or("KSEF_NIP", "9999999999"), env_or("KSEF_TOKEN", "any-token"));
  ksef_client *client = NULL;
  if (ksef_client_new(settings, strlen(settings), &client) != KSEF_OK) {
    free(xml);
    return fail("settings");
  }

  /* 2. Send it in an online session; this authenticates, waits for processing and
   *    fetches the UPO. */
  const uint8_t *invoices[1] = {(const uint8_t *)xml};
  size_t lens[1] = {len};
  ksef_buffer *result = NULL;
  int rc = 0;
  if (ksef_client_send_online(client, "FA(3)", 5, invoices, lens, 1, false, &result) != KSEF_OK) {
    rc = fail("sending");
  } else {
    /* 3. The result is JSON; ksef_json_get reads one value out of it. */
    const char *json = (const char *)ksef_buffer_data(result);
    size_t json_len = ksef_buffer_len(result);
    ksef_buffer *number = NULL, *error = NULL;
    if (ksef_json_get(json, json_len, "/invoices/0/ksef_number", 23, &number) == KSEF_OK &&
        ksef_ksef_number_check((const char *)ksef_buffer_data(number), ksef_buffer_len(number)) ==
            KSEF_OK) {
      printf("%s\n", (const char *)ksef_buffer_data(number));
    } else {
      /* refused: the invoice's error says why */
      ksef_json_get(json, json_len, "/invoices/0/error/message", 25, &error);
      fprintf(stderr, "KSeF refused the invoice: %s\n",
              error ? (const char *)ksef_buffer_data(error) : "(no reason given)");
      rc = 1;
    }
    ksef_buffer_free(number);
    ksef_buffer_free(error);
  }
  ksef_buffer_free(result);
  ksef_client_free(client);
  free(xml);
  return rc;
}
