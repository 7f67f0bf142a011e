//! Command-line words → `--name value` options, `--flag`s and positional files, for every
//! command.

use crate::{usage, Fail};

/// The options (in order, repeated ones kept), the flags and the positional arguments of a
/// command.
pub struct Args {
    pub options: Vec<(String, String)>,
    pub flags: Vec<String>,
    pub files: Vec<String>,
}

impl Args {
    /// True when `--name` was given as a flag.
    pub fn flag(&self, name: &str) -> bool {
        self.flags.iter().any(|f| f == name)
    }
}

/// Split `args`: every `--name` in `allowed` takes the next word as its value; anything not
/// starting with `--` (including `-` for standard input) is positional.
pub fn split(args: &[String], allowed: &[&str]) -> Result<Args, Fail> {
    split_flags(args, allowed, &[])
}

/// [`split`] where the names in `flags` take no value.
pub fn split_flags(args: &[String], allowed: &[&str], flags: &[&str]) -> Result<Args, Fail> {
    let mut out = Args {
        options: Vec::new(),
        flags: Vec::new(),
        files: Vec::new(),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let name = a.as_str();
        if !name.starts_with("--") {
            out.files.push(a.clone());
            continue;
        }
        if flags.contains(&name) {
            out.flags.push(a.clone());
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
