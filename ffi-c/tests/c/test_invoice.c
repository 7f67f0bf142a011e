/* Invoices: XML in/out (owned and caller buffer), JSON in/out, the builder's JSON input,
 * schema versions, validation report and check, and the error paths of each. */
#include "check.h"

static char spec_path[1024];

static const char *sample(const char *name) {
  snprintf(spec_path, sizeof spec_path, "%s/samples/%s", need_env("KSEF_SPEC"), name);
  return spec_path;
}

static const char *const SAMPLES[] = {
    "fa3/FA_3_Przyklad_01.xml", "fa3/FA_3_Przyklad_02.xml", "fa3/FA_3_Przyklad_05.xml",
    "fa3/FA_3_Przyklad_09.xml", "fa3/FA_3_Przyklad_15.xml", "fa3/FA_3_Przyklad_22.xml",
    "fa3/FA_3_Przyklad_25.xml", "fa2/FA_2_Przyklad_01.xml", "fa2/FA_2_Przyklad_05.xml",
    "fa2/FA_2_Przyklad_10.xml",
};

/* A copy of a buffer's bytes as a NUL-terminated string (for editing). */
static char *dup_buffer(const ksef_buffer *b) {
  size_t n = ksef_buffer_len(b);
  char *s = malloc(n + 1);
  memcpy(s, ksef_buffer_data(b), n + 1);
  return s;
}

static int same(const ksef_buffer *a, const ksef_buffer *b) {
  return ksef_buffer_len(a) == ksef_buffer_len(b) &&
         memcmp(ksef_buffer_data(a), ksef_buffer_data(b), ksef_buffer_len(a)) == 0;
}

/* XML → handle → XML (owned and into a caller buffer), → JSON → handle → XML again. */
static void test_round_trip(void) {
  for (size_t i = 0; i < sizeof SAMPLES / sizeof SAMPLES[0]; i++) {
    size_t len = 0;
    unsigned char *xml = read_file(sample(SAMPLES[i]), &len);
    ksef_invoice *inv = NULL;
    EXPECT_OK(ksef_invoice_from_xml(xml, len, &inv));
    free(xml);
    if (!inv) continue;
    unsigned expected = SAMPLES[i][2] == '3' ? KSEF_SCHEMA_FA3 : KSEF_SCHEMA_FA2;
    CHECK(ksef_invoice_schema(inv) == expected);

    ksef_buffer *out = NULL;
    EXPECT_OK(ksef_invoice_to_xml(inv, &out));
    CHECK(ksef_buffer_len(out) > 100);
    CHECK(strncmp((const char *)ksef_buffer_data(out), "<?xml", 5) == 0);

    /* the caller-buffer variant: size query, too small, exact size */
    size_t need = 0;
    EXPECT_ERR(KSEF_ERR_BUFFER_TOO_SMALL, ksef_invoice_to_xml_into(inv, NULL, 0, &need));
    CHECK(need == ksef_buffer_len(out));
    CHECK(ksef_last_error_needed() == need);
    unsigned char *buf = malloc(need);
    size_t got = 0;
    EXPECT_ERR(KSEF_ERR_BUFFER_TOO_SMALL, ksef_invoice_to_xml_into(inv, buf, need - 1, &got));
    CHECK(got == need);
    got = 0;
    EXPECT_OK(ksef_invoice_to_xml_into(inv, buf, need, &got));
    CHECK(got == need);
    CHECK(memcmp(buf, ksef_buffer_data(out), need) == 0);
    free(buf);

    /* what we write reads back to the same bytes */
    ksef_invoice *again = NULL;
    EXPECT_OK(ksef_invoice_from_xml(ksef_buffer_data(out), ksef_buffer_len(out), &again));
    ksef_buffer *out2 = NULL;
    EXPECT_OK(ksef_invoice_to_xml(again, &out2));
    CHECK(same(out, out2));
    ksef_buffer_free(out2);
    ksef_invoice_free(again);

    /* JSON form and back */
    ksef_buffer *json = NULL;
    EXPECT_OK(ksef_invoice_to_json(inv, &json));
    CHECK(ksef_buffer_data(json)[0] == '{');
    ksef_invoice *from_json = NULL;
    EXPECT_OK(ksef_invoice_from_json((const char *)ksef_buffer_data(json), ksef_buffer_len(json),
                                     expected, &from_json));
    CHECK(ksef_invoice_schema(from_json) == expected);
    ksef_buffer *out3 = NULL;
    EXPECT_OK(ksef_invoice_to_xml(from_json, &out3));
    CHECK(same(out, out3));
    ksef_buffer_free(out3);
    ksef_invoice_free(from_json);
    ksef_buffer_free(json);
    ksef_buffer_free(out);
    ksef_invoice_free(inv);
  }
}

