//! A small HTTP/1.1 server over `std::net`, one thread per connection.
//!
//! Hand-written rather than `tiny_http`: the simulator must be able to *drop* a connection
//! after reading a request (and after processing it), without writing a response, which
//! is the fault a client's resend logic has to survive. With our own loop that is simply
//! closing the socket. The server understands what KSeF clients send: `Content-Length`
//! bodies (and `chunked`, for completeness), keep-alive, `Expect: 100-continue`.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

/// The largest request body the server reads (a batch part may be 100 MB).
const MAX_BODY: usize = 110_000_000;
/// The largest request head (request line + headers).
const MAX_HEAD: usize = 64 * 1024;

/// An HTTP request as the services see it.
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path, without the query (percent-encoding kept).
    pub path: String,
    /// The query pairs, percent-decoded.
    pub query: Vec<(String, String)>,
    /// Headers (names as sent).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// `http://127.0.0.1:PORT` of the server (for absolute URLs in responses).
    pub origin: String,
}

impl Request {
    /// A header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A query parameter (the first).
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// All values of a repeated query parameter.
    pub fn query_all(&self, name: &str) -> Vec<&str> {
        self.query
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// An HTTP response.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Headers (`Content-Length` and `Connection` are added by the server).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// A response with a body and a content type.
    pub fn new(status: u16, content_type: &str, body: Vec<u8>) -> Response {
        Response {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body,
        }
    }

    /// A JSON response.
    pub fn json(status: u16, value: &serde_json::Value) -> Response {
        Response::new(status, "application/json", value.to_string().into_bytes())
    }

    /// A response without a body.
    pub fn empty(status: u16) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Response {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// What a service does with a request.
#[derive(Debug)]
pub enum Outcome {
    /// Send this response.
    Respond(Response),
    /// Close the connection without answering.
    Drop,
}

/// Something that answers requests (the KSeF API mounted at `/v2`, the upload/download
/// URLs, later a Fakturownia side). Implementations must be thread-safe: every connection
/// has its own thread.
pub trait Service: Send + Sync {
    /// Answers one request; `path` is the request path with the mount prefix removed
    /// (always starting with `/`, or empty for the prefix itself).
    fn handle(&self, path: &str, req: &Request) -> Outcome;
}

/// Dispatches by path prefix to the mounted services (the longest prefix wins).
#[derive(Default)]
pub struct Router {
    mounts: Vec<(String, Arc<dyn Service>)>,
}

impl Router {
    /// An empty router (every request is 404).
    pub fn new() -> Router {
        Router::default()
    }

    /// Mounts `service` at `prefix` (`/v2`, `/upload`, `/fakturownia` …).
    pub fn mount(&mut self, prefix: &str, service: Arc<dyn Service>) {
        self.mounts
            .push((prefix.trim_end_matches('/').into(), service));
        self.mounts.sort_by_key(|m| std::cmp::Reverse(m.0.len()));
    }

    /// Routes one request.
    pub fn route(&self, req: &Request) -> Outcome {
        for (prefix, service) in &self.mounts {
            if let Some(rest) = req.path.strip_prefix(prefix.as_str()) {
                if rest.is_empty() || rest.starts_with('/') {
                    return service.handle(rest, req);
                }
            }
        }
        Outcome::Respond(Response::new(
            404,
            "text/plain; charset=utf-8",
            format!("ksef-sim: no service is mounted at {}", req.path).into_bytes(),
        ))
    }
}

/// A running server: the accept loop on its own thread.
pub(crate) struct Server {
    pub(crate) port: u16,
    stop: Arc<AtomicBool>,
    accept: Option<thread::JoinHandle<()>>,
}

impl Server {
    /// Binds 127.0.0.1:`port` (0 = any free port) and serves `router` until stopped.
    pub(crate) fn start(port: u16, router: Arc<Router>) -> io::Result<Server> {
        let listener = TcpListener::bind(("127.0.0.1", port))?;
        let port = listener.local_addr()?.port();
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = Arc::clone(&stop);
        let origin = format!("http://127.0.0.1:{port}");
        let accept = thread::Builder::new()
            .name("ksef-sim-accept".into())
            .spawn(move || {
                for conn in listener.incoming() {
                    if stop2.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = conn else { continue };
                    let router = Arc::clone(&router);
                    let origin = origin.clone();
                    let stop3 = Arc::clone(&stop2);
                    let _ = thread::Builder::new()
                        .name("ksef-sim-conn".into())
                        .spawn(move || serve_connection(stream, &router, &origin, &stop3));
                }
            })?;
        Ok(Server {
            port,
            stop,
            accept: Some(accept),
        })
    }

    /// Stops accepting and waits for the accept thread (open connections finish their
    /// current request and close).
    pub(crate) fn stop(&mut self) {
        if self.stop.swap(true, Ordering::SeqCst) {
            return;
        }
        // Wake the blocking accept() with one connection of our own.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

fn serve_connection(stream: TcpStream, router: &Router, origin: &str, stop: &AtomicBool) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
    let _ = stream.set_nodelay(true);
    let Ok(write_half) = stream.try_clone() else {
        return;
    };
    let mut writer = write_half;
    let mut reader = BufReader::new(stream);
    loop {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let req = match read_request(&mut reader, &mut writer, origin) {
            Ok(Some(r)) => r,
            Ok(None) => break,
            Err(e) => {
                let body = format!("ksef-sim: bad request: {e}");
                let _ = write_response(
                    &mut writer,
                    &Response::new(400, "text/plain; charset=utf-8", body.into_bytes()),
                    false,
                );
                break;
            }
        };
        if stop.load(Ordering::SeqCst) {
            // Stopped while this request was read: close without answering.
            break;
        }
        let keep_alive = !req
            .header("Connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        match router.route(&req) {
            Outcome::Respond(resp) => {
                if write_response(&mut writer, &resp, keep_alive).is_err() || !keep_alive {
                    break;
                }
            }
            Outcome::Drop => {
                let _ = writer.shutdown(Shutdown::Both);
                break;
            }
        }
    }
}

fn read_request(
    reader: &mut BufReader<TcpStream>,
    writer: &mut TcpStream,
    origin: &str,
) -> io::Result<Option<Request>> {
    let mut head_len = 0usize;
    let mut line = String::new();
    // Skip empty lines before a request (RFC 9112 §2.2).
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        head_len += line.len();
        if !line.trim().is_empty() {
            break;
        }
    }
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target), Some(_version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid("malformed request line"));
    };
    let method = method.to_string();
    let target = target.to_string();
    let mut headers = Vec::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(invalid("connection closed inside the headers"));
        }
        head_len += line.len();
        if head_len > MAX_HEAD {
            return Err(invalid("request head too large"));
        }
        let l = line.trim_end_matches(['\r', '\n']);
        if l.is_empty() {
            break;
        }
        let (k, v) = l
            .split_once(':')
            .ok_or_else(|| invalid("malformed header line"))?;
        headers.push((k.trim().to_string(), v.trim().to_string()));
    }
    let find = |name: &str| {
        headers
            .iter()
            .find(|(k, _): &&(String, String)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    if find("Expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue")) {
        writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    }
    let body =
        if find("Transfer-Encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked")) {
            read_chunked(reader)?
        } else if let Some(len) = find("Content-Length") {
            let len: usize = len
                .parse()
                .map_err(|_| invalid("Content-Length is not a number"))?;
            if len > MAX_BODY {
                return Err(invalid("body too large"));
            }
            let mut body = vec![0; len];
            reader.read_exact(&mut body)?;
            body
        } else {
            Vec::new()
        };
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), parse_query(q)),
        None => (target, Vec::new()),
    };
    Ok(Some(Request {
        method,
        path,
        query,
        headers,
        body,
        origin: origin.to_string(),
    }))
}

