/* Paired mode against the simulator (KSeF at KSEF_SIM_URL, Fakturownia at <host>/fakturownia,
 * NBP at <host>/nbp): the rule engine alone, a ksef-first order to COMPLETED with its PDF, a
 * return as a linked correction, snapshots (JSON and CBOR) restored into a new engine,
 * webhooks, recovery, a simultaneous EUR order with the NBP rate, and the error paths. */
#define _DEFAULT_SOURCE
#include <time.h>

#include "check.h"

#define TOKEN "c-test-fakturownia-token"
#define PUSH "c-test-push-secret"

static char host[256];     /* http://127.0.0.1:PORT */
static char client_settings[512];
static char settings[1024];

static char *example(const char *name) {
  /* the repository root: KSEF_TEST_DATA is <root>/ffi-c/tests/c/data */
  char root[1024], path[1200];
  snprintf(root, sizeof root, "%s", need_env("KSEF_TEST_DATA"));
  char *cut = strstr(root, "/ffi-c/tests/c/data");
  if (cut) *cut = 0;
  snprintf(path, sizeof path, "%s/examples/paired/%s", root, name);
  size_t len;
  return (char *)read_file(path, &len);
}

/* A copy of `s` with every `from` replaced by `to` (malloc'd). */
static char *replace(const char *s, const char *from, const char *to) {
  size_t n = 0, fl = strlen(from), tl = strlen(to);
  for (const char *p = strstr(s, from); p; p = strstr(p + fl, from)) n++;
  char *out = malloc(strlen(s) + n * (tl > fl ? tl - fl : 0) + 1);
  char *o = out;
  const char *p = s;
  for (const char *q = strstr(p, from); q; q = strstr(p, from)) {
    memcpy(o, p, (size_t)(q - p));
    o += q - p;
    memcpy(o, to, tl);
    o += tl;
    p = q + fl;
  }
  strcpy(o, p);
  return out;
}

/* The string value of the first `"key":"..."` in compact JSON (empty when absent). */
static void json_str(const char *json, const char *key, char *out, size_t cap) {
  char pat[128];
  snprintf(pat, sizeof pat, "\"%s\":\"", key);
  out[0] = 0;
  const char *p = strstr(json, pat);
  if (!p) return;
  p += strlen(pat);
  size_t i = 0;
  while (*p && *p != '"' && i + 1 < cap) out[i++] = *p++;
  out[i] = 0;
}

/* The integer value of the first `"key":N`; -1 when absent or not a number. */
static long long json_int(const char *json, const char *key) {
  char pat[128];
  snprintf(pat, sizeof pat, "\"%s\":", key);
  const char *p = strstr(json, pat);
  if (!p) return -1;
  p += strlen(pat);
  if (*p < '0' || *p > '9') return -1;
  return strtoll(p, NULL, 10);
}

static const char *data(const ksef_buffer *b) { return (const char *)ksef_buffer_data(b); }

static ksef_client *new_client(void) {
  ksef_client *c = NULL;
  EXPECT_OK(ksef_client_new(STR(client_settings), &c));
  return c;
}

static void setup(void) {
  const char *sim = need_env("KSEF_SIM_URL");
  snprintf(host, sizeof host, "%s", sim);
  char *v2 = strstr(host, "/v2");
  if (v2) *v2 = 0;
  snprintf(client_settings, sizeof client_settings,
           "{\"base_url\":\"%s\",\"nip\":\"5265877635\",\"ksef_token\":\"c-test-ksef-token\","
           "\"poll_interval_ms\":50}",
           sim);
  snprintf(settings, sizeof settings,
           "{\"store\":\"pl-main\",\"fakturownia_url\":\"%s/fakturownia\","
           "\"fakturownia_token\":\"" TOKEN "\",\"nbp_url\":\"%s/nbp\",\"push_secret\":\"" PUSH
           "\"}",
           host, host);
}

