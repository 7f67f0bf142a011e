//! The sim's JSON answers against the OpenAPI response schemas (required fields, types,
//! enums, nullability, `$ref`/`allOf`), over one run of the main flows.

mod common;

use common::{fa3_invoice, now_s, send, spec, Client, Resp, SELLER};
use ksef::crypto::public_keys::KeyUsage;
use ksef::crypto::SessionKey;
use ksef_sim::{Sim, SimConfig};
use rand_core::OsRng;
use serde_json::{json, Value};

struct Spec(Value);

impl Spec {
    fn load() -> Spec {
        let text = std::fs::read_to_string(spec().join("openapi/ksef-api-v2-openapi.json"))
            .expect("OpenAPI (set KSEF_SPEC)");
        Spec(serde_json::from_str(&text).expect("OpenAPI JSON"))
    }

    fn resolve<'a>(&'a self, s: &'a Value) -> &'a Value {
        match s.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let name = r.trim_start_matches("#/components/schemas/");
                self.resolve(&self.0["components"]["schemas"][name])
            }
            None => s,
        }
    }

    /// Every way `v` breaks `schema`, with JSON paths.
    fn check(&self, schema: &Value, v: &Value, at: &str, out: &mut Vec<String>) {
        let s = self.resolve(schema);
        if let Some(all) = s.get("allOf").and_then(Value::as_array) {
            for part in all {
                self.check(part, v, at, out);
            }
        }
        if v.is_null() {
            if s.get("nullable") != Some(&Value::Bool(true)) && s.get("type").is_some() {
                out.push(format!("{at}: null but not nullable"));
            }
            return;
        }
        if let Some(t) = s.get("type").and_then(Value::as_str) {
            let ok = match t {
                "string" => v.is_string(),
                "integer" => v.is_i64() || v.is_u64(),
                "number" => v.is_number(),
                "boolean" => v.is_boolean(),
                "array" => v.is_array(),
                "object" => v.is_object(),
                _ => true,
            };
            if !ok {
                out.push(format!("{at}: expected {t}, got {v}"));
                return;
            }
            if t == "string" && s.get("format") == Some(&json!("date-time")) {
                let text = v.as_str().unwrap_or("");
                if text.parse::<ksef::model::DateTime>().is_err() {
                    out.push(format!("{at}: `{text}` is not a date-time"));
                }
            }
        }
        if let Some(e) = s.get("enum").and_then(Value::as_array) {
            if !e.contains(v) {
                out.push(format!("{at}: {v} not in {e:?}"));
            }
        }
        if let Some(req) = s.get("required").and_then(Value::as_array) {
            for r in req.iter().filter_map(Value::as_str) {
                if v.get(r).is_none() {
                    out.push(format!("{at}: missing required `{r}`"));
                }
            }
        }
        if let (Some(props), Some(obj)) = (
            s.get("properties").and_then(Value::as_object),
            v.as_object(),
        ) {
            for (k, val) in obj {
                match props.get(k) {
                    Some(p) => self.check(p, val, &format!("{at}.{k}"), out),
                    None if s.get("additionalProperties").is_none() => {
                        out.push(format!("{at}: unknown property `{k}`"))
                    }
                    None => {}
                }
            }
        }
        if let (Some(items), Some(arr)) = (s.get("items"), v.as_array()) {
            for (i, x) in arr.iter().enumerate() {
                self.check(items, x, &format!("{at}[{i}]"), out);
            }
        }
    }

    /// Checks a response of `method template` against the documented schema of its status.
    fn conform(&self, method: &str, template: &str, r: &Resp) -> Vec<String> {
        let op = &self.0["paths"][template][method.to_ascii_lowercase()];
        assert!(
            op.is_object(),
            "no operation {method} {template} in the OpenAPI"
        );
        let resp = &op["responses"][r.status.to_string()];
        assert!(
            resp.is_object(),
            "{method} {template}: status {} not documented ({})",
            r.status,
            r.text()
        );
        let ct = r
            .header("Content-Type")
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .to_string();
        let content = &resp["content"];
        if content.is_null() {
            assert!(
                r.body.is_empty(),
                "{method} {template}: body on a bodiless answer"
            );
            return Vec::new();
        }
        let schema = &content[ct.as_str()]["schema"];
        assert!(
            schema.is_object(),
            "{method} {template} {}: content type {ct} not documented",
            r.status
        );
        let mut out = Vec::new();
        if ct.ends_with("json") {
            self.check(schema, &r.json(), &format!("{method} {template}"), &mut out);
        }
        out
    }
}

