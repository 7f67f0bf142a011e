//! Invoice rules beyond the XSD.