static void test_rules_evaluate(void) {
  char *rules = example("rules.json");
  char *b2b = example("order-b2b.json");
  char *eur = example("order-eur.json");
  const char *now = "2026-02-15T10:00:00+01:00";
  ksef_buffer *d = NULL;
  EXPECT_OK(ksef_rules_evaluate(STR(rules), STR(b2b), STR("status"), NULL, 0, STR(now), &d));
  if (d) {
    char v[128];
    json_str(data(d), "decision", v, sizeof v);
    CHECK(strcmp(v, "issue") == 0);
    json_str(data(d), "number", v, sizeof v);
    CHECK(strcmp(v, "FV/2026/02/1") == 0);
    CHECK(strstr(data(d), "\"kind\":\"invoice\"") != NULL);
    CHECK(strstr(data(d), "<P_2>FV/2026/02/1</P_2>") != NULL);
    CHECK(strstr(data(d), "\"fakturownia\":{") != NULL);
    ksef_buffer_free(d);
  }
  /* a status the store does not issue on */
  char *fresh = replace(b2b, "\"status\": \"paid\"", "\"status\": \"new\"");
  d = NULL;
  EXPECT_OK(ksef_rules_evaluate(STR(rules), STR(fresh), STR("status"), NULL, 0, STR(now), &d));
  if (d) {
    CHECK(strstr(data(d), "\"decision\":\"skip\"") != NULL);
    ksef_buffer_free(d);
  }
  free(fresh);
  /* a currency order needs the NBP rate, then issues with it */
  d = NULL;
  EXPECT_OK(ksef_rules_evaluate(STR(rules), STR(eur), NULL, 0, NULL, 0, STR(now), &d));
  char before[32] = "";
  if (d) {
    CHECK(strstr(data(d), "\"decision\":\"need_rate\"") != NULL);
    CHECK(strstr(data(d), "\"currency\":\"EUR\"") != NULL);
    json_str(data(d), "before", before, sizeof before);
    ksef_buffer_free(d);
  }
  CHECK(strlen(before) == 10);
  /* the rate of the last business day before the tax point: ask again with a wrong day
   * first (still needs it), then try the days before `before` until one is accepted */
  int issued = 0;
  for (int back = 1; back <= 6 && !issued; back++) {
    struct tm t = {0};
    t.tm_year = atoi(before) - 1900;
    t.tm_mon = atoi(before + 5) - 1;
    t.tm_mday = atoi(before + 8) - back;
    t.tm_hour = 12;
    time_t secs = timegm(&t);
    struct tm u;
    gmtime_r(&secs, &u);
    char rate[256];
    snprintf(rate, sizeof rate,
             "[{\"currency\":\"EUR\",\"table\":\"001/A/NBP/2026\",\"date\":\"%04d-%02d-%02d\","
             "\"rate\":\"4.2134\"}]",
             u.tm_year + 1900, u.tm_mon + 1, u.tm_mday);
    d = NULL;
    EXPECT_OK(ksef_rules_evaluate(STR(rules), STR(eur), NULL, 0, STR(rate), STR(now), &d));
    if (d && strstr(data(d), "\"decision\":\"issue\"")) {
      issued = 1;
      CHECK(strstr(data(d), "4.2134") != NULL);
      CHECK(strstr(data(d), "<KodWaluty>EUR</KodWaluty>") != NULL);
    }
    ksef_buffer_free(d);
  }
  CHECK(issued);
  /* the system clock when `now` is not given */
  d = NULL;
  EXPECT_OK(ksef_rules_evaluate(STR(rules), STR(b2b), NULL, 0, NULL, 0, NULL, 0, &d));
  CHECK(d != NULL && strstr(data(d), "\"decision\":\"issue\"") != NULL);
  ksef_buffer_free(d);

  /* error paths; the output is untouched */
  d = (ksef_buffer *)0;
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT,
             ksef_rules_evaluate(STR(rules), STR(b2b), NULL, 0, NULL, 0, STR(now), NULL));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT,
             ksef_rules_evaluate(NULL, 5, STR(b2b), NULL, 0, NULL, 0, STR(now), &d));
  EXPECT_ERR(KSEF_ERR_ENCODING,
             ksef_rules_evaluate(STR(rules), "\xff{", 2, NULL, 0, NULL, 0, STR(now), &d));
  EXPECT_ERR(KSEF_ERR_JSON_SYNTAX,
             ksef_rules_evaluate(STR("{\"stores\":"), STR(b2b), NULL, 0, NULL, 0, STR(now), &d));
  EXPECT_ERR(KSEF_ERR_RULE_CONFIG_INVALID,
             ksef_rules_evaluate(STR("{\"stores\":{}}"), STR(b2b), NULL, 0, NULL, 0, STR(now), &d));
  EXPECT_ERR(KSEF_ERR_JSON_SYNTAX,
             ksef_rules_evaluate(STR(rules), STR("{\"id\":"), NULL, 0, NULL, 0, STR(now), &d));
  EXPECT_ERR(KSEF_ERR_ORDER_INVALID,
             ksef_rules_evaluate(STR(rules), STR("{\"id\":\"1\"}"), NULL, 0, NULL, 0, STR(now), &d));
  EXPECT_ERR(KSEF_ERR_INVALID_ARGUMENT,
             ksef_rules_evaluate(STR(rules), STR(b2b), STR("tuesday"), NULL, 0, STR(now), &d));
  EXPECT_ERR(KSEF_ERR_INVALID_ARGUMENT,
             ksef_rules_evaluate(STR(rules), STR(b2b), NULL, 0, NULL, 0, STR("yesterday"), &d));
  EXPECT_ERR(KSEF_ERR_INVALID_VALUE, ksef_rules_evaluate(STR(rules), STR(eur), NULL, 0,
                                                          STR("{\"currency\":\"EUR\"}"), STR(now), &d));
  char *other = replace(b2b, "\"pl-main\"", "\"nowhere\"");
  EXPECT_ERR(KSEF_ERR_UNKNOWN_STORE,
             ksef_rules_evaluate(STR(rules), STR(other), NULL, 0, NULL, 0, STR(now), &d));
  free(other);
  CHECK(d == NULL);
  free(rules);
  free(b2b);
  free(eur);
}

