/* QR: KOD I links (from the invoice file, from its parts), signed KOD II links (ECDSA and
 * RSA-PSS), the module matrix (handle and caller buffer), PNG and SVG pictures. */
#include "check.h"

static char path_buf[1024];

static const char *spec(const char *name) {
  snprintf(path_buf, sizeof path_buf, "%s/samples/%s", need_env("KSEF_SPEC"), name);
  return path_buf;
}

static const char *data(const char *name) {
  snprintf(path_buf, sizeof path_buf, "%s/%s", need_env("KSEF_TEST_DATA"), name);
  return path_buf;
}

static const char KOD1_TEST[] = "https://qr-test.ksef.mf.gov.pl/invoice/9999999999/15-02-2026/"
                                "X-wQflQVyRs1fImlI-xDPnWk1V37hys4O1lkx9iJbSA";
/* ECDSA P-256 (RFC 6979) is deterministic: the same link every time. */
static const char KOD2_TEST[] =
    "https://qr-test.ksef.mf.gov.pl/certificate/Nip/5265877635/9999999999/01F20A5D352AE590/"
    "X-wQflQVyRs1fImlI-xDPnWk1V37hys4O1lkx9iJbSA/"
    "8oyQOdE9LTn8TWnDghTCQtzLodeKt_yXDHEk9p-2larrSKuNB3HhZWC-oZBeLUuZejd0pqS6Y3eCPiMIkg781g";

static void test_kod1(void) {
  size_t len = 0;
  unsigned char *xml = read_file(spec("fa3/FA_3_Przyklad_01.xml"), &len);

  ksef_buffer *url = NULL;
  EXPECT_OK(ksef_qr_invoice_url(STR("test"), xml, len, &url));
  CHECK(strcmp((const char *)ksef_buffer_data(url), KOD1_TEST) == 0);
  CHECK(ksef_buffer_len(url) == strlen(KOD1_TEST));
  ksef_buffer_free(url);
  url = NULL;
  EXPECT_OK(ksef_qr_invoice_url(STR("PROD"), xml, len, &url));
  CHECK(strncmp((const char *)ksef_buffer_data(url), "https://qr.ksef.mf.gov.pl/invoice/", 34) == 0);
  ksef_buffer_free(url);

  char buf[128];
  size_t n = 0;
  EXPECT_OK(ksef_qr_invoice_url_into(STR("test"), xml, len, buf, sizeof buf, &n));
  CHECK(n == strlen(KOD1_TEST) && strcmp(buf, KOD1_TEST) == 0);
  char small[20];
  EXPECT_ERR(KSEF_ERR_BUFFER_TOO_SMALL,
             ksef_qr_invoice_url_into(STR("test"), xml, len, small, sizeof small, &n));
  CHECK(n == strlen(KOD1_TEST) + 1);
  EXPECT_ERR(KSEF_ERR_BUFFER_TOO_SMALL, ksef_qr_invoice_url_into(STR("test"), xml, len, NULL, 0, &n));
  CHECK(n == strlen(KOD1_TEST) + 1);

  /* from the parts, with the hash of the exact bytes */
  unsigned char hash[32];
  EXPECT_OK(ksef_sha256(xml, len, hash));
  EXPECT_OK(ksef_qr_invoice_url_from_hash_into(STR("test"), STR("9999999999"), STR("2026-02-15"),
                                               hash, buf, sizeof buf, &n));
  CHECK(strcmp(buf, KOD1_TEST) == 0);
  EXPECT_ERR(KSEF_ERR_BUFFER_TOO_SMALL,
             ksef_qr_invoice_url_from_hash_into(STR("test"), STR("9999999999"), STR("2026-02-15"),
                                                hash, small, sizeof small, &n));
  CHECK(n == strlen(KOD1_TEST) + 1);
  EXPECT_ERR(KSEF_ERR_QR_LINK,
             ksef_qr_invoice_url_from_hash_into(STR("test"), STR("99999"), STR("2026-02-15"), hash,
                                                buf, sizeof buf, &n));
  EXPECT_ERR(KSEF_ERR_INVALID_ARGUMENT,
             ksef_qr_invoice_url_from_hash_into(STR("test"), STR("9999999999"), STR("15.02.2026"),
                                                hash, buf, sizeof buf, &n));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT,
             ksef_qr_invoice_url_from_hash_into(STR("test"), STR("9999999999"), STR("2026-02-15"),
                                                NULL, buf, sizeof buf, &n));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT,
             ksef_qr_invoice_url_from_hash_into(STR("test"), STR("9999999999"), STR("2026-02-15"),
                                                hash, buf, sizeof buf, NULL));

  /* errors */
  url = (ksef_buffer *)1;
  EXPECT_ERR(KSEF_ERR_INVALID_VALUE, ksef_qr_invoice_url(STR("staging"), xml, len, &url));
  char where[32];
  ksef_last_error_path(where, sizeof where, NULL);
  CHECK(strcmp(where, "env") == 0);
  EXPECT_ERR(KSEF_ERR_ENCODING, ksef_qr_invoice_url("\xff", 1, xml, len, &url));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_qr_invoice_url(STR("test"), NULL, 10, &url));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_qr_invoice_url(STR("test"), xml, len, NULL));
  EXPECT_ERR(KSEF_ERR_XML_SYNTAX, ksef_qr_invoice_url(STR("test"), (const uint8_t *)"<a", 2, &url));
  EXPECT_ERR(KSEF_ERR_ENCODING, ksef_qr_invoice_url(STR("test"), (const uint8_t *)"<a>\xfe</a>", 8, &url));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_qr_invoice_url_into(STR("test"), xml, len, buf, sizeof buf, NULL));
  CHECK(url == (ksef_buffer *)1);
  free(xml);
}

