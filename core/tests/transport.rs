//! The built-in transport (ureq + rustls) against tiny HTTP servers on 127.0.0.1, and the
//! exchange recorder.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use ksef::http::{Method, Request, Transport, TransportErrorKind};
use ksef::transport::{Recorder, Roots, UreqTransport, USER_AGENT};
use ksef::ErrorCode;

/// What the server saw of one request.
#[derive(Debug, Clone)]
struct Seen {
    request_line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Reads one HTTP/1.1 request (Content-Length bodies only) from `stream`.
fn read_request(stream: &TcpStream) -> Option<Seen> {
    let mut r = BufReader::new(stream.try_clone().ok()?);
    let mut request_line = String::new();
    r.read_line(&mut request_line).ok()?;
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        r.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (n, v) = line.split_once(':')?;
        headers.push((n.trim().to_string(), v.trim().to_string()));
    }
    let len: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .map_or(0, |(_, v)| v.parse().unwrap_or(0));
    let mut body = vec![0; len];
    r.read_exact(&mut body).ok()?;
    Some(Seen {
        request_line: request_line.trim_end().to_string(),
        headers,
        body,
    })
}

/// A server answering each connection with `reply(request)` (raw bytes), then closing it.
/// Every request seen is sent on the returned channel.
fn serve<F>(reply: F) -> (String, mpsc::Receiver<Seen>)
where
    F: Fn(&Seen) -> Vec<u8> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let Some(seen) = read_request(&stream) else {
                continue;
            };
            let out = reply(&seen);
            let _ = tx.send(seen);
            let _ = stream.write_all(&out);
            let _ = stream.flush();
        }
    });
    (format!("http://{addr}"), rx)
}

fn http_response(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\nConnection: close\r\n");
    for (n, v) in headers {
        out.push_str(&format!("{n}: {v}\r\n"));
    }
    out.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut out = out.into_bytes();
    out.extend_from_slice(body);
    out
}