static void test_new_errors(void) {
  char *rules = example("rules.json");
  ksef_paired *p = NULL;
  ksef_client *c = new_client();
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_paired_new(STR(rules), STR(settings), &c, NULL));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_paired_new(STR(rules), STR(settings), NULL, &p));
  ksef_client *none = NULL;
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_paired_new(STR(rules), STR(settings), &none, &p));
  EXPECT_ERR(KSEF_ERR_ENCODING, ksef_paired_new(STR(rules), "\xc3(", 2, &c, &p));
  EXPECT_ERR(KSEF_ERR_JSON_SYNTAX, ksef_paired_new(STR(rules), STR("{"), &c, &p));
  EXPECT_ERR(KSEF_ERR_RULE_CONFIG_INVALID, ksef_paired_new(STR("{\"stores\":{\"x\":{}}}"),
                                                           STR(settings), &c, &p));
  /* no token: the error names the key; two stores and none chosen */
  EXPECT_ERR(KSEF_ERR_INVALID_VALUE,
             ksef_paired_new(STR(rules), STR("{\"store\":\"pl-main\"}"), &c, &p));
  char path[64];
  ksef_last_error_path(path, sizeof path, NULL);
  CHECK(strcmp(path, "fakturownia_token") == 0);
  EXPECT_ERR(KSEF_ERR_INVALID_VALUE,
             ksef_paired_new(STR(rules), STR("{\"fakturownia_token\":\"" TOKEN "\"}"), &c, &p));
  EXPECT_ERR(KSEF_ERR_INVALID_VALUE,
             ksef_paired_new(STR(rules),
                             STR("{\"store\":\"pl-main\",\"fakturownia_token\":\"" TOKEN
                                 "\",\"mode\":\"later\"}"),
                             &c, &p));
  EXPECT_ERR(KSEF_ERR_INVALID_VALUE,
             ksef_paired_new(STR(rules),
                             STR("{\"store\":\"pl-main\",\"fakturownia_token\":\"" TOKEN
                                 "\",\"typo\":1}"),
                             &c, &p));
  /* the token never appears in an error */
  ksef_buffer *err = NULL;
  EXPECT_OK(ksef_last_error_json(&err));
  CHECK(err && strstr(data(err), TOKEN) == NULL);
  ksef_buffer_free(err);
  EXPECT_ERR(KSEF_ERR_UNKNOWN_STORE,
             ksef_paired_new(STR(rules),
                             STR("{\"store\":\"nope\",\"fakturownia_token\":\"" TOKEN "\"}"), &c,
                             &p));
  /* a bad snapshot leaves the client to the caller */
  EXPECT_ERR(KSEF_ERR_SNAPSHOT_INVALID,
             ksef_paired_restore((const uint8_t *)"{}", 2, STR(rules), STR(settings), &c, &p));
  EXPECT_ERR(KSEF_ERR_SNAPSHOT_INVALID,
             ksef_paired_restore((const uint8_t *)"\xa1\x61", 2, STR(rules), STR(settings), &c, &p));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT,
             ksef_paired_restore(NULL, 3, STR(rules), STR(settings), &c, &p));
  CHECK(c != NULL);
  CHECK(p == NULL);
  ksef_client_free(c);
  ksef_paired_free(NULL);
  free(rules);
}

