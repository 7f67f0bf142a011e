/* The host-driven (sans-IO) client: the test is the host, with a tiny HTTP/1.1 client over
 * plain sockets (loopback only, `Connection: close`), against the simulator; plus the
 * error paths (wrong request ids, bad statuses and headers, transport failures, cancel). */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>

#include "client_util.h"

static uint64_t now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

static void sleep_ms(uint64_t ms) {
  struct timespec t = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
  nanosleep(&t, NULL);
}

/* A growing byte string. */
typedef struct {
  char *p;
  size_t n, cap;
} sbuf;

static void sb_add(sbuf *b, const void *data, size_t n) {
  if (b->n + n + 1 > b->cap) {
    b->cap = (b->n + n + 1) * 2;
    b->p = realloc(b->p, b->cap);
  }
  memcpy(b->p + b->n, data, n);
  b->n += n;
  b->p[b->n] = 0;
}

static void sb_str(sbuf *b, const char *s) { sb_add(b, s, strlen(s)); }

/* Appends `s` as a JSON string. */
static void sb_json_str(sbuf *b, const char *s, size_t n) {
  sb_str(b, "\"");
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') {
      char e[2] = {'\\', (char)c};
      sb_add(b, e, 2);
    } else if (c < 0x20) {
      char e[8];
      snprintf(e, sizeof e, "\\u%04x", c);
      sb_str(b, e);
    } else {
      sb_add(b, &s[i], 1);
    }
  }
  sb_str(b, "\"");
}

/* An HTTP answer: status, headers as JSON pairs, body. */
typedef struct {
  int status;
  sbuf headers;
  sbuf body;
} answer;

/* Sends `r` to its loopback http:// URL and reads the answer. 0 on success, -1 when the
 * connection fails (the caller reports a transport error). */
static int http_exchange(const ksef_request *r, answer *a) {
  const char *url = ksef_request_url(r);
  if (strncmp(url, "http://127.0.0.1:", 17) != 0) {
    fprintf(stderr, "not a loopback URL: %s\n", url);
    return -1;
  }
  int port = atoi(url + 17);
  const char *path = strchr(url + 17, '/');
  if (!path) path = "/";
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    if (fd >= 0) close(fd);
    return -1;
  }
  sbuf req = {0};
  char line[256];
  sb_str(&req, ksef_request_method(r));
  sb_str(&req, " ");
  sb_str(&req, path);
  snprintf(line, sizeof line, " HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\nContent-Length: %zu\r\n",
           port, ksef_request_body_len(r));
  sb_str(&req, line);
  /* the headers, read pair by pair with ksef_json_get (no JSON parser here) */
  const char *hj = ksef_request_headers_json(r);
  for (int i = 0;; i++) {
    char ptr[32];
    ksef_buffer *name = NULL, *value = NULL;
    snprintf(ptr, sizeof ptr, "/%d/0", i);
    if (ksef_json_get(STR(hj), STR(ptr), &name) != KSEF_OK) break;
    snprintf(ptr, sizeof ptr, "/%d/1", i);
    EXPECT_OK(ksef_json_get(STR(hj), STR(ptr), &value));
    sb_add(&req, ksef_buffer_data(name), ksef_buffer_len(name));
    sb_str(&req, ": ");
    sb_add(&req, ksef_buffer_data(value), ksef_buffer_len(value));
    sb_str(&req, "\r\n");
    ksef_buffer_free(name);
    ksef_buffer_free(value);
  }
  sb_str(&req, "\r\n");
  if (ksef_request_body_len(r) > 0) sb_add(&req, ksef_request_body(r), ksef_request_body_len(r));
  size_t sent = 0;
  while (sent < req.n) {
    ssize_t k = send(fd, req.p + sent, req.n - sent, 0);
    if (k <= 0) break;
    sent += (size_t)k;
  }
  free(req.p);
  sbuf in = {0};
  char chunk[65536];
  ssize_t k;
  while ((k = recv(fd, chunk, sizeof chunk, 0)) > 0) sb_add(&in, chunk, (size_t)k);
  close(fd);
  char *end = in.p ? strstr(in.p, "\r\n\r\n") : NULL;
  if (!end || sscanf(in.p, "HTTP/1.%*d %d", &a->status) != 1) {
    free(in.p);
    return -1;
  }
  /* headers: lines after the status line */
  memset(&a->headers, 0, sizeof a->headers);
  memset(&a->body, 0, sizeof a->body);
  sb_str(&a->headers, "[");
  char *p = strstr(in.p, "\r\n") + 2;
  int first = 1;
  while (p < end) {
    char *eol = strstr(p, "\r\n");
    char *colon = memchr(p, ':', (size_t)(eol - p));
    if (colon) {
      char *v = colon + 1;
      while (*v == ' ') v++;
      if (!first) sb_str(&a->headers, ",");
      first = 0;
      sb_str(&a->headers, "[");
      sb_json_str(&a->headers, p, (size_t)(colon - p));
      sb_str(&a->headers, ",");
      sb_json_str(&a->headers, v, (size_t)(eol - v));
      sb_str(&a->headers, "]");
    }
    p = eol + 2;
  }
  sb_str(&a->headers, "]");
  size_t body_at = (size_t)(end + 4 - in.p);
  sb_add(&a->body, in.p + body_at, in.n - body_at); /* Connection: close: the rest is the body */
  free(in.p);
  return 0;
}

