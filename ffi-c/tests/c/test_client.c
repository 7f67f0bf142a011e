/* The KSeF client over the built-in transport, against the loopback simulator: online and
 * batch sessions, statuses, UPOs, the inbox, connection test, logout, and the error paths. */
#define _POSIX_C_SOURCE 200809L
#include "client_util.h"

static ksef_client *new_client(void) {
  char *s = sim_settings(need_env("KSEF_SIM_URL"));
  ksef_client *c = NULL;
  EXPECT_OK(ksef_client_new(STR(s), &c));
  free(s);
  if (!c) exit(1);
  return c;
}

static void test_new_errors(void) {
  ksef_client *c = (ksef_client *)1;
  const char *ok = "{\"environment\":\"test\",\"nip\":\"5265877635\",\"ksef_token\":\"s3cr3t\"}";
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_client_new(STR(ok), NULL));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_client_new(NULL, 5, &c));
  EXPECT_ERR(KSEF_ERR_ENCODING, ksef_client_new("{\"\xff\":1}", 7, &c));
  EXPECT_ERR(KSEF_ERR_JSON_SYNTAX, ksef_client_new(STR("{"), &c));
  EXPECT_ERR(KSEF_ERR_INVALID_VALUE,
             ksef_client_new(STR("{\"environment\":\"test\",\"nip\":\"5265877635\",\"ksef_token\":\"s3cr3t\",\"x\":1}"), &c));
  char msg[512];
  ksef_last_error_message(msg, sizeof msg, NULL);
  CHECK(strstr(msg, "s3cr3t") == NULL);
  CHECK(c == (ksef_client *)1); /* outputs untouched on failure */
  EXPECT_OK(ksef_client_new(STR(ok), &c));
  ksef_client_free(c);
  ksef_client_free(NULL);
}

static void test_argument_errors(void) {
  ksef_client *c = new_client();
  ksef_buffer *r = NULL;
  char *inv = make_invoice("ARG", 0, 0);
  const uint8_t *invs[1] = {(const uint8_t *)inv};
  size_t lens[1] = {strlen(inv)};
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_client_authenticate(c, NULL));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_client_authenticate(NULL, &r));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_client_send_online(NULL, STR("FA(3)"), invs, lens, 1, false, &r));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_client_send_online(c, STR("FA(3)"), invs, lens, 1, false, NULL));
  EXPECT_ERR(KSEF_ERR_INVALID_ARGUMENT, ksef_client_send_online(c, STR("FA(3)"), invs, lens, 0, false, &r));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_client_send_online(c, STR("FA(3)"), NULL, lens, 1, false, &r));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_client_send_online(c, STR("FA(3)"), invs, NULL, 1, false, &r));
  EXPECT_ERR(KSEF_ERR_INVALID_VALUE, ksef_client_send_online(c, STR("PEF"), invs, lens, 1, false, &r));
  EXPECT_ERR(KSEF_ERR_ENCODING, ksef_client_send_online(c, "FA\xff", 3, invs, lens, 1, false, &r));
  size_t zero[1] = {0};
  EXPECT_ERR(KSEF_ERR_INVALID_ARGUMENT, ksef_client_send_online(c, STR("FA(3)"), invs, zero, 1, false, &r));
  const uint8_t *nulls[1] = {NULL};
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_client_send_online(c, STR("FA(3)"), nulls, lens, 1, false, &r));
  EXPECT_ERR(KSEF_ERR_INVALID_ARGUMENT, ksef_client_send_batch(c, STR("FA(3)"), invs, lens, 0, false, &r));
  EXPECT_ERR(KSEF_ERR_INVALID_VALUE, ksef_client_send_batch(c, STR("FA(9)"), invs, lens, 1, false, &r));
  EXPECT_ERR(KSEF_ERR_INVALID_ARGUMENT, ksef_client_session_status(c, STR(" "), &r));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_client_session_status(c, NULL, 3, &r));
  EXPECT_ERR(KSEF_ERR_INVALID_ARGUMENT, ksef_client_invoice_status(c, STR("S"), STR(""), &r));
  EXPECT_ERR(KSEF_ERR_ENCODING, ksef_client_invoice_status(c, "\xc3", 1, STR("I"), &r));
  EXPECT_ERR(KSEF_ERR_INVALID_ARGUMENT, ksef_client_session_invoices(c, STR(""), false, &r));
  EXPECT_ERR(KSEF_ERR_INVALID_VALUE, ksef_client_download_upo(c, STR("{\"session\":\"S\"}"), &r));
  EXPECT_ERR(KSEF_ERR_JSON_SYNTAX, ksef_client_download_upo(c, STR("{"), &r));
  EXPECT_ERR(KSEF_ERR_INVALID_VALUE, ksef_client_inbox_query(c, STR("{\"subject\":\"me\",\"from\":\"2026-01-01\"}"), &r));
  char path[64];
  ksef_last_error_path(path, sizeof path, NULL);
  CHECK(strcmp(path, "subject") == 0);
  EXPECT_ERR(KSEF_ERR_JSON_SYNTAX, ksef_client_inbox_query(c, STR("[1"), &r));
  EXPECT_ERR(KSEF_ERR_INVALID_VALUE, ksef_client_inbox_export(c, STR("{\"from\":\"x\"}"), &r));
  EXPECT_ERR(KSEF_ERR_INVALID_ARGUMENT, ksef_client_inbox_download(c, STR(""), &r));
  EXPECT_ERR(KSEF_ERR_INVALID_VALUE, ksef_client_generate_token(c, STR("{\"permissions\":[\"All\"],\"description\":\"x\"}"), &r));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_client_test_connection(c, NULL));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_client_logout(NULL, &r));
  CHECK(r == NULL);
  free(inv);
  ksef_client_free(c);
}