static void test_schema(void) {
  size_t len = 0;
  unsigned char *xml = read_file(sample("fa2/FA_2_Przyklad_01.xml"), &len);
  ksef_invoice *inv = NULL;
  EXPECT_OK(ksef_invoice_from_xml(xml, len, &inv));
  free(xml);
  CHECK(ksef_invoice_schema(inv) == KSEF_SCHEMA_FA2);
  EXPECT_ERR(KSEF_ERR_INVALID_ARGUMENT, ksef_invoice_set_schema(inv, 4));
  CHECK(ksef_invoice_schema(inv) == KSEF_SCHEMA_FA2);
  EXPECT_OK(ksef_invoice_set_schema(inv, KSEF_SCHEMA_FA3));
  CHECK(ksef_invoice_schema(inv) == KSEF_SCHEMA_FA3);
  /* this FA(2) sample was created in 2022: FA(3) cannot carry that date */
  ksef_buffer *out = (ksef_buffer *)1;
  EXPECT_ERR(KSEF_ERR_INVALID_VALUE, ksef_invoice_to_xml(inv, &out));
  CHECK(out == (ksef_buffer *)1);
  char where[128];
  ksef_last_error_path(where, sizeof where, NULL);
  CHECK(strstr(where, "DataWytworzeniaFa") != NULL);
  size_t n = 0;
  EXPECT_ERR(KSEF_ERR_INVALID_VALUE, ksef_invoice_to_xml_into(inv, NULL, 0, &n));
  /* back to FA(2): written again */
  EXPECT_OK(ksef_invoice_set_schema(inv, KSEF_SCHEMA_FA2));
  out = NULL;
  EXPECT_OK(ksef_invoice_to_xml(inv, &out));
  CHECK(strstr((const char *)ksef_buffer_data(out), "http://crd.gov.pl/wzor/2023/06/29/12648/") !=
        NULL);
  ksef_buffer_free(out);
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_invoice_set_schema(NULL, KSEF_SCHEMA_FA3));
  CHECK(ksef_invoice_schema(NULL) == 0);
  ksef_invoice_free(inv);
}

