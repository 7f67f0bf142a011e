//! HTTP as data: error bodies from the OpenAPI examples, redacted Debug, header helpers,
//! duplicates, Retry-After.

use ksef::http::{
    header, parse_http_date, parse_retry_after, ApiError, ErrorFormat, InvoiceDuplicate, Method,
    Request, Response, Transport, TransportError, TransportErrorKind,
};
use ksef::{Environment, ErrorCode};

fn response(status: u16, headers: &[(&str, &str)], body: &str) -> Response {
    Response::new(
        status,
        headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
        body.as_bytes().to_vec(),
    )
}

/// OpenAPI `ExceptionResponse` example (deprecated legacy format, still the default for 400).
const EXCEPTION_RESPONSE: &str = r#"{
  "exception": {
    "exceptionDetailList": [
      {
        "exceptionCode": 12345,
        "exceptionDescription": "Opis błędu.",
        "details": [ "Opcjonalne dodatkowe szczegóły błędu." ]
      }
    ],
    "referenceNumber": "a1b2c3d4-e5f6-4789-ab12-cd34ef567890",
    "serviceCode": "00-c02cc3747020c605be02159bf3324f0e-eee7647dc67aa74a-00",
    "serviceCtx": "srvABCDA",
    "serviceName": "Undefined",
    "timestamp": "2025-10-11T12:23:56.0154302"
  }
}"#;

/// OpenAPI `BadRequestProblemDetails` example (400 with `X-Error-Format: problem-details`).
const BAD_REQUEST_PROBLEM: &str = r#"{
  "title": "Bad Request",
  "status": 400,
  "instance": "{{uri_path}}",
  "detail": "Żądanie jest nieprawidłowe.",
  "errors": [
    {
      "code": 21405,
      "description": "Błąd walidacji danych wejściowych.",
      "details": [ "Wskazany kod formularza nie jest wspierany." ]
    },
    {
      "code": 21157,
      "description": "Nieprawidłowy rozmiar części pakietu.",
      "details": [ "Rozmiar części 1 przekroczył dozwolony rozmiar 100MB." ]
    }
  ],
  "timestamp": "2025-07-11T12:23:56.0154302+00:00",
  "traceId": "673843e023c432286660bc0501a3af44"
}"#;

/// OpenAPI `ForbiddenProblemDetails` example.
const FORBIDDEN_PROBLEM: &str = r#"{
  "title": "Forbidden",
  "status": 403,
  "detail": "Brak wymaganych uprawnień do wykonania operacji w bieżącym kontekście.",
  "instance": "{{uri_path}}",
  "reasonCode": "missing-permissions",
  "security": {
    "requiredAnyOfPermissions": [ "InvoiceRead", "InvoiceWrite" ],
    "presentPermissions": [ "CredentialsRead" ]
  },
  "traceId": "673843e023c432286660bc0501a3af44",
  "timestamp": "2025-07-11T12:23:56.0154302+00:00"
}"#;

/// OpenAPI `UnauthorizedProblemDetails` example.
const UNAUTHORIZED_PROBLEM: &str = r#"{
  "title": "Unauthorized",
  "status": 401,
  "detail": "Wymagane jest uwierzytelnienie.",
  "instance": "{{uri_path}}",
  "traceId": "673843e023c432286660bc0501a3af44",
  "timestamp": "2025-07-11T12:23:56.0154302+00:00"
}"#;

/// OpenAPI `TooManyRequestsResponse` example (also in `limity/limity-api.md`).
const TOO_MANY_REQUESTS: &str = r#"{
  "status": {
    "code": 429,
    "description": "Too Many Requests",
    "details": [ "Przekroczono limit 20 żądań na minutę. Spróbuj ponownie po 30 sekundach." ]
  }
}"#;

/// OpenAPI `TooManyRequestsProblemDetails` example.
const TOO_MANY_REQUESTS_PROBLEM: &str = r#"{
  "title": "Too Many Requests",
  "status": 429,
  "instance": "{{uri_path}}",
  "detail": "Przekroczono limit 20 żądań na minutę. Spróbuj ponownie po 30 sekundach.",
  "timestamp": "2025-07-11T12:23:56.0154302+00:00",
  "traceId": "673843e023c432286660bc0501a3af44"
}"#;

