//! Command-line words → `--name value` options and positional files, for every command.

use crate::{usage, Fail};

/// The options (in order, repeated ones kept) and the positional arguments of a command.
pub struct Args {
    pub options: Vec<(String, String)>,
    pub files: Vec<String>,
}

/// Split `args`: every `--name` in `allowed` takes the next word as its value; anything not
/// starting with `--` (including `-` for standard input) is positional.
pub fn split(args: &[String], allowed: &[&str]) -> Result<Args, Fail> {
    let mut out = Args {
        options: Vec::new(),
        files: Vec::new(),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let name = a.as_str();
        if !name.starts_with("--") {
            out.files.push(a.clone());
            continue;
        }
        if !allowed.contains(&name) {
            return Err(usage(&format!("unknown option {name}")));
        }
        let value = it
            .next()
            .ok_or_else(|| usage(&format!("{name} needs a value")))?;
        out.options.push((a.clone(), value.clone()));
    }
    Ok(out)
}
