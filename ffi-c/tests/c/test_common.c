/* Buffers, the last error, result names, identifiers and hashes. */
#include "check.h"

static void test_last_error(void) {
  /* no error yet on this thread */
  CHECK(ksef_last_error_code() == KSEF_OK);
  EXPECT_ERR(KSEF_ERR_INVALID_VALUE, ksef_nip_check(STR("1234567890")));
  char small[8];
  size_t len = 0;
  size_t need = ksef_last_error_message(small, sizeof small, &len);
  CHECK(need == len + 1);
  CHECK(strlen(small) <= 7);
  char *full = malloc(need);
  CHECK(ksef_last_error_message(full, need, NULL) == need);
  CHECK(strlen(full) == len);
  free(full);
  char path[64];
  ksef_last_error_path(path, sizeof path, NULL);
  CHECK(strcmp(path, "nip") == 0);
  /* size query with no buffer */
  CHECK(ksef_last_error_message(NULL, 0, NULL) == need);
  ksef_buffer *json = NULL;
  EXPECT_OK(ksef_last_error_json(&json));
  CHECK(json != NULL);
  CHECK(strstr((const char *)ksef_buffer_data(json), "\"code\":105") != NULL);
  CHECK(ksef_buffer_data(json)[ksef_buffer_len(json)] == 0);
  ksef_buffer_free(json);
  /* the last-error accessors never change the last error */
  CHECK(ksef_last_error_json(NULL) == KSEF_ERR_NULL_ARGUMENT);
  CHECK(ksef_last_error_code() == KSEF_ERR_INVALID_VALUE);
  /* a success clears it */
  EXPECT_OK(ksef_nip_check(STR("5265877635")));
  CHECK(ksef_last_error_code() == KSEF_OK);
  json = (ksef_buffer *)1;
  EXPECT_OK(ksef_last_error_json(&json));
  CHECK(json == NULL);
}

static void test_names(void) {
  CHECK(strcmp(ksef_result_name(KSEF_OK), "ok") == 0);
  CHECK(strcmp(ksef_result_name(KSEF_ERR_BUFFER_TOO_SMALL), "buffer_too_small") == 0);
  CHECK(strcmp(ksef_result_name(KSEF_ERR_PANIC), "panic") == 0);
  CHECK(ksef_result_name(99999) == NULL);
  CHECK(strlen(ksef_version()) > 0);
  /* NULL buffers */
  CHECK(ksef_buffer_data(NULL) == NULL);
  CHECK(ksef_buffer_len(NULL) == 0);
  ksef_buffer_free(NULL);
}

static void test_ids(void) {
  EXPECT_OK(ksef_nip_check(STR("5265877635")));
  EXPECT_ERR(KSEF_ERR_INVALID_VALUE, ksef_nip_check(STR("5265877636")));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_nip_check(NULL, 10));
  EXPECT_ERR(KSEF_ERR_ENCODING, ksef_nip_check("\xff\xfe", 2));
  EXPECT_OK(ksef_ksef_number_check(STR("5265877635-20250826-0100001AF629-AF")));
  EXPECT_ERR(KSEF_ERR_KSEF_NUMBER, ksef_ksef_number_check(STR("5265877635-20250826-0100001AF629-AE")));
  EXPECT_ERR(KSEF_ERR_KSEF_NUMBER, ksef_ksef_number_check(STR("nonsense")));
  EXPECT_ERR(KSEF_ERR_ENCODING, ksef_ksef_number_check("\xc3", 1));
}

static void test_hash(void) {
  unsigned char h[32];
  EXPECT_OK(ksef_sha256((const uint8_t *)"abc", 3, h));
  CHECK(h[0] == 0xba && h[1] == 0x78 && h[31] == 0xad);
  EXPECT_OK(ksef_sha256(NULL, 0, h));
  CHECK(h[0] == 0xe3 && h[1] == 0xb0);
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_sha256(NULL, 1, h));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_sha256((const uint8_t *)"abc", 3, NULL));

  char b64[45];
  size_t len = 0;
  EXPECT_OK(ksef_sha256_base64((const uint8_t *)"abc", 3, false, b64, sizeof b64, &len));
  CHECK(len == 44);
  CHECK(strcmp(b64, "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=") == 0);
  EXPECT_OK(ksef_sha256_base64((const uint8_t *)"abc", 3, true, b64, sizeof b64, &len));
  CHECK(len == 43);
  CHECK(strcmp(b64, "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0") == 0);
  /* too small: the needed size (with the NUL) comes back in len */
  char tiny[10];
  EXPECT_ERR(KSEF_ERR_BUFFER_TOO_SMALL,
             ksef_sha256_base64((const uint8_t *)"abc", 3, false, tiny, sizeof tiny, &len));
  CHECK(len == 45);
  CHECK(ksef_last_error_needed() == 45);
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_sha256_base64((const uint8_t *)"abc", 3, false, b64, sizeof b64, NULL));

  /* incremental equals one-shot */
  ksef_sha256_hasher *hs = NULL;
  EXPECT_OK(ksef_sha256_hasher_new(&hs));
  EXPECT_OK(ksef_sha256_hasher_update(hs, (const uint8_t *)"a", 1));
  EXPECT_OK(ksef_sha256_hasher_update(hs, (const uint8_t *)"bc", 2));
  unsigned char h2[32];
  EXPECT_OK(ksef_sha256_hasher_finish(hs, h2));
  EXPECT_OK(ksef_sha256((const uint8_t *)"abc", 3, h));
  CHECK(memcmp(h, h2, 32) == 0);
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_sha256_hasher_update(NULL, (const uint8_t *)"a", 1));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_sha256_hasher_finish(NULL, h2));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_sha256_hasher_new(NULL));
  EXPECT_OK(ksef_sha256_hasher_new(&hs));
  ksef_sha256_hasher_free(hs);
  ksef_sha256_hasher_free(NULL);
}

int main(void) {
  test_last_error();
  test_names();
  test_ids();
  test_hash();
  return check_done("test_common");
}
