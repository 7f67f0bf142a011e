//! The shared error table as C sees it: `KSEF_ERR_<NAME>` constants in `include/ksef.h`
//! (generated from `ksef::ErrorCode::ALL` by the header generator) and the names returned
//! by `ksef_result_name`.

use std::ffi::{CStr, CString};
use std::sync::OnceLock;

use ksef::ErrorCode;

fn names() -> &'static [(u32, CString)] {
    static NAMES: OnceLock<Vec<(u32, CString)>> = OnceLock::new();
    NAMES.get_or_init(|| {
        ErrorCode::ALL
            .iter()
            .filter_map(|c| Some((c.as_u32(), CString::new(c.name()).ok()?)))
            .collect()
    })
}

/// The static name of a code of the table.
pub(crate) fn name_cstr(code: u32) -> Option<&'static CStr> {
    names()
        .iter()
        .find(|(n, _)| *n == code)
        .map(|(_, s)| s.as_c_str())
}

/// The C enum of result codes: `KSEF_OK = 0` and one `KSEF_ERR_<NAME> = <code>` per entry
/// of the shared table, in table order.
pub fn c_enum() -> String {
    let mut s = String::from(
        "/**\n * Result codes: KSEF_OK or a code of the shared error table (the same numbers as\n \
         * Python's `KsefError.code` and Node's `err.code`). Never renumbered.\n */\n\
         typedef enum ksef_result_code {\n  KSEF_OK = 0,\n",
    );
    for c in ErrorCode::ALL {
        s.push_str(&format!(
            "  KSEF_ERR_{} = {},\n",
            c.name().to_ascii_uppercase(),
            c.as_u32()
        ));
    }
    s.push_str("} ksef_result_code;\n");
    s
}
