/* Crypto: the session key (generate, from parts, export, AES-256-CBC both ways, RSA-OAEP
 * wrap, send-invoice body), the encrypted KSeF token, XAdES sign and verify. */
#include "check.h"

static char path_buf[1024];

static unsigned char *data(const char *name, size_t *len) {
  snprintf(path_buf, sizeof path_buf, "%s/%s", need_env("KSEF_TEST_DATA"), name);
  return read_file(path_buf, len);
}

static const unsigned char ZERO[32] = {0};

static void test_session_key(void) {
  /* a known vector (openssl enc -aes-256-cbc, key and IV all zero) */
  ksef_session_key *k = NULL;
  EXPECT_OK(ksef_session_key_from_parts(ZERO, ZERO, &k));
  ksef_buffer *ct = NULL;
  EXPECT_OK(ksef_session_key_encrypt(k, (const uint8_t *)"abc", 3, &ct));
  static const unsigned char ABC[16] = {0x93, 0x79, 0xc1, 0x79, 0xf6, 0x4b, 0x7f, 0x21,
                                        0x53, 0x8d, 0x43, 0xae, 0x63, 0x04, 0x83, 0x8e};
  CHECK(ksef_buffer_len(ct) == 16 && memcmp(ksef_buffer_data(ct), ABC, 16) == 0);
  ksef_buffer *pt = NULL;
  EXPECT_OK(ksef_session_key_decrypt(k, ksef_buffer_data(ct), ksef_buffer_len(ct), &pt));
  CHECK(ksef_buffer_len(pt) == 3 && memcmp(ksef_buffer_data(pt), "abc", 3) == 0);
  ksef_buffer_free(pt);
  ksef_buffer_free(ct);
  /* the empty input is one block of padding */
  ct = NULL;
  EXPECT_OK(ksef_session_key_encrypt(k, NULL, 0, &ct));
  CHECK(ksef_buffer_len(ct) == 16 && ksef_buffer_data(ct)[0] == 0x1f && ksef_buffer_data(ct)[15] == 0x43);
  ksef_buffer_free(ct);

  /* a random key: export and rebuild gives the same key */
  ksef_session_key *r = NULL;
  EXPECT_OK(ksef_session_key_generate(&r));
  unsigned char kb[32], iv[16];
  EXPECT_OK(ksef_session_key_export(r, kb, iv));
  CHECK(memcmp(kb, ZERO, 32) != 0);
  ksef_session_key *r2 = NULL;
  EXPECT_OK(ksef_session_key_from_parts(kb, iv, &r2));
  const char *msg = "Faktura do zaszyfrowania, dłuższa niż jeden blok AES.";
  ct = NULL;
  EXPECT_OK(ksef_session_key_encrypt(r, (const uint8_t *)msg, strlen(msg), &ct));
  CHECK(ksef_buffer_len(ct) % 16 == 0 && ksef_buffer_len(ct) > strlen(msg));
  pt = NULL;
  EXPECT_OK(ksef_session_key_decrypt(r2, ksef_buffer_data(ct), ksef_buffer_len(ct), &pt));
  CHECK(ksef_buffer_len(pt) == strlen(msg) && memcmp(ksef_buffer_data(pt), msg, strlen(msg)) == 0);
  ksef_buffer_free(pt);
  /* another key cannot read it */
  pt = (ksef_buffer *)1;
  EXPECT_ERR(KSEF_ERR_DECRYPT, ksef_session_key_decrypt(k, ksef_buffer_data(ct), ksef_buffer_len(ct), &pt));
  EXPECT_ERR(KSEF_ERR_DECRYPT, ksef_session_key_decrypt(k, ksef_buffer_data(ct), 15, &pt));
  EXPECT_ERR(KSEF_ERR_DECRYPT, ksef_session_key_decrypt(k, NULL, 0, &pt));
  CHECK(pt == (ksef_buffer *)1);
  ksef_buffer_free(ct);
  ksef_session_key *other = NULL;
  EXPECT_OK(ksef_session_key_generate(&other));
  unsigned char kb2[32], iv2[16];
  EXPECT_OK(ksef_session_key_export(other, kb2, iv2));
  CHECK(memcmp(kb, kb2, 32) != 0);
  ksef_session_key_free(other);

  /* null arguments */
  ksef_session_key *none = (ksef_session_key *)1;
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_session_key_generate(NULL));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_session_key_from_parts(NULL, ZERO, &none));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_session_key_from_parts(ZERO, NULL, &none));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_session_key_from_parts(ZERO, ZERO, NULL));
  CHECK(none == (ksef_session_key *)1);
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_session_key_export(NULL, kb, iv));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_session_key_export(r, NULL, iv));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_session_key_export(r, kb, NULL));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_session_key_encrypt(NULL, ZERO, 1, &ct));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_session_key_encrypt(r, NULL, 1, &ct));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_session_key_encrypt(r, ZERO, 1, NULL));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_session_key_decrypt(NULL, ZERO, 16, &pt));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_session_key_decrypt(r, ZERO, 16, NULL));
  memset(kb, 0, sizeof kb);
  ksef_session_key_free(r);
  ksef_session_key_free(r2);
  ksef_session_key_free(k);
  ksef_session_key_free(NULL);
}