#[test]
fn exception_response_is_read() {
    let e = ApiError::from_response(&response(400, &[], EXCEPTION_RESPONSE), 0);
    assert_eq!(e.format, ErrorFormat::Exception);
    assert_eq!(e.status, 400);
    assert_eq!(e.codes.len(), 1);
    assert_eq!(e.codes[0].code, 12345);
    assert_eq!(e.codes[0].description, "Opis błędu.");
    assert_eq!(
        e.codes[0].details,
        ["Opcjonalne dodatkowe szczegóły błędu."]
    );
    assert_eq!(
        e.service_code.as_deref(),
        Some("00-c02cc3747020c605be02159bf3324f0e-eee7647dc67aa74a-00")
    );
    assert_eq!(
        e.reference_number.as_deref(),
        Some("a1b2c3d4-e5f6-4789-ab12-cd34ef567890")
    );
    assert_eq!(e.timestamp.as_deref(), Some("2025-10-11T12:23:56.0154302"));
    assert!(e.has_code(12345));
    assert_eq!(
        e.to_string(),
        "KSeF API error (HTTP 400): 12345 Opis błędu. (Opcjonalne dodatkowe szczegóły błędu.) \
         [trace 00-c02cc3747020c605be02159bf3324f0e-eee7647dc67aa74a-00]"
    );
    let err = ksef::Error::from(e);
    assert_eq!(err.code(), ErrorCode::ApiError);
    assert_eq!(err.code().as_u32(), 500);
    assert!(err.message().contains("12345 Opis błędu."));
}

#[test]
fn bad_request_problem_details_keep_every_error() {
    let e = ApiError::from_body(400, BAD_REQUEST_PROBLEM.as_bytes());
    assert_eq!(e.format, ErrorFormat::ProblemDetails);
    let codes: Vec<u32> = e.codes.iter().map(|d| d.code).collect();
    assert_eq!(codes, [21405, 21157]);
    assert_eq!(
        e.codes[1].details,
        ["Rozmiar części 1 przekroczył dozwolony rozmiar 100MB."]
    );
    assert_eq!(e.title.as_deref(), Some("Bad Request"));
    assert_eq!(e.detail.as_deref(), Some("Żądanie jest nieprawidłowe."));
    assert_eq!(
        e.trace_id.as_deref(),
        Some("673843e023c432286660bc0501a3af44")
    );
    let text = e.to_string();
    assert!(
        text.starts_with(
            "KSeF API error (HTTP 400): 21405 Błąd walidacji danych wejściowych. \
             (Wskazany kod formularza nie jest wspierany.); 21157 Nieprawidłowy rozmiar"
        ),
        "{text}"
    );
}

#[test]
fn forbidden_and_unauthorized_map_to_their_codes() {
    let f = ApiError::from_body(403, FORBIDDEN_PROBLEM.as_bytes());
    assert_eq!(f.format, ErrorFormat::ProblemDetails);
    assert!(f.codes.is_empty());
    assert_eq!(f.reason_code.as_deref(), Some("missing-permissions"));
    assert_eq!(
        f.to_string(),
        "KSeF API error (HTTP 403): Forbidden — [missing-permissions] Brak wymaganych uprawnień \
         do wykonania operacji w bieżącym kontekście. [trace 673843e023c432286660bc0501a3af44]"
    );
    assert_eq!(ksef::Error::from(f).code(), ErrorCode::Forbidden);

    let u = ApiError::from_body(401, UNAUTHORIZED_PROBLEM.as_bytes());
    assert_eq!(u.detail.as_deref(), Some("Wymagane jest uwierzytelnienie."));
    assert_eq!(ksef::Error::from(u).code(), ErrorCode::Unauthorized);
}

#[test]
fn too_many_requests_both_formats_with_retry_after() {
    let legacy = ApiError::from_response(
        &response(
            429,
            &[("Content-Type", "application/json"), ("Retry-After", "30")],
            TOO_MANY_REQUESTS,
        ),
        0,
    );
    assert_eq!(legacy.format, ErrorFormat::Status);
    assert_eq!(legacy.codes[0].code, 429);
    assert_eq!(legacy.codes[0].description, "Too Many Requests");
    assert_eq!(legacy.retry_after_ms, Some(30_000));
    assert!(
        legacy.to_string().ends_with("; retry after 30 s"),
        "{legacy}"
    );
    let err = ksef::Error::from(legacy);
    assert_eq!(err.code(), ErrorCode::RateLimited);
    assert_eq!(err.code().as_u32(), 501);

    let problem = ApiError::from_response(
        &response(429, &[("retry-after", "7")], TOO_MANY_REQUESTS_PROBLEM),
        0,
    );
    assert_eq!(problem.format, ErrorFormat::ProblemDetails);
    assert_eq!(problem.retry_after_ms, Some(7_000));
    assert!(problem
        .to_string()
        .contains("Przekroczono limit 20 żądań na minutę."));
}