static void test_validate(void) {
  size_t len = 0;
  unsigned char *xml = read_file(sample("fa3/FA_3_Przyklad_01.xml"), &len);
  ksef_invoice *inv = NULL;
  EXPECT_OK(ksef_invoice_from_xml(xml, len, &inv));
  free(xml);

  ksef_buffer *report = NULL;
  EXPECT_OK(ksef_invoice_validate(inv, STR("2026-02-20"), &report));
  const char *r = (const char *)ksef_buffer_data(report);
  CHECK(strstr(r, "\"valid\":true") != NULL);
  CHECK(strstr(r, "\"errors\":0") != NULL);
  ksef_buffer_free(report);
  EXPECT_OK(ksef_invoice_check(inv, STR("2026-02-20")));
  EXPECT_OK(ksef_invoice_check(inv, NULL, 0));

  /* issued in the future as seen from 2020 */
  report = NULL;
  EXPECT_OK(ksef_invoice_validate(inv, STR("2020-01-01"), &report));
  CHECK(strstr((const char *)ksef_buffer_data(report), "\"code\":\"future_issue_date\"") != NULL);
  CHECK(strstr((const char *)ksef_buffer_data(report), "\"valid\":false") != NULL);
  ksef_buffer_free(report);

  /* break P_15 through the JSON form */
  ksef_buffer *json = NULL;
  EXPECT_OK(ksef_invoice_to_json(inv, &json));
  char *text = dup_buffer(json);
  ksef_buffer_free(json);
  char *p15 = strstr(text, "\"P_15\": \"");
  CHECK(p15 != NULL);
  if (p15) {
    char *digit = p15 + strlen("\"P_15\": \"");
    *digit = *digit == '9' ? '1' : (char)(*digit + 1);
  }
  ksef_invoice *bad = NULL;
  EXPECT_OK(ksef_invoice_from_json(text, strlen(text), KSEF_SCHEMA_FA3, &bad));
  free(text);
  report = NULL;
  EXPECT_OK(ksef_invoice_validate(bad, NULL, 0, &report));
  r = (const char *)ksef_buffer_data(report);
  CHECK(strstr(r, "\"valid\":false") != NULL);
  CHECK(strstr(r, "\"code\":\"total_due\"") != NULL);
  CHECK(strstr(r, "\"path\":\"Faktura/Fa/P_15\"") != NULL);
  CHECK(strstr(r, "\"severity\":\"error\"") != NULL);
  ksef_buffer_free(report);

  EXPECT_ERR(KSEF_ERR_VALIDATION_FAILED, ksef_invoice_check(bad, NULL, 0));
  char path[128];
  ksef_last_error_path(path, sizeof path, NULL);
  CHECK(strcmp(path, "Faktura/Fa/P_15") == 0);
  size_t dlen = 0;
  size_t need = ksef_last_error_detail(NULL, 0, &dlen);
  CHECK(dlen > 0 && need == dlen + 1);
  char *detail = malloc(need);
  ksef_last_error_detail(detail, need, NULL);
  CHECK(strstr(detail, "\"code\":\"total_due\"") != NULL);
  CHECK(strstr(detail, "\"valid\":false") != NULL);
  free(detail);
  ksef_buffer *all = NULL;
  EXPECT_OK(ksef_last_error_json(&all));
  CHECK(strstr((const char *)ksef_buffer_data(all), "\"detail\":{") != NULL);
  ksef_buffer_free(all);
  ksef_invoice_free(bad);

  /* error paths */
  report = (ksef_buffer *)1;
  EXPECT_ERR(KSEF_ERR_INVALID_ARGUMENT, ksef_invoice_validate(inv, STR("20.02.2026"), &report));
  CHECK(report == (ksef_buffer *)1); /* not written on failure */
  EXPECT_ERR(KSEF_ERR_ENCODING, ksef_invoice_validate(inv, "\xff", 1, &report));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_invoice_validate(inv, NULL, 3, &report));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_invoice_validate(inv, NULL, 0, NULL));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_invoice_validate(NULL, NULL, 0, &report));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_invoice_check(NULL, NULL, 0));
  EXPECT_ERR(KSEF_ERR_INVALID_ARGUMENT, ksef_invoice_check(inv, STR("tomorrow")));
  ksef_invoice_free(inv);
}