static void test_wrap(void) {
  size_t rlen = 0, elen = 0;
  unsigned char *rsa_cert = data("rsa2048.cert.pem", &rlen);
  unsigned char *ec_cert = data("ec-p256.cert.pem", &elen);
  ksef_session_key *k = NULL;
  EXPECT_OK(ksef_session_key_from_parts(ZERO, ZERO, &k));

  ksef_buffer *info = NULL;
  EXPECT_OK(ksef_session_key_encryption_info(k, rsa_cert, rlen, &info));
  const char *j = (const char *)ksef_buffer_data(info);
  CHECK(strstr(j, "\"encryptedSymmetricKey\":\"") != NULL);
  CHECK(strstr(j, "\"initializationVector\":\"AAAAAAAAAAAAAAAAAAAAAA==\"") != NULL);
  CHECK(strstr(j, "\"publicKeyId\":\"") != NULL);
  ksef_buffer_free(info);
  info = (ksef_buffer *)1;
  EXPECT_ERR(KSEF_ERR_CRYPTO_KEY, ksef_session_key_encryption_info(k, ec_cert, elen, &info));
  EXPECT_ERR(KSEF_ERR_CERTIFICATE,
             ksef_session_key_encryption_info(k, (const uint8_t *)"-----BEGIN CERTIFICATE-----\nAA\n", 31, &info));
  char where[64];
  ksef_last_error_path(where, sizeof where, NULL);
  CHECK(strcmp(where, "mf_certificate") == 0);
  EXPECT_ERR(KSEF_ERR_INVALID_ARGUMENT, ksef_session_key_encryption_info(k, NULL, 0, &info));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_session_key_encryption_info(NULL, rsa_cert, rlen, &info));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_session_key_encryption_info(k, rsa_cert, rlen, NULL));
  CHECK(info == (ksef_buffer *)1);

  /* the send-invoice body */
  const char *xml = "<Faktura/>";
  ksef_buffer *body = NULL;
  EXPECT_OK(ksef_session_key_encrypt_invoice(k, (const uint8_t *)xml, strlen(xml), false, &body));
  j = (const char *)ksef_buffer_data(body);
  char hash[64], expect[128];
  size_t n = 0;
  EXPECT_OK(ksef_sha256_base64((const uint8_t *)xml, strlen(xml), false, hash, sizeof hash, &n));
  snprintf(expect, sizeof expect, "\"invoiceHash\":\"%s\"", hash);
  CHECK(strstr(j, expect) != NULL);
  CHECK(strstr(j, "\"invoiceSize\":10") != NULL);
  CHECK(strstr(j, "\"encryptedInvoiceSize\":16") != NULL);
  CHECK(strstr(j, "\"offlineMode\":false") != NULL);
  ksef_buffer_free(body);
  body = NULL;
  EXPECT_OK(ksef_session_key_encrypt_invoice(k, (const uint8_t *)xml, strlen(xml), true, &body));
  CHECK(strstr((const char *)ksef_buffer_data(body), "\"offlineMode\":true") != NULL);
  ksef_buffer_free(body);
  body = (ksef_buffer *)1;
  EXPECT_ERR(KSEF_ERR_INVALID_ARGUMENT, ksef_session_key_encrypt_invoice(k, NULL, 0, false, &body));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_session_key_encrypt_invoice(k, NULL, 3, false, &body));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_session_key_encrypt_invoice(NULL, (const uint8_t *)xml, 3, false, &body));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_session_key_encrypt_invoice(k, (const uint8_t *)xml, 3, false, NULL));
  CHECK(body == (ksef_buffer *)1);

  /* the KSeF token: base64 of a 256-byte RSA-OAEP block */
  ksef_buffer *tok = NULL;
  EXPECT_OK(ksef_encrypt_ksef_token(STR("20250101-EC-0123456789-0123456789-01|nip-5265877635|secret"),
                                    1767225600000LL, rsa_cert, rlen, &tok));
  CHECK(ksef_buffer_len(tok) == 344);
  CHECK(strstr((const char *)ksef_buffer_data(tok), "secret") == NULL);
  ksef_buffer_free(tok);
  tok = (ksef_buffer *)1;
  EXPECT_ERR(KSEF_ERR_ENCRYPT, ksef_encrypt_ksef_token(NULL, 0, 1, rsa_cert, rlen, &tok));
  EXPECT_ERR(KSEF_ERR_CRYPTO_KEY, ksef_encrypt_ksef_token(STR("secret-token"), 1, ec_cert, elen, &tok));
  char msg[512];
  ksef_last_error_message(msg, sizeof msg, NULL);
  CHECK(strstr(msg, "secret-token") == NULL);
  EXPECT_ERR(KSEF_ERR_ENCODING, ksef_encrypt_ksef_token("\xff", 1, 1, rsa_cert, rlen, &tok));
  EXPECT_ERR(KSEF_ERR_CERTIFICATE, ksef_encrypt_ksef_token(STR("t"), 1, (const uint8_t *)"x", 1, &tok));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_encrypt_ksef_token(STR("t"), 1, rsa_cert, rlen, NULL));
  CHECK(tok == (ksef_buffer *)1);

  ksef_session_key_free(k);
  free(rsa_cert);
  free(ec_cert);
}