static void test_kod2(void) {
  size_t len = 0, klen = 0, rlen = 0, clen = 0;
  unsigned char *xml = read_file(spec("fa3/FA_3_Przyklad_01.xml"), &len);
  unsigned char *key = read_file(data("ec-p256.pkcs8.pem"), &klen);
  unsigned char *rsa = read_file(data("rsa2048.pkcs8.pem"), &rlen);
  unsigned char *cert = read_file(data("ec-p256.cert.pem"), &clen);

  char serial[64];
  size_t n = 0;
  EXPECT_OK(ksef_certificate_serial_hex(cert, clen, serial, sizeof serial, &n));
  CHECK(strcmp(serial, "01F20A5D352AE590") == 0);

  ksef_buffer *url = NULL;
  EXPECT_OK(ksef_qr_certificate_url(STR("test"), xml, len, STR("Nip"), STR("5265877635"),
                                    serial, n, key, klen, &url));
  CHECK(strcmp((const char *)ksef_buffer_data(url), KOD2_TEST) == 0);
  ksef_buffer_free(url);

  char buf[400];
  EXPECT_OK(ksef_qr_certificate_url_into(STR("test"), xml, len, STR("nip"), STR("5265877635"),
                                         STR("01F20A5D352AE590"), key, klen, buf, sizeof buf, &n));
  CHECK(strcmp(buf, KOD2_TEST) == 0 && n == strlen(KOD2_TEST));
  char small[100];
  EXPECT_ERR(KSEF_ERR_BUFFER_TOO_SMALL,
             ksef_qr_certificate_url_into(STR("test"), xml, len, STR("Nip"), STR("5265877635"),
                                          STR("01F20A5D352AE590"), key, klen, small, sizeof small, &n));
  CHECK(n == strlen(KOD2_TEST) + 1);

  /* RSA-PSS: random salt, a 256-byte signature (342 base64url characters) */
  url = NULL;
  EXPECT_OK(ksef_qr_certificate_url(STR("demo"), xml, len, STR("Nip"), STR("5265877635"),
                                    STR("80112233445566778899"), rsa, rlen, &url));
  const char *u = (const char *)ksef_buffer_data(url);
  CHECK(strncmp(u, "https://qr-demo.ksef.mf.gov.pl/certificate/Nip/5265877635/", 58) == 0);
  const char *last = strrchr(u, '/');
  CHECK(last && strlen(last + 1) == 342);
  ksef_buffer_free(url);

  /* errors: never the key in a message */
  url = (ksef_buffer *)1;
  EXPECT_ERR(KSEF_ERR_QR_LINK, ksef_qr_certificate_url(STR("test"), xml, len, STR("Nip"), STR("123"),
                                                       STR("01F2"), key, klen, &url));
  char where[64];
  ksef_last_error_path(where, sizeof where, NULL);
  CHECK(strcmp(where, "context_value") == 0);
  EXPECT_ERR(KSEF_ERR_QR_LINK, ksef_qr_certificate_url(STR("test"), xml, len, STR("Nip"),
                                                       STR("5265877635"), STR("XYZ"), key, klen, &url));
  ksef_last_error_path(where, sizeof where, NULL);
  CHECK(strcmp(where, "certificate_serial") == 0);
  EXPECT_ERR(KSEF_ERR_QR_LINK, ksef_qr_certificate_url(STR("test"), xml, len, STR("Pesel"),
                                                       STR("5265877635"), STR("01F2"), key, klen, &url));
  EXPECT_ERR(KSEF_ERR_CRYPTO_KEY,
             ksef_qr_certificate_url(STR("test"), xml, len, STR("Nip"), STR("5265877635"), STR("01F2"),
                                     (const uint8_t *)"not a key", 9, &url));
  ksef_last_error_path(where, sizeof where, NULL);
  CHECK(strcmp(where, "key") == 0);
  char msg[512];
  ksef_last_error_message(msg, sizeof msg, NULL);
  CHECK(strstr(msg, "not a key") == NULL);
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT,
             ksef_qr_certificate_url(STR("test"), xml, len, STR("Nip"), STR("5265877635"), STR("01F2"),
                                     NULL, 5, &url));
  EXPECT_ERR(KSEF_ERR_ENCODING,
             ksef_qr_certificate_url(STR("test"), xml, len, STR("Nip"), "\xff", 1, STR("01F2"), key,
                                     klen, &url));
  EXPECT_ERR(KSEF_ERR_XML_SYNTAX,
             ksef_qr_certificate_url(STR("test"), (const uint8_t *)"<x", 2, STR("Nip"),
                                     STR("5265877635"), STR("01F2"), key, klen, &url));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT,
             ksef_qr_certificate_url(STR("test"), xml, len, STR("Nip"), STR("5265877635"), STR("01F2"),
                                     key, klen, NULL));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT,
             ksef_qr_certificate_url_into(STR("test"), xml, len, STR("Nip"), STR("5265877635"),
                                          STR("01F2"), key, klen, buf, sizeof buf, NULL));
  CHECK(url == (ksef_buffer *)1);

  /* certificate serial: errors and a too small buffer */
  char tiny[4];
  EXPECT_ERR(KSEF_ERR_BUFFER_TOO_SMALL, ksef_certificate_serial_hex(cert, clen, tiny, sizeof tiny, &n));
  CHECK(n == 17);
  EXPECT_ERR(KSEF_ERR_CERTIFICATE,
             ksef_certificate_serial_hex((const uint8_t *)"nope", 4, serial, sizeof serial, &n));
  EXPECT_ERR(KSEF_ERR_INVALID_ARGUMENT, ksef_certificate_serial_hex(NULL, 0, serial, sizeof serial, &n));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_certificate_serial_hex(cert, clen, serial, sizeof serial, NULL));
  free(xml);
  free(key);
  free(rsa);
  free(cert);
}