static const char BUILDER[] =
    "{\"kind\":\"vat\",\"method\":\"net\","
    "\"header\":{\"number\":\"FV/2026/02/150\",\"issue_date\":\"2026-02-15\","
    "\"created_at\":\"2026-02-15T10:00:00Z\",\"sale_date\":\"2026-02-14\"},"
    "\"seller\":{\"nip\":\"9999999999\",\"name\":\"ABC AGD sp. z o. o.\","
    "\"address\":{\"country\":\"PL\",\"line1\":\"ul. Kwiatowa 1\",\"line2\":\"00-001 Warszawa\"}},"
    "\"buyer\":{\"id\":{\"type\":\"nip\",\"value\":\"1111111111\"},\"name\":\"F.H.U. Jan Kowalski\"},"
    "\"lines\":["
    "{\"name\":\"lodowka\",\"quantity\":\"1\",\"unit_price_net\":\"1626.01\",\"rate\":\"23\"},"
    "{\"name\":\"wniesienie\",\"quantity\":1,\"unit_price_net\":40.65,\"rate\":\"23\"},"
    "{\"name\":\"mleko\",\"quantity\":\"1\",\"unit_price_net\":\"0.95\",\"rate\":\"5\"}],"
    "\"payment\":{\"paid_on\":\"2026-02-14\",\"form\":\"6\"}}";

static void test_build(void) {
  ksef_invoice *inv = NULL;
  EXPECT_OK(ksef_invoice_build(STR(BUILDER), KSEF_SCHEMA_FA3, &inv));
  CHECK(ksef_invoice_schema(inv) == KSEF_SCHEMA_FA3);
  ksef_buffer *xml = NULL;
  EXPECT_OK(ksef_invoice_to_xml(inv, &xml));
  const char *x = (const char *)ksef_buffer_data(xml);
  CHECK(strstr(x, "<P_13_1>1666.66</P_13_1>") != NULL);
  CHECK(strstr(x, "<P_14_1>383.33</P_14_1>") != NULL);
  CHECK(strstr(x, "<P_15>2050.99</P_15>") != NULL);
  ksef_buffer_free(xml);
  EXPECT_OK(ksef_invoice_check(inv, STR("2026-02-15")));
  ksef_invoice_free(inv);

  /* FA(2) from the same input */
  inv = NULL;
  EXPECT_OK(ksef_invoice_build(STR(BUILDER), KSEF_SCHEMA_FA2, &inv));
  CHECK(ksef_invoice_schema(inv) == KSEF_SCHEMA_FA2);
  ksef_invoice_free(inv);

  /* the committed example */
  char path[1024];
  snprintf(path, sizeof path, "%s/../../../../examples/builder/vat-shop.json",
           need_env("KSEF_TEST_DATA"));
  size_t len = 0;
  char *example = (char *)read_file(path, &len);
  inv = NULL;
  EXPECT_OK(ksef_invoice_build(example, len, KSEF_SCHEMA_FA3, &inv));
  free(example);
  EXPECT_OK(ksef_invoice_check(inv, STR("2026-02-15")));
  ksef_invoice_free(inv);

  /* errors: typed, with the JSON path */
  inv = (ksef_invoice *)1;
  const char *bad_rate = "{\"kind\":\"vat\",\"method\":\"net\",\"header\":{\"number\":\"1\","
                         "\"issue_date\":\"2026-02-15\",\"created_at\":\"2026-02-15T10:00:00Z\"},"
                         "\"seller\":{\"nip\":\"9999999999\",\"name\":\"S\",\"address\":"
                         "{\"country\":\"PL\",\"line1\":\"x\"}},\"buyer\":{\"id\":{\"type\":\"none\"}},"
                         "\"lines\":[{\"name\":\"a\",\"quantity\":1,\"unit_price_net\":1,"
                         "\"rate\":\"17\"}]}";
  EXPECT_ERR(KSEF_ERR_INVALID_BUILDER_INPUT, ksef_invoice_build(STR(bad_rate), KSEF_SCHEMA_FA3, &inv));
  char where[64];
  ksef_last_error_path(where, sizeof where, NULL);
  CHECK(strcmp(where, "lines[0].rate") == 0);
  EXPECT_ERR(KSEF_ERR_INVALID_BUILDER_INPUT,
             ksef_invoice_build(STR("{\"kind\":\"vat\",\"colour\":1}"), KSEF_SCHEMA_FA3, &inv));
  EXPECT_ERR(KSEF_ERR_JSON_SYNTAX, ksef_invoice_build(STR("{\"kind\":"), KSEF_SCHEMA_FA3, &inv));
  EXPECT_ERR(KSEF_ERR_ENCODING, ksef_invoice_build("{\"\xc3\"}", 4, KSEF_SCHEMA_FA3, &inv));
  EXPECT_ERR(KSEF_ERR_INVALID_ARGUMENT, ksef_invoice_build(STR(BUILDER), 1, &inv));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_invoice_build(STR(BUILDER), KSEF_SCHEMA_FA3, NULL));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_invoice_build(NULL, 5, KSEF_SCHEMA_FA3, &inv));
  CHECK(inv == (ksef_invoice *)1);
}