static void check_no_secret(ksef_paired *p) {
  ksef_buffer *b = NULL;
  EXPECT_OK(ksef_paired_snapshot_json(p, &b));
  CHECK(b && strstr(data(b), TOKEN) == NULL && strstr(data(b), PUSH) == NULL);
  ksef_buffer_free(b);
  b = NULL;
  EXPECT_OK(ksef_paired_audit_json(p, &b));
  CHECK(b && data(b)[0] == '[' && strstr(data(b), TOKEN) == NULL);
  ksef_buffer_free(b);
  b = NULL;
  EXPECT_OK(ksef_paired_status_json(p, &b));
  CHECK(b && strstr(data(b), TOKEN) == NULL);
  ksef_buffer_free(b);
}

static void test_flow(void) {
  char *rules = example("rules.json");
  char *b2b = example("order-b2b.json");
  char *b2c = example("order-b2c.json");
  ksef_client *c = new_client();
  ksef_paired *p = NULL;
  EXPECT_OK(ksef_paired_new(STR(rules), STR(settings), &c, &p));
  CHECK(c == NULL); /* taken over */
  if (!p) {
    ksef_client_free(c);
    return;
  }
  /* a ksef-first order: KSeF number first, then the document carrying it */
  ksef_buffer *r = NULL;
  EXPECT_OK(ksef_paired_submit_order(p, STR(b2b), STR("status"), &r));
  char job[256] = "", ksef_number[64] = "", status[64] = "", number[64] = "";
  long long fid = -1;
  if (r) {
    const char *j = data(r);
    CHECK(strstr(j, "\"outcome\":\"submitted\"") != NULL);
    json_str(j, "job", job, sizeof job);
    json_str(j, "status", status, sizeof status);
    json_str(j, "ksef_number", ksef_number, sizeof ksef_number);
    json_str(j, "number", number, sizeof number);
    fid = json_int(j, "fakturownia_id");
    CHECK(strcmp(status, "COMPLETED") == 0);
    CHECK(strlen(ksef_number) == 35);
    EXPECT_OK(ksef_ksef_number_check(STR(ksef_number)));
    CHECK(fid > 0);
    CHECK(strstr(j, "\"event\":\"ksef_number_received\"") != NULL);
    CHECK(strstr(j, "\"event\":\"fakturownia_created\"") != NULL);
    CHECK(strstr(j, "\"event\":\"completed\"") != NULL);
    CHECK(strstr(j, "\"has_upo\":true") != NULL);
    ksef_buffer_free(r);
  }
  CHECK(strncmp(number, "FV/", 3) == 0);
  /* the same order again is refused: the state knows it */
  r = NULL;
  EXPECT_ERR(KSEF_ERR_PAIRED_CONFLICT, ksef_paired_submit_order(p, STR(b2b), NULL, 0, &r));
  CHECK(r == NULL);
  /* a status the store does not issue on: nothing to issue */
  char *fresh = replace(b2c, "\"status\": \"completed\"", "\"status\": \"new\"");
  EXPECT_OK(ksef_paired_submit_order(p, STR(fresh), STR("status"), &r));
  CHECK(r && strstr(data(r), "\"outcome\":\"skipped\"") != NULL);
  ksef_buffer_free(r);
  free(fresh);

  /* the job with its documents, the PDF */
  ksef_buffer *b = NULL;
  EXPECT_OK(ksef_paired_job_json(p, STR(job), &b));
  if (b) {
    CHECK(strstr(data(b), "\"xml\":\"<?xml") != NULL);
    CHECK(strstr(data(b), "\"upo\":\"") != NULL);
    CHECK(strstr(data(b), "\"fakturownia_document\":{") != NULL);
    ksef_buffer_free(b);
  }
  b = NULL;
  EXPECT_OK(ksef_paired_pdf(p, STR(job), &b));
  CHECK(b && ksef_buffer_len(b) > 5 && memcmp(ksef_buffer_data(b), "%PDF-", 5) == 0);
  ksef_buffer_free(b);
  b = NULL;
  EXPECT_ERR(KSEF_ERR_PAIRED_CONFLICT, ksef_paired_pdf(p, STR("nope"), &b));
  EXPECT_ERR(KSEF_ERR_PAIRED_CONFLICT, ksef_paired_job_json(p, STR("nope"), &b));
  EXPECT_ERR(KSEF_ERR_ENCODING, ksef_paired_job_json(p, "\xff", 1, &b));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_paired_pdf(NULL, STR(job), &b));
  CHECK(b == NULL);

  /* recovery: a complete job needs nothing; an unknown one is refused */
  EXPECT_OK(ksef_paired_retry(p, STR(job), &r));
  CHECK(r && strstr(data(r), "\"action\":\"nothing\"") != NULL);
  ksef_buffer_free(r);
  r = NULL;
  EXPECT_ERR(KSEF_ERR_PAIRED_CONFLICT, ksef_paired_retry(p, STR("pl-main:0:X"), &r));
  CHECK(r == NULL);

  /* webhooks: Fakturownia's update of our document, a KSeF push; forged ones refused */
  char hook[1024];
  snprintf(hook, sizeof hook,
           "{\"api_token\":\"" TOKEN "\",\"event\":\"invoice:update\",\"invoice\":{\"id\":%lld,"
           "\"number\":\"%s\",\"kind\":\"vat\",\"gov_id\":\"%s\",\"oid\":\"%s\"}}",
           fid, number, ksef_number, job);
  EXPECT_OK(ksef_paired_apply_webhook(p, (const uint8_t *)hook, strlen(hook), &r));
  CHECK(r && strstr(data(r), "\"status\":\"COMPLETED\"") != NULL);
  ksef_buffer_free(r);
  char *forged = replace(hook, TOKEN, "guess");
  r = NULL;
  EXPECT_ERR(KSEF_ERR_WEBHOOK_FORGED,
             ksef_paired_apply_webhook(p, (const uint8_t *)forged, strlen(forged), &r));
  free(forged);
  snprintf(hook, sizeof hook,
           "{\"secret\":\"" PUSH "\",\"invoiceNumber\":\"%s\",\"ksefNumber\":\"%s\"}", number,
           ksef_number);
  EXPECT_OK(ksef_paired_apply_webhook(p, (const uint8_t *)hook, strlen(hook), &r));
  CHECK(r && strstr(data(r), job) != NULL);
  ksef_buffer_free(r);
  r = NULL;
  char *wrong = replace(hook, PUSH, "nope");
  EXPECT_ERR(KSEF_ERR_WEBHOOK_REJECTED,
             ksef_paired_apply_webhook(p, (const uint8_t *)wrong, strlen(wrong), &r));
  free(wrong);
  EXPECT_ERR(KSEF_ERR_WEBHOOK_REJECTED, ksef_paired_apply_webhook(p, (const uint8_t *)"[1", 2, &r));
  EXPECT_ERR(KSEF_ERR_WEBHOOK_REJECTED, ksef_paired_apply_webhook(p, (const uint8_t *)"{}", 2, &r));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_paired_apply_webhook(p, NULL, 4, &r));
  CHECK(r == NULL);
  /* nothing left to do */
  EXPECT_OK(ksef_paired_run(p, &r));
  CHECK(r && strcmp(data(r), "[]") == 0);
  ksef_buffer_free(r);
  check_no_secret(p);

  /* snapshots: JSON and CBOR, each restored into a new engine over a new client */
  ksef_buffer *sj = NULL, *sc = NULL;
  EXPECT_OK(ksef_paired_snapshot_json(p, &sj));
  EXPECT_OK(ksef_paired_snapshot_cbor(p, &sc));
  CHECK(sj && sc && ksef_buffer_len(sc) < ksef_buffer_len(sj));
  CHECK(sc && ksef_buffer_data(sc)[0] != '{');
  ksef_buffer *st1 = NULL;
  EXPECT_OK(ksef_paired_status_json(p, &st1));
  ksef_paired_free(p);
  p = NULL;
  ksef_paired *q = NULL;
  c = new_client();
  EXPECT_OK(ksef_paired_restore(ksef_buffer_data(sj), ksef_buffer_len(sj), STR(rules),
                                STR(settings), &c, &q));
  CHECK(c == NULL);
  ksef_paired_free(q);
  q = NULL;
  c = new_client();
  EXPECT_OK(ksef_paired_restore(ksef_buffer_data(sc), ksef_buffer_len(sc), STR(rules),
                                STR(settings), &c, &q));
  CHECK(c == NULL);
  ksef_client_free(c);
  if (q) {
    ksef_buffer *st2 = NULL;
    EXPECT_OK(ksef_paired_status_json(q, &st2));
    CHECK(st1 && st2 && strstr(data(st2), job) != NULL);
    CHECK(st2 && strstr(data(st2), ksef_number) != NULL);
    ksef_buffer_free(st2);
    /* resuming a restored engine sends nothing twice */
    EXPECT_OK(ksef_paired_run(q, &r));
    CHECK(r && strstr(data(r), "order_failed") == NULL);
    ksef_buffer_free(r);
    r = NULL;
    /* the numbering goes on: the next order takes number 2 */
    EXPECT_OK(ksef_paired_submit_order(q, STR(b2c), STR("status"), &r));
    if (r) {
      char n2[64];
      json_str(data(r), "number", n2, sizeof n2);
      CHECK(strlen(n2) > 2 && strcmp(n2 + strlen(n2) - 2, "/2") == 0);
      CHECK(strstr(data(r), "\"status\":\"COMPLETED\"") != NULL);
      ksef_buffer_free(r);
    }
    /* a return: a KOR in KSeF and a Fakturownia correction linked to the original */
    char *ret = example("order-return.json");
    char today[16];
    time_t now = time(NULL);
    struct tm u;
    gmtime_r(&now, &u);
    strftime(today, sizeof today, "%Y-%m-%d", &u);
    char *r1 = replace(ret, "5265877635-20250916-010040741B3E-46", ksef_number);
    char *r2 = replace(r1, "\"FV/2026/02/1\"", "\"__NUMBER__\"");
    char quoted[80];
    snprintf(quoted, sizeof quoted, "\"%s\"", number);
    char *r3 = replace(r2, "\"__NUMBER__\"", quoted);
    char issue[40];
    snprintf(issue, sizeof issue, "\"issue_date\": \"%s\"", today);
    char *r4 = replace(r3, "\"issue_date\": \"2026-02-15\"", issue);
    r = NULL;
    EXPECT_OK(ksef_paired_submit_order(q, STR(r4), STR("status"), &r));
    if (r) {
      CHECK(strstr(data(r), "\"status\":\"COMPLETED\"") != NULL);
      char of[256];
      json_str(data(r), "correction_of", of, sizeof of);
      CHECK(strcmp(of, job) == 0);
      ksef_buffer_free(r);
    }
    r = NULL;
    EXPECT_OK(ksef_paired_job_json(q, STR(job), &r));
    CHECK(r && strstr(data(r), "\"corrections\":[\"pl-main:100234-R1:") != NULL);
    ksef_buffer_free(r);
    free(ret);
    free(r1);
    free(r2);
    free(r3);
    free(r4);
    check_no_secret(q);
    ksef_paired_free(q);
  }
  ksef_buffer_free(st1);
  ksef_buffer_free(sj);
  ksef_buffer_free(sc);
  free(rules);
  free(b2b);
  free(b2c);
}