/* Pumps the client until it is idle, sending every request over a socket; collects the
 * events (as one JSON array text) and returns the `finished` event of `op` (caller frees). */
static ksef_buffer *pump(ksef_client *c, uint64_t op, sbuf *events, int *requests) {
  ksef_buffer *finished = NULL;
  for (int guard = 0; guard < 100000; guard++) {
    ksef_buffer *e = NULL;
    while (ksef_client_poll_event(c, &e) == KSEF_OK && e) {
      if (events) {
        sb_str(events, events->n ? "," : "[");
        sb_add(events, ksef_buffer_data(e), ksef_buffer_len(e));
      }
      char *type = jget(e, "/type"), *id = jget(e, "/op");
      if (type && strcmp(type, "finished") == 0 && id && strtoull(id, NULL, 10) == op) {
        ksef_buffer_free(finished);
        finished = e;
        e = NULL;
      }
      free(type);
      free(id);
      ksef_buffer_free(e);
      e = NULL;
    }
    if (ksef_client_is_idle(c)) break;
    ksef_request *r = NULL;
    EXPECT_OK(ksef_client_poll_transmit(c, now_ms(), &r));
    if (r) {
      (*requests)++;
      answer a;
      if (http_exchange(r, &a) == 0) {
        EXPECT_OK(ksef_client_handle_response(c, now_ms(), ksef_request_id(r), (uint16_t)a.status,
                                              a.headers.p, a.headers.n, (const uint8_t *)a.body.p, a.body.n));
        free(a.headers.p);
        free(a.body.p);
      } else {
        EXPECT_OK(ksef_client_handle_transport_error(c, now_ms(), ksef_request_id(r), STR("connect"),
                                                     STR("cannot connect")));
      }
      ksef_request_free(r);
      continue;
    }
    uint64_t at = 0;
    bool has = false;
    EXPECT_OK(ksef_client_poll_timeout(c, &at, &has));
    if (has) {
      uint64_t now = now_ms();
      if (at > now) sleep_ms(at - now);
    } else if (!ksef_client_is_idle(c)) {
      fprintf(stderr, "not idle, nothing to send and no deadline\n");
      check_failures++;
      break;
    }
  }
  if (events && events->n) sb_str(events, "]");
  return finished;
}

static ksef_client *new_sansio(const uint8_t *seed) {
  char *s = sim_settings(need_env("KSEF_SIM_URL"));
  ksef_client *c = NULL;
  EXPECT_OK(ksef_client_new_sansio(STR(s), seed, &c));
  free(s);
  if (!c) exit(1);
  return c;
}