fn transport() -> UreqTransport {
    UreqTransport::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

#[test]
fn every_method_round_trips_headers_and_bodies() {
    let (base, seen) = serve(|req| {
        let echo = format!("{} {}", req.request_line, req.body.len());
        http_response(
            "200 OK",
            &[("Content-Type", "text/plain"), ("X-Echo", "yes")],
            echo.as_bytes(),
        )
    });
    let mut t = transport();
    for method in [Method::Get, Method::Post, Method::Put, Method::Delete] {
        let mut req = Request::api(method, &format!("{base}/v2"), "/sessions/R-1?pageSize=10")
            .with_header("X-Custom", "value 1")
            .with_bearer("SECRET-TOKEN");
        if matches!(method, Method::Post | Method::Put) {
            req.body = b"{\"a\":1}".to_vec();
            req = req.with_header("Content-Type", "application/json");
        }
        let resp = t.send(&req).unwrap();
        assert_eq!(resp.status, 200);
        assert_eq!(resp.header("x-echo"), Some("yes"));
        let s = seen.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(
            s.request_line,
            format!("{method} /v2/sessions/R-1?pageSize=10 HTTP/1.1")
        );
        assert_eq!(s.header("x-custom"), Some("value 1"));
        assert_eq!(s.header("authorization"), Some("Bearer SECRET-TOKEN"));
        assert_eq!(s.header("accept"), Some("application/json"));
        assert_eq!(s.header("user-agent"), Some(USER_AGENT));
        assert!(USER_AGENT.starts_with("ksef-rs/"));
        assert_eq!(s.body, req.body);
        assert_eq!(
            resp.body,
            format!("{} {}", s.request_line, req.body.len()).into_bytes()
        );
    }
}

#[test]
fn binary_put_body_arrives_intact() {
    let (base, seen) = serve(|_| http_response("201 Created", &[], b""));
    let mut t = transport();
    let mut req = Request::new(Method::Put, format!("{base}/upload/part1?sig=abc"))
        .with_header("Content-Type", "application/octet-stream");
    req.body = (0..=255u8).cycle().take(300_000).collect();
    let resp = t.send(&req).unwrap();
    assert_eq!(resp.status, 201);
    assert!(resp.body.is_empty());
    let s = seen.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(s.body, req.body);
    assert_eq!(s.header("content-length"), Some("300000"));
}

#[test]
fn error_statuses_are_responses_with_headers_and_body() {
    let (base, _seen) = serve(|req| {
        if req.request_line.contains("/missing") {
            http_response(
                "404 Not Found",
                &[("Content-Type", "application/json")],
                br#"{"exception":{"exceptionDetailList":[]}}"#,
            )
        } else if req.request_line.contains("/busy") {
            http_response(
                "429 Too Many Requests",
                &[("Retry-After", "30")],
                b"slow down",
            )
        } else {
            http_response("503 Service Unavailable", &[], b"down")
        }
    });
    let mut t = transport();
    let r = t
        .send(&Request::new(Method::Get, format!("{base}/missing")))
        .unwrap();
    assert_eq!(r.status, 404);
    assert_eq!(r.body, br#"{"exception":{"exceptionDetailList":[]}}"#);
    let r = t
        .send(&Request::new(Method::Post, format!("{base}/busy")))
        .unwrap();
    assert_eq!(r.status, 429);
    assert_eq!(r.retry_after_ms(0), Some(30_000));
    assert_eq!(r.body, b"slow down");
    let r = t
        .send(&Request::new(Method::Delete, format!("{base}/x")))
        .unwrap();
    assert_eq!(r.status, 503);
    assert_eq!(r.body, b"down");
}

#[test]
fn redirects_are_returned_not_followed() {
    let (base, seen) = serve(|_| http_response("302 Found", &[("Location", "/elsewhere")], b""));
    let mut t = transport();
    let r = t
        .send(&Request::new(Method::Get, format!("{base}/a")))
        .unwrap();
    assert_eq!(r.status, 302);
    assert_eq!(r.header("location"), Some("/elsewhere"));
    seen.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(seen.recv_timeout(Duration::from_millis(200)).is_err());
}

#[test]
fn refused_connection_is_connect_and_says_no_secrets() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut t = transport();
    let req = Request::new(
        Method::Put,
        format!("http://127.0.0.1:{port}/part?sig=SIGNATURE"),
    )
    .with_bearer("SECRET-TOKEN");
    let e = t.send(&req).unwrap_err();
    assert_eq!(e.kind, TransportErrorKind::Connect, "{e}");
    let text = format!("{e} {e:?}");
    assert!(
        !text.contains("SIGNATURE") && !text.contains("SECRET-TOKEN"),
        "{text}"
    );
    assert_eq!(ksef::Error::from(e).code(), ErrorCode::Transport);
}

#[test]
fn unknown_host_is_connect() {
    let mut t = transport();
    let e = t
        .send(&Request::new(
            Method::Get,
            "http://ksef-rs-test.invalid/v2?q=SECRET",
        ))
        .unwrap_err();
    assert_eq!(e.kind, TransportErrorKind::Connect, "{e}");
    assert!(!e.to_string().contains("SECRET"));
}

#[test]
fn silent_server_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    thread::spawn(move || {
        // Accept, read nothing, answer nothing; hold the socket until the test ends.
        let conn = listener.accept();
        let _ = done_rx.recv_timeout(Duration::from_secs(30));
        drop(conn);
    });
    let mut t = UreqTransport::builder()
        .no_proxy()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let e = t
        .send(&Request::new(
            Method::Get,
            format!("http://{addr}/x?sig=SECRET"),
        ))
        .unwrap_err();
    let _ = done_tx.send(());
    assert_eq!(e.kind, TransportErrorKind::Timeout, "{e}");
    assert!(!e.to_string().contains("SECRET"));
    assert_eq!(ksef::Error::from(e).code(), ErrorCode::Timeout);
}