/* Simultaneous mode, a currency order: the NBP rate from the simulator, the document made at
 * once and the KSeF number written into it afterwards. Its own series (the KSeF duplicate
 * check is by seller and number). */
static void test_simultaneous_eur(void) {
  char *rules0 = example("rules.json");
  char *rules = replace(rules0, "FV/{YYYY}/{MM}/{seq}", "FS/{YYYY}/{MM}/{seq}");
  char *eur = example("order-eur.json");
  char sim_settings[1200];
  snprintf(sim_settings, sizeof sim_settings,
           "{\"store\":\"pl-main\",\"mode\":\"simultaneous\",\"fakturownia_url\":\"%s/fakturownia/\","
           "\"fakturownia_token\":\"" TOKEN "\",\"nbp_url\":\"%s/nbp\"}",
           host, host);
  ksef_client *c = new_client();
  ksef_paired *p = NULL;
  EXPECT_OK(ksef_paired_new(STR(rules), STR(sim_settings), &c, &p));
  if (p) {
    ksef_buffer *r = NULL;
    EXPECT_OK(ksef_paired_submit_order(p, STR(eur), STR("captured"), &r));
    if (r) {
      CHECK(strstr(data(r), "\"status\":\"COMPLETED\"") != NULL);
      CHECK(strstr(data(r), "\"number\":\"FS/") != NULL);
      ksef_buffer_free(r);
    }
    r = NULL;
    EXPECT_OK(ksef_paired_status_json(p, &r));
    if (r) {
      CHECK(strstr(data(r), "\"mode\":\"simultaneous\"") != NULL);
      CHECK(strstr(data(r), "\"discrepancies\":0") != NULL);
      char job[256];
      json_str(data(r), "job", job, sizeof job);
      ksef_buffer *j = NULL;
      EXPECT_OK(ksef_paired_job_json(p, STR(job), &j));
      CHECK(j && strstr(data(j), "<KodWaluty>EUR</KodWaluty>") != NULL);
      ksef_buffer_free(j);
      ksef_buffer_free(r);
    }
    r = NULL;
    EXPECT_OK(ksef_paired_audit_json(p, &r));
    CHECK(r && strstr(data(r), "\"operation\"") != NULL);
    ksef_buffer_free(r);
    /* an order of another store is refused */
    char *other = replace(eur, "\"pl-main\"", "\"b2b\"");
    r = NULL;
    EXPECT_ERR(KSEF_ERR_UNKNOWN_STORE, ksef_paired_submit_order(p, STR(other), NULL, 0, &r));
    free(other);
    EXPECT_ERR(KSEF_ERR_INVALID_ARGUMENT, ksef_paired_submit_order(p, STR(eur), STR("x"), &r));
    EXPECT_ERR(KSEF_ERR_JSON_SYNTAX, ksef_paired_submit_order(p, STR("{"), NULL, 0, &r));
    EXPECT_ERR(KSEF_ERR_ENCODING, ksef_paired_submit_order(p, "\xfe", 1, NULL, 0, &r));
    EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_paired_submit_order(NULL, STR(eur), NULL, 0, &r));
    EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_paired_submit_order(p, STR(eur), NULL, 0, NULL));
    EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_paired_run(NULL, &r));
    EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_paired_run(p, NULL));
    EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_paired_snapshot_json(NULL, &r));
    EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_paired_snapshot_cbor(p, NULL));
    EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_paired_status_json(NULL, &r));
    EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_paired_audit_json(p, NULL));
    EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_paired_retry(p, NULL, 2, &r));
    CHECK(r == NULL);
    ksef_paired_free(p);
  }
  ksef_client_free(c);
  free(rules0);
  free(rules);
  free(eur);
}

int main(void) {
  setup();
  test_rules_evaluate();
  test_new_errors();
  test_flow();
  test_simultaneous_eur();
  return check_done("test_paired");
}