static void test_errors(void) {
  ksef_invoice *inv = (ksef_invoice *)1;
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_invoice_from_xml((const uint8_t *)"<a/>", 4, NULL));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_invoice_from_xml(NULL, 4, &inv));
  EXPECT_ERR(KSEF_ERR_ENCODING, ksef_invoice_from_xml((const uint8_t *)"<a>\xff</a>", 8, &inv));
  EXPECT_ERR(KSEF_ERR_XML_SYNTAX,
             ksef_invoice_from_xml((const uint8_t *)"<Faktura <Naglowek>", 19, &inv));
  EXPECT_ERR(KSEF_ERR_XML_SYNTAX, ksef_invoice_from_xml(NULL, 0, &inv));
  const char *other_ns = "<Faktura xmlns=\"urn:other\"/>";
  EXPECT_ERR(KSEF_ERR_XML_NAMESPACE,
             ksef_invoice_from_xml((const uint8_t *)other_ns, strlen(other_ns), &inv));
  const char *empty = "<Faktura xmlns=\"http://crd.gov.pl/wzor/2025/06/25/13775/\"></Faktura>";
  EXPECT_ERR(KSEF_ERR_MISSING_ELEMENT,
             ksef_invoice_from_xml((const uint8_t *)empty, strlen(empty), &inv));
  char path[64];
  ksef_last_error_path(path, sizeof path, NULL);
  CHECK(strncmp(path, "Faktura", 7) == 0);

  EXPECT_ERR(KSEF_ERR_JSON_SYNTAX, ksef_invoice_from_json(STR("{"), KSEF_SCHEMA_FA3, &inv));
  EXPECT_ERR(KSEF_ERR_JSON_SYNTAX, ksef_invoice_from_json(STR("[]"), KSEF_SCHEMA_FA3, &inv));
  EXPECT_ERR(KSEF_ERR_ENCODING, ksef_invoice_from_json("{\xff}", 3, KSEF_SCHEMA_FA3, &inv));
  EXPECT_ERR(KSEF_ERR_INVALID_ARGUMENT, ksef_invoice_from_json(STR("{}"), 0, &inv));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_invoice_from_json(STR("{}"), KSEF_SCHEMA_FA3, NULL));
  CHECK(inv == (ksef_invoice *)1);

  ksef_buffer *b = NULL;
  size_t n = 0;
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_invoice_to_xml(NULL, &b));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_invoice_to_json(NULL, &b));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_invoice_to_xml_into(NULL, NULL, 0, &n));
  CHECK(b == NULL);

  size_t len = 0;
  unsigned char *xml = read_file(sample("fa3/FA_3_Przyklad_01.xml"), &len);
  inv = NULL;
  EXPECT_OK(ksef_invoice_from_xml(xml, len, &inv));
  free(xml);
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_invoice_to_xml(inv, NULL));
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_invoice_to_json(inv, NULL));
  unsigned char small[16];
  EXPECT_ERR(KSEF_ERR_NULL_ARGUMENT, ksef_invoice_to_xml_into(inv, small, sizeof small, NULL));
  ksef_invoice_free(inv);
  ksef_invoice_free(NULL);
}

int main(void) {
  test_round_trip();
  test_schema();
  test_validate();
  test_build();
  test_errors();
  return check_done("test_invoice");
}