static void test_online_over_sockets(void) {
  uint8_t seed[32];
  for (int i = 0; i < 32; i++) seed[i] = (uint8_t)(i * 7 + 1);
  ksef_client *c = new_sansio(seed);
  CHECK(ksef_client_is_idle(c));
  char *a = make_invoice("SIO", 1, 0), *b = make_invoice("SIO", 2, 0);
  const uint8_t *invs[2] = {(const uint8_t *)a, (const uint8_t *)b};
  size_t lens[2] = {strlen(a), strlen(b)};
  uint64_t op = 0;
  EXPECT_OK(ksef_client_start_send_online(c, STR("FA(3)"), invs, lens, 2, false, &op));
  CHECK(op > 0);
  CHECK(!ksef_client_is_idle(c));
  /* the inputs were copied */
  memset(a, 'x', strlen(a));
  free(a);
  sbuf events = {0};
  int requests = 0;
  ksef_buffer *fin = pump(c, op, &events, &requests);
  CHECK(fin != NULL);
  CHECK(requests >= 8); /* keys, challenge, token, status, redeem, open, 2 sends, close, ... */
  CHECK(jis(fin, "/ok", "true"));
  CHECK(jis(fin, "/output/type", "online"));
  CHECK(jis(fin, "/output/accepted", "2"));
  char *n = jget(fin, "/output/invoices/1/ksef_number");
  CHECK(n != NULL);
  if (n) EXPECT_OK(ksef_ksef_number_check(STR(n)));
  char *upo = jget(fin, "/output/invoices/1/upo");
  CHECK(upo && n && strstr(upo, n) != NULL);
  char *session = jget(fin, "/output/session");
  free(upo);
  /* the events: authenticated, session opened, two invoices sent, finished */
  ksef_buffer *ev = NULL;
  CHECK(strstr(events.p, "\"type\":\"authenticated\"") != NULL);
  CHECK(strstr(events.p, "\"type\":\"session_opened\"") != NULL);
  CHECK(strstr(events.p, "\"type\":\"invoice_sent\"") != NULL);
  EXPECT_OK(ksef_client_poll_event(c, &ev));
  CHECK(ev == NULL); /* drained */
  ksef_buffer_free(fin);
  free(events.p);

  /* a second operation on the same client: the tokens are reused */
  if (n && session) {
    char q[512];
    snprintf(q, sizeof q, "{\"session\":\"%s\",\"ksef_number\":\"%s\"}", session, n);
    EXPECT_OK(ksef_client_start_download_upo(c, STR(q), &op));
    requests = 0;
    fin = pump(c, op, NULL, &requests);
    CHECK(requests == 1);
    CHECK(jis(fin, "/output/type", "upo"));
    ksef_buffer_free(fin);
    EXPECT_OK(ksef_client_start_session_status(c, STR(session), &op));
    fin = pump(c, op, NULL, &requests);
    CHECK(jis(fin, "/output/status/code", "200"));
    ksef_buffer_free(fin);
    EXPECT_OK(ksef_client_start_inbox_download(c, STR(n), &op));
    fin = pump(c, op, NULL, &requests);
    CHECK(jis(fin, "/output/schema", "FA(3)"));
    ksef_buffer_free(fin);
    EXPECT_OK(ksef_client_start_logout(c, &op));
    fin = pump(c, op, NULL, &requests);
    CHECK(jis(fin, "/output/type", "terminated"));
    ksef_buffer_free(fin);
  }
  free(n);
  free(session);
  free(b);
  ksef_client_free(c);
}

