//! `ksef inbox`.
use crate::Fail;
/// Runs `ksef inbox`.
pub fn run(_cmd: &str, _args: &[String]) -> Option<Result<(), Fail>> {
    None
}
