//! `ksef test-connection`.
use crate::Fail;
/// Runs it.
pub fn run(_cmd: &str, _args: &[String]) -> Option<Result<(), Fail>> {
    None
}