fn read_chunked(reader: &mut BufReader<TcpStream>) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let size_text = line.trim().split(';').next().unwrap_or("");
        let size =
            usize::from_str_radix(size_text, 16).map_err(|_| invalid("malformed chunk size"))?;
        if body.len() + size > MAX_BODY {
            return Err(invalid("body too large"));
        }
        if size == 0 {
            // Trailers until an empty line.
            loop {
                line.clear();
                if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
                    return Ok(body);
                }
            }
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..])?;
        line.clear();
        reader.read_line(&mut line)?;
    }
}

fn invalid(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_string())
}

fn write_response(w: &mut TcpStream, resp: &Response, keep_alive: bool) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {} {}\r\n", resp.status, reason(resp.status));
    for (k, v) in &resp.headers {
        head.push_str(k);
        head.push_str(": ");
        head.push_str(v);
        head.push_str("\r\n");
    }
    head.push_str(&format!("Content-Length: {}\r\n", resp.body.len()));
    head.push_str(if keep_alive {
        "Connection: keep-alive\r\n\r\n"
    } else {
        "Connection: close\r\n\r\n"
    });
    w.write_all(head.as_bytes())?;
    w.write_all(&resp.body)?;
    w.flush()
}

/// Percent-decodes a query string into pairs (`+` is a space).
pub fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|s| !s.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// Percent-decodes one URL component (`+` is a space; bad escapes are kept as written).
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        410 => "Gone",
        413 => "Content Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_queries() {
        assert_eq!(
            parse_query("a=1&b=x%20y+z&c"),
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "x y z".into()),
                ("c".into(), "".into())
            ]
        );
        assert_eq!(percent_decode("%4"), "%4");
        assert_eq!(percent_decode("%41%zz"), "A%zz");
    }
}