static void test_matrix(void) {
  ksef_qr_matrix *m = NULL;
  EXPECT_OK(ksef_qr_matrix_encode(STR(KOD1_TEST), 'M', &m));
  CHECK(ksef_qr_matrix_version(m) == 6);
  size_t w = ksef_qr_matrix_width(m);
  CHECK(w == 41);
  CHECK(ksef_qr_matrix_is_dark(m, 0, 0));     /* finder pattern */
  CHECK(!ksef_qr_matrix_is_dark(m, 7, 7));    /* its separator */
  CHECK(!ksef_qr_matrix_is_dark(m, 500, 0));  /* outside */

  /* the caller-buffer variant gives the same modules */
  unsigned char modules[41 * 41];
  size_t n = 0, width = 0;
  EXPECT_OK(ksef_qr_matrix_into(STR(KOD1_TEST), 'M', modules, sizeof modules, &n, &width));
  CHECK(width == 41 && n == 41 * 41);
  int differ = 0;
  for (size_t y = 0; y < w; y++)
    for (size_t x = 0; x < w; x++)
      if ((modules[y * w + x] == 1) != ksef_qr_matrix_is_dark(m, x, y)) differ++;
  CHECK(differ == 0);
  ksef_qr_matrix_free(m);

  unsigned char few[100];
  EXPECT_ERR(KSEF_ERR_BUFFER_TOO_SMALL,
             ksef_qr_matrix_into(STR(KOD1_TEST), 'M', few, sizeof few, &n, &width));
  CHECK(n == 41 * 41 && ksef_last_error_needed() == 41 * 41);
  EXPECT_ERR(KSEF_ERR_BUFFER_TOO_SMALL, ksef_qr_matrix_into(STR(KOD1_TEST), 'M', NULL, 0, &n, &width));
  /* version 1 (21 × 21) at level L: exactly 441 bytes */
  EXPECT_OK(ksef_qr_matrix_into(STR("A"), 'l', modules, 441, &n, &width));
  CHECK(width == 21 && n == 441);
  CHECK(modules[0] == 1 && modules[7] == 0);

  /* levels and limits */
  m = NULL;
  EXPECT_OK(ksef_qr_matrix_encode(STR(KOD1_TEST), 'H', &m));
  CHECK(ksef_qr_matrix_version(m) > 6);
  ksef_qr_matrix_free(m);
  m = (ksef_qr_matrix *)1;
  EXPECT_ERR(KSEF_ERR_INVALID_ARGUMENT, ksef_qr_matrix_encode(STR("x"), 'X', &m));
  EXPECT_ERR(KSEF_ERR_INVALID_ARGUMENT, ksef_qr_matrix_into(STR("x"), 0, few, sizeof few, &n, &width));
  char *huge = malloc(4000);
  memset(huge, 'a', 4000);
  EXPECT_ERR(KSEF_ERR_QR_ENCODE, ksef_qr_matrix_encode(huge, 4000, 'M', &m));
  EXPECT_ERR(KSEF_ERR_QR_ENCODE, ksef_qr_matrix_into(huge, 4000, 'M', few, sizeof few, &n, &width));
  free(huge);
  EXPECT_ERR(KSEF_ERR_ENCODING, ksef_qr_matrix_encode("\xff", 1, 'M', &m));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_qr_matrix_encode(STR("x"), 'M', NULL));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_qr_matrix_into(STR("x"), 'M', few, sizeof few, NULL, &width));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_qr_matrix_into(STR("x"), 'M', few, sizeof few, &n, NULL));
  CHECK(m == (ksef_qr_matrix *)1);
  CHECK(ksef_qr_matrix_width(NULL) == 0);
  CHECK(ksef_qr_matrix_version(NULL) == 0);
  CHECK(!ksef_qr_matrix_is_dark(NULL, 0, 0));
  ksef_qr_matrix_free(NULL);
}