#[test]
fn unknown_bodies_never_fail() {
    let html = "<html><body>Request unsuccessful. Incapsula incident ID: 1</body></html>";
    let e = ApiError::from_body(502, html.as_bytes());
    assert_eq!(e.format, ErrorFormat::Unknown);
    assert_eq!(e.detail.as_deref(), Some(html));
    assert_eq!(ksef::Error::from(e).code(), ErrorCode::ServerError);
    for body in [
        &b""[..],
        b"{",
        b"[1,2]",
        b"null",
        &[0xff, 0xfe, 0x00],
        b"{\"exception\":null}",
    ] {
        let e = ApiError::from_body(400, body);
        assert!(e.codes.is_empty());
    }
    // Wrong types inside a known shape give defaults, not errors.
    let e = ApiError::from_body(
        400,
        br#"{"exception":{"exceptionDetailList":[{"exceptionCode":"x","details":[1,"a"]}]}}"#,
    );
    assert_eq!(e.codes[0].code, 0);
    assert_eq!(e.codes[0].details, ["a"]);
    let long = "x".repeat(10_000);
    let e = ApiError::from_body(500, long.as_bytes());
    assert_eq!(e.detail.map(|d| d.len()), Some(300));
}

#[test]
fn error_for_status_passes_success_through() {
    let ok = response(200, &[], "{}");
    assert!(ok.clone().error_for_status(0).is_ok());
    let err = response(503, &[], "").error_for_status(0).unwrap_err();
    assert_eq!(err.code(), ErrorCode::ServerError);
}

#[test]
fn duplicate_with_extensions() {
    // The example from api-changelog.md (InvoiceStatusInfo with extensions).
    let status: serde_json::Value = serde_json::from_str(
        r#"{
      "code": 440,
      "description": "Duplikat faktury",
      "details": [
        "Duplikat faktury. Faktura o numerze KSeF: 5265877635-20250626-010080DD2B5E-26 została już prawidłowo przesłana do systemu w sesji: 20250626-SO-2F14610000-242991F8C9-B4"
      ],
      "extensions": {
        "originalSessionReferenceNumber": "20250626-SO-2F14610000-242991F8C9-B4",
        "originalKsefNumber": "5265877635-20250626-010080DD2B5E-26"
      }
    }"#,
    )
    .unwrap();
    let d = InvoiceDuplicate::from_invoice_status(&status).expect("a duplicate");
    assert_eq!(
        d.original_ksef_number.map(|n| n.to_string()).as_deref(),
        Some("5265877635-20250626-010080DD2B5E-26")
    );
    assert_eq!(
        d.original_session_reference_number.as_deref(),
        Some("20250626-SO-2F14610000-242991F8C9-B4")
    );
    let err = d.to_error();
    assert_eq!(err.code(), ErrorCode::Duplicate);
    assert!(err
        .message()
        .contains("original has KSeF number 5265877635-20250626-010080DD2B5E-26"));
}

#[test]
fn duplicate_from_free_text_only() {
    let status = serde_json::json!({
        "code": 440,
        "description": "Duplikat faktury",
        "details": ["Duplikat faktury. Faktura o numerze KSeF: 5265877635-20250626-010080DD2B5E-26 została już prawidłowo przesłana do systemu w sesji: 20250626-SO-2F14610000-242991F8C9-B4"]
    });
    let d = InvoiceDuplicate::from_invoice_status(&status).expect("a duplicate");
    assert_eq!(
        d.original_ksef_number.map(|n| n.to_string()).as_deref(),
        Some("5265877635-20250626-010080DD2B5E-26")
    );
    assert_eq!(
        d.original_session_reference_number.as_deref(),
        Some("20250626-SO-2F14610000-242991F8C9-B4")
    );
    // A look-alike with a wrong checksum is not taken for the original.
    let bad = serde_json::json!({
        "code": 440, "description": "Duplikat faktury",
        "details": ["Faktura o numerze KSeF: 5265877635-20250626-010080DD2B5E-27"]
    });
    let d = InvoiceDuplicate::from_invoice_status(&bad).expect("a duplicate");
    assert_eq!(d.original_ksef_number, None);
    assert_eq!(d.original_session_reference_number, None);
    // Other statuses are not duplicates.
    for s in [
        serde_json::json!({"code": 200, "description": "Sukces"}),
        serde_json::json!({"code": 450, "description": "Błąd weryfikacji semantyki dokumentu faktury"}),
        serde_json::json!("440"),
        serde_json::json!(null),
    ] {
        assert_eq!(InvoiceDuplicate::from_invoice_status(&s), None, "{s}");
    }
}