static void test_unreachable(void) {
  /* nothing listens on port 1: a transport failure, after the retries */
  char *s = sim_settings("http://127.0.0.1:1/v2");
  ksef_client *c = NULL;
  EXPECT_OK(ksef_client_new(STR(s), &c));
  ksef_buffer *r = NULL;
  EXPECT_ERR(KSEF_ERR_TRANSPORT, ksef_client_authenticate(c, &r));
  CHECK(r == NULL);
  char path[128];
  ksef_last_error_path(path, sizeof path, NULL);
  CHECK(strstr(path, "public key") != NULL || strstr(path, "/auth/challenge") != NULL);
  /* a connection test is never a failure: its verdict names the step */
  EXPECT_OK(ksef_client_test_connection(c, &r));
  CHECK(jis(r, "/type", "connection"));
  CHECK(jis(r, "/ok", "false"));
  CHECK(jis(r, "/steps/0/error/name", "transport"));
  ksef_buffer_free(r);
  free(s);
  ksef_client_free(c);
}

static void test_json_get(void) {
  ksef_buffer *v = NULL;
  const char *doc = "{\"a\":[1,{\"b\":\"x\\\"y\"}],\"n\":null}";
  EXPECT_OK(ksef_json_get(STR(doc), STR("/a/1/b"), &v));
  CHECK(strcmp((const char *)ksef_buffer_data(v), "x\"y") == 0);
  ksef_buffer_free(v);
  EXPECT_OK(ksef_json_get(STR(doc), STR("/a/0"), &v));
  CHECK(strcmp((const char *)ksef_buffer_data(v), "1") == 0);
  ksef_buffer_free(v);
  EXPECT_OK(ksef_json_get(STR(doc), STR("/n"), &v));
  CHECK(strcmp((const char *)ksef_buffer_data(v), "null") == 0);
  ksef_buffer_free(v);
  v = NULL;
  EXPECT_ERR(KSEF_ERR_INVALID_ARGUMENT, ksef_json_get(STR(doc), STR("/a/7"), &v));
  EXPECT_ERR(KSEF_ERR_JSON_SYNTAX, ksef_json_get(STR("{"), STR(""), &v));
  EXPECT_ERR(KSEF_ERR_ENCODING, ksef_json_get("\"\xff\"", 3, STR(""), &v));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_json_get(STR(doc), STR(""), NULL));
  CHECK(v == NULL);
}

