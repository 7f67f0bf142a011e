//! QR codes for invoices: KOD I (invoice link) and KOD II (certificate code), module matrix and images.