#[test]
fn header_helpers_are_case_insensitive() {
    let r = response(
        200,
        &[
            ("Content-Type", "application/xml"),
            ("x-ms-meta-hash", "abc="),
        ],
        "",
    );
    assert_eq!(r.header("content-type"), Some("application/xml"));
    assert_eq!(r.header("X-MS-META-HASH"), Some("abc="));
    assert_eq!(r.header("retry-after"), None);
    assert_eq!(header(&r.headers, "CONTENT-TYPE"), Some("application/xml"));

    let req = Request::new(Method::Get, "https://x/y")
        .with_header("accept", "text/plain")
        .with_header("Accept", "application/json");
    assert_eq!(req.headers.len(), 1, "a header set twice is replaced");
    assert_eq!(req.header("ACCEPT"), Some("application/json"));
}

#[test]
fn json_request_joins_base_and_path() {
    let body = serde_json::json!({"challenge": "20250514-CR-226FB7B000-3ACF9BE4C0-10"});
    for base in [
        "https://api-test.ksef.mf.gov.pl/v2",
        "https://api-test.ksef.mf.gov.pl/v2/",
    ] {
        for path in ["auth/ksef-token", "/auth/ksef-token"] {
            let req = Request::json(Method::Post, base, path, &body).unwrap();
            assert_eq!(
                req.url,
                "https://api-test.ksef.mf.gov.pl/v2/auth/ksef-token"
            );
        }
    }
    let req = Request::json(
        Method::Post,
        Environment::Production.api_base_url(),
        "/x",
        &body,
    )
    .unwrap()
    .with_problem_details();
    assert_eq!(req.header("Content-Type"), Some("application/json"));
    assert_eq!(req.header("accept"), Some("application/json"));
    assert_eq!(req.header("x-error-format"), Some("problem-details"));
    let back: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(back, body);
    assert!(!req.is_idempotent());
    assert!(Request::api(Method::Get, "https://h", "a").is_idempotent());
}

#[test]
fn debug_redacts_secrets() {
    let token = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0.sig";
    let req = Request::new(
        Method::Put,
        "https://blob.example/part1?sv=2025&sig=SECRETSIG%3D",
    )
    .with_bearer(token)
    .with_header("x-continuation-token", "CONT-SECRET")
    .with_header("X-Custom", "visible");
    let mut req = req;
    req.body = format!("{{\"token\":\"{token}\"}}").into_bytes();
    let dbg = format!("{req:?}");
    assert_eq!(
        req.header("authorization"),
        Some(&*format!("Bearer {token}"))
    );
    for secret in [token, "SECRETSIG", "CONT-SECRET", "sv=2025"] {
        assert!(!dbg.contains(secret), "{secret} leaked: {dbg}");
    }
    assert!(dbg.contains("[redacted]"));
    assert!(dbg.contains("https://blob.example/part1?[redacted]"));
    assert!(dbg.contains("visible"), "{dbg}");
    assert!(dbg.contains(&format!("<{} bytes>", req.body.len())));
    let pretty = format!("{req:#?}");
    assert!(!pretty.contains(token));

    let resp = response(
        200,
        &[("Set-Cookie", "session=abc123")],
        r#"{"accessToken":{"token":"ACCESS-SECRET"}}"#,
    );
    let dbg = format!("{resp:?}");
    assert!(
        !dbg.contains("abc123") && !dbg.contains("ACCESS-SECRET"),
        "{dbg}"
    );
}