static void test_pictures(void) {
  ksef_buffer *png = NULL;
  EXPECT_OK(ksef_qr_png(STR(KOD1_TEST), STR("OFFLINE"), 5, 4, &png));
  const uint8_t *p = ksef_buffer_data(png);
  CHECK(ksef_buffer_len(png) > 100);
  CHECK(p[0] == 0x89 && p[1] == 'P' && p[2] == 'N' && p[3] == 'G');
  /* IHDR width: (41 + 2 × 4) modules × 5 px = 245 */
  CHECK(p[16] == 0 && p[17] == 0 && p[18] == 0 && p[19] == 245);
  ksef_buffer_free(png);
  png = NULL;
  EXPECT_OK(ksef_qr_png(STR(KOD1_TEST), NULL, 0, 1, 0, &png)); /* no label, no border */
  CHECK(ksef_buffer_data(png)[19] == 41);
  ksef_buffer_free(png);

  ksef_buffer *svg = NULL;
  EXPECT_OK(ksef_qr_svg(STR(KOD1_TEST), STR("5265877635-20250826-0100001AF629-AF"), 5, 4, &svg));
  const char *s = (const char *)ksef_buffer_data(svg);
  CHECK(strncmp(s, "<svg ", 5) == 0);
  CHECK(strstr(s, ">5265877635-20250826-0100001AF629-AF</text>") != NULL);
  ksef_buffer_free(svg);

  png = (ksef_buffer *)1;
  EXPECT_ERR(KSEF_ERR_QR_IMAGE, ksef_qr_png(STR(KOD1_TEST), STR("OFFLINE"), 0, 4, &png));
  EXPECT_ERR(KSEF_ERR_QR_IMAGE, ksef_qr_svg(STR(KOD1_TEST), STR("OFFLINE"), 5, 1000, &png));
  EXPECT_ERR(KSEF_ERR_ENCODING, ksef_qr_png(STR(KOD1_TEST), "\xc3", 1, 5, 4, &png));
  EXPECT_ERR(KSEF_ERR_ENCODING, ksef_qr_svg("\xc3", 1, STR("OFFLINE"), 5, 4, &png));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_qr_png(STR(KOD1_TEST), STR("OFFLINE"), 5, 4, NULL));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_qr_svg(STR(KOD1_TEST), STR("OFFLINE"), 5, 4, NULL));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_qr_svg(NULL, 3, STR("OFFLINE"), 5, 4, &png));
  CHECK(png == (ksef_buffer *)1);
}

int main(void) {
  test_kod1();
  test_kod2();
  test_matrix();
  test_pictures();
  return check_done("test_qr");
}