#[test]
fn upload_time_scales_with_the_body() {
    let t = UreqTransport::builder()
        .timeout(Duration::from_secs(60))
        .min_upload_rate(1_000_000)
        .build()
        .unwrap();
    let mut req = Request::new(Method::Put, "https://blob.example/p");
    assert_eq!(t.timeout_for(&req), Duration::from_secs(60));
    req.body = vec![0; 100_000_000];
    assert_eq!(t.timeout_for(&req), Duration::from_secs(160));
    let t = UreqTransport::builder().min_upload_rate(0).build().unwrap();
    assert_eq!(t.timeout_for(&req), Duration::from_secs(60));
}

#[test]
fn connection_closed_mid_response_is_io() {
    let (base, _seen) = serve(|_| {
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\nonly 18 bytes here"
            .to_vec()
    });
    let mut t = transport();
    let e = t
        .send(&Request::new(Method::Get, format!("{base}/x")))
        .unwrap_err();
    assert_eq!(e.kind, TransportErrorKind::Io, "{e}");
}

#[test]
fn connection_closed_before_any_response_is_io() {
    let (base, _seen) = serve(|_| Vec::new());
    let mut t = transport();
    let e = t
        .send(&Request::new(Method::Get, format!("{base}/x")))
        .unwrap_err();
    assert_eq!(e.kind, TransportErrorKind::Io, "{e}");
}

#[test]
fn response_body_cap() {
    let (base, _seen) = serve(|req| {
        if req.request_line.contains("/chunked") {
            // No Content-Length: the cap must stop the read itself.
            let mut out =
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                    .to_vec();
            for _ in 0..10 {
                out.extend_from_slice(b"10\r\n0123456789abcdef\r\n");
            }
            out.extend_from_slice(b"0\r\n\r\n");
            out
        } else {
            http_response("200 OK", &[], &[b'x'; 100])
        }
    });
    let mut t = UreqTransport::builder()
        .no_proxy()
        .max_response_body(50)
        .build()
        .unwrap();
    for path in ["/sized", "/chunked"] {
        let e = t
            .send(&Request::new(Method::Get, format!("{base}{path}")))
            .unwrap_err();
        assert_eq!(e.kind, TransportErrorKind::ResponseTooLarge, "{path}: {e}");
        assert!(e.to_string().contains("50 bytes"), "{e}");
    }
    // Exactly at the cap is fine; one byte over is not.
    for (cap, ok) in [(160, true), (159, false)] {
        let mut t = UreqTransport::builder()
            .no_proxy()
            .max_response_body(cap)
            .build()
            .unwrap();
        let r = t.send(&Request::new(Method::Get, format!("{base}/chunked")));
        match r {
            Ok(r) => assert!(ok && r.body.len() == 160),
            Err(e) => assert!(!ok && e.kind == TransportErrorKind::ResponseTooLarge),
        }
    }
    let mut t = UreqTransport::builder()
        .no_proxy()
        .max_response_body(100)
        .build()
        .unwrap();
    let r = t
        .send(&Request::new(Method::Get, format!("{base}/sized")))
        .unwrap();
    assert_eq!(r.body, [b'x'; 100]);
}

/// A server that writes `reply` as soon as a connection opens, without reading.
fn blurt(reply: &'static [u8]) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let _ = stream.write_all(reply);
            thread::sleep(Duration::from_millis(500));
        }
    });
    format!("{addr}")
}

#[test]
fn tls_to_a_plain_http_server_is_tls() {
    let addr = blurt(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    let mut t = transport();
    let e = t
        .send(&Request::new(
            Method::Get,
            format!("https://{addr}/x?sig=SECRET"),
        ))
        .unwrap_err();
    assert_eq!(e.kind, TransportErrorKind::Tls, "{e}");
    assert!(!e.to_string().contains("SECRET"));
}

/// An HTTP proxy: answers `CONNECT` with 200, then serves one request through the tunnel.
/// Sends the CONNECT request and the tunnelled one on the channel.
fn proxy_server(status: &'static str) -> (String, mpsc::Receiver<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let Some(connect) = read_request(&stream) else {
                continue;
            };
            let _ = tx.send(connect);
            let _ = stream.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
            let Some(inner) = read_request(&stream) else {
                continue;
            };
            let _ = tx.send(inner);
            let _ = stream.write_all(&http_response(status, &[], b"via proxy"));
        }
    });
    (format!("http://{addr}"), rx)
}