#[test]
fn retry_after_forms() {
    let now = 1_763_690_000_000; // 2025-11-21T01:53:20Z
    assert_eq!(parse_retry_after("30", now), Some(30_000));
    assert_eq!(parse_retry_after(" 0 ", now), Some(0));
    assert_eq!(
        parse_retry_after("99999999999999999999999", now),
        Some(u64::MAX)
    );
    for date in [
        "Fri, 21 Nov 2025 01:54:05 GMT",
        "Friday, 21-Nov-25 01:54:05 GMT",
        "Fri Nov 21 01:54:05 2025",
    ] {
        assert_eq!(parse_retry_after(date, now), Some(45_000), "{date}");
    }
    assert_eq!(
        parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
        Some(784_111_777)
    );
    assert_eq!(
        parse_http_date("Sun Nov  6 08:49:37 1994"),
        Some(784_111_777)
    );
    assert_eq!(
        parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT", now),
        Some(0)
    );
    for bad in [
        "",
        "-5",
        "1.5",
        "soon",
        "Fri, 31 Feb 2025 01:54:05 GMT",
        "Fri, 21 Nov 2025 25:54:05 GMT",
        "Fri, 21 Nov 2025 01:54:05 CET",
        "Fri, 21 Foo 2025 01:54:05 GMT",
        "Fri, 21 Nov 2025 01:54:05 GMT extra",
    ] {
        assert_eq!(parse_retry_after(bad, now), None, "{bad:?}");
    }
}

/// A scripted transport for tests: hands out canned results and records what was sent.
struct MockTransport {
    replies: Vec<Result<Response, TransportError>>,
    sent: Vec<Request>,
}

impl Transport for MockTransport {
    fn send(&mut self, request: &Request) -> Result<Response, TransportError> {
        self.sent.push(request.clone());
        if self.replies.is_empty() {
            return Err(TransportError::new(
                TransportErrorKind::Other,
                "script ended",
            ));
        }
        self.replies.remove(0)
    }
}

#[test]
fn transport_errors_map_to_codes_and_transports_compose() {
    let mut mock = MockTransport {
        replies: vec![
            Err(TransportError::new(
                TransportErrorKind::Timeout,
                "read timed out",
            )),
            Err(TransportError::new(
                TransportErrorKind::Tls,
                "bad certificate",
            )),
            Ok(response(200, &[], "{}")),
        ],
        sent: vec![],
    };
    let req = Request::api(
        Method::Get,
        Environment::Test.api_base_url(),
        "/rate-limits",
    );
    // `&mut T` is a transport too, so a driver taking `impl Transport` can borrow the host's.
    fn send_by_value(mut t: impl Transport, req: &Request) -> Result<Response, TransportError> {
        t.send(req)
    }
    let e1 = ksef::Error::from(send_by_value(&mut mock, &req).unwrap_err());
    assert_eq!(e1.code(), ErrorCode::Timeout);
    assert_eq!(e1.message(), "timed out: read timed out");
    let dynamic: &mut dyn Transport = &mut mock;
    let e2 = ksef::Error::from(send_by_value(dynamic, &req).unwrap_err());
    assert_eq!(e2.code(), ErrorCode::Transport);
    assert!(mock.send(&req).unwrap().is_success());
    assert_eq!(mock.sent.len(), 3);
    assert_eq!(
        mock.sent[0].url,
        "https://api-test.ksef.mf.gov.pl/v2/rate-limits"
    );
}

#[test]
fn new_error_codes_are_in_the_table() {
    for (code, n, name) in [
        (ErrorCode::ApiError, 500, "api_error"),
        (ErrorCode::RateLimited, 501, "rate_limited"),
        (ErrorCode::Unauthorized, 502, "unauthorized"),
        (ErrorCode::Transport, 503, "transport"),
        (ErrorCode::Timeout, 504, "timeout"),
        (ErrorCode::Forbidden, 505, "forbidden"),
        (ErrorCode::ServerError, 506, "server_error"),
        (ErrorCode::Duplicate, 507, "duplicate"),
    ] {
        assert_eq!(code.as_u32(), n);
        assert_eq!(code.name(), name);
        assert!(ErrorCode::ALL.contains(&code));
    }
    let mut nums: Vec<u32> = ErrorCode::ALL.iter().map(|c| c.as_u32()).collect();
    nums.sort_unstable();
    nums.dedup();
    assert_eq!(nums.len(), ErrorCode::ALL.len(), "codes are unique");
}