static void test_other_ops_over_sockets(void) {
  ksef_client *c = new_sansio(NULL);
  uint64_t op = 0, op2 = 0;
  int requests = 0;
  /* two operations queued: they run one after the other */
  EXPECT_OK(ksef_client_start_authenticate(c, &op));
  EXPECT_OK(ksef_client_start_test_connection(c, &op2));
  CHECK(op2 > op);
  ksef_buffer *fin = pump(c, op, NULL, &requests);
  CHECK(jis(fin, "/output/type", "authenticated"));
  ksef_buffer_free(fin);
  /* op2 finished during the same pump, its event drained: run the test again */
  EXPECT_OK(ksef_client_start_test_connection(c, &op2));
  fin = pump(c, op2, NULL, &requests);
  CHECK(jis(fin, "/output/ok", "true"));
  ksef_buffer_free(fin);

  char *a = make_invoice("SIB", 1, 0);
  const uint8_t *invs[1] = {(const uint8_t *)a};
  size_t lens[1] = {strlen(a)};
  EXPECT_OK(ksef_client_start_send_batch(c, STR("FA(3)"), invs, lens, 1, false, &op));
  fin = pump(c, op, NULL, &requests);
  CHECK(jis(fin, "/output/type", "batch"));
  CHECK(jis(fin, "/output/accepted", "1"));
  char *session = jget(fin, "/output/session"), *ref = jget(fin, "/output/invoices/0/reference");
  ksef_buffer_free(fin);
  if (session && ref) {
    EXPECT_OK(ksef_client_start_invoice_status(c, STR(session), STR(ref), &op));
    fin = pump(c, op, NULL, &requests);
    CHECK(jis(fin, "/output/status/code", "200"));
    ksef_buffer_free(fin);
    EXPECT_OK(ksef_client_start_session_invoices(c, STR(session), false, &op));
    fin = pump(c, op, NULL, &requests);
    CHECK(jis(fin, "/output/invoices/0/ordinal_number", "1"));
    ksef_buffer_free(fin);
  }
  free(session);
  free(ref);
  EXPECT_OK(ksef_client_start_inbox_query(c, STR("{\"subject\":\"seller\",\"from\":\"2026-01-01T00:00:00\",\"limit\":1}"), &op));
  fin = pump(c, op, NULL, &requests);
  CHECK(jis(fin, "/output/type", "metadata"));
  CHECK(jis(fin, "/output/limited", "true"));
  ksef_buffer_free(fin);
  EXPECT_OK(ksef_client_start_inbox_export(c, STR("{\"subject\":\"seller\",\"from\":\"2026-01-01T00:00:00\"}"), &op));
  fin = pump(c, op, NULL, &requests);
  CHECK(jis(fin, "/output/type", "export"));
  ksef_buffer_free(fin);
  /* a token needs a certificate-authenticated session: the operation fails */
  EXPECT_OK(ksef_client_start_generate_token(c, STR("{\"permissions\":[\"InvoiceRead\"],\"description\":\"C\"}"), &op));
  fin = pump(c, op, NULL, &requests);
  CHECK(jis(fin, "/ok", "false"));
  char *code = jget(fin, "/error/code");
  CHECK(code && atoi(code) > 0);
  free(code);
  ksef_buffer_free(fin);
  free(a);
  ksef_client_free(c);
}