#define CHALLENGE "20250604-CR-461EA5B000-537A6BA15D-D7"
#define SIGNED_AT 1771149600LL /* 2026-02-15T10:00:00Z */

static void test_xades(void) {
  size_t kl = 0, cl = 0, rkl = 0, rcl = 0;
  unsigned char *key = data("ec-p256.pkcs8.pem", &kl);
  unsigned char *cert = data("ec-p256.cert.pem", &cl);
  unsigned char *rkey = data("rsa2048.pkcs8.pem", &rkl);
  unsigned char *rcert = data("rsa2048.cert.pem", &rcl);

  ksef_buffer *xml = NULL;
  EXPECT_OK(ksef_xades_sign_auth_request(STR(CHALLENGE), STR("Nip"), STR("5265877635"), NULL, 0, key,
                                         kl, cert, cl, SIGNED_AT, &xml));
  const char *x = (const char *)ksef_buffer_data(xml);
  CHECK(strstr(x, "<Challenge>" CHALLENGE "</Challenge>") != NULL);
  CHECK(strstr(x, "<Nip>5265877635</Nip>") != NULL);
  CHECK(strstr(x, "certificateSubject") != NULL);
  CHECK(strstr(x, "2026-02-15T10:00:00Z") != NULL);

  ksef_buffer *info = NULL;
  EXPECT_OK(ksef_xades_verify(ksef_buffer_data(xml), ksef_buffer_len(xml), &info));
  const char *j = (const char *)ksef_buffer_data(info);
  CHECK(strstr(j, "\"serial_hex\":\"01F20A5D352AE590\"") != NULL);
  CHECK(strstr(j, "\"signing_time\":\"2026-02-15T10:00:00Z\"") != NULL);
  CHECK(strstr(j, "ecdsa-sha256") != NULL);
  CHECK(strstr(j, "\"references\":2") != NULL);
  ksef_buffer_free(info);

  /* one changed byte breaks it */
  size_t n = ksef_buffer_len(xml);
  char *tampered = malloc(n);
  memcpy(tampered, x, n);
  char *ch = strstr(tampered, "461EA5B000");
  CHECK(ch != NULL);
  if (ch) ch[0] = '5';
  info = (ksef_buffer *)1;
  EXPECT_ERR(KSEF_ERR_SIGNATURE_INVALID, ksef_xades_verify((const uint8_t *)tampered, n, &info));
  free(tampered);
  ksef_buffer_free(xml);

  /* certificate fingerprint, RSA */
  xml = NULL;
  EXPECT_OK(ksef_xades_sign_auth_request(STR(CHALLENGE), STR("nip"), STR("5265877635"),
                                         STR("certificateFingerprint"), rkey, rkl, rcert, rcl,
                                         SIGNED_AT, &xml));
  CHECK(strstr((const char *)ksef_buffer_data(xml), "certificateFingerprint") != NULL);
  info = NULL;
  EXPECT_OK(ksef_xades_verify(ksef_buffer_data(xml), ksef_buffer_len(xml), &info));
  CHECK(strstr((const char *)ksef_buffer_data(info), "rsa-sha256") != NULL);
  ksef_buffer_free(info);
  ksef_buffer_free(xml);

  /* any document */
  const char *doc = "<?xml version=\"1.0\"?>\n<Dok xmlns=\"urn:x\"><A>b</A></Dok>\n";
  ksef_buffer *signed_doc = NULL;
  EXPECT_OK(ksef_xades_sign((const uint8_t *)doc, strlen(doc), key, kl, cert, cl, SIGNED_AT, &signed_doc));
  CHECK(strncmp((const char *)ksef_buffer_data(signed_doc), "<?xml version=\"1.0\"?>\n<Dok xmlns=\"urn:x\"><A>b</A>", 47) == 0);
  info = NULL;
  EXPECT_OK(ksef_xades_verify(ksef_buffer_data(signed_doc), ksef_buffer_len(signed_doc), &info));
  ksef_buffer_free(info);
  ksef_buffer_free(signed_doc);

  /* errors */
  xml = (ksef_buffer *)1;
  EXPECT_ERR(KSEF_ERR_INVALID_VALUE,
             ksef_xades_sign_auth_request(STR("not-a-challenge"), STR("Nip"), STR("5265877635"), NULL, 0,
                                          key, kl, cert, cl, SIGNED_AT, &xml));
  EXPECT_ERR(KSEF_ERR_INVALID_VALUE,
             ksef_xades_sign_auth_request(STR(CHALLENGE), STR("Pesel"), STR("5265877635"), NULL, 0, key,
                                          kl, cert, cl, SIGNED_AT, &xml));
  EXPECT_ERR(KSEF_ERR_INVALID_VALUE,
             ksef_xades_sign_auth_request(STR(CHALLENGE), STR("Nip"), STR("5265877636"), NULL, 0, key,
                                          kl, cert, cl, SIGNED_AT, &xml));
  EXPECT_ERR(KSEF_ERR_INVALID_VALUE,
             ksef_xades_sign_auth_request(STR(CHALLENGE), STR("Nip"), STR("5265877635"), STR("pesel"),
                                          key, kl, cert, cl, SIGNED_AT, &xml));
  /* the RSA key is not the EC certificate's */
  EXPECT_ERR(KSEF_ERR_XML_SIGNATURE,
             ksef_xades_sign_auth_request(STR(CHALLENGE), STR("Nip"), STR("5265877635"), NULL, 0, rkey,
                                          rkl, cert, cl, SIGNED_AT, &xml));
  EXPECT_ERR(KSEF_ERR_CRYPTO_KEY,
             ksef_xades_sign_auth_request(STR(CHALLENGE), STR("Nip"), STR("5265877635"), NULL, 0,
                                          (const uint8_t *)"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
                                          58, cert, cl, SIGNED_AT, &xml));
  char where[32];
  ksef_last_error_path(where, sizeof where, NULL);
  CHECK(strcmp(where, "key") == 0);
  EXPECT_ERR(KSEF_ERR_INVALID_ARGUMENT,
             ksef_xades_sign_auth_request(STR(CHALLENGE), STR("Nip"), STR("5265877635"), NULL, 0, key,
                                          kl, NULL, 0, SIGNED_AT, &xml));
  EXPECT_ERR(KSEF_ERR_INVALID_ARGUMENT,
             ksef_xades_sign_auth_request(STR(CHALLENGE), STR("Nip"), STR("5265877635"), NULL, 0, key,
                                          kl, cert, cl, 400000000000LL, &xml));
  EXPECT_ERR(KSEF_ERR_ENCODING,
             ksef_xades_sign_auth_request("\xff", 1, STR("Nip"), STR("5265877635"), NULL, 0, key, kl,
                                          cert, cl, SIGNED_AT, &xml));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT,
             ksef_xades_sign_auth_request(STR(CHALLENGE), STR("Nip"), STR("5265877635"), NULL, 0, key,
                                          kl, cert, cl, SIGNED_AT, NULL));
  EXPECT_ERR(KSEF_ERR_XML_SYNTAX,
             ksef_xades_sign((const uint8_t *)"<a><b></a>", 10, key, kl, cert, cl, SIGNED_AT, &xml));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_xades_sign(NULL, 4, key, kl, cert, cl, SIGNED_AT, &xml));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT,
             ksef_xades_sign((const uint8_t *)doc, strlen(doc), key, kl, cert, cl, SIGNED_AT, NULL));
  CHECK(xml == (ksef_buffer *)1);

  info = (ksef_buffer *)1;
  EXPECT_ERR(KSEF_ERR_XML_SIGNATURE, ksef_xades_verify((const uint8_t *)doc, strlen(doc), &info));
  EXPECT_ERR(KSEF_ERR_XML_SYNTAX, ksef_xades_verify((const uint8_t *)"<a", 2, &info));
  EXPECT_ERR(KSEF_ERR_XML_SYNTAX, ksef_xades_verify(NULL, 0, &info));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_xades_verify((const uint8_t *)doc, strlen(doc), NULL));
  CHECK(info == (ksef_buffer *)1);
  free(key);
  free(cert);
  free(rkey);
  free(rcert);
}

int main(void) {
  test_session_key();
  test_wrap();
  test_xades();
  return check_done("test_crypto");
}