#[test]
fn explicit_proxy_tunnels_with_credentials() {
    let (proxy, seen) = proxy_server("200 OK");
    let proxy_url = proxy.replacen("http://", "http://user:pr0xy-pass@", 1);
    let mut t = UreqTransport::builder()
        .proxy(proxy_url.as_str())
        .build()
        .unwrap();
    let debug = format!("{t:?}");
    assert!(
        !debug.contains("pr0xy-pass") && !debug.contains("user:"),
        "{debug}"
    );
    assert!(debug.contains("127.0.0.1"), "{debug}");
    let r = t
        .send(&Request::new(
            Method::Get,
            "http://ksef.invalid/v2/auth/challenge",
        ))
        .unwrap();
    assert_eq!(r.body, b"via proxy");
    let connect = seen.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(connect.request_line, "CONNECT ksef.invalid:80 HTTP/1.1");
    // Basic user:pr0xy-pass
    assert_eq!(
        connect.header("proxy-authorization"),
        Some("Basic dXNlcjpwcjB4eS1wYXNz")
    );
    let inner = seen.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(inner.request_line, "GET /v2/auth/challenge HTTP/1.1");
    assert_eq!(inner.header("proxy-authorization"), None);
}

#[test]
fn proxy_from_the_environment() {
    // The only test that reads the environment; the others use `no_proxy()` or an explicit
    // proxy, so setting it here cannot change them.
    let (proxy, seen) = proxy_server("204 No Content");
    std::env::set_var("ALL_PROXY", &proxy);
    std::env::set_var("NO_PROXY", "no-proxy.invalid");
    let built = UreqTransport::builder().proxy_from_env().build();
    std::env::remove_var("ALL_PROXY");
    std::env::remove_var("NO_PROXY");
    let mut t = built.unwrap();
    assert!(format!("{t:?}").contains("(from environment)"), "{t:?}");
    let r = t
        .send(&Request::new(
            Method::Delete,
            "http://ksef.invalid/v2/tokens/R",
        ))
        .unwrap();
    assert_eq!(r.status, 204);
    let connect = seen.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(connect.request_line, "CONNECT ksef.invalid:80 HTTP/1.1");
    let inner = seen.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(inner.request_line, "DELETE /v2/tokens/R HTTP/1.1");
}

#[test]
fn bad_settings_are_typed_errors() {
    let e = UreqTransport::builder()
        .proxy("not a url at all")
        .build()
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Transport);
    let e = UreqTransport::builder()
        .extra_root_pem(b"no pem here")
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Certificate);
    let e = UreqTransport::builder()
        .extra_root_pem(b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n")
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Certificate);
    let e = UreqTransport::builder()
        .roots(Roots::ExtraOnly)
        .build()
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Certificate);
}

/// A self-signed test CA (P-256), only parsed here, never used to sign anything secret.
const TEST_CA_PEM: &str = include_str!("fixtures/transport/test-ca.pem");

#[test]
fn extra_roots_are_accepted_with_every_root_source() {
    for roots in [Roots::WebPki, Roots::ExtraOnly] {
        let t = UreqTransport::builder()
            .roots(roots)
            .extra_root_pem(TEST_CA_PEM.as_bytes())
            .unwrap()
            .build()
            .unwrap();
        let d = format!("{t:?}");
        assert!(d.contains("extra_roots: 1"), "{d}");
    }
}

#[test]
fn debug_shows_settings_not_secrets() {
    let b = UreqTransport::builder()
        .proxy("http://alice:s3cret@proxy.corp:3128/path?x=1")
        .user_agent("shop/1.0");
    let d = format!("{b:?}");
    assert!(
        !d.contains("s3cret") && !d.contains("alice") && !d.contains("x=1"),
        "{d}"
    );
    assert!(d.contains("http://[redacted]@proxy.corp:3128"), "{d}");
    let t = b.build().unwrap();
    let d = format!("{t:?}");
    assert!(!d.contains("s3cret") && !d.contains("alice"), "{d}");
    assert!(
        d.contains("shop/1.0") && d.contains("proxy.corp:3128"),
        "{d}"
    );
}