static void test_errors(void) {
  ksef_client *c = NULL;
  uint8_t seed[32] = {1};
  const char *ok = "{\"base_url\":\"http://127.0.0.1:1/v2\",\"nip\":\"5265877635\",\"ksef_token\":\"s3cr3t\"}";
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_client_new_sansio(STR(ok), seed, NULL));
  EXPECT_ERR(KSEF_ERR_ENCODING, ksef_client_new_sansio("\xff", 1, seed, &c));
  EXPECT_ERR(KSEF_ERR_JSON_SYNTAX, ksef_client_new_sansio(STR("{"), seed, &c));
  EXPECT_ERR(KSEF_ERR_INVALID_VALUE, ksef_client_new_sansio(STR("{\"nip\":\"5265877635\"}"), seed, &c));
  CHECK(c == NULL);
  EXPECT_OK(ksef_client_new_sansio(STR(ok), seed, &c));

  /* the built-in calls refuse a host-driven client; the sans-IO calls a built-in one */
  ksef_buffer *r = NULL;
  EXPECT_ERR(KSEF_ERR_INVALID_ARGUMENT, ksef_client_authenticate(c, &r));
  ksef_client *builtin = NULL;
  EXPECT_OK(ksef_client_new(STR(ok), &builtin));
  uint64_t op = 0;
  ksef_request *req = NULL;
  EXPECT_ERR(KSEF_ERR_INVALID_ARGUMENT, ksef_client_start_authenticate(builtin, &op));
  EXPECT_ERR(KSEF_ERR_INVALID_ARGUMENT, ksef_client_poll_transmit(builtin, now_ms(), &req));
  EXPECT_ERR(KSEF_ERR_INVALID_ARGUMENT, ksef_client_handle_response(builtin, 0, 1, 200, NULL, 0, NULL, 0));
  ksef_client_free(builtin);

  /* argument checks of the start calls */
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_client_start_authenticate(c, NULL));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_client_start_logout(NULL, &op));
  const uint8_t *invs[1] = {(const uint8_t *)"<x/>"};
  size_t lens[1] = {4};
  EXPECT_ERR(KSEF_ERR_INVALID_VALUE, ksef_client_start_send_online(c, STR("FA(1)"), invs, lens, 1, false, &op));
  EXPECT_ERR(KSEF_ERR_INVALID_ARGUMENT, ksef_client_start_send_batch(c, STR("FA(3)"), invs, lens, 0, false, &op));
  EXPECT_ERR(KSEF_ERR_ENCODING, ksef_client_start_session_status(c, "\xff", 1, &op));
  EXPECT_ERR(KSEF_ERR_INVALID_ARGUMENT, ksef_client_start_invoice_status(c, STR("S"), STR(""), &op));
  EXPECT_ERR(KSEF_ERR_INVALID_ARGUMENT, ksef_client_start_session_invoices(c, STR(""), true, &op));
  EXPECT_ERR(KSEF_ERR_INVALID_VALUE, ksef_client_start_download_upo(c, STR("{\"session\":\"S\",\"x\":1}"), &op));
  EXPECT_ERR(KSEF_ERR_JSON_SYNTAX, ksef_client_start_inbox_query(c, STR("nope"), &op));
  EXPECT_ERR(KSEF_ERR_INVALID_VALUE, ksef_client_start_inbox_export(c, STR("{}"), &op));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_client_start_inbox_download(c, NULL, 1, &op));
  EXPECT_ERR(KSEF_ERR_INVALID_VALUE, ksef_client_start_generate_token(c, STR("{\"permissions\":[]}"), &op));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_client_start_test_connection(c, NULL));
  CHECK(op == 0);
  CHECK(ksef_client_is_idle(c));

  /* nothing to do: no request, no deadline, no event */
  req = (ksef_request *)1;
  EXPECT_OK(ksef_client_poll_transmit(c, now_ms(), &req));
  CHECK(req == NULL);
  uint64_t at = 1;
  bool has = true;
  EXPECT_OK(ksef_client_poll_timeout(c, &at, &has));
  CHECK(!has && at == 0);
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_client_poll_timeout(c, NULL, &has));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_client_poll_timeout(NULL, &at, &has));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_client_poll_event(c, NULL));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_client_poll_transmit(c, 0, NULL));

  /* a request, answered wrongly, then with transport failures until the client gives up */
  uint64_t t = 1700000000000ull;
  EXPECT_OK(ksef_client_start_authenticate(c, &op));
  EXPECT_OK(ksef_client_poll_transmit(c, t, &req));
  CHECK(req != NULL);
  if (!req) exit(1);
  CHECK(strcmp(ksef_request_method(req), "POST") == 0);
  CHECK(strcmp(ksef_request_url(req), "http://127.0.0.1:1/v2/auth/challenge") == 0);
  CHECK(ksef_request_headers_json(req)[0] == '[');
  CHECK(strstr(ksef_request_headers_json(req), "s3cr3t") == NULL);
  CHECK(ksef_request_body(req) == NULL && ksef_request_body_len(req) == 0);
  uint64_t id = ksef_request_id(req);
  CHECK(id > 0);
  /* while in flight: nothing else to send, no deadline */
  ksef_request *none = (ksef_request *)1;
  EXPECT_OK(ksef_client_poll_transmit(c, t, &none));
  CHECK(none == NULL);
  EXPECT_OK(ksef_client_poll_timeout(c, &at, &has));
  CHECK(!has);
  EXPECT_ERR(KSEF_ERR_INVALID_ARGUMENT, ksef_client_handle_response(c, t, id + 1000, 200, NULL, 0, NULL, 0));
  char path[64];
  ksef_last_error_path(path, sizeof path, NULL);
  CHECK(strcmp(path, "request_id") == 0);
  EXPECT_ERR(KSEF_ERR_INVALID_ARGUMENT, ksef_client_handle_response(c, t, id, 42, NULL, 0, NULL, 0));
  EXPECT_ERR(KSEF_ERR_JSON_SYNTAX, ksef_client_handle_response(c, t, id, 200, STR("[["), NULL, 0));
  EXPECT_ERR(KSEF_ERR_INVALID_VALUE, ksef_client_handle_response(c, t, id, 200, STR("[[1,2]]"), NULL, 0));
  EXPECT_ERR(KSEF_ERR_ENCODING, ksef_client_handle_response(c, t, id, 200, "\xff", 1, NULL, 0));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_client_handle_response(c, t, id, 200, NULL, 0, NULL, 5));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_client_handle_response(NULL, t, id, 200, NULL, 0, NULL, 0));
  EXPECT_ERR(KSEF_ERR_INVALID_VALUE, ksef_client_handle_transport_error(c, t, id, STR("boom"), STR("x")));
  EXPECT_ERR(KSEF_ERR_ENCODING, ksef_client_handle_transport_error(c, t, id, STR("io"), "\xff", 1));
  EXPECT_ERR(KSEF_ERR_INVALID_ARGUMENT, ksef_client_handle_transport_error(c, t, id + 1, STR("io"), STR("x")));
  int retries = 0, rounds = 0;
  ksef_buffer *fin = NULL;
  while (req && rounds++ < 50) {
    id = ksef_request_id(req);
    ksef_request_free(req);
    req = NULL;
    EXPECT_OK(ksef_client_handle_transport_error(c, t, id, STR("connect"), STR("connection refused")));
    /* answered once only */
    EXPECT_ERR(KSEF_ERR_INVALID_ARGUMENT, ksef_client_handle_transport_error(c, t, id, STR("connect"), STR("x")));
    ksef_buffer *e = NULL;
    while (ksef_client_poll_event(c, &e) == KSEF_OK && e) {
      char *type = jget(e, "/type");
      if (type && strcmp(type, "retrying") == 0) retries++;
      if (type && strcmp(type, "finished") == 0) {
        ksef_buffer_free(fin);
        fin = e;
        e = NULL;
      }
      free(type);
      ksef_buffer_free(e);
    }
    EXPECT_OK(ksef_client_poll_timeout(c, &at, &has));
    if (has) t = at; /* the host's clock jumps to the deadline: no real waiting */
    EXPECT_OK(ksef_client_poll_transmit(c, t, &req));
  }
  CHECK(retries >= 1);
  CHECK(fin != NULL);
  CHECK(jis(fin, "/ok", "false"));
  CHECK(jis(fin, "/error/name", "transport"));
  CHECK(fin && strstr((const char *)ksef_buffer_data(fin), "s3cr3t") == NULL);
  ksef_buffer_free(fin);
  CHECK(ksef_client_is_idle(c));

  /* cancel: a queued operation is dropped with a `cancelled` finish */
  bool cancelled = false;
  EXPECT_OK(ksef_client_start_session_status(c, STR("20260101-SO-1"), &op));
  EXPECT_OK(ksef_client_cancel(c, op, &cancelled));
  CHECK(cancelled);
  EXPECT_OK(ksef_client_cancel(c, op, &cancelled));
  CHECK(!cancelled);
  EXPECT_OK(ksef_client_cancel(c, 999, NULL));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_client_cancel(NULL, op, &cancelled));
  ksef_buffer *e = NULL;
  EXPECT_OK(ksef_client_poll_event(c, &e));
  CHECK(jis(e, "/type", "finished"));
  CHECK(jis(e, "/error/name", "cancelled"));
  ksef_buffer_free(e);
  /* a running operation with a request in flight: its late answer is ignored */
  EXPECT_OK(ksef_client_start_authenticate(c, &op));
  EXPECT_OK(ksef_client_poll_transmit(c, t, &req));
  CHECK(req != NULL);
  EXPECT_OK(ksef_client_cancel(c, op, &cancelled));
  CHECK(cancelled);
  CHECK(ksef_client_is_idle(c));
  EXPECT_OK(ksef_client_handle_response(c, t, ksef_request_id(req), 200, STR("{\"Content-Type\":\"application/json\"}"), (const uint8_t *)"{}", 2));
  ksef_request_free(req);
  EXPECT_OK(ksef_client_poll_event(c, &e));
  CHECK(jis(e, "/error/name", "cancelled"));
  ksef_buffer_free(e);
  e = (ksef_buffer *)1;
  EXPECT_OK(ksef_client_poll_event(c, &e));
  CHECK(e == NULL);

  /* NULL handles */
  CHECK(ksef_client_is_idle(NULL));
  CHECK(ksef_request_id(NULL) == 0);
  CHECK(ksef_request_method(NULL) == NULL);
  CHECK(ksef_request_url(NULL) == NULL);
  CHECK(ksef_request_headers_json(NULL) == NULL);
  CHECK(ksef_request_body(NULL) == NULL);
  CHECK(ksef_request_body_len(NULL) == 0);
  ksef_request_free(NULL);
  ksef_client_free(c);
}

int main(void) {
  test_errors();
  test_online_over_sockets();
  test_other_ops_over_sockets();
  return check_done("test_sansio");
}
