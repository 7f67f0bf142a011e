//! PLACEHOLDER replaced by the Fakturownia client branch at merge (same signatures).
#![allow(missing_docs, dead_code)]
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde_json::{json, Value};

use crate::error::{Error, ErrorCode};
use crate::http::{Method, Request, Response};
use crate::protocol::SecretString;

#[derive(Clone)]
pub struct Account {
    pub base_url: String,
    pub api_token: SecretString,
}

pub fn create_invoice(acc: &Account, invoice: &Value, oid: &str) -> Result<Request, Error> {
    let mut inv = invoice.clone();
    inv["oid"] = json!(oid);
    inv["oid_unique"] = json!("yes");
    Request::json(
        Method::Post,
        &acc.base_url,
        "/invoices.json",
        &json!({"api_token": acc.api_token.expose(), "invoice": inv}),
    )
}
pub fn update_invoice(acc: &Account, id: u64, fields: &Value) -> Result<Request, Error> {
    Request::json(
        Method::Put,
        &acc.base_url,
        &format!("/invoices/{id}.json"),
        &json!({"api_token": acc.api_token.expose(), "invoice": fields}),
    )
}
pub fn get_invoice(acc: &Account, id: u64) -> Request {
    Request::api(
        Method::Get,
        &acc.base_url,
        &format!("/invoices/{id}.json?api_token={}", acc.api_token.expose()),
    )
}
pub fn find_by_oid(acc: &Account, oid: &str) -> Request {
    Request::api(
        Method::Get,
        &acc.base_url,
        &format!(
            "/invoices.json?oid={oid}&api_token={}",
            acc.api_token.expose()
        ),
    )
}
#[derive(Debug, Clone)]
pub struct FakturowniaInvoice {
    pub id: u64,
    pub number: String,
    pub kind: String,
    pub gov_id: Option<String>,
    pub oid: Option<String>,
    pub token: Option<String>,
    pub raw: Value,
}
fn one(v: &Value) -> Result<FakturowniaInvoice, Error> {
    Ok(FakturowniaInvoice {
        id: v["id"]
            .as_u64()
            .ok_or_else(|| Error::new(ErrorCode::BadResponse, "id", "no id"))?,
        number: v["number"].as_str().unwrap_or_default().to_string(),
        kind: v["kind"].as_str().unwrap_or_default().to_string(),
        gov_id: v["gov_id"].as_str().map(String::from),
        oid: v["oid"].as_str().map(String::from),
        token: None,
        raw: v.clone(),
    })
}
pub fn read_invoice(resp: &Response) -> Result<FakturowniaInvoice, Error> {
    let v: Value = serde_json::from_slice(&resp.body)
        .map_err(|_| Error::new(ErrorCode::BadResponse, "", "not JSON"))?;
    if !resp.is_success() || v["status"] == "error" {
        return Err(Error::new(
            ErrorCode::ApiError,
            "fakturownia",
            v["message"].as_str().unwrap_or("error").to_string(),
        ));
    }
    one(&v)
}
pub fn read_invoices(resp: &Response) -> Result<Vec<FakturowniaInvoice>, Error> {
    let v: Value = serde_json::from_slice(&resp.body)
        .map_err(|_| Error::new(ErrorCode::BadResponse, "", "not JSON"))?;
    v.as_array()
        .ok_or_else(|| Error::new(ErrorCode::BadResponse, "", "not a list"))?
        .iter()
        .map(one)
        .collect()
}
pub fn is_duplicate_oid(err: &Error) -> bool {
    err.message().contains("oid")
}
pub struct Webhook {
    pub invoice: FakturowniaInvoice,
    pub event: String,
}
pub fn parse_webhook(body: &[u8], expected_api_token: &str) -> Result<Webhook, Error> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|_| Error::new(ErrorCode::BadResponse, "", "not JSON"))?;
    if v["api_token"].as_str() != Some(expected_api_token) {
        return Err(Error::new(ErrorCode::ApiError, "api_token", "forged"));
    }
    Ok(Webhook {
        invoice: one(&v["invoice"])?,
        event: v["event"].as_str().unwrap_or_default().to_string(),
    })
}