static void test_online_and_after(void) {
  ksef_client *c = new_client();
  ksef_buffer *r = NULL;
  EXPECT_OK(ksef_client_authenticate(c, &r));
  CHECK(jis(r, "/type", "authenticated"));
  char *ref = jget(r, "/reference");
  CHECK(ref && strlen(ref) > 0);
  free(ref);
  ksef_buffer_free(r);

  /* one good invoice, one KSeF refuses (issued in the future): the call succeeds */
  char *good = make_invoice("ONL", 1, 0), *bad = make_invoice("ONL", 2, 1);
  const uint8_t *invs[2] = {(const uint8_t *)good, (const uint8_t *)bad};
  size_t lens[2] = {strlen(good), strlen(bad)};
  r = NULL;
  EXPECT_OK(ksef_client_send_online(c, STR("FA(3)"), invs, lens, 2, false, &r));
  if (!r) exit(1);
  CHECK(jis(r, "/type", "online"));
  CHECK(jis(r, "/accepted", "1"));
  CHECK(jis(r, "/invoices/0/index", "0"));
  CHECK(jis(r, "/invoices/0/accepted", "true"));
  CHECK(jis(r, "/invoices/0/error", "null"));
  CHECK(jis(r, "/invoices/1/accepted", "false"));
  CHECK(jis(r, "/invoices/1/ksef_number", "null"));
  CHECK(jis(r, "/invoices/1/error/name", "invoice_rejected"));
  char *code = jget(r, "/invoices/1/status/status/code"); /* 4xx: refused by KSeF */
  CHECK(code && code[0] == '4' && strlen(code) == 3);
  free(code);
  char *number = jget(r, "/invoices/0/ksef_number");
  char *session = jget(r, "/session");
  char *inv_ref = jget(r, "/invoices/0/reference");
  char *upo = jget(r, "/invoices/0/upo");
  char *session_upo = jget(r, "/session_upo/0");
  CHECK(number && strncmp(number, SELLER_NIP "-", 11) == 0);
  if (number) EXPECT_OK(ksef_ksef_number_check(STR(number)));
  CHECK(upo && number && strstr(upo, number) != NULL);
  CHECK(session_upo && strstr(session_upo, "Potwierdzenie") != NULL);
  ksef_buffer_free(r);
  if (!number || !session || !inv_ref) exit(1);

  r = NULL;
  EXPECT_OK(ksef_client_session_status(c, STR(session), &r));
  CHECK(jis(r, "/type", "session_status"));
  CHECK(jis(r, "/status/code", "200"));
  CHECK(jis(r, "/invoice_count", "2"));
  CHECK(jis(r, "/successful_invoice_count", "1"));
  ksef_buffer_free(r);

  r = NULL;
  EXPECT_OK(ksef_client_invoice_status(c, STR(session), STR(inv_ref), &r));
  CHECK(jis(r, "/type", "invoice_status"));
  CHECK(jis(r, "/ksef_number", number));
  CHECK(jis(r, "/status/code", "200"));
  ksef_buffer_free(r);

  r = NULL;
  EXPECT_OK(ksef_client_session_invoices(c, STR(session), false, &r));
  CHECK(jis(r, "/type", "invoices"));
  CHECK(jis(r, "/invoices/1/ordinal_number", "2"));
  ksef_buffer_free(r);
  r = NULL;
  EXPECT_OK(ksef_client_session_invoices(c, STR(session), true, &r));
  CHECK(jis(r, "/invoices/0/ordinal_number", "2"));
  ksef_buffer_free(r);

  char upo_q[512];
  snprintf(upo_q, sizeof upo_q, "{\"session\":\"%s\",\"ksef_number\":\"%s\"}", session, number);
  r = NULL;
  EXPECT_OK(ksef_client_download_upo(c, STR(upo_q), &r));
  CHECK(jis(r, "/type", "upo"));
  char *xml = jget(r, "/xml");
  CHECK(xml && strstr(xml, number) != NULL);
  free(xml);
  ksef_buffer_free(r);
  /* an unknown session: KSeF's error, as the result code */
  r = NULL;
  CHECK(ksef_client_session_status(c, STR("20990101-SO-0000000000-0000000000-00"), &r) != KSEF_OK);
  CHECK(r == NULL);

  r = NULL;
  EXPECT_OK(ksef_client_inbox_download(c, STR(number), &r));
  CHECK(jis(r, "/type", "invoice"));
  CHECK(jis(r, "/schema", "FA(3)"));
  CHECK(jis(r, "/parse_error", "null"));
  xml = jget(r, "/xml");
  CHECK(xml && strcmp(xml, good) == 0);
  free(xml);
  ksef_buffer_free(r);

  r = NULL;
  EXPECT_OK(ksef_client_inbox_query(c, STR("{\"subject\":\"seller\",\"date_type\":\"invoicing\",\"from\":\"2026-01-01T00:00:00\",\"limit\":1000}"), &r));
  CHECK(jis(r, "/type", "metadata"));
  char *found = r ? strstr((const char *)ksef_buffer_data(r), number) : NULL;
  CHECK(found != NULL);
  CHECK(jis(r, "/invoices/0/currency", "PLN"));
  ksef_buffer_free(r);

  r = NULL;
  EXPECT_OK(ksef_client_inbox_export(c, STR("{\"subject\":\"seller\",\"date_type\":\"invoicing\",\"from\":\"2026-01-01T00:00:00\"}"), &r));
  CHECK(jis(r, "/type", "export"));
  CHECK(r && strstr((const char *)ksef_buffer_data(r), number) != NULL);
  ksef_buffer_free(r);

  /* KSeF gives tokens only to certificate-authenticated sessions: an error here */
  r = NULL;
  CHECK(ksef_client_generate_token(c, STR("{\"permissions\":[\"InvoiceRead\"],\"description\":\"C test\"}"), &r) != KSEF_OK);
  CHECK(r == NULL);

  r = NULL;
  EXPECT_OK(ksef_client_logout(c, &r));
  CHECK(jis(r, "/type", "terminated"));
  ksef_buffer_free(r);
  r = NULL;
  EXPECT_OK(ksef_client_test_connection(c, &r));
  CHECK(jis(r, "/type", "connection"));
  CHECK(jis(r, "/ok", "true"));
  ksef_buffer_free(r);

  free(number);
  free(session);
  free(inv_ref);
  free(upo);
  free(session_upo);
  free(good);
  free(bad);
  ksef_client_free(c);
}