#[test]
fn recorder_writes_redacted_exchanges() {
    let (base, _seen) = serve(|req| {
        if req.request_line.contains("/auth/token/redeem") {
            http_response(
                "200 OK",
                &[("Content-Type", "application/json")],
                br#"{"accessToken":{"token":"eyJ.ACCESS.sig","validUntil":"2025-07-01T12:00:00+00:00"},"refreshToken":{"token":"eyJ.REFRESH.sig","validUntil":"2025-07-08T12:00:00+00:00"}}"#,
            )
        } else {
            http_response("201 Created", &[], b"")
        }
    });
    let dir = std::env::temp_dir().join(format!("ksef-recorder-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let api = format!("{base}/v2");
    let mut rec = Recorder::new(transport(), &dir, &api).with_prefix("redeem test");
    let req =
        Request::api(Method::Post, &api, "/auth/token/redeem?x=1").with_bearer("eyJ.AUTH.sig");
    let r = rec.send(&req).unwrap();
    assert_eq!(r.status, 200);
    // The caller still gets the real token.
    assert!(String::from_utf8_lossy(&r.body).contains("eyJ.ACCESS.sig"));
    let mut put = Request::new(Method::Put, format!("{base}/blob/part?sig=SIGNATURE"))
        .with_header("Content-Type", "application/octet-stream");
    put.body = vec![1, 2, 3];
    assert_eq!(rec.send(&put).unwrap().status, 201);

    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["redeem_test00000.json", "redeem_test00001.json"]);
    let first = std::fs::read_to_string(dir.join(&names[0])).unwrap();
    let second = std::fs::read_to_string(dir.join(&names[1])).unwrap();
    for secret in [
        "eyJ.ACCESS.sig",
        "eyJ.REFRESH.sig",
        "eyJ.AUTH.sig",
        "SIGNATURE",
    ] {
        assert!(
            !first.contains(secret) && !second.contains(secret),
            "{secret}"
        );
    }
    let v: serde_json::Value = serde_json::from_str(&first).unwrap();
    assert_eq!(v["method"], "POST");
    assert_eq!(v["api"], true);
    assert_eq!(v["path"], "/auth/token/redeem");
    assert_eq!(v["query"], "x=1");
    assert_eq!(v["response"]["status"], 200);
    assert_eq!(
        v["response"]["body"]["json"]["refreshToken"]["validUntil"],
        "2025-07-08T12:00:00+00:00"
    );
    assert_eq!(
        v["response"]["body"]["json"]["accessToken"]["token"],
        "[redacted]"
    );
    let auth = v["request"]["headers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h[0] == "Authorization")
        .unwrap();
    assert_eq!(auth[1], "[redacted]");
    let v: serde_json::Value = serde_json::from_str(&second).unwrap();
    assert_eq!(v["api"], false);
    assert!(v["path"].as_str().unwrap().ends_with("/blob/part"));
    assert_eq!(v["query"], "[redacted]");
    assert_eq!(v["request"]["body"]["length"], 3);
    assert!(v["request"]["body"].get("json").is_none());

    // A second recorder on the same directory does not overwrite.
    let mut rec2 = Recorder::new(transport(), &dir, &api).with_prefix("redeem test");
    rec2.send(&put).unwrap();
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 3);

    // A failed exchange is recorded without a response.
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dead = format!("http://127.0.0.1:{port}/v2");
    let mut rec3 = Recorder::new(transport(), &dir, &dead).with_prefix("dead");
    let e = rec3
        .send(&Request::api(Method::Get, &dead, "/auth/challenge"))
        .unwrap_err();
    assert_eq!(e.kind, TransportErrorKind::Connect);
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("dead00000.json")).unwrap())
            .unwrap();
    assert_eq!(v["response"], serde_json::Value::Null);
    assert_eq!(v["error"], "Connect");
    let _ = std::fs::remove_dir_all(&dir);
}