#[test]
fn responses_follow_the_openapi_schemas() {
    let spec = Spec::load();
    let sim = Sim::start(SimConfig::default()).expect("sim");
    let mut c = Client::new(&sim.base_url());
    let mut problems = Vec::new();
    let mut check = |m: &str, t: &str, r: &Resp| problems.extend(spec.conform(m, t, r));

    check(
        "GET",
        "/security/public-key-certificates",
        &c.call("GET", "/security/public-key-certificates", None),
    );
    check(
        "POST",
        "/auth/challenge",
        &c.call("POST", "/auth/challenge", Some(&json!({}))),
    );
    let (auth_ref, auth_token) = c.start_token_auth(SELLER, "t");
    let bearer = format!("Bearer {auth_token}");
    let st = send(
        "GET",
        &format!("{}/auth/{auth_ref}", c.base),
        &[("Authorization", &bearer)],
        b"",
    )
    .expect("r");
    check("GET", "/auth/{referenceNumber}", &st);
    c.poll_auth(&auth_ref, &auth_token);
    let redeemed = c.redeem(&auth_token);
    check("POST", "/auth/token/redeem", &redeemed);
    check("POST", "/auth/token/redeem", &c.redeem(&auth_token));
    let refresh = format!("Bearer {}", c.refresh.clone().expect("refresh"));
    let rr = send(
        "POST",
        &format!("{}/auth/token/refresh", c.base),
        &[("Authorization", &refresh)],
        b"",
    )
    .expect("r");
    check("POST", "/auth/token/refresh", &rr);
    check(
        "GET",
        "/auth/sessions",
        &c.call("GET", "/auth/sessions", None),
    );

    let (opened, key) = c.open_online("FA (3)");
    check("POST", "/sessions/online", &opened);
    let session = opened.json()["referenceNumber"]
        .as_str()
        .expect("ref")
        .to_string();
    let sent = c.send_invoice(&session, &key, &fa3_invoice("FV/CONF/1"));
    check("POST", "/sessions/online/{referenceNumber}/invoices", &sent);
    let inv = sent.json()["referenceNumber"]
        .as_str()
        .expect("ref")
        .to_string();
    let dup = c.send_invoice(&session, &key, &fa3_invoice("FV/CONF/1"));
    let dup_ref = dup.json()["referenceNumber"]
        .as_str()
        .expect("ref")
        .to_string();
    let mut bad: Value =
        serde_json::from_str(&key.encrypt_invoice(b"<x/>").to_json()).expect("json");
    bad["invoiceSize"] = json!(1);
    check(
        "POST",
        "/sessions/online/{referenceNumber}/invoices",
        &c.call(
            "POST",
            &format!("/sessions/online/{session}/invoices"),
            Some(&bad),
        ),
    );
    let t = "/sessions/{referenceNumber}/invoices/{invoiceReferenceNumber}";
    for _ in 0..2 {
        check(
            "GET",
            t,
            &c.call("GET", &format!("/sessions/{session}/invoices/{inv}"), None),
        );
        check(
            "GET",
            t,
            &c.call(
                "GET",
                &format!("/sessions/{session}/invoices/{dup_ref}"),
                None,
            ),
        );
    }
    check(
        "GET",
        "/sessions/{referenceNumber}/invoices",
        &c.call("GET", &format!("/sessions/{session}/invoices"), None),
    );
    check(
        "GET",
        "/sessions/{referenceNumber}/invoices/failed",
        &c.call("GET", &format!("/sessions/{session}/invoices/failed"), None),
    );
    check(
        "POST",
        "/sessions/online/{referenceNumber}/close",
        &c.call("POST", &format!("/sessions/online/{session}/close"), None),
    );
    for _ in 0..2 {
        check(
            "GET",
            "/sessions/{referenceNumber}",
            &c.call("GET", &format!("/sessions/{session}"), None),
        );
    }
    check(
        "GET",
        "/sessions",
        &c.call("GET", "/sessions?sessionType=Online", None),
    );
    check(
        "GET",
        "/sessions/{referenceNumber}/invoices/{invoiceReferenceNumber}/upo",
        &c.call(
            "GET",
            &format!("/sessions/{session}/invoices/{inv}/upo"),
            None,
        ),
    );
    check(
        "GET",
        "/sessions/{referenceNumber}/upo/{upoReferenceNumber}",
        &c.call(
            "GET",
            &format!("/sessions/{session}/upo/20260101-EU-0000000000-0000000000-00"),
            None,
        ),
    );

    let filters = json!({"subjectType": "Subject1", "dateRange": {"dateType": "PermanentStorage", "from": "2026-01-01T00:00:00Z"}});
    check(
        "POST",
        "/invoices/query/metadata",
        &c.call("POST", "/invoices/query/metadata", Some(&filters)),
    );
    let keys = c.keys();
    let cert = keys
        .select(KeyUsage::SymmetricKeyEncryption, now_s())
        .expect("key");
    let ek = SessionKey::generate(&mut OsRng);
    let enc = ek
        .encryption_info(&cert.public_key().expect("pk"), None, &mut OsRng)
        .expect("wrap");
    let ex = c.call(
        "POST",
        "/invoices/exports",
        Some(&json!({"encryption": serde_json::from_str::<Value>(&enc.to_json()).expect("json"), "filters": filters})),
    );
    check("POST", "/invoices/exports", &ex);
    let er = ex.json()["referenceNumber"]
        .as_str()
        .expect("ref")
        .to_string();
    for _ in 0..2 {
        check(
            "GET",
            "/invoices/exports/{referenceNumber}",
            &c.call("GET", &format!("/invoices/exports/{er}"), None),
        );
    }
    check(
        "GET",
        "/invoices/ksef/{ksefNumber}",
        &c.call(
            "GET",
            "/invoices/ksef/9999999999-20260101-000000000000-00",
            None,
        ),
    );
    check(
        "GET",
        "/certificates/limits",
        &c.call("GET", "/certificates/limits", None),
    );
    check(
        "GET",
        "/certificates/enrollments/data",
        &c.call("GET", "/certificates/enrollments/data", None),
    );
    check(
        "POST",
        "/tokens",
        &c.call(
            "POST",
            "/tokens",
            Some(&json!({"permissions": ["InvoiceRead"], "description": "conformance"})),
        ),
    );
    check("GET", "/tokens", &c.call("GET", "/tokens", None));
    sim.faults().rate_limit_next("GET /tokens", 1, 3);
    check("GET", "/tokens", &c.call("GET", "/tokens", None));
    sim.faults().expire_access_tokens();
    check("GET", "/tokens", &c.call("GET", "/tokens", None));
    c.access = None;
    check(
        "GET",
        "/sessions",
        &c.call("GET", "/sessions?sessionType=Online", None),
    );

    assert!(
        problems.is_empty(),
        "schema problems:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_schema_check_finds_problems() {
    let spec = Spec::load();
    let schema = json!({"$ref": "#/components/schemas/SessionStatusResponse"});
    let mut out = Vec::new();
    spec.check(
        &schema,
        &json!({"status": {"code": "200"}, "dateCreated": "yesterday", "extra": 1}),
        "x",
        &mut out,
    );
    let text = out.join("\n");
    for want in [
        "missing required `dateUpdated`",
        "x.status: missing required `description`",
        "x.status.code: expected integer",
        "`yesterday` is not a date-time",
        "unknown property `extra`",
    ] {
        assert!(text.contains(want), "{want} not in:\n{text}");
    }
}