static void test_batch(void) {
  ksef_client *c = new_client();
  char *a = make_invoice("BAT", 1, 0), *b = make_invoice("BAT", 2, 0);
  const uint8_t *invs[2] = {(const uint8_t *)a, (const uint8_t *)b};
  size_t lens[2] = {strlen(a), strlen(b)};
  ksef_buffer *r = NULL;
  EXPECT_OK(ksef_client_send_batch(c, STR("FA (3)"), invs, lens, 2, false, &r));
  CHECK(jis(r, "/type", "batch"));
  CHECK(jis(r, "/accepted", "2"));
  CHECK(jis(r, "/invoices/1/index", "1"));
  char *n = jget(r, "/invoices/1/ksef_number");
  CHECK(n != NULL);
  if (n) EXPECT_OK(ksef_ksef_number_check(STR(n)));
  free(n);
  ksef_buffer_free(r);
  /* the same invoices again: duplicates, refused per invoice */
  r = NULL;
  EXPECT_OK(ksef_client_send_batch(c, STR("FA(3)"), invs, lens, 2, false, &r));
  CHECK(jis(r, "/accepted", "0"));
  CHECK(jis(r, "/invoices/0/error/name", "duplicate"));
  ksef_buffer_free(r);
  free(a);
  free(b);
  ksef_client_free(c);
}

int main(void) {
  test_new_errors();
  test_json_get();
  test_argument_errors();
  test_online_and_after();
  test_batch();
  test_unreachable();
  return check_done("test_client");
}
